package chargepoint

import (
	"math"
	"time"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw"
)

// sense takes a connector's hardware state and acts on what changed. A
// fault stops the transaction: its actuations come in this step.
func (c *Core) sense(cn *connector, s Sensed) {
	pilot, fault := s.Pilot, s.Fault
	if pilot == 0 {
		pilot = cn.pilot
	}
	if fault == "" && (pilot == hw.PilotE || pilot == hw.PilotF) {
		fault = "EVCommunicationError"
		pilot = cn.pilot // the EV is still there as far as we know
	}
	was, hadCable := cn.pilot, cn.cable
	cn.pilot, cn.cable = pilot, s.Cable
	if pilot.Plugged() || s.Cable {
		cn.cableMax = max(s.CableMax, 0)
	}
	if hadCable && !s.Cable && !pilot.Plugged() {
		cn.finishing = false // the cable left the socket: free for the next
		cn.cableMax = 0
	}
	if fault != cn.fault {
		cn.fault = fault
		if fault != "" {
			c.log.Warn("connector fault", "connector", cn.id, "fault", fault)
			if cn.tx != nil {
				c.stop(cn, ReasonOther, "")
			}
		}
	}
	switch {
	case !was.Plugged() && pilot.Plugged():
		c.plugged(cn)
	case was.Plugged() && !pilot.Plugged():
		c.unplugged(cn)
	}
}

// plugged: an EV was connected.
func (c *Core) plugged(cn *connector) {
	cn.finishing = false
	switch {
	case cn.tx != nil:
		// Back after an unplug that did not stop the transaction, or the
		// EV of a transaction started at authorization.
		if !cn.plugBy.IsZero() {
			cn.plugBy = time.Time{}
			c.act(Actuation{Connector: cn.id, Kind: Lock, On: true})
		}
		return
	case c.closed(cn):
		return
	case cn.auth != nil:
		g := cn.auth.grant
		cn.auth = nil
		c.start(cn, g)
		return
	}
	switch c.free {
	case FreeNoOCPP, FreeStatusNoAuth: // no authorization, no transaction messages
		c.start(cn, grant{silent: true})
		return
	case FreeFixedTagNoAuth: // no authorization, transactions with the fixed tag
		c.start(cn, grant{idTag: c.fixedTag()})
		return
	}
	if c.points().startOnPlug {
		c.start(cn, grant{awaiting: true})
	}
	c.immediateOffline(cn)
}

// immediateOffline starts a transaction on a plugged, idle connector when
// AllowOfflineTxForUnknownId is ImmediatelyWhenPlugged and the charge
// point has been offline for OfflineGrace; earlier, it sets a deadline to
// look again.
func (c *Core) immediateOffline(cn *connector) {
	cn.immediateAt = time.Time{}
	busy := cn.auth != nil || cn.authorizing != "" || cn.tx != nil && !cn.tx.Unauthorized
	if c.free.On() || c.offlineSince.IsZero() || busy || !cn.pilot.Plugged() ||
		c.s.AllowOfflineTxForUnknownId != config.OfflineTxImmediatelyWhenPlugged {
		return
	}
	if at := c.offlineSince.Add(c.rules.OfflineGrace); c.now.Before(at) {
		cn.immediateAt = at
		return
	}
	c.log.Info("offline: starting at once on plug-in (ImmediatelyWhenPlugged)", "connector", cn.id)
	c.authorized(cn, grant{idTag: OfflineTag})
}

// linkUp follows the connection coming up.
func (c *Core) linkUp(e LinkUp) {
	c.connected = true
	c.connections++
	c.offlineSince = time.Time{}
	for _, cn := range c.conns {
		cn.immediateAt = time.Time{}
	}
	c.rep.resendAll()
	c.journal.replayDelay = e.ReplayDelay
	if e.NewServer && c.reg.status != NotRegistered {
		c.log.Info("another central system: registering anew")
		c.reg.status, c.reg.lastLost, c.reg.hbAt = NotRegistered, true, time.Time{}
	}
	c.reg.linkUp(c)
}

// linkDown follows the connection going down.
func (c *Core) linkDown() {
	c.connected = false
	if c.offlineSince.IsZero() {
		c.offlineSince = c.now
	}
}

// fixedTag is the idTag of the fixed-tag free-charging modes.
func (c *Core) fixedTag() string {
	if t := c.s.RfidTagFreeCharging; t != "" {
		return t
	}
	return OfflineTag
}

// unplugged: the EV was disconnected at the EV side.
func (c *Core) unplugged(cn *connector) {
	// A cable left in the socket keeps a finished session's connector
	// Finishing until it is taken out (OCPP 1.6, 4.9).
	cn.finishing = cn.cable && (cn.finishing || cn.tx != nil)
	if !cn.cable {
		cn.cableMax = 0
	}
	if cn.tx == nil {
		c.unlockAfterUnplug(cn, "")
		return
	}
	t := cn.tx
	if t.Silent || c.s.StopTransactionOnEVSideDisconnect || c.points().endOnUnplug || t.Unauthorized || t.EndReason != "" {
		tag := t.presenter(c.fixedTag())
		reason := ReasonEVDisconnected
		if t.EndReason != "" {
			reason = t.EndReason // the driver's stop, ended by the unplug
		}
		c.stopBy(cn, reason, "", TriggerEVCommunicationLost)
		cn.finishing = cn.cable
		c.unlockAfterUnplug(cn, tag)
		return
	}
	// The transaction goes on, suspended (drive offers nothing to an
	// unplugged connector), until it is stopped otherwise.
}

// unlockAfterUnplug unlocks the cable at the charge point side after an
// EV-side unplug, unless UnlockConnectorOnEVSideDisconnect is off and a
// user's tag started the transaction: then it stays locked until that tag
// is presented (or an unlock).
func (c *Core) unlockAfterUnplug(cn *connector, idTag string) {
	if c.s.UnlockConnectorOnEVSideDisconnect || idTag == "" {
		c.act(Actuation{Connector: cn.id, Kind: Lock, On: false})
		return
	}
	cn.heldFor = idTag
}

// start begins a transaction (or a silent free-charging session) on a
// connector with an EV; its records come before anything is sent.
func (c *Core) start(cn *connector, g grant) {
	if c.closed(cn) {
		// Made inoperative or faulted while the tag was being decided.
		c.log.Info("connector unavailable or faulted; not starting", "connector", cn.id, "id_tag", g.idTag)
		delete(c.promises, g.profile)
		return
	}
	use, ok := c.claim(cn, g)
	if !ok {
		c.log.Info("connector reserved for another idTag; not starting", "connector", cn.id, "id_tag", g.idTag)
		return
	}
	now := c.now
	r := c.meters[cn.id-1]
	c.lastTx++
	t := &Transaction{Local: c.lastTx, Connector: cn.id, IDTag: g.idTag, ParentIDTag: g.parent, Holder: g.holder,
		MeterStart: wh(r.EnergyWh), Started: now, Silent: g.silent, LastWh: r.EnergyWh, LastAt: now, RemoteStartID: g.remoteID,
		TokenType: g.tokenType, Unauthorized: g.awaiting}
	plugged := cn.pilot.Plugged()
	if use != nil {
		id := use.ID
		t.ReservationID = &id
	}
	if begin, ok := c.sampleOf(cn, c.s.StopTxnSampledData, ContextBegin, now); ok && !t.Silent {
		t.keep(begin)
	}
	if !t.Silent {
		t.Events = 1 // its start, journaled below
		t.ChargingState = ChargingEVConnected
		if !plugged {
			t.ChargingState = ChargingIdle
		}
	}
	var trigger TxTrigger
	if g.awaiting {
		trigger = TriggerCablePluggedIn
	}
	c.record(TxOpened{Tx: t.copy()})
	c.record(RegisterKept{Connector: cn.id, Wh: r.EnergyWh})
	if !t.Silent {
		seq := c.journal.append(c, t.Local, TxStarted, TxEvent{Connector: cn.id, IDTag: t.IDTag, MeterWh: t.MeterStart,
			At: now, ReservationID: t.ReservationID, RemoteStartID: t.RemoteStartID, TokenType: t.TokenType,
			ChargingState: t.ChargingState, Trigger: trigger})
		cn.holdFor = max(cn.holdFor, seq)
	}
	cn.tx, cn.auth, cn.finishing, cn.heldFor = t, nil, false, ""
	cn.idleSince, cn.evDone = time.Time{}, false
	c.schedDirty = true
	if use != nil {
		c.consume(use.ID) // the reservation is used up
	}
	if g.profile != nil {
		delete(c.promises, g.profile) // its place is taken now
		if why := c.setProfile(cn.id, *g.profile); why != "" {
			c.log.Error("the remote start's charging profile not installed", "connector", cn.id, "why", why)
		}
	}
	if plugged {
		c.act(Actuation{Connector: cn.id, Kind: Lock, On: true})
	} else {
		// Started at authorization: the EV has ConnectionTimeOut to come.
		cn.plugBy = now.Add(time.Duration(c.s.ConnectionTimeOut) * time.Second)
	}
	c.scheduleSample(cn, now)
	if c.checkpoint.IsZero() {
		c.checkpoint = now.Add(c.rules.Checkpoint)
	}
	c.log.Info("transaction started", "connector", cn.id, "tx", t.Local, "id_tag", t.IDTag, "meter_start", t.MeterStart, "silent", t.Silent)
}

// stop ends a connector's transaction: the current is cut in this step,
// and the stop is journaled in the record that forgets the transaction.
func (c *Core) stop(cn *connector, reason StopReason, idTag string) {
	c.stopBy(cn, reason, idTag, "")
}

// stopBy is stop with what made the transaction end, when the reason
// does not tell it.
func (c *Core) stopBy(cn *connector, reason StopReason, idTag string, trigger TxTrigger) {
	t := cn.tx
	if t == nil {
		return
	}
	c.act(Actuation{Connector: cn.id, Kind: Offer})
	c.act(Actuation{Connector: cn.id, Kind: Contactor})
	if reason != ReasonEVDisconnected {
		// The user may take the cable.
		c.act(Actuation{Connector: cn.id, Kind: Lock, On: false})
	}
	now := c.now
	r := c.meters[cn.id-1]
	if end, ok := c.sampleOf(cn, c.s.StopTxnSampledData, ContextEnd, now); ok {
		t.keep(end)
	}
	c.record(TxClosed{Connector: cn.id})
	c.record(RegisterKept{Connector: cn.id, Wh: r.EnergyWh})
	if !t.Silent {
		seq := c.journal.append(c, t.Local, TxStopped, TxEvent{Connector: cn.id, IDTag: idTag, MeterWh: wh(r.EnergyWh),
			At: now, Reason: reason, Samples: t.Data, SeqNo: t.Events, Trigger: trigger})
		cn.holdFor = max(cn.holdFor, seq)
	}
	cn.tx, cn.offered, cn.contactor, cn.nextSample, cn.plugBy = nil, 0, false, time.Time{}, time.Time{}
	c.schedDirty = true
	c.endTxProfiles(cn)
	if c.cfg.Managed {
		cn.limit, cn.shared = 0, false // the next session waits for its own share
	}
	cn.finishing = cn.pilot.Plugged()
	if cn.inoperativeLater {
		cn.inoperative, cn.inoperativeLater = true, false
		c.record(AvailabilityKept{Connector: cn.id, Operative: false})
	}
	c.log.Info("transaction stopped", "connector", cn.id, "tx", t.Local, "reason", reason, "meter_stop", wh(r.EnergyWh))
}

// drive sets each connector's offer and contactor from its state.
func (c *Core) drive() {
	c.refreshSchedules()
	for _, cn := range c.conns {
		c.switchPhases(cn)
		offer := c.offerFor(cn)
		if offer != cn.offered {
			cn.offered = offer
			c.act(Actuation{Connector: cn.id, Kind: Offer, Amps: offer})
		}
		if closed := offer >= hw.MinCurrent && cn.pilot.Charging(); closed != cn.contactor {
			cn.contactor = closed
			c.act(Actuation{Connector: cn.id, Kind: Contactor, On: closed})
		}
	}
}

// offerFor is what a connector offers its EV now: the model's maximum,
// under the cable's rating, load management's share and the charging
// schedule; nothing below the least a PWM offer may carry.
func (c *Core) offerFor(cn *connector) float64 {
	if t := cn.tx; t == nil || t.Deauthorized || t.Unauthorized || cn.fault != "" || !cn.pilot.Plugged() || !cn.switchSince.IsZero() {
		return 0
	}
	offer := c.cfg.MaxCurrent
	if cn.cableMax > 0 {
		offer = math.Min(offer, cn.cableMax)
	}
	if cn.limit >= 0 {
		offer = math.Min(offer, cn.limit)
	}
	offer = cn.scheduleCap(offer)
	if offer < hw.MinCurrent {
		return 0
	}
	return offer
}

// switchPhases switches a connector's phases when load management or a
// schedule asks for it, never under load: the offer goes to nothing
// first, and the contactor opens and switches once the EV has stopped
// drawing (or SwitchWait has passed).
func (c *Core) switchPhases(cn *connector) {
	want := c.targetPhases(cn)
	if !c.cfg.CanSwitchPhases || want == 0 || want == cn.phasesNow || want == 3 && cn.phasesNow == 0 {
		cn.switchSince = time.Time{}
		return
	}
	if cn.switchSince.IsZero() {
		cn.switchSince = c.now
	}
	if cn.offered > 0 {
		cn.offered = 0
		c.act(Actuation{Connector: cn.id, Kind: Offer})
	}
	r := c.meters[cn.id-1]
	if max(r.Current[0], r.Current[1], r.Current[2]) >= 1 && c.now.Sub(cn.switchSince) < c.rules.SwitchWait {
		return // the EV is still following the 0 offer
	}
	cn.contactor = false
	c.act(Actuation{Connector: cn.id, Kind: Contactor})
	c.act(Actuation{Connector: cn.id, Kind: Phases, Phases: want})
	c.log.Info("phases switched", "connector", cn.id, "phases", want)
	cn.phasesNow, cn.switchSince = want, time.Time{}
}

// canSwitchPhases reports whether a schedule's one phase switches the
// connector, rather than only limiting its current.
func (c *Core) canSwitchPhases() bool {
	return c.cfg.CanSwitchPhases && c.s.ConnectorSwitch3to1PhaseSupported
}

// targetPhases is what a connector should be switched to: one phase when
// load management or the schedule asks for it (the schedule only with
// ConnectorSwitch3to1PhaseSupported On), else what load management asked
// for, else three once the schedule lets go; 0 for no switch.
func (c *Core) targetPhases(cn *connector) int {
	if cn.sched.phases == 1 && c.canSwitchPhases() {
		return 1
	}
	if cn.wantPhases == 0 && cn.phasesNow == 1 {
		return 3
	}
	return cn.wantPhases
}

// ready tells load management whether connector cn wants current, and
// notes when its EV leaves an offer unused.
func (c *Core) ready(cn *connector) bool {
	t := cn.tx
	now := c.now
	if t == nil || t.Deauthorized || t.Unauthorized || cn.fault != "" || !cn.pilot.Plugged() {
		cn.idleSince, cn.evDone = time.Time{}, false
		return false
	}
	switch {
	case cn.evDone && now.Sub(cn.doneAt) >= c.rules.EVRetryAfter:
		cn.evDone, cn.idleSince = false, time.Time{}
		c.log.Info("offering current again to an EV that was done", "connector", cn.id)
	case cn.offered < hw.MinCurrent || cn.pilot.Charging():
		cn.idleSince = time.Time{}
	case cn.idleSince.IsZero():
		cn.idleSince = now
	case now.Sub(cn.idleSince) >= c.rules.EVDoneAfter && !cn.evDone:
		cn.evDone, cn.doneAt = true, now
		c.log.Info("EV left its offer unused: done charging", "connector", cn.id)
	}
	return !cn.evDone
}

// publishLoads tells load management the connectors' loads when they
// changed.
func (c *Core) publishLoads() {
	changed := len(c.loads) != len(c.conns)
	if changed {
		c.loads = make([]Load, len(c.conns))
	}
	for i, cn := range c.conns {
		l := Load{Connector: cn.id, Ready: c.ready(cn), Applied: cn.offered}
		if c.loads[i] != l {
			c.loads[i], changed = l, true
		}
	}
	if changed {
		c.out.Loads = append([]Load(nil), c.loads...)
	}
}

// Loads returns every connector's load as last published.
func (c *Core) Loads() []Load { return c.loads }

// loadDeadline is when a connector's readiness or phase switch changes
// if nothing happens before.
func (c *Core) loadDeadline(cn *connector) time.Time {
	switch {
	case !cn.switchSince.IsZero():
		return cn.switchSince.Add(c.rules.SwitchWait)
	case cn.evDone:
		return cn.doneAt.Add(c.rules.EVRetryAfter)
	case cn.idleSince.IsZero():
		return time.Time{}
	}
	return cn.idleSince.Add(c.rules.EVDoneAfter)
}
