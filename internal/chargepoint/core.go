package chargepoint

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// core is the charging state of the charge point: connectors, transactions,
// authorizations and their timers. One goroutine, runCore's, owns it; the
// rest of the charge point reaches it with post and exec.
type core struct {
	cp    *ChargePoint
	board hw.Board
	conns []*connector // conns[0] is connector 1

	// inoperative is connector 0's availability: the whole charge point.
	inoperative bool
	// aligned is the next clock-aligned metering boundary, zero when
	// ClockAlignedDataInterval is 0.
	aligned time.Time
	// checkpoint is when the running transactions' readings are next kept.
	checkpoint time.Time
	// offlineSince is when the connection to the central system was last
	// lost (or the core started without one); zero while connected.
	offlineSince time.Time
	// res are the reservations, by reservationId.
	res map[int]*reservation

	// profiles are the installed charging profiles.
	profiles []installedProfile
	// schedDirty: a profile or a session changed (a transaction began,
	// ended or learnt its id); schedUntil: when a period boundary comes
	// (zero: none known).
	schedDirty bool
	schedUntil time.Time
	// promises are the TxProfiles of accepted RemoteStartTransactions
	// waiting for their transactions, with when they lapse.
	promises map[*ocpp16.ChargingProfile]time.Time
}

// offlineGrace is how long the charge point must have been without a
// connection before AllowOfflineTxForUnknownId ImmediatelyWhenPlugged
// starts a transaction on plug-in: at boot, or over a short blip, the
// central system is not given up at once.
const offlineGrace = 30 * time.Second

// checkpointEvery is how often a running transaction's meter reading is
// kept in the store, whatever the metering keys say: a crash loses at most
// this much of a transaction's energy.
const checkpointEvery = time.Minute

// offlineTag is the idTag of a transaction started offline on plug-in with
// AllowOfflineTxForUnknownId ImmediatelyWhenPlugged, and of the fixed-tag
// free-charging modes while RfidTagFreeCharging is empty.
const offlineTag = "EVSE-UNKNOWN"

func (c *core) now() time.Time { return c.cp.clock.Now() }

func (c *core) conn(id int) *connector {
	if id < 1 || id > len(c.conns) {
		return nil
	}
	return c.conns[id-1]
}

// online reports whether a message sent now would reach an accepting
// central system.
func (c *core) online() bool {
	return c.cp.Registration() == ocpp16.RegistrationStatusAccepted && c.cp.caller().Connected()
}

func (c *core) keys() authKeys {
	s := c.cp.settings
	return authKeys{
		LocalPreAuthorize:     s.Bool("LocalPreAuthorize"),
		LocalAuthorizeOffline: s.Bool("LocalAuthorizeOffline"),
		CacheEnabled:          s.Bool("AuthorizationCacheEnabled"),
		ListEnabled:           s.Bool("LocalAuthListEnabled"),
		OfflineUnknown:        s.String("AllowOfflineTxForUnknownId"),
	}
}

// freeMode returns the FreeChargingMode when FreeCharging is on, else -1.
func (c *core) freeMode() int { return c.cp.freeMode() }

// freeMode returns the FreeChargingMode when FreeCharging is on, else -1.
func (cp *ChargePoint) freeMode() int {
	if cp.settings.Int("FreeCharging") == 0 {
		return -1
	}
	return cp.settings.Int("FreeChargingMode")
}

// load restores what the store keeps: availability, and transactions that
// were running when the process died, which are stopped with PowerLoss.
func (c *core) load() error {
	return c.cp.store.Update(func(tx kv.Tx) error {
		if tx.Get(bucketAvail, pad(0)) != nil {
			c.inoperative = true
		}
		for _, cn := range c.conns {
			cn.inoperative = tx.Get(bucketAvail, pad(int64(cn.id))) != nil
		}
		if err := c.loadReservations(tx, c.now()); err != nil {
			return err
		}
		if err := c.loadProfiles(tx); err != nil {
			return err
		}
		var lost []transaction
		err := tx.ForEach(bucketOpenTx, func(_ string, v []byte) error {
			var t transaction
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("chargepoint: open transaction: %w", err)
			}
			lost = append(lost, t)
			return nil
		})
		if err != nil {
			return err
		}
		for _, t := range lost {
			c.cp.log.Warn("transaction was running when the charge point stopped; stopping it with PowerLoss",
				"connector", t.Connector, "tx", t.Local, "meter_stop", wh(t.LastWh))
			if err := tx.Delete(bucketOpenTx, pad(int64(t.Connector))); err != nil {
				return err
			}
			if t.Silent {
				continue
			}
			req := t.stopRequest(ocpp16.ReasonPowerLoss, "", wh(t.LastWh), t.LastAt)
			if _, err := appendJournal(tx, "StopTransaction", t.Local, req); err != nil {
				return err
			}
		}
		return nil
	})
}

// LastRegisters returns the last meter register the charge point knows of
// each connector (index 0: connector 1), for simulated meters to start
// from after a restart.
func LastRegisters(store kv.Store, connectors int) ([]float64, error) {
	out := make([]float64, connectors)
	err := store.View(func(tx kv.Tx) error {
		for i := range out {
			if raw := tx.Get(bucketMeter, pad(int64(i+1))); raw != nil {
				v, err := strconv.ParseFloat(string(raw), 64)
				if err != nil {
					return err
				}
				out[i] = v
			}
			if raw := tx.Get(bucketOpenTx, pad(int64(i+1))); raw != nil {
				var t transaction
				if json.Unmarshal(raw, &t) == nil {
					out[i] = max(out[i], t.LastWh)
				}
			}
		}
		return nil
	})
	return out, err
}

// keepRegister notes a connector's register inside tx.
func keepRegister(tx kv.Tx, connector int, register float64) error {
	if raw := tx.Get(bucketMeter, pad(int64(connector))); raw != nil {
		if old, err := strconv.ParseFloat(string(raw), 64); err == nil && old > register {
			return nil
		}
	}
	return tx.Put(bucketMeter, pad(int64(connector)), []byte(strconv.FormatFloat(register, 'f', 3, 64)))
}

// refresh reads the hardware of every connector again.
func (c *core) refresh() {
	for _, cn := range c.conns {
		c.sense(cn, 0)
	}
}

// sense reads a connector's fault and pilot (or takes the pilot an event
// reported) and acts on what changed.
func (c *core) sense(cn *connector, pilot hw.PilotState) {
	if pilot == 0 {
		pilot = cn.hw.Pilot()
	}
	fault := cn.hw.Fault()
	if fault == "" && (pilot == hw.PilotE || pilot == hw.PilotF) {
		fault = string(ocpp16.ChargePointErrorCodeEVCommunicationError)
		pilot = cn.pilot // the EV is still there as far as we know
	}
	was := cn.pilot
	cn.pilot = pilot
	if fault != cn.fault {
		cn.fault = fault
		if fault != "" {
			c.cp.log.Warn("connector fault", "connector", cn.id, "fault", fault)
			if cn.tx != nil {
				c.stop(cn, ocpp16.ReasonOther, "")
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
func (c *core) plugged(cn *connector) {
	cn.finishing = false
	switch {
	case cn.tx != nil:
		return // back after an unplug that did not stop the transaction
	case cn.inoperative || c.inoperative || cn.fault != "":
		return
	case cn.auth != nil:
		g := cn.auth.grant
		cn.auth = nil
		c.start(cn, g)
		return
	}
	switch mode := c.freeMode(); mode {
	case 0, 1: // no authorization, no transaction messages
		c.start(cn, grant{silent: true})
		return
	case 4: // no authorization, transactions with the fixed tag
		c.start(cn, grant{idTag: c.fixedTag()})
		return
	}
	c.immediateOffline(cn)
}

// immediateOffline starts a transaction on a plugged, idle connector when
// AllowOfflineTxForUnknownId is ImmediatelyWhenPlugged and the charge
// point has been offline for offlineGrace; earlier, it sets a deadline to
// look again.
func (c *core) immediateOffline(cn *connector) {
	cn.immediateAt = time.Time{}
	if c.freeMode() >= 0 || c.offlineSince.IsZero() || cn.busyStarting() || !cn.pilot.Plugged() ||
		c.cp.settings.String("AllowOfflineTxForUnknownId") != "ImmediatelyWhenPlugged" {
		return
	}
	if at := c.offlineSince.Add(offlineGrace); c.now().Before(at) {
		cn.immediateAt = at
		return
	}
	c.cp.log.Info("offline: starting at once on plug-in (ImmediatelyWhenPlugged)", "connector", cn.id)
	c.start(cn, grant{idTag: offlineTag})
}

// connectionChanged follows the connection going up or down.
func (c *core) connectionChanged() {
	switch connected := c.cp.caller().Connected(); {
	case connected:
		c.offlineSince = time.Time{}
		for _, cn := range c.conns {
			cn.immediateAt = time.Time{}
		}
	case c.offlineSince.IsZero():
		c.offlineSince = c.now()
	}
}

// statusOnly reports a free-charging mode that sends no transaction
// messages and no meter values (0 to 2).
func (c *core) statusOnly() bool {
	m := c.freeMode()
	return m >= 0 && m <= 2
}

// fixedTag is the idTag of the fixed-tag free-charging modes.
func (c *core) fixedTag() string {
	if t := c.cp.settings.String("RfidTagFreeCharging"); t != "" {
		return t
	}
	return offlineTag
}

// unplugged: the EV was disconnected at the EV side.
func (c *core) unplugged(cn *connector) {
	cn.finishing = false
	if cn.tx == nil {
		c.unlockAfterUnplug(cn, "")
		return
	}
	if cn.tx.Silent || c.cp.settings.Bool("StopTransactionOnEVSideDisconnect") {
		tag := cn.tx.presenter(c.fixedTag())
		c.stop(cn, ocpp16.ReasonEVDisconnected, "")
		cn.finishing = false
		c.unlockAfterUnplug(cn, tag)
		return
	}
	// The transaction goes on, suspended (drive offers nothing to an
	// unplugged connector), until it is stopped otherwise.
}

// unlockAfterUnplug unlocks the cable at the charge point side after an
// EV-side unplug, unless UnlockConnectorOnEVSideDisconnect is off and a
// user's tag started the transaction: then it stays locked until that tag
// is presented (or UnlockConnector).
func (c *core) unlockAfterUnplug(cn *connector, idTag string) {
	if c.cp.settings.Bool("UnlockConnectorOnEVSideDisconnect") || idTag == "" {
		if err := cn.hw.SetLock(false); err != nil {
			c.cp.log.Warn("cable did not unlock", "connector", cn.id, "err", err)
		}
		return
	}
	cn.heldFor = idTag
}

// start begins a transaction (or a silent free-charging session) on a
// connector with an EV, durably before anything is sent.
func (c *core) start(cn *connector, g grant) {
	use, ok := c.claim(cn, g)
	if !ok {
		c.cp.log.Info("connector reserved for another idTag; not starting", "connector", cn.id, "id_tag", g.idTag)
		return
	}
	now := c.now()
	r := cn.hw.Meter()
	idTag, silent := g.idTag, g.silent
	t := &transaction{Connector: cn.id, IDTag: idTag, ParentIDTag: g.parent, Holder: g.holder, MeterStart: wh(r.EnergyWh),
		Started: now, Silent: silent, LastWh: r.EnergyWh, LastAt: now}
	if use != nil {
		id := use.ID
		t.ReservationID = &id
	}
	begin := meterValue(r, measurands(c.cp.settings.String("StopTxnSampledData")), ocpp16.ReadingContextTransactionBegin, now, c.cp.phases())
	if begin != nil && !silent {
		t.Data = append(t.Data, *begin)
	}
	var seq uint64
	err := c.cp.store.Update(func(tx kv.Tx) error {
		local, err := nextCounter(tx, "tx")
		if err != nil {
			return err
		}
		t.Local = local
		// A transaction whose stop the store failed to take is still
		// recorded: it is stopped now, in the same write.
		if raw := tx.Get(bucketOpenTx, pad(int64(cn.id))); raw != nil {
			var old transaction
			if json.Unmarshal(raw, &old) == nil && !old.Silent {
				req := old.stopRequest(ocpp16.ReasonOther, "", wh(old.LastWh), old.LastAt)
				if _, err := appendJournal(tx, "StopTransaction", old.Local, req); err != nil {
					return err
				}
			}
		}
		if err := tx.Put(bucketOpenTx, pad(int64(cn.id)), t.encode()); err != nil {
			return err
		}
		if err := keepRegister(tx, cn.id, r.EnergyWh); err != nil {
			return err
		}
		if silent {
			return nil
		}
		seq, err = appendJournal(tx, "StartTransaction", local, ocpp16.StartTransactionRequest{
			ConnectorId: cn.id, IdTag: idTag, MeterStart: t.MeterStart, Timestamp: ocpp16.DateTime{Time: now},
			ReservationId: t.ReservationID,
		})
		return err
	})
	if err != nil {
		c.cp.log.Error("transaction not started: the store failed", "connector", cn.id, "err", err)
		return
	}
	cn.tx, cn.auth, cn.finishing, cn.heldFor = t, nil, false, ""
	c.schedDirty = true
	cn.holdFor = max(cn.holdFor, seq)
	if use != nil {
		c.consume(use) // the reservation is used up
	}
	if g.profile != nil {
		delete(c.promises, g.profile) // its place is taken now
		if why := c.setProfile(cn.id, *g.profile); why != "" {
			c.cp.log.Error("RemoteStartTransaction's charging profile not installed", "connector", cn.id, "why", why)
		}
	}
	if err := cn.hw.SetLock(true); err != nil {
		c.cp.log.Warn("cable did not lock", "connector", cn.id, "err", err)
	}
	c.scheduleSample(cn, now)
	if c.checkpoint.IsZero() {
		c.checkpoint = now.Add(checkpointEvery)
	}
	c.cp.log.Info("transaction started", "connector", cn.id, "tx", t.Local, "id_tag", idTag, "meter_start", t.MeterStart, "silent", silent)
	c.cp.nudgeSender()
}

// stop ends the transaction of a connector durably: StopTransaction goes to
// the journal in the same write that forgets the open transaction.
func (c *core) stop(cn *connector, reason ocpp16.Reason, idTag string) {
	t := cn.tx
	if t == nil {
		return
	}
	now := c.now()
	r := cn.hw.Meter()
	if end := meterValue(r, measurands(c.cp.settings.String("StopTxnSampledData")), ocpp16.ReadingContextTransactionEnd, now, c.cp.phases()); end != nil {
		t.keep(*end)
	}
	var seq uint64
	err := c.cp.store.Update(func(tx kv.Tx) error {
		if err := tx.Delete(bucketOpenTx, pad(int64(cn.id))); err != nil {
			return err
		}
		if err := keepRegister(tx, cn.id, r.EnergyWh); err != nil {
			return err
		}
		if t.Silent {
			return nil
		}
		var err error
		seq, err = appendJournal(tx, "StopTransaction", t.Local, t.stopRequest(reason, idTag, wh(r.EnergyWh), now))
		return err
	})
	if err != nil {
		// The transaction stays open in the store: after a restart it
		// is stopped with PowerLoss.
		c.cp.log.Error("StopTransaction not journaled: the store failed", "connector", cn.id, "err", err)
	}
	cn.tx, cn.offered, cn.nextSample = nil, 0, time.Time{}
	c.schedDirty = true
	c.endTxProfiles(cn)
	if c.cp.opts.Managed {
		cn.limit = 0 // the next session waits for its own share
	}
	cn.holdFor = max(cn.holdFor, seq)
	cn.finishing = cn.pilot.Plugged()
	cn.hw.Offer(0)
	cn.hw.SetContactor(false)
	if reason != ocpp16.ReasonEVDisconnected {
		// The user may take the cable.
		if err := cn.hw.SetLock(false); err != nil {
			c.cp.log.Warn("cable did not unlock", "connector", cn.id, "err", err)
		}
	}
	if cn.inoperativeLater {
		cn.inoperative, cn.inoperativeLater = true, false
		c.saveAvailability(cn.id, false)
	}
	c.cp.log.Info("transaction stopped", "connector", cn.id, "tx", t.Local, "reason", reason, "meter_stop", wh(r.EnergyWh))
	c.cp.nudgeSender()
}

// saveAvailability keeps a connector's (0: the charge point's)
// availability across restarts.
func (c *core) saveAvailability(id int, operative bool) error {
	return c.cp.store.Update(func(tx kv.Tx) error {
		if operative {
			return tx.Delete(bucketAvail, pad(int64(id)))
		}
		return tx.Put(bucketAvail, pad(int64(id)), []byte("Inoperative"))
	})
}

// drive sets each connector's offer and contactor from its state.
func (c *core) drive() {
	now := c.now()
	c.refreshSchedules(now)
	for _, cn := range c.conns {
		c.switchPhases(cn, now)
		offer := c.offerFor(cn)
		if offer != cn.offered {
			cn.offered = offer
			cn.hw.Offer(offer)
			c.sense(cn, 0) // the EV answers PWM at once
		}
		cn.hw.SetContactor(offer >= hw.MinCurrent && cn.pilot.Charging())
	}
}

// scheduleSample sets when a transaction's next sampled meter value is due.
func (c *core) scheduleSample(cn *connector, from time.Time) {
	cn.nextSample = time.Time{}
	if iv := c.cp.settings.Int("MeterValueSampleInterval"); iv > 0 && cn.tx != nil {
		cn.nextSample = from.Add(time.Duration(iv) * time.Second)
	}
}

// scheduleAligned sets the next clock-aligned boundary.
func (c *core) scheduleAligned(from time.Time) {
	c.aligned = time.Time{}
	if iv := c.cp.settings.Int("ClockAlignedDataInterval"); iv > 0 {
		c.aligned = nextAligned(from, time.Duration(iv)*time.Second)
	}
}

// nextDeadline is when the core must next look at the time.
func (c *core) nextDeadline() time.Time {
	var next time.Time
	earlier := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	earlier(c.aligned)
	earlier(c.checkpoint)
	for _, cn := range c.conns {
		earlier(cn.nextSample)
		earlier(cn.immediateAt)
		earlier(cn.loadDeadline())
		if cn.auth != nil {
			earlier(cn.auth.deadline)
		}
	}
	earlier(c.nextExpiry())
	earlier(c.schedUntil)
	return next
}

// tick does what is due at now.
func (c *core) tick(now time.Time) {
	c.expireReservations(now)
	for _, cn := range c.conns {
		if a := cn.auth; a != nil && !now.Before(a.deadline) {
			c.cp.log.Info("no cable within ConnectionTimeOut; authorization dropped", "connector", cn.id, "id_tag", a.idTag)
			delete(c.promises, a.profile)
			cn.auth = nil
		}
		if !cn.nextSample.IsZero() && !now.Before(cn.nextSample) {
			c.sample(cn, now)
			c.scheduleSample(cn, cn.nextSample)
		}
		if !cn.immediateAt.IsZero() && !now.Before(cn.immediateAt) {
			c.immediateOffline(cn)
		}
	}
	if !c.aligned.IsZero() && !now.Before(c.aligned) {
		c.alignedSample(c.aligned)
		c.scheduleAligned(c.aligned)
	}
	if !c.checkpoint.IsZero() && !now.Before(c.checkpoint) {
		c.keepReadings(now)
	}
}

// sample sends MeterValuesSampledData of a transaction and keeps
// StopTxnSampledData for its StopTransaction.
func (c *core) sample(cn *connector, at time.Time) {
	t := cn.tx
	if t == nil || t.Silent {
		return
	}
	r := cn.hw.Meter()
	if mv := meterValue(r, measurands(c.cp.settings.String("StopTxnSampledData")), ocpp16.ReadingContextSamplePeriodic, at, c.cp.phases()); mv != nil {
		t.keep(*mv)
	}
	mv := meterValue(r, measurands(c.cp.settings.String("MeterValuesSampledData")), ocpp16.ReadingContextSamplePeriodic, at, c.cp.phases())
	c.record(cn, r, at, mv)
}

// alignedSample sends MeterValuesAlignedData of every connector at a
// clock-aligned boundary (journaled for a transaction, best effort
// otherwise) and keeps StopTxnAlignedData.
func (c *core) alignedSample(at time.Time) {
	for _, cn := range c.conns {
		r := cn.hw.Meter()
		mv := meterValue(r, measurands(c.cp.settings.String("MeterValuesAlignedData")), ocpp16.ReadingContextSampleClock, at, c.cp.phases())
		if t := cn.tx; t != nil && !t.Silent {
			if sv := meterValue(r, measurands(c.cp.settings.String("StopTxnAlignedData")), ocpp16.ReadingContextSampleClock, at, c.cp.phases()); sv != nil {
				t.keep(*sv)
			}
			c.record(cn, r, at, mv)
			continue
		}
		if mv != nil && !c.statusOnly() {
			c.cp.sendLater("MeterValues", ocpp16.MeterValuesRequest{ConnectorId: cn.id, MeterValue: []ocpp16.MeterValue{*mv}})
		}
	}
}

// record keeps a transaction's reading and journals its MeterValues, if
// any, in one write.
func (c *core) record(cn *connector, r hw.Reading, at time.Time, mv *ocpp16.MeterValue) {
	t := cn.tx
	t.LastWh, t.LastAt = r.EnergyWh, at
	err := c.cp.store.Update(func(tx kv.Tx) error {
		if err := tx.Put(bucketOpenTx, pad(int64(cn.id)), t.encode()); err != nil {
			return err
		}
		if err := keepRegister(tx, cn.id, r.EnergyWh); err != nil {
			return err
		}
		if mv == nil {
			return nil
		}
		_, err := appendJournal(tx, "MeterValues", t.Local, ocpp16.MeterValuesRequest{
			ConnectorId: cn.id, TransactionId: &t.CSMSID, MeterValue: []ocpp16.MeterValue{*mv}})
		return err
	})
	if err != nil {
		c.cp.log.Error("meter values not journaled: the store failed", "connector", cn.id, "err", err)
		return
	}
	if mv != nil {
		c.cp.nudgeSender()
	}
}

// keepReadings stores the readings of the running transactions.
func (c *core) keepReadings(now time.Time) {
	c.checkpoint = time.Time{}
	for _, cn := range c.conns {
		if cn.tx != nil {
			c.record(cn, cn.hw.Meter(), now, nil)
			c.checkpoint = now.Add(checkpointEvery)
		}
	}
}
