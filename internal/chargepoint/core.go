package chargepoint

import (
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/smartcharging"
)

// Config is what a core is built with; it does not change while the core
// runs.
type Config struct {
	// Connectors is NumberOfConnectors.
	Connectors int
	// Phases wired to each connector: 1 or 3. Default 3.
	Phases int
	// MaxCurrent is the most a connector offers, in A per phase.
	MaxCurrent float64
	// CanSwitchPhases: the hardware can switch a session between three
	// phases and one.
	CanSwitchPhases bool
	// Managed: load management caps the connectors' offers; until it has
	// decided, they offer nothing.
	Managed bool
	// Identity is what BootNotification tells; its FirmwareVersion is the
	// model's (a firmware installed later replaces it).
	Identity Identity
	// NamesTransactions: the protocol names transactions by the charge
	// point's id (OCPP 2.0.1): a start the central system never confirms
	// gives up only its message, not the transaction. Otherwise (1.6) a
	// transaction without the central system's id cannot be reported, and
	// ends.
	NamesTransactions bool
	// TxPoints: transactions start and end at the points TxStartPoint and
	// TxStopPoint name (OCPP 2.0.1). Otherwise (1.6) they start when the
	// power path closes and end with the authorization, or at unplug as
	// StopTransactionOnEVSideDisconnect says.
	TxPoints bool
	// TellsLimits: the central system is told when load management
	// limits a transaction and when it lifts the limit (OCPP 2.0.1's
	// NotifyChargingLimit and ClearedChargingLimit; 1.6 has no message).
	TellsLimits bool
	// BootReason is why the charge point started, for BootNotification
	// (OCPP 2.0.1 tells it): BootPowerUp when empty; after a new firmware
	// it is BootFirmwareUpdate whatever this says.
	BootReason BootReason
	// HeartbeatRange bounds the interval of an accepted BootNotification.
	// Default 10 s to 1 h (HeartbeatInterval's range).
	HeartbeatRange [2]time.Duration
	// Rules are the core's timing rules; the zero value of each field
	// takes its default.
	Rules Rules
	// Logger gets the core's decisions; nil: none.
	Logger *slog.Logger
}

// Rules are the timings of the core's behaviour. A zero field takes the
// default named in its comment.
type Rules struct {
	// BootRetry is the wait before BootNotification is sent again when it
	// got no answer, and after Pending or Rejected with interval 0.
	// Default 30 s.
	BootRetry time.Duration
	// Pacing is the least time between two journaled messages; zero:
	// none, the next goes as soon as the last is answered (OCPP's one
	// call at a time is the flow control). Fleets may pace.
	Pacing time.Duration
	// StatusRetry is the wait before a StatusNotification that failed is
	// sent again. Default 5 s.
	StatusRetry time.Duration
	// LostRetry is the wait before a journaled message whose connection
	// dropped is sent again. Default 1 s.
	LostRetry time.Duration
	// MaxLost is how often a journaled message may be out when the
	// connection drops before that counts as a failed attempt: a message
	// the central system cannot take must not hold the journal up for
	// ever, and a few outages must not cost it an attempt. Default 5.
	MaxLost int
	// OfflineGrace is how long the charge point must have been offline
	// before AllowOfflineTxForUnknownId ImmediatelyWhenPlugged starts a
	// transaction on plug-in. Default 30 s.
	OfflineGrace time.Duration
	// Checkpoint is how often a running transaction's reading is kept: a
	// crash loses at most this much of its energy. Default 1 min.
	Checkpoint time.Duration
	// EVDoneAfter: an EV that leaves its offer unused this long is done
	// charging; it is not ready for load management until it is
	// unplugged, a new transaction starts, or EVRetryAfter has passed.
	// Defaults 30 s and 15 min.
	EVDoneAfter, EVRetryAfter time.Duration
	// SwitchWait bounds how long a phase switch waits for the EV to stop
	// drawing. Default 5 s.
	SwitchWait time.Duration
	// PromiseSlack is how long, besides ConnectionTimeOut, the Tx profile
	// of an accepted remote start keeps its place among
	// MaxChargingProfilesInstalled. Default 2 min.
	PromiseSlack time.Duration
	// ResetFlush is how long a reset waits for the journal to be
	// delivered. Default 5 s.
	ResetFlush time.Duration
	// LimitSettle is how long load management's limit of a transaction
	// must hold before the central system is told (TellsLimits): a share
	// that lasts less, such as the nothing a new session waits at for its
	// first share, is not told. Default 2 s.
	LimitSettle time.Duration
}

func (r Rules) withDefaults() Rules {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&r.BootRetry, 30*time.Second)
	def(&r.StatusRetry, 5*time.Second)
	def(&r.LostRetry, time.Second)
	def(&r.OfflineGrace, 30*time.Second)
	def(&r.Checkpoint, time.Minute)
	def(&r.EVDoneAfter, 30*time.Second)
	def(&r.EVRetryAfter, 15*time.Minute)
	def(&r.SwitchWait, 5*time.Second)
	def(&r.PromiseSlack, 2*time.Minute)
	def(&r.ResetFlush, 5*time.Second)
	def(&r.LimitSettle, 2*time.Second)
	if r.MaxLost <= 0 {
		r.MaxLost = 5
	}
	return r
}

// OfflineTag is the idTag of a transaction started offline on plug-in
// (AllowOfflineTxForUnknownId ImmediatelyWhenPlugged), and of the
// fixed-tag free-charging modes while RfidTagFreeCharging is empty.
const OfflineTag = "EVSE-UNKNOWN"

// Core is the charging core of one charge point: connectors, transactions,
// authorization, reservations, charging profiles, the registration with
// the central system, the statuses it was told and the journal of
// transaction events. It is a deterministic state machine: [Core.Step]
// takes an event with the time and the meters' readings and returns the
// actuations at once; [Core.Ready] returns the records to make durable,
// the messages to send and when to be stepped again. It does no I/O, keeps
// no clock, starts no goroutine, and the same inputs give the same
// outputs.
//
// A Core is not safe for concurrent use: one goroutine steps it.
type Core struct {
	cfg   Config
	rules Rules
	s     *config.Snapshot
	log   *slog.Logger

	now    time.Time
	meters []hw.Reading // index 0: connector 1
	conns  []*connector
	acts   []Actuation
	out    Ready

	// inoperative is connector 0's availability: the whole charge point.
	inoperative bool
	// storeTrouble is why the store cannot write, "" while it can.
	storeTrouble string
	free         FreeMode
	connected    bool
	connections  int // connections made so far
	// offlineSince is when the connection was last lost (or the core
	// started without one); zero while connected.
	offlineSince time.Time
	// aligned is the next clock-aligned boundary, zero when none;
	// checkpoint is when the running transactions' readings are next
	// kept.
	aligned, checkpoint time.Time

	res      []Reservation // by id
	profiles []InstalledProfile
	// schedDirty: a profile or a session changed; schedUntil: when a
	// period boundary comes (zero: none known).
	schedDirty bool
	schedUntil time.Time
	// promises are the Tx profiles of accepted remote starts waiting for
	// their transactions, with when they lapse.
	promises map[*smartcharging.Profile]time.Time

	lastTx   int64
	lastCall uint64
	calls    map[uint64]pendingCall
	// bestEffortOut counts the best-effort CALLs in calls.
	bestEffortOut int

	reg     registration
	rep     reporter
	journal journal
	fw      firmwareJob
	diag    diagnosticsJob
	// halting: a reset or a new firmware; the charge point stops once the
	// journal is out or haltBy has passed.
	halting *Halt
	haltBy  time.Time
	halted  bool
	loads   []Load
	// securityLogSeq is the last sequence of the security log.
	securityLogSeq uint64
	// resetOnIdle: a reset waits for the transactions to end.
	resetOnIdle bool
}

// pendingCall is what the core waits for the answer of.
type pendingCall struct {
	kind callKind
	// conn, idTag and profile of an Authorize; conn of a status.
	conn    int
	idTag   string
	profile *smartcharging.Profile
	// remoteID and tokenType are the remote start's an Authorize is for.
	remoteID  *int
	tokenType string
	known     Known
	status    connStatus
	entry     JournalEntry
	// connection is the connection a status went out on (Core.connections).
	connection int
}

type callKind int

const (
	callBoot callKind = iota
	callHeartbeat
	callStatus
	callJournal
	callAuthorize
	callGroupStop
	callLink  // a triggered message of registration's
	callOther // answers change nothing
)

// New returns a core that starts from what the store kept. Its first step
// must be [Started].
func New(cfg Config, s *config.Snapshot, r Restored) (*Core, error) {
	if cfg.Connectors < 0 || cfg.Connectors > 254 {
		return nil, fmt.Errorf("chargepoint: %d connectors", cfg.Connectors)
	}
	if s == nil {
		return nil, fmt.Errorf("chargepoint: no settings")
	}
	if cfg.Phases != 1 {
		cfg.Phases = 3
	}
	if cfg.HeartbeatRange[1] <= 0 {
		cfg.HeartbeatRange = [2]time.Duration{10 * time.Second, time.Hour}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Core{cfg: cfg, rules: cfg.Rules.withDefaults(), s: s, log: log,
		meters: make([]hw.Reading, cfg.Connectors), lastTx: r.LastTx, calls: map[uint64]pendingCall{}}
	c.free = freeMode(s.FreeCharging, s.FreeChargingMode)
	limit := -1.0 // no cap
	if cfg.Managed {
		limit = 0 // nothing until load management decides
	}
	for i := range cfg.Connectors {
		c.conns = append(c.conns, &connector{id: i + 1, pilot: hw.PilotA, limit: limit, sched: noSchedule,
			inoperative: r.Inoperative[i+1], limitTold: -1, limitNow: -1})
	}
	c.inoperative = r.Inoperative[0]
	c.res = slices.Clone(r.Reservations)
	slices.SortFunc(c.res, func(a, b Reservation) int { return a.ID - b.ID })
	c.journal.restore(r)
	c.reg.firmware = r.FirmwareVersion
	c.reg.lastLost = true
	c.reg.reportInstalled = r.FirmwareInstalled
	c.fw.signed, c.fw.requestID = r.FirmwareSigned, r.FirmwareRequestID
	c.securityLogSeq = r.SecurityLogSeq
	c.fw.status, c.diag.status = FirmwareIdle, DiagnosticsIdle
	c.rep.init(cfg.Connectors)
	for _, p := range r.Profiles {
		if p.Profile.Purpose == smartcharging.Tx {
			// No transaction survives a restart.
			c.record(ProfileRemoved{ID: p.Profile.ID})
			continue
		}
		c.profiles = append(c.profiles, p)
	}
	c.schedDirty = true
	// The transactions a crash interrupted are stopped.
	for _, t := range r.Open {
		c.log.Warn("transaction was running when the charge point stopped; stopping it with PowerLoss",
			"connector", t.Connector, "tx", t.Local, "meter_stop", wh(t.LastWh))
		c.record(TxClosed{Connector: t.Connector})
		if t.Silent {
			continue
		}
		c.journal.append(c, t.Local, TxStopped, TxEvent{Connector: t.Connector, MeterWh: wh(t.LastWh), At: t.LastAt,
			Reason: ReasonPowerLoss, Samples: t.Data, SeqNo: t.Events})
	}
	return c, nil
}

func (c *Core) conn(id int) *connector {
	if id < 1 || id > len(c.conns) {
		return nil
	}
	return c.conns[id-1]
}

// Registration is the status of the last BootNotification answer.
func (c *Core) Registration() Registration { return c.reg.status }

// Connected reports whether the core knows the link to be up.
func (c *Core) Connected() bool { return c.connected }

// Halted reports whether the core stopped for a reset: it takes no more
// events.
func (c *Core) Halted() bool { return c.halted }

// Step takes one event at now, with the meters' readings then (one per
// connector; nil: as at the last step), and returns the actuations to
// apply at once: they are valid until the next Step.
func (c *Core) Step(now time.Time, meters []hw.Reading, ev Event) []Actuation {
	c.now = now
	c.acts = c.acts[:0]
	for i, r := range meters {
		if i < len(c.meters) && sane(r) {
			c.meters[i] = r // a reading that is not a number is not taken
		}
	}
	if c.halted {
		if _, ok := ev.(Shutdown); ok {
			// Whatever happened since, the hardware is left off.
			for _, cn := range c.conns {
				c.act(Actuation{Connector: cn.id, Kind: Offer})
				c.act(Actuation{Connector: cn.id, Kind: Contactor})
			}
			return c.acts
		}
		return nil
	}
	c.due()
	switch e := ev.(type) {
	case Started:
		c.started(e)
	case Sensed:
		if cn := c.conn(e.Connector); cn != nil {
			c.sense(cn, e)
		}
	case TagPresented:
		c.presented(e)
	case LinkUp:
		c.linkUp(e)
	case LinkDown:
		c.linkDown()
	case Answered:
		c.answered(e)
	case Command:
		c.command(e)
	case SettingsChanged:
		c.settingsChanged(e.Settings)
	case LimitsSet:
		for _, cn := range c.conns {
			if a, ok := e.Limits[cn.id]; ok {
				cn.limit = c.share(a)
				cn.shared = cn.shared || cn.tx != nil && cn.limit > 0
			}
		}
	case PhasesSet:
		for _, cn := range c.conns {
			if p, ok := e.Phases[cn.id]; ok && (p == 1 || p == 3) {
				cn.wantPhases = p
			}
		}
	case LockResult:
		c.lockResult(e)
	case Downloaded:
		c.downloaded(e)
	case Uploaded:
		c.uploaded(e)
	case Tick:
	case Shutdown:
		c.shutdown()
	case StoreTrouble:
		trouble := e.Err != "" && c.storeTrouble == ""
		if trouble {
			c.log.Error("the data file cannot be written: nothing new starts until it can", "err", e.Err)
		}
		c.storeTrouble = e.Err
		if trouble {
			c.securityEvent(SecMemoryExhaustion, "the data file cannot be written: "+e.Err)
		}
	case SecurityIncident:
		c.securityEventTold(e.Type, e.TechInfo, e.Tell)
	}
	c.drive()
	c.markReserved()
	return c.acts
}

// Ready returns what the steps since the last Ready leave to do. Its
// slices are valid until the next Step.
func (c *Core) Ready() Ready {
	if !c.halted {
		c.resetWhenIdle()
		c.publish()
		c.journalChargingStates()
		c.tellLimits()
		c.sendRegistration()
		c.sendStatus()
		c.sendJournal()
		c.publishLoads()
		c.checkHalt()
	}
	r := c.out
	r.Next = c.next()
	if c.halted {
		r.Next = time.Time{}
	}
	c.out = Ready{Records: c.out.Records[:0], Messages: c.out.Messages[:0], Jobs: c.out.Jobs[:0]}
	return r
}

// act adds an actuation.
func (c *Core) act(a Actuation) { c.acts = append(c.acts, a) }

// record adds a record.
func (c *Core) record(r Record) { c.out.Records = append(c.out.Records, r) }

// maxBestEffort bounds the CALLs out whose answers change nothing
// (meter values not journaled, firmware and diagnostics statuses, a group
// stop's Authorize): a central system that triggers them faster than it
// answers must not make the queue grow without bound.
const maxBestEffort = 32

// bestEffort reports a kind of CALL that may be dropped.
func (k callKind) bestEffort() bool { return k == callOther || k == callGroupStop }

// call sends a CALL and notes what its answer is for; it returns 0 for a
// best-effort CALL dropped because too many are out.
func (c *Core) call(body any, p pendingCall) uint64 {
	if p.kind.bestEffort() {
		if c.bestEffortOut >= maxBestEffort {
			c.log.Warn("too many messages waiting for the central system; dropping one", "message", fmt.Sprintf("%T", body))
			return 0
		}
		c.bestEffortOut++
	}
	c.lastCall++
	c.calls[c.lastCall] = p
	c.out.Messages = append(c.out.Messages, Message{Call: c.lastCall, Body: body})
	return c.lastCall
}

// reply answers a command.
func (c *Core) reply(cmd uint64, result any) {
	c.out.Messages = append(c.out.Messages, Message{Reply: cmd, Body: result})
}

// online reports whether a message sent now would reach an accepting
// central system.
func (c *Core) online() bool { return c.reg.status == Accepted && c.connected }

// started is the first step.
func (c *Core) started(e Started) {
	for _, cn := range c.conns {
		c.act(Actuation{Connector: cn.id, Kind: Offer})
		c.act(Actuation{Connector: cn.id, Kind: Contactor})
	}
	c.offlineSince = c.now
	for _, s := range e.Sensed {
		if cn := c.conn(s.Connector); cn != nil {
			c.sense(cn, s)
		}
	}
	c.rescheduleMetering()
	c.reg.bootAt = c.now
	c.securityEvent(SecStartupOfTheDevice, "")
}

// settingsChanged follows a change of the settings.
func (c *Core) settingsChanged(s *config.Snapshot) {
	old := c.s
	c.s = s
	if changed := securityChanges(old, s); changed != "" {
		c.securityEvent(SecReconfigurationOfSecurityParameters, changed)
	}
	if s.HeartbeatInterval != old.HeartbeatInterval && c.reg.status == Accepted {
		c.reg.hbAt = c.now.Add(c.heartbeatInterval())
	}
	if s.MeterValueSampleInterval != old.MeterValueSampleInterval || s.ClockAlignedDataInterval != old.ClockAlignedDataInterval {
		c.rescheduleMetering()
	}
	if free := freeMode(s.FreeCharging, s.FreeChargingMode); free != c.free {
		c.free = free
		c.rep.resendAll()
		for _, cn := range c.conns {
			c.sense(cn, Sensed{Connector: cn.id, Pilot: cn.pilot, Fault: cn.fault, CableMax: cn.cableMax})
		}
	}
}

// shutdown stops every transaction as the charge point goes down.
func (c *Core) shutdown() {
	c.reset(ReasonReboot, false)
	c.halting.Shutdown = true
}

// next is when the core must next look at the time.
func (c *Core) next() time.Time {
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
		earlier(cn.plugBy)
		earlier(c.limitDeadline(cn))
		earlier(c.loadDeadline(cn))
		if cn.auth != nil {
			earlier(cn.auth.deadline)
		}
	}
	for _, r := range c.res {
		earlier(r.Expiry)
	}
	earlier(c.schedUntil)
	earlier(c.reg.next(c))
	earlier(c.rep.next(c))
	earlier(c.journal.next(c))
	earlier(c.fw.next())
	earlier(c.diag.at)
	if c.halting != nil {
		earlier(c.haltBy)
	}
	return next
}

// due does what time has brought by now.
func (c *Core) due() {
	now := c.now
	c.expireReservations()
	for _, cn := range c.conns {
		if a := cn.auth; a != nil && !now.Before(a.deadline) {
			c.log.Info("no cable within ConnectionTimeOut; authorization dropped", "connector", cn.id, "id_tag", a.idTag)
			delete(c.promises, a.profile)
			cn.auth = nil
		}
		if !cn.plugBy.IsZero() && !now.Before(cn.plugBy) {
			c.log.Info("no EV within ConnectionTimeOut of a transaction started at authorization", "connector", cn.id)
			c.stopBy(cn, ReasonTimeout, "", TriggerEVConnectTimeout)
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
		c.keepReadings()
	}
	c.fw.due(c)
	c.diag.due(c)
}

// answered takes the outcome of one of the core's CALLs.
func (c *Core) answered(e Answered) {
	p, ok := c.calls[e.Call]
	if !ok {
		return
	}
	delete(c.calls, e.Call)
	if p.kind.bestEffort() {
		c.bestEffortOut--
	}
	switch p.kind {
	case callBoot:
		c.bootAnswered(e)
	case callHeartbeat, callLink:
		c.reg.out = false
		if e.Failure != Delivered {
			c.log.Warn("message not delivered", "err", e.Err)
		}
	case callStatus:
		c.statusAnswered(p, e)
	case callJournal:
		c.journalAnswered(p, e)
	case callAuthorize:
		c.authorizeAnswered(p, e)
	case callGroupStop:
		c.groupStopAnswered(p, e)
	case callOther:
		if e.Failure != Delivered {
			c.log.Warn("message not delivered", "err", e.Err)
		}
	}
}

// sane reports whether a meter reading holds only finite numbers.
func sane(r hw.Reading) bool {
	ok := !math.IsNaN(r.EnergyWh) && !math.IsInf(r.EnergyWh, 0) && !math.IsNaN(r.PowerW) && !math.IsInf(r.PowerW, 0)
	for _, a := range r.Current {
		ok = ok && !math.IsNaN(a) && !math.IsInf(a, 0)
	}
	return ok
}

// share is the cap a LimitsSet amount sets: under load management a
// share that is not a number of amperes, or negative, is none at all
// (the safe reading of a bad share); otherwise a negative amount removes
// the cap.
func (c *Core) share(a float64) float64 {
	switch {
	case math.IsNaN(a):
		return 0
	case a < 0 && c.cfg.Managed:
		return 0
	case a < 0:
		return -1
	}
	return a
}

// Rules returns the core's timing rules, defaults filled in.
func (c *Core) Rules() Rules { return c.rules }
