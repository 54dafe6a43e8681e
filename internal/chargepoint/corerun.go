package chargepoint

import (
	"context"
	"time"

	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// newCore builds the core from the hardware and the store: availability
// is restored and transactions a crash interrupted are stopped.
func (cp *ChargePoint) newCore() (*core, error) {
	c := &core{cp: cp, board: cp.opts.Board}
	limit := -1.0 // no cap
	if cp.opts.Managed {
		limit = 0 // nothing until load management decides
	}
	for i, h := range cp.opts.Board.Connectors() {
		c.conns = append(c.conns, &connector{id: i + 1, hw: h, pilot: hw.PilotA, limit: limit, sched: noSchedule})
	}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

// run is the core goroutine: hardware events, posted work and timers,
// until ctx ends. Then running transactions are stopped (reason Reboot:
// the charge point shuts down).
func (c *core) run(ctx context.Context) {
	defer close(c.cp.coreDone)
	for _, cn := range c.conns {
		cn.hw.Offer(0)
		cn.hw.SetContactor(false)
	}
	c.connectionChanged()
	c.refresh()
	c.rescheduleMetering()
	timer := c.cp.clock.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.drive()
		c.markReserved()
		c.publish()
		c.publishLoads(c.now())
		timer.Stop()
		var tick <-chan time.Time
		if next := c.nextDeadline(); !next.IsZero() {
			timer.Reset(next.Sub(c.now()))
			tick = timer.C()
		}
		select {
		case e := <-c.board.Events():
			c.onHardware(e)
		case f := <-c.cp.posts:
			f(c)
		case <-c.cp.coreWake:
			c.news(c.cp.coreNews.Swap(0))
		case <-tick:
			c.tick(c.now())
		case <-ctx.Done():
			c.shutdown()
			return
		}
	}
}

// news acts on what the rest of the charge point told the core.
func (c *core) news(kinds uint32) {
	if kinds&newsConnection != 0 {
		c.connectionChanged()
	}
	if kinds&newsMetering != 0 {
		c.rescheduleMetering()
	}
	if kinds&newsSettings != 0 {
		c.refresh()
	}
}

// shutdown stops every transaction as the charge point goes down.
func (c *core) shutdown() {
	for _, cn := range c.conns {
		if cn.tx != nil {
			c.stop(cn, ocpp16.ReasonReboot, "")
		}
	}
}

func (c *core) onHardware(e hw.Event) {
	switch e.Kind {
	case hw.ConnectorChanged:
		if cn := c.conn(e.Connector); cn != nil {
			c.sense(cn, e.Pilot)
		}
	case hw.TagPresented:
		c.presented(e.IDTag, e.Connector)
	case hw.InputChanged:
		// Read by load management.
	}
}

// publish tells the reporter every connector's status.
func (c *core) publish() {
	now := c.now()
	cp0 := ocpp16.ChargePointStatusAvailable
	if c.inoperative {
		cp0 = ocpp16.ChargePointStatusUnavailable
	}
	c.cp.reporter.set(0, cp0, ocpp16.ChargePointErrorCodeNoError, now, 0)
	for _, cn := range c.conns {
		status, code := cn.status()
		if c.inoperative && cn.tx == nil && status != ocpp16.ChargePointStatusFaulted {
			status = ocpp16.ChargePointStatusUnavailable
		}
		c.cp.reporter.set(cn.id, status, code, now, cn.holdFor)
	}
}

// rescheduleMetering applies a change of the metering intervals.
func (c *core) rescheduleMetering() {
	now := c.now()
	c.scheduleAligned(now)
	for _, cn := range c.conns {
		c.scheduleSample(cn, now)
	}
}

// startGivenUp ends a transaction the central system never confirmed (its
// StartTransaction was given up): nothing can report it, so it stops
// without a StopTransaction rather than charge unseen.
func (c *core) startGivenUp(local int64) {
	for _, cn := range c.conns {
		if t := cn.tx; t != nil && t.Local == local {
			c.cp.log.Error("stopping a transaction the central system never confirmed", "connector", cn.id, "tx", local)
			t.Silent = true
			c.stop(cn, ocpp16.ReasonOther, "")
		}
	}
}

// startConfirmed takes the central system's answer to StartTransaction:
// the transaction's id, and what it says of the idTag.
func (c *core) startConfirmed(local int64, csmsID int, idTag string, info ocpp16.IdTagInfo) {
	if err := remember(c.cp.store, c.keys(), idTag, info); err != nil {
		c.cp.log.Error("authorization cache not written", "err", err)
	}
	for _, cn := range c.conns {
		t := cn.tx
		if t == nil || t.Local != local {
			continue
		}
		t.CSMSID = csmsID
		c.schedDirty = true // a TxProfile may name it
		if info.ParentIdTag != "" && t.ParentIDTag == "" {
			t.ParentIDTag = info.ParentIdTag
		}
		if info.Status == ocpp16.AuthorizationStatusAccepted {
			return
		}
		c.cp.log.Warn("central system refused the idTag of a running transaction", "connector", cn.id, "status", info.Status)
		if c.cp.settings.Bool("StopTransactionOnInvalidId") {
			c.stop(cn, ocpp16.ReasonDeAuthorized, "")
			return
		}
		t.Deauthorized = true
		c.record(cn, cn.hw.Meter(), c.now(), nil)
		return
	}
}
