package chargepoint

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/evse-dev/evse/internal/smartcharging"
)

// command carries out a command and replies to it.
func (c *Core) command(e Command) {
	switch cmd := e.Cmd.(type) {
	case RemoteStart:
		c.reply(e.ID, c.remoteStart(cmd))
	case RemoteStop:
		c.remoteStop(e.ID, cmd)
	case Reset:
		if cmd.OnIdle && c.charging() {
			c.reply(e.ID, ResetScheduled)
			c.resetOnIdle = true
			c.log.Info("reset scheduled for when no transaction runs")
			return
		}
		c.reply(e.ID, ResetAccepted)
		c.resetNow(cmd.Hard)
	case ChangeAvailability:
		c.reply(e.ID, c.changeAvailability(cmd))
	case Unlock:
		c.unlock(e.ID, cmd)
	case ReserveNow:
		r := c.reserve(cmd.Reservation)
		c.log.Info("ReserveNow", "reservation", cmd.Reservation.ID, "connector", cmd.Reservation.Connector, "id_tag", cmd.Reservation.IDTag, "status", r)
		c.reply(e.ID, r)
	case CancelReservation:
		c.reply(e.ID, c.cancelReservation(cmd.ID))
	case SetProfile:
		why := c.setProfile(cmd.Connector, cmd.Profile)
		if why != "" {
			c.log.Info("SetChargingProfile rejected", "connector", cmd.Connector, "id", cmd.Profile.ID, "why", why)
		}
		c.reply(e.ID, ProfileResult{Why: why})
	case ClearProfiles:
		c.reply(e.ID, c.clearProfiles(cmd))
	case CompositeRequest:
		c.reply(e.ID, c.compositeInputs(cmd.Connector))
	case ListProfiles:
		out := slices.Clone(c.profiles)
		for i := range out {
			out[i].Profile.Schedule.Periods = slices.Clone(out[i].Profile.Schedule.Periods)
		}
		c.reply(e.ID, out)
	case Trigger:
		c.trigger(e.ID, cmd)
	case EmergencyStop:
		for _, cn := range c.conns {
			if cn.tx != nil {
				c.stop(cn, ReasonEmergencyStop, "")
			}
		}
		c.reply(e.ID, nil)
	case Query:
		c.out.Messages = append(c.out.Messages, Message{Reply: e.ID, Body: c.status(), Now: true})
	case QueryQueue:
		n := 0
		for _, en := range c.journal.entries {
			if cmd.Tx == 0 && en.Kind != SecurityNote || cmd.Tx != 0 && en.Tx == cmd.Tx {
				n++
			}
		}
		c.out.Messages = append(c.out.Messages, Message{Reply: e.ID, Body: n, Now: true})
	case UpdateFirmware:
		c.reply(e.ID, c.updateFirmware(cmd))
	case GetDiagnostics:
		c.reply(e.ID, c.getDiagnostics(cmd))
	case GetLog:
		c.reply(e.ID, c.getLog(cmd))
	default:
		c.reply(e.ID, fmt.Errorf("chargepoint: unknown command %T", e.Cmd))
	}
}

// remoteStart answers a remote start. Accepted means the charge point
// will try: the idTag is authorized first when AuthorizeRemoteTxRequests
// is on, and the EV may still have ConnectionTimeOut to plug in. A
// transaction started at plug-in that waits for its driver is the one
// the remote start is for: the result names it.
func (c *Core) remoteStart(r RemoteStart) RemoteStartResult {
	var no RemoteStartResult
	if c.reg.status != Accepted || !c.free.HasTransactions() {
		return no // not while Pending; these free-charging modes have no transactions
	}
	if r.Connector < 0 || r.Connector > len(c.conns) {
		return no
	}
	cn := c.pickConnector(r.Connector, r.IDTag)
	if cn == nil || c.busyWith(r.IDTag) {
		return no
	}
	res := RemoteStartResult{Accepted: true}
	if cn.awaitingDriver() {
		res.Waiting = cn.tx.Local
	}
	var profile *smartcharging.Profile
	if r.Profile != nil {
		if why := c.checkRemoteProfile(cn.id, *r.Profile); why != "" {
			c.log.Info("RemoteStartTransaction rejected: its charging profile", "why", why)
			return no
		}
		p := *r.Profile
		p.TransactionID = nil // it is for the transaction about to start
		profile = &p
		c.promise(profile)
	}
	switch {
	case c.free == FreeFixedTagAnyTag || c.free == FreeFixedTagNoAuth: // free charging in the fixed tag's name
		c.authorized(cn, grant{idTag: c.fixedTag(), profile: profile, remoteID: r.RemoteStartID})
	case c.free == FreeAnyTag:
		c.authorized(cn, grant{idTag: r.IDTag, profile: profile, remoteID: r.RemoteStartID, tokenType: r.TokenType})
	case c.s.AuthorizeRemoteTxRequests:
		c.authorize(cn, r.IDTag, true, profile, r.RemoteStartID, r.TokenType, r.Known)
	default:
		c.authorized(cn, grant{idTag: r.IDTag, profile: profile, remoteID: r.RemoteStartID, tokenType: r.TokenType})
	}
	return res
}

// remoteStop answers a remote stop: accepted for a transaction that is
// running, by its central-system id; the stop follows the answer.
func (c *Core) remoteStop(id uint64, r RemoteStop) {
	if c.reg.status == Accepted {
		for _, cn := range c.conns {
			if t := cn.tx; t != nil && !t.Silent && c.txID(t) != 0 && c.txID(t) == r.TransactionID {
				c.reply(id, true)
				c.endAuthorization(cn, ReasonRemote, "")
				return
			}
		}
	}
	c.reply(id, false)
}

// resetNow resets at the central system's request: a security event, then
// the reset.
func (c *Core) resetNow(hard bool) {
	reason, info := ReasonSoftReset, "Soft reset by the central system"
	if hard {
		reason, info = ReasonHardReset, "Hard reset by the central system"
	}
	c.securityEvent(SecResetOrReboot, info)
	c.reset(reason, hard)
}

// charging reports whether a transaction runs.
func (c *Core) charging() bool {
	for _, cn := range c.conns {
		if cn.tx != nil {
			return true
		}
	}
	return false
}

// resetWhenIdle carries out a reset scheduled for when no transaction
// runs, once none does.
func (c *Core) resetWhenIdle() {
	if c.resetOnIdle && c.halting == nil && !c.charging() {
		c.resetOnIdle = false
		c.resetNow(false)
	}
}

// reset stops every transaction; the charge point halts once their stops
// are delivered, or ResetFlush has passed.
func (c *Core) reset(reason StopReason, hard bool) {
	for _, cn := range c.conns {
		if cn.tx != nil {
			c.stop(cn, reason, "")
		}
	}
	if c.halting == nil {
		c.halting = &Halt{Hard: hard}
		c.haltBy = c.now.Add(c.rules.ResetFlush)
	}
}

// checkHalt halts once the journal's transaction messages are delivered
// and none of its messages is out (one out would be sent again after the
// restart), the link is down, or the time is up. Security events not yet
// sent wait in the store for after the restart.
func (c *Core) checkHalt() {
	if c.halting == nil {
		return
	}
	if (c.journal.transactions() || c.journal.out) && c.online() && c.now.Before(c.haltBy) {
		return
	}
	c.out.Halt = c.halting
	c.halted = true
}

// changeAvailability answers ChangeAvailability: Inoperative while a
// transaction runs is Scheduled for its end. Availability survives
// restarts.
func (c *Core) changeAvailability(r ChangeAvailability) AvailabilityResult {
	var targets []*connector
	switch {
	case r.Connector == 0:
		targets = c.conns
	case c.conn(r.Connector) != nil:
		targets = []*connector{c.conn(r.Connector)}
	default:
		return AvailabilityRejected
	}
	result := AvailabilityAccepted
	if r.Connector == 0 {
		c.inoperative = !r.Operative
		c.record(AvailabilityKept{Connector: 0, Operative: r.Operative})
	}
	for _, cn := range targets {
		if !r.Operative && cn.tx != nil {
			cn.inoperativeLater = true
			result = AvailabilityScheduled
			// Kept now: after a crash the transaction is stopped
			// (PowerLoss) and the change holds.
			c.record(AvailabilityKept{Connector: cn.id, Operative: false})
			continue
		}
		cn.inoperativeLater = false
		if r.Connector != 0 || r.Operative {
			cn.inoperative = !r.Operative
			c.record(AvailabilityKept{Connector: cn.id, Operative: r.Operative})
		}
	}
	return result
}

// unlock stops a connector's transaction (UnlockCommand) and unlocks its
// cable; the reply waits for the lock.
func (c *Core) unlock(id uint64, r Unlock) {
	cn := c.conn(r.Connector)
	if cn == nil {
		c.reply(id, NoSuchLock)
		return
	}
	if cn.tx != nil {
		c.stop(cn, ReasonUnlockCommand, "")
	}
	cn.heldFor = ""
	c.act(Actuation{Connector: cn.id, Kind: Lock, On: false, For: id})
}

// lockResult answers the command that waited for a lock.
func (c *Core) lockResult(e LockResult) {
	if e.Err != nil {
		c.log.Warn("UnlockConnector: the cable did not unlock", "connector", e.Connector, "err", e.Err)
		c.reply(e.For, UnlockFailed)
		return
	}
	c.reply(e.For, Unlocked)
}

// trigger answers a Trigger; the message it asks for follows the answer.
func (c *Core) trigger(id uint64, t Trigger) {
	if t.Connector < -1 || t.Connector > len(c.conns) {
		c.reply(id, TriggerRejected)
		return
	}
	r := &c.reg
	switch t.Message {
	case TriggerBoot:
		c.reply(id, TriggerAccepted)
		if r.status != Rejected {
			r.bootAt, r.triggered = c.now, true
		}
	case TriggerHeartbeat:
		c.reply(id, TriggerAccepted)
		r.heartbeat = true
	case TriggerDiagnostics:
		c.reply(id, TriggerAccepted)
		r.diagnosticsStatus = true
	case TriggerFirmware:
		c.reply(id, TriggerAccepted)
		r.firmwareStatus = true
	case TriggerLog:
		c.reply(id, TriggerAccepted)
		r.logStatus = true
	case TriggerSignedFirmware:
		c.reply(id, TriggerAccepted)
		r.signedFirmwareStatus = true
	case TriggerStatus:
		if c.free.Silent() {
			c.reply(id, TriggerRejected) // no statuses in this mode
			return
		}
		c.reply(id, TriggerAccepted)
		c.rep.force(t.Connector)
	case TriggerMeterValues:
		if c.free.StatusOnly() {
			c.reply(id, TriggerRejected) // no meter values in these modes
			return
		}
		c.reply(id, TriggerAccepted)
		c.triggeredMeterValues(t.Connector)
	default:
		c.reply(id, TriggerNotImplemented)
	}
}

// Status is what the charge point is doing, for the local API.
type Status struct {
	Connected bool `json:"connected"`
	// Protocol is the subprotocol the connection speaks (ocpp1.6,
	// ocpp2.0.1), filled in by the station; "" while not connected.
	Protocol     string       `json:"protocol,omitempty"`
	Registration Registration `json:"registration"`
	// Journal is the number of journaled events (of transactions, and
	// security events) waiting for the central system.
	Journal    int               `json:"journal"`
	Connectors []ConnectorStatus `json:"connectors"`
	// Reservations and Profiles are those in force.
	Reservations []Reservation   `json:"reservations,omitempty"`
	Profiles     []ProfileStatus `json:"profiles,omitempty"`
}

// ProfileStatus is an installed charging profile as the installer sees
// it.
type ProfileStatus struct {
	Connector  int    `json:"connector"`
	ID         int    `json:"id"`
	StackLevel int    `json:"stackLevel"`
	Purpose    string `json:"purpose"`
	Kind       string `json:"kind"`
	// FirstLimit is the limit of the schedule's first period, in Unit
	// (A per phase, or W).
	FirstLimit float64 `json:"firstLimit"`
	Unit       string  `json:"unit"`
}

// ConnectorStatus is one connector's state; connector 0 is the charge
// point itself and has only ID, Status and ErrorCode.
type ConnectorStatus struct {
	ID        int            `json:"id"`
	Status    ConnectorState `json:"status"`
	ErrorCode string         `json:"errorCode"`
	Pilot     string         `json:"pilot,omitempty"`
	// OfferedA is the current offered per phase (PWM), in A.
	OfferedA *float64 `json:"offeredA,omitempty"`
	// ScheduleA is what the charging profiles allow now, in A per
	// phase; absent when no profile limits the connector.
	ScheduleA *float64 `json:"scheduleA,omitempty"`
	// CurrentA is the current drawn on each phase, in A.
	CurrentA    []float64 `json:"currentA,omitempty"`
	PowerW      *float64  `json:"powerW,omitempty"`
	EnergyWh    *float64  `json:"energyWh,omitempty"`
	Transaction *TxStatus `json:"transaction,omitempty"`
}

// TxStatus is the transaction in progress on a connector.
type TxStatus struct {
	// ID is the central system's transactionId, 0 until it is known.
	ID         int       `json:"id"`
	LocalID    int64     `json:"localId"`
	IDTag      string    `json:"idTag,omitempty"`
	Started    time.Time `json:"startedAt"`
	MeterStart int       `json:"meterStart"`
	// EnergyWh is the energy delivered so far.
	EnergyWh float64 `json:"energyWh"`
	// Silent: a free-charging session without transaction messages.
	Silent bool `json:"silent,omitempty"`
}

// status is the charge point's state now.
// milli rounds to three decimals.
func milli(x float64) float64 { return math.Round(x*1000) / 1000 }

func (c *Core) status() Status {
	c.publish()
	st := Status{Connected: c.connected, Registration: c.reg.status, Journal: len(c.journal.entries)}
	cur := c.rep.current
	st.Connectors = append(st.Connectors, ConnectorStatus{ID: 0, Status: cur[0].state, ErrorCode: cur[0].code})
	for _, cn := range c.conns {
		r := c.meters[cn.id-1]
		// Readings to the mWh and mW, currents to the mA: what a meter
		// shows, not a float's last digits.
		offered, power, energy := cn.offered, milli(r.PowerW), milli(r.EnergyWh)
		currents := make([]float64, c.cfg.Phases)
		for i := range currents {
			currents[i] = milli(r.Current[i])
		}
		cs := ConnectorStatus{ID: cn.id, Status: cur[cn.id].state, ErrorCode: cur[cn.id].code, Pilot: cn.pilot.String(),
			OfferedA: &offered, CurrentA: currents, PowerW: &power, EnergyWh: &energy}
		if l := cn.sched.limit; l >= 0 {
			cs.ScheduleA = &l
		}
		if t := cn.tx; t != nil {
			cs.Transaction = &TxStatus{ID: t.CSMSID, LocalID: t.Local, IDTag: t.IDTag, Started: t.Started,
				MeterStart: t.MeterStart, EnergyWh: milli(r.EnergyWh - float64(t.MeterStart)), Silent: t.Silent}
		}
		st.Connectors = append(st.Connectors, cs)
	}
	st.Reservations = slices.Clone(c.res)
	for _, p := range c.profiles {
		ps := ProfileStatus{Connector: p.Connector, ID: p.Profile.ID, StackLevel: p.Profile.StackLevel,
			Purpose: string(p.Profile.Purpose), Kind: string(p.Profile.Kind), Unit: string(p.Profile.Schedule.Unit)}
		if len(p.Profile.Schedule.Periods) > 0 {
			ps.FirstLimit = p.Profile.Schedule.Periods[0].Limit
		}
		st.Profiles = append(st.Profiles, ps)
	}
	return st
}
