package chargepoint

import (
	"time"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/smartcharging"
)

// authKeys are the configuration keys that decide authorization.
type authKeys struct {
	LocalPreAuthorize     bool
	LocalAuthorizeOffline bool
	CacheEnabled          bool
	ListEnabled           bool
	OfflineUnknown        config.OfflineTx
}

func (c *Core) keys() authKeys {
	s := c.s
	return authKeys{LocalPreAuthorize: s.LocalPreAuthorize, LocalAuthorizeOffline: s.LocalAuthorizeOffline,
		CacheEnabled: s.AuthorizationCacheEnabled, ListEnabled: s.LocalAuthListEnabled, OfflineUnknown: s.AllowOfflineTxForUnknownId}
}

// verdict is what the charge point does with a presented idTag.
type verdict int

const (
	// verdictAccept: start (or stop) now, on local knowledge.
	verdictAccept verdict = iota
	// verdictReject: do not start.
	verdictReject
	// verdictAsk: send Authorize and go by the answer.
	verdictAsk
)

func (v verdict) String() string {
	switch v {
	case verdictAccept:
		return "accept"
	case verdictReject:
		return "reject"
	}
	return "ask"
}

// decision is the outcome of decideAuth: a verdict, the knowledge it rests
// on, and why.
type decision struct {
	verdict verdict
	info    AuthInfo
	reason  string
}

// decideAuth decides, from local knowledge only, what to do with an idTag:
// the local list first, then the cache (OCPP 1.6, 3.5). Online, a valid
// local entry starts at once with LocalPreAuthorize, anything else asks the
// central system. Offline, a valid local entry starts with
// LocalAuthorizeOffline, a known invalid one is refused, and an unknown one
// starts only with AllowOfflineTxForUnknownId.
func decideAuth(online bool, keys authKeys, known Known, now time.Time) decision {
	var local *AuthInfo
	from := ""
	switch {
	case keys.ListEnabled && known.List != nil:
		local, from = known.List, "local list"
	case keys.CacheEnabled && known.Cache != nil:
		local, from = known.Cache, "cache"
	}
	if online {
		if local != nil && local.Valid(now) && keys.LocalPreAuthorize {
			return decision{verdict: verdictAccept, info: *local, reason: "valid in the " + from + " (LocalPreAuthorize)"}
		}
		return decision{verdict: verdictAsk, reason: "online"}
	}
	if local != nil {
		e := *local
		if !e.Valid(now) {
			if e.Status == AuthAccepted {
				e.Status = AuthExpired
			}
			return decision{verdict: verdictReject, info: e, reason: string(e.Status) + " in the " + from}
		}
		if keys.LocalAuthorizeOffline {
			return decision{verdict: verdictAccept, info: e, reason: "valid in the " + from + " (LocalAuthorizeOffline)"}
		}
		return decision{verdict: verdictReject, info: e, reason: "offline and LocalAuthorizeOffline is off"}
	}
	if keys.OfflineUnknown != config.OfflineTxOff {
		return decision{verdict: verdictAccept, info: AuthInfo{Status: AuthAccepted},
			reason: "unknown, offline (AllowOfflineTxForUnknownId)"}
	}
	return decision{verdict: verdictReject, info: AuthInfo{Status: AuthInvalid}, reason: "unknown and offline"}
}

// remember puts what the central system said of an idTag into the cache,
// unless the cache is off.
func (c *Core) remember(idTag string, info AuthInfo) {
	keys := c.keys()
	if !keys.CacheEnabled || idTag == "" {
		return
	}
	c.record(Remembered{IDTag: idTag, Info: info, UnlessListed: keys.ListEnabled})
}

// presented handles an RFID tag held to the reader, meant for connector
// e.Connector (0: the charge point picks).
func (c *Core) presented(e TagPresented) {
	idTag, target := e.IDTag, e.Connector
	// A tag keeping a cable locked after an EV-side unplug frees it.
	for _, cn := range c.conns {
		if cn.heldFor != "" && SameTag(cn.heldFor, idTag) {
			cn.heldFor = ""
			c.act(Actuation{Connector: cn.id, Kind: Lock, On: false})
			return
		}
	}
	if !c.free.TakesTags() {
		return // no tags in these free-charging modes
	}
	// The tag of a running transaction stops it.
	for _, cn := range c.conns {
		if t := cn.tx; t != nil && (target == 0 || target == cn.id) && t.stoppableBy(idTag, c.fixedTag()) {
			c.endAuthorization(cn, ReasonLocal, idTag)
			return
		}
	}
	cn := c.pickConnector(target, idTag)
	if cn == nil {
		// Maybe a tag of the same group as a running transaction's: that
		// stops it too, once the group is known.
		c.tryGroupStop(idTag, target, e.Known)
		return
	}
	switch c.free {
	case FreeStatusAnyTag: // any tag, no transaction messages
		c.authorized(cn, grant{holder: idTag, silent: true})
		return
	case FreeFixedTagAnyTag: // any tag, the fixed one in the messages
		c.authorized(cn, grant{idTag: c.fixedTag(), holder: idTag})
		return
	case FreeAnyTag: // any tag, its own in the messages
		c.authorized(cn, grant{idTag: idTag})
		return
	}
	if c.busyWith(idTag) {
		c.log.Info("tag already charging elsewhere (ConcurrentTx)", "id_tag", idTag, "connector", cn.id)
		return
	}
	c.authorize(cn, idTag, false, nil, nil, "", e.Known)
}

// pickConnector chooses the connector a tag starts on: the one asked for,
// else one with an EV waiting, else a free one; never one reserved for
// another tag (a reservation with a parent may still match: that is
// decided once the tag's parent is known).
func (c *Core) pickConnector(target int, idTag string) *connector {
	usable := func(cn *connector) bool {
		if r := c.reservationOn(cn); r != nil && !SameTag(r.IDTag, idTag) && r.Parent == "" {
			return false
		}
		// A transaction started at plug-in waits for its driver.
		return !cn.busyStarting() && !c.closed(cn) || cn.awaitingDriver() && cn.authorizing == "" && cn.fault == ""
	}
	if target != 0 {
		if cn := c.conn(target); cn != nil && usable(cn) {
			return cn
		}
		return nil
	}
	for _, cn := range c.conns {
		if usable(cn) && cn.pilot.Plugged() {
			return cn
		}
	}
	for _, cn := range c.conns {
		if usable(cn) {
			return cn
		}
	}
	return nil
}

// busyWith reports whether an idTag has a transaction already.
func (c *Core) busyWith(idTag string) bool {
	for _, cn := range c.conns {
		if cn.tx != nil && SameTag(cn.tx.IDTag, idTag) {
			return true
		}
	}
	return false
}

// authorize decides on an idTag for a connector: at once from local
// knowledge, or through Authorize. remote marks a remote start.
func (c *Core) authorize(cn *connector, idTag string, remote bool, profile *smartcharging.Profile, remoteID *int, tokenType string, known Known) {
	d := decideAuth(c.online(), c.keys(), known, c.now)
	c.log.Info("authorization", "connector", cn.id, "id_tag", idTag, "verdict", d.verdict, "reason", d.reason, "remote", remote)
	switch d.verdict {
	case verdictAccept:
		c.authorized(cn, grant{idTag: idTag, parent: d.info.Parent, profile: profile, remoteID: remoteID, tokenType: tokenType})
	case verdictReject:
	case verdictAsk:
		cn.authorizing = idTag
		c.call(Authorize{IDTag: idTag, TokenType: tokenType}, pendingCall{kind: callAuthorize, conn: cn.id, idTag: idTag, profile: profile,
			remoteID: remoteID, tokenType: tokenType, known: known})
	}
}

// authorizeAnswered handles the central system's answer to Authorize (or
// its absence: then the idTag is decided as if offline).
func (c *Core) authorizeAnswered(p pendingCall, e Answered) {
	cn := c.conn(p.conn)
	if cn.authorizing != p.idTag {
		return // given up meanwhile
	}
	cn.authorizing = ""
	a, ok := e.Answer.(AuthorizeAnswer)
	if e.Failure != Delivered || !ok {
		c.log.Warn("Authorize got no answer; deciding offline", "id_tag", p.idTag, "err", e.Err)
		if d := decideAuth(false, c.keys(), p.known, c.now); d.verdict == verdictAccept {
			c.authorized(cn, grant{idTag: p.idTag, parent: d.info.Parent, profile: p.profile, remoteID: p.remoteID, tokenType: p.tokenType})
		} else {
			delete(c.promises, p.profile)
		}
		return
	}
	c.remember(p.idTag, a.Info)
	if a.Info.Valid(c.now) {
		c.authorized(cn, grant{idTag: p.idTag, parent: a.Info.Parent, profile: p.profile, remoteID: p.remoteID, tokenType: p.tokenType})
		return
	}
	delete(c.promises, p.profile)
	c.log.Info("central system refused the tag", "id_tag", p.idTag, "status", a.Info.Status)
}

// authorized starts at once when an EV is plugged (or TxStartPoint says
// Authorized), else waits for one for ConnectionTimeOut; a transaction
// that started at plug-in gets its driver.
func (c *Core) authorized(cn *connector, g grant) {
	if cn.tx != nil {
		if cn.tx.Unauthorized {
			c.adopt(cn, g)
		}
		return
	}
	if _, ok := c.claim(cn, g); !ok {
		c.log.Info("connector reserved for another idTag", "connector", cn.id, "id_tag", g.idTag)
		delete(c.promises, g.profile)
		return
	}
	if cn.pilot.Plugged() || c.points().startOnAuth {
		c.start(cn, g)
		return
	}
	timeout := time.Duration(c.s.ConnectionTimeOut) * time.Second
	cn.auth = &pendingAuth{grant: g, deadline: c.now.Add(timeout)}
}

// tryGroupStop stops a transaction whose parent the presented tag shares
// (OCPP 1.6, 3.5.4), learning the tag's group from the local list, the
// cache or Authorize.
func (c *Core) tryGroupStop(idTag string, target int, known Known) {
	found := false
	for _, cn := range c.conns {
		if cn.tx != nil && cn.tx.ParentIDTag != "" && !cn.tx.Silent && (target == 0 || target == cn.id) {
			found = true
		}
	}
	if !found {
		return
	}
	keys := c.keys()
	for _, e := range []struct {
		info *AuthInfo
		on   bool
	}{{known.List, keys.ListEnabled}, {known.Cache, keys.CacheEnabled}} {
		if e.on && e.info != nil && e.info.Parent != "" {
			c.stopGroup(idTag, target, e.info.Parent)
			return
		}
	}
	if !c.online() {
		return
	}
	c.call(Authorize{IDTag: idTag}, pendingCall{kind: callGroupStop, conn: target, idTag: idTag})
}

// stopGroup stops the first transaction of a group, for a tag of it.
func (c *Core) stopGroup(idTag string, target int, parent string) {
	for _, cn := range c.conns {
		if t := cn.tx; t != nil && !t.Silent && SameTag(t.ParentIDTag, parent) && (target == 0 || target == cn.id) {
			c.endAuthorization(cn, ReasonLocal, idTag)
			return
		}
	}
}

func (c *Core) groupStopAnswered(p pendingCall, e Answered) {
	a, ok := e.Answer.(AuthorizeAnswer)
	if e.Failure != Delivered || !ok || a.Info.Parent == "" {
		return
	}
	c.remember(p.idTag, a.Info)
	c.stopGroup(p.idTag, p.conn, a.Info.Parent)
}
