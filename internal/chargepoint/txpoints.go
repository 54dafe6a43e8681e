package chargepoint

import "slices"

// txPoints are where a transaction starts and ends: OCPP 2.0.1's
// TxStartPoint and TxStopPoint, or 1.6's fixed points.
type txPoints struct {
	// startOnPlug: a transaction starts when the EV is plugged in, before
	// a driver is authorized (EVConnected); startOnAuth: when the driver
	// is authorized, before the EV is plugged in (Authorized). Neither:
	// when both have happened (PowerPathClosed, 1.6).
	startOnPlug, startOnAuth bool
	// endOnUnplug: unplugging the EV ends the transaction, whatever
	// StopTransactionOnEVSideDisconnect says (EVConnected,
	// PowerPathClosed). endOnDeauth: the end of the driver's authorization
	// (a local or remote stop, an invalid idTag) ends it (Authorized,
	// PowerPathClosed, 1.6); otherwise the energy stops, the cable is
	// unlocked and the transaction ends when the EV is unplugged.
	endOnUnplug, endOnDeauth bool
}

// points are the transaction points in force.
func (c *Core) points() txPoints {
	if !c.cfg.TxPoints {
		return txPoints{endOnDeauth: true}
	}
	start, stop := c.s.TxStartPoint, c.s.TxStopPoint
	has := func(list []string, point string) bool { return slices.Contains(list, point) }
	return txPoints{
		startOnPlug: has(start, "EVConnected"),
		startOnAuth: has(start, "Authorized"),
		endOnUnplug: has(stop, "EVConnected") || has(stop, "PowerPathClosed"),
		endOnDeauth: has(stop, "Authorized") || has(stop, "PowerPathClosed"),
	}
}

// awaitingDriver reports whether the connector's transaction started at
// plug-in and waits for a driver's authorization.
func (cn *connector) awaitingDriver() bool {
	return cn.tx != nil && cn.tx.Unauthorized
}

// adopt gives a transaction that started at plug-in its driver: the
// energy may flow, and the central system learns who (an update with the
// idTag, triggered by the authorization or the remote start).
func (c *Core) adopt(cn *connector, g grant) {
	t := cn.tx
	t.Unauthorized = false
	t.IDTag, t.ParentIDTag, t.Holder, t.RemoteStartID, t.TokenType = g.idTag, g.parent, g.holder, g.remoteID, g.tokenType
	trigger := TriggerAuthorized
	if g.remoteID != nil {
		trigger = TriggerRemoteStart
	}
	c.journalUpdate(cn, TxEvent{IDTag: t.IDTag, TokenType: t.TokenType, RemoteStartID: t.RemoteStartID, Trigger: trigger})
	c.schedDirty = true
	if g.profile != nil {
		delete(c.promises, g.profile)
		if why := c.setProfile(cn.id, *g.profile); why != "" {
			c.log.Error("the remote start's charging profile not installed", "connector", cn.id, "why", why)
		}
	}
	c.log.Info("transaction authorized", "connector", cn.id, "tx", t.Local, "id_tag", t.IDTag)
}

// journalUpdate keeps a transaction as it is now and journals an update
// of it (ev without its connector, time and seqNo, which it fills in).
func (c *Core) journalUpdate(cn *connector, ev TxEvent) {
	t := cn.tx
	ev.Connector, ev.At, ev.SeqNo = cn.id, c.now, t.Events
	t.Events++
	c.record(TxOpened{Tx: t.copy()})
	c.journal.append(c, t.Local, TxUpdated, ev)
}

// endAuthorization ends the driver's authorization of a connector's
// transaction (a tag presented to stop, a remote stop, an idTag found
// invalid). Where the stop points say so the transaction ends with it;
// otherwise its energy stops in this step, the cable is unlocked, and
// it ends when the EV is unplugged, with this reason.
func (c *Core) endAuthorization(cn *connector, reason StopReason, idTag string) {
	t := cn.tx
	if c.points().endOnDeauth || t.Silent || !cn.pilot.Plugged() {
		c.stop(cn, reason, idTag)
		return
	}
	if t.EndReason != "" {
		return // ended already; the unplug ends the transaction
	}
	c.act(Actuation{Connector: cn.id, Kind: Offer})
	c.act(Actuation{Connector: cn.id, Kind: Contactor})
	c.act(Actuation{Connector: cn.id, Kind: Lock, On: false})
	cn.offered, cn.contactor = 0, false
	t.Deauthorized, t.EndReason = true, reason
	trigger := TriggerDeauthorized
	switch reason {
	case ReasonLocal:
		trigger = TriggerStopAuthorized
	case ReasonRemote:
		trigger = TriggerRemoteStop
	}
	c.journalUpdate(cn, TxEvent{IDTag: idTag, Trigger: trigger})
	c.schedDirty = true
	c.log.Info("authorization ended; the transaction ends when the EV is unplugged", "connector", cn.id, "tx", t.Local, "reason", reason)
}
