package chargepoint

import (
	"context"
	"time"

	"github.com/evse-dev/evse/internal/ocpp16"
)

// presented handles an RFID tag held to the reader, meant for connector
// target (0: the charge point picks).
func (c *core) presented(idTag string, target int) {
	// A tag keeping a cable locked after an EV-side unplug frees it.
	for _, cn := range c.conns {
		if cn.heldFor != "" && cn.heldFor == idTag {
			cn.heldFor = ""
			if err := cn.hw.SetLock(false); err != nil {
				c.cp.log.Warn("cable did not unlock", "connector", cn.id, "err", err)
			}
			return
		}
	}
	if m := c.freeMode(); m == 0 || m == 1 || m == 4 {
		return // no tags in these free-charging modes
	}
	// The tag of a running transaction stops it.
	for _, cn := range c.conns {
		if t := cn.tx; t != nil && (target == 0 || target == cn.id) && t.stoppableBy(idTag, c.fixedTag()) {
			c.stop(cn, ocpp16.ReasonLocal, idTag)
			return
		}
	}
	cn := c.pickConnector(target, idTag)
	if cn == nil {
		// Maybe a tag of the same group as a running transaction's: that
		// stops it too, once the group is known.
		c.tryGroupStop(idTag, target)
		return
	}
	switch mode := c.freeMode(); mode {
	case 2: // any tag, no transaction messages
		c.authorized(cn, grant{holder: idTag, silent: true})
		return
	case 3: // any tag, the fixed one in the messages
		c.authorized(cn, grant{idTag: c.fixedTag(), holder: idTag})
		return
	case 5: // any tag, its own in the messages
		c.authorized(cn, grant{idTag: idTag})
		return
	}
	if c.busyWith(idTag) {
		c.cp.log.Info("tag already charging elsewhere (ConcurrentTx)", "id_tag", idTag, "connector", cn.id)
		return
	}
	c.authorize(cn, idTag, false, nil)
}

// pickConnector chooses the connector a tag starts on: the one asked for,
// else one with an EV waiting, else a free one; never one reserved for
// another tag (a reservation with a parentIdTag may still match: that is
// decided once the tag's parent is known).
func (c *core) pickConnector(target int, idTag string) *connector {
	usable := func(cn *connector) bool {
		if r := c.reservationOn(cn); r != nil && r.IDTag != idTag && r.Parent == "" {
			return false
		}
		return cn.tx == nil && cn.auth == nil && cn.authorizing == "" && !cn.inoperative && !c.inoperative && cn.fault == ""
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
func (c *core) busyWith(idTag string) bool {
	for _, cn := range c.conns {
		if cn.tx != nil && cn.tx.IDTag == idTag {
			return true
		}
	}
	return false
}

// authorize decides on an idTag for a connector: at once from local
// knowledge, or through Authorize. remote marks a RemoteStartTransaction.
func (c *core) authorize(cn *connector, idTag string, remote bool, profile *ocpp16.ChargingProfile) {
	list, cache, err := lookupAuth(c.cp.store, idTag)
	if err != nil {
		c.cp.log.Error("authorization data unreadable", "err", err)
	}
	online := c.online()
	d := decideAuth(online, c.keys(), list, cache, c.now())
	c.cp.log.Info("authorization", "connector", cn.id, "id_tag", idTag, "verdict", d.verdict, "reason", d.reason, "remote", remote)
	switch d.verdict {
	case verdictAccept:
		c.authorized(cn, grant{idTag: idTag, parent: d.entry.ParentIDTag, profile: profile})
	case verdictReject:
	case verdictAsk:
		cn.authorizing = idTag
		c.cp.goAsync(func(ctx context.Context) {
			info, err := c.cp.authorizeRemote(ctx, idTag)
			c.cp.post(func(c *core) { c.answered(cn, idTag, profile, info, err) })
		})
	}
}

// answered handles the central system's answer to Authorize (or its
// absence: then the idTag is decided as if offline).
func (c *core) answered(cn *connector, idTag string, profile *ocpp16.ChargingProfile, info *ocpp16.IdTagInfo, err error) {
	if cn.authorizing != idTag {
		return // given up meanwhile
	}
	cn.authorizing = ""
	if err != nil {
		c.cp.log.Warn("Authorize got no answer; deciding offline", "id_tag", idTag, "err", err)
		list, cache, _ := lookupAuth(c.cp.store, idTag)
		if d := decideAuth(false, c.keys(), list, cache, c.now()); d.verdict == verdictAccept {
			c.authorized(cn, grant{idTag: idTag, parent: d.entry.ParentIDTag, profile: profile})
		}
		return
	}
	if err := remember(c.cp.store, c.keys(), idTag, *info); err != nil {
		c.cp.log.Error("authorization cache not written", "err", err)
	}
	if entryFromInfo(*info).valid(c.now()) {
		c.authorized(cn, grant{idTag: idTag, parent: info.ParentIdTag, profile: profile})
		return
	}
	c.cp.log.Info("central system refused the tag", "id_tag", idTag, "status", info.Status)
}

// authorized starts at once when an EV is plugged, else waits for one for
// ConnectionTimeOut.
func (c *core) authorized(cn *connector, g grant) {
	if cn.tx != nil {
		return
	}
	if _, ok := c.claim(cn, g); !ok {
		c.cp.log.Info("connector reserved for another idTag", "connector", cn.id, "id_tag", g.idTag)
		return
	}
	if cn.pilot.Plugged() {
		c.start(cn, g)
		return
	}
	timeout := time.Duration(c.cp.settings.Int("ConnectionTimeOut")) * time.Second
	cn.auth = &pendingAuth{grant: g, deadline: c.now().Add(timeout)}
}

// tryGroupStop stops a transaction whose parentIdTag the presented tag
// shares (OCPP 1.6, 3.5.4), learning the tag's group from the local list,
// the cache or Authorize.
func (c *core) tryGroupStop(idTag string, target int) {
	var candidates []*connector
	for _, cn := range c.conns {
		if cn.tx != nil && cn.tx.ParentIDTag != "" && !cn.tx.Silent && (target == 0 || target == cn.id) {
			candidates = append(candidates, cn)
		}
	}
	if len(candidates) == 0 {
		return
	}
	stopFor := func(c *core, parent string) {
		for _, cn := range candidates {
			if cn.tx != nil && cn.tx.ParentIDTag == parent {
				c.stop(cn, ocpp16.ReasonLocal, idTag)
				return
			}
		}
	}
	list, cache, _ := lookupAuth(c.cp.store, idTag)
	keys := c.keys()
	for _, e := range []*authEntry{list, cache} {
		if e != nil && e.ParentIDTag != "" && ((e == list && keys.ListEnabled) || (e == cache && keys.CacheEnabled)) {
			stopFor(c, e.ParentIDTag)
			return
		}
	}
	if !c.online() {
		return
	}
	c.cp.goAsync(func(ctx context.Context) {
		info, err := c.cp.authorizeRemote(ctx, idTag)
		if err != nil || info.ParentIdTag == "" {
			return
		}
		c.cp.post(func(c *core) {
			remember(c.cp.store, c.keys(), idTag, *info)
			stopFor(c, info.ParentIdTag)
		})
	})
}
