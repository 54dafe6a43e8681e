package chargepoint

// Property tests of the charging core: random sequences of events (the
// hardware, tags, the link, the central system's answers and commands,
// load management, settings, time) go into a Core, and what comes out is
// judged against what the outside knows: its own inputs, the actuations
// and the records. The core's fields are not read.

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/model"
	"github.com/evse-dev/evse/internal/smartcharging"
)

// TestCoreNeverOffersWhatNoRuleAllows: an offer of current (an Offer
// actuation above 0, and the offer in force after every step) needs an
// authorized session on a plugged, unfaulted connector, and it is never
// above the model's maximum, the cable's rating, load management's share
// or the charging schedule in force; without phase switching it is
// exactly the least of them. Between two steps the offer in force must
// not break a schedule boundary the core was not woken for.
func TestCoreNeverOffersWhatNoRuleAllows(t *testing.T) {
	bases := propBaseSnapshots(t)
	rapid.Check(t, func(t *rapid.T) {
		propRun(t, bases, propJudges{offers: true})
	})
}

// TestCoreStopsEveryTransactionItStartsExactlyOnce: in the records, every
// transaction start journaled is followed by at most one stop (checked at
// every step) and by exactly one once the charge point has shut down,
// unless the start itself was given up (the central system never heard of
// the transaction). Starts, updates and stops are journaled for the
// transaction the records show running on that connector.
func TestCoreStopsEveryTransactionItStartsExactlyOnce(t *testing.T) {
	bases := propBaseSnapshots(t)
	rapid.Check(t, func(t *rapid.T) {
		propRun(t, bases, propJudges{ledger: true})
	})
}

// TestCoreIsDeterministic: the same inputs at the same times give a second
// core the same actuations and the same Ready at every step.
func TestCoreIsDeterministic(t *testing.T) {
	bases := propBaseSnapshots(t)
	rapid.Check(t, func(t *rapid.T) {
		propRun(t, bases, propJudges{determinism: true})
	})
}

// TestCoreStartsNoTransactionOnAnInoperativeOrFaultedConnector: a
// transaction starts only on a connector that is operative (as the
// AvailabilityKept records say, its own and the charge point's) and not
// faulted (as the hardware told the core).
//
// The two scripted sequences are the shortest rapid found of two bugs
// this test caught (fixed since), kept as regressions:
//   - inoperative: a tag's Authorize is out when ChangeAvailability makes
//     the charge point Inoperative (Accepted, nothing runs); the Accepted
//     answer must not start a transaction on the plugged EV.
//   - faulted: offline with AllowOfflineTxForUnknownId
//     ImmediatelyWhenPlugged, an EV is plugged and the connector faults
//     before OfflineGrace has passed; at OfflineGrace no transaction may
//     start on the faulted connector.
//
// The random search follows.
func TestCoreStartsNoTransactionOnAnInoperativeOrFaultedConnector(t *testing.T) {
	bases := propBaseSnapshots(t)
	j := propJudges{offers: true, ledger: true, startsWhereAllowed: true}
	t.Run("inoperative", func(t *testing.T) {
		w := newPropWorld(t, Config{Connectors: 1, MaxCurrent: 16}, bases[1], j)
		w.step(Started{Sensed: []Sensed{{Connector: 1, Pilot: hw.PilotA}}})
		w.step(LinkUp{})
		w.answerAll(false) // BootNotification Accepted, then the statuses
		w.step(Sensed{Connector: 1, Pilot: hw.PilotC})
		w.answerAll(false)
		w.step(TagPresented{IDTag: "TAG1"}) // unknown: Authorize
		w.cmd++
		w.step(Command{ID: w.cmd, Cmd: ChangeAvailability{Connector: 0, Operative: false}})
		w.answerAll(true)
	})
	t.Run("faulted", func(t *testing.T) {
		s := *bases[1]
		s.AllowOfflineTxForUnknownId = config.OfflineTxImmediatelyWhenPlugged
		w := newPropWorld(t, Config{Connectors: 1, MaxCurrent: 16}, &s, j)
		w.step(Started{Sensed: []Sensed{{Connector: 1, Pilot: hw.PilotB}}})
		w.step(Sensed{Connector: 1, Pilot: hw.PilotC, Fault: "GroundFailure"})
		w.advance(time.Minute, false)
	})
	if t.Failed() {
		return
	}
	rapid.Check(t, func(t *rapid.T) {
		propRun(t, bases, j)
	})
}

// answerAll answers every CALL out, in order, as an accepting central
// system; Authorize only with authorize.
func (w *propWorld) answerAll(authorize bool) {
	w.tb.Helper()
	for i := 0; i < len(w.pending); {
		c := w.pending[i]
		a := Answered{Call: c.msg.Call}
		switch b := c.msg.Body.(type) {
		case Authorize:
			if !authorize {
				i++
				continue
			}
			a.Answer = AuthorizeAnswer{Info: AuthInfo{Status: AuthAccepted}}
		case BootNotification:
			a.Answer = BootAnswer{Status: Accepted}
		case TxMessage:
			if b.Entry.Kind == TxStarted {
				a.Answer = StartAnswer{TransactionID: 1000 + int(b.Entry.Tx), Info: AuthInfo{Status: AuthAccepted}}
			}
		}
		w.pending = slices.Delete(w.pending, i, i+1)
		w.step(a)
	}
}

// propJudges selects the properties a run judges. The random sequences
// are the same for every selection.
type propJudges struct {
	offers, ledger, determinism bool
	// startsWhereAllowed: no transaction starts on a connector made
	// inoperative or faulted.
	startsWhereAllowed bool
}

var (
	propT0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	// errPropDrawn is the error of a failure the test draws.
	errPropDrawn = errors.New("drawn failure")
	propTags     = []string{"TAG1", "TAG2", "TAG3"}
)

const propFixedTag = "FREE"

// propBaseSnapshots returns the model's default settings for one and for
// two connectors (index 1 and 2).
func propBaseSnapshots(t *testing.T) [3]*config.Snapshot {
	t.Helper()
	var out [3]*config.Snapshot
	for n := 1; n <= 2; n++ {
		m := model.Default()
		m.Connectors = n
		cat, err := config.NewCatalogue(m.ConfigDefaults())
		if err != nil {
			t.Fatal(err)
		}
		s, err := config.Open(cat, &config.MemStorage{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = s.Snapshot()
	}
	return out
}

// propConn is what the outside knows of one connector: the hardware as
// it told the core (pilot, fault, cable), load management's share, the
// actuations in force, and the transaction the records show running.
type propConn struct {
	id    int
	pilot hw.PilotState
	fault bool
	// faultBefore is fault before the step's event: what fell due before
	// the event (a timer the runner was late for) may start a
	// transaction on a connector the event then faults.
	faultBefore bool
	cable       float64 // A; 0: not limited
	share       float64 // A; negative: no cap
	offer       float64
	closed      bool // contactor
	phases      int
	tx          *Transaction
	// lastClosed is the local id of the last transaction closed here.
	lastClosed int64
	energy     float64 // Wh
}

// propCall is a CALL of the core not answered yet, with the connection it
// went out on.
type propCall struct {
	msg   Message
	epoch int
}

// propStep is one step as it was taken, for the replay.
type propStep struct {
	at     time.Time
	meters []hw.Reading
	ev     Event
	acts   []Actuation
	ready  Ready
}

// propTB is what a world fails through: a *testing.T for a scripted
// sequence, a *rapid.T for a drawn one.
type propTB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// propWorld drives one core and keeps what the outside knows.
type propWorld struct {
	tb     propTB
	rt     *rapid.T // draws the events; nil for a scripted sequence
	j      propJudges
	cfg    Config
	snap0  *config.Snapshot
	snap   *config.Snapshot // the settings as last given to the core
	core   *Core
	now    time.Time
	last   time.Time // of the last step
	next   time.Time // the last Ready's Next
	halted bool
	steps  []propStep

	conns     []*propConn
	connected bool
	epoch     int // connections made and lost
	pending   []propCall
	calls     map[uint64]string // the CALLs' types, for the traces
	cmd       uint64
	locks     []LockResult // Lock actuations a command waits for
	tags      map[string]bool
	csmsIDs   []int

	// From the records.
	profiles  map[int]InstalledProfile
	inop      map[int]bool // AvailabilityKept
	opened    map[int64]bool
	started   map[int64]bool
	stops     map[int64]int
	confirmed map[int64]bool // CSMSIDKept
	givenUp   map[int64]bool // a start removed unconfirmed
	entries   map[uint64]JournalEntry
	// seqNos is the next SeqNo of each transaction's events.
	seqNos    map[int64]int
	lastLocal int64
}

// newPropWorld returns a world around a new core.
func newPropWorld(tb propTB, cfg Config, s *config.Snapshot, j propJudges) *propWorld {
	tb.Helper()
	core, err := New(cfg, s, Restored{})
	if err != nil {
		tb.Fatalf("%v", err)
	}
	if cfg.Phases != 1 {
		cfg.Phases = 3
	}
	w := &propWorld{tb: tb, j: j, cfg: cfg, snap0: s, snap: s, core: core, now: propT0, last: propT0,
		tags: map[string]bool{OfflineTag: true, propFixedTag: true}, profiles: map[int]InstalledProfile{},
		inop: map[int]bool{}, opened: map[int64]bool{}, started: map[int64]bool{}, stops: map[int64]int{},
		confirmed: map[int64]bool{}, givenUp: map[int64]bool{}, entries: map[uint64]JournalEntry{}, calls: map[uint64]string{},
		seqNos: map[int64]int{}}
	for k := 1; k <= cfg.Connectors; k++ {
		share := -1.0
		if cfg.Managed {
			share = 0 // nothing before load management decides
		}
		w.conns = append(w.conns, &propConn{id: k, pilot: hw.PilotA, share: share, phases: cfg.Phases})
	}
	return w
}

// propRun draws a configuration and a sequence of events, drives a core
// with them and judges every step.
func propRun(t *rapid.T, bases [3]*config.Snapshot, j propJudges) {
	n := rapid.IntRange(1, 2).Draw(t, "connectors")
	cfg := Config{
		Connectors:      n,
		Phases:          rapid.SampledFrom([]int{3, 1}).Draw(t, "phases"),
		MaxCurrent:      float64(rapid.IntRange(6, 32).Draw(t, "maxCurrent")),
		Managed:         rapid.Bool().Draw(t, "managed"),
		CanSwitchPhases: rapid.Bool().Draw(t, "canSwitchPhases"),
		TxPoints:        rapid.Bool().Draw(t, "txPoints (2.0.1)"),
		TellsLimits:     rapid.Bool().Draw(t, "tellsLimits (2.0.1)"),
	}
	cfg.NamesTransactions = cfg.TxPoints
	s := *bases[n]
	s.LocalAuthListEnabled = rapid.Bool().Draw(t, "LocalAuthListEnabled")
	s.LocalPreAuthorize = !rapid.Bool().Draw(t, "!LocalPreAuthorize")
	s.LocalAuthorizeOffline = rapid.Bool().Draw(t, "LocalAuthorizeOffline")
	s.AuthorizationCacheEnabled = rapid.Bool().Draw(t, "AuthorizationCacheEnabled")
	s.AllowOfflineTxForUnknownId = config.OfflineTx(rapid.IntRange(0, 2).Draw(t, "AllowOfflineTxForUnknownId"))
	s.AuthorizeRemoteTxRequests = rapid.Bool().Draw(t, "AuthorizeRemoteTxRequests")
	s.StopTransactionOnEVSideDisconnect = !rapid.Bool().Draw(t, "!StopTransactionOnEVSideDisconnect")
	s.UnlockConnectorOnEVSideDisconnect = !rapid.Bool().Draw(t, "!UnlockConnectorOnEVSideDisconnect")
	s.StopTransactionOnInvalidId = rapid.Bool().Draw(t, "StopTransactionOnInvalidId")
	s.ConnectorSwitch3to1PhaseSupported = rapid.Bool().Draw(t, "ConnectorSwitch3to1PhaseSupported")
	s.ReserveConnectorZeroSupported = rapid.Bool().Draw(t, "ReserveConnectorZeroSupported")
	s.FreeCharging = rapid.IntRange(0, 1).Draw(t, "FreeCharging")
	s.FreeChargingMode = rapid.IntRange(0, 5).Draw(t, "FreeChargingMode")
	s.RfidTagFreeCharging = rapid.SampledFrom([]string{"", propFixedTag}).Draw(t, "RfidTagFreeCharging")
	s.TransactionMessageAttempts = rapid.IntRange(1, 3).Draw(t, "TransactionMessageAttempts")
	s.MeterValueSampleInterval = rapid.SampledFrom([]int{60, 0, 300}).Draw(t, "MeterValueSampleInterval")
	s.ClockAlignedDataInterval = rapid.SampledFrom([]int{900, 0}).Draw(t, "ClockAlignedDataInterval")
	s.MaxChargingProfilesInstalled = rapid.SampledFrom([]int{255, 3}).Draw(t, "MaxChargingProfilesInstalled")
	points := [][]string{{"PowerPathClosed"}, {"EVConnected"}, {"Authorized"}, {"EVConnected", "Authorized"}}
	s.TxStartPoint = rapid.SampledFrom(points).Draw(t, "TxStartPoint")
	s.TxStopPoint = rapid.SampledFrom(points).Draw(t, "TxStopPoint")

	w := newPropWorld(t, cfg, &s, j)
	w.rt = t

	var start Started
	for k := 1; k <= n; k++ {
		start.Sensed = append(start.Sensed, Sensed{Connector: k,
			Pilot:    rapid.SampledFrom([]hw.PilotState{hw.PilotA, hw.PilotB, hw.PilotC}).Draw(t, "pilot"),
			CableMax: rapid.SampledFrom([]float64{0, 32, 16, 13}).Draw(t, "cable")})
	}
	w.step(start)

	// Rapid starts with short sequences: 40 events come first (they
	// shrink to ticks, which the failure messages leave out), then as
	// many as rapid likes.
	event := func(t *rapid.T) {
		if w.halted {
			return
		}
		w.advance(propWait(t), rapid.IntRange(0, 15).Draw(t, "late") == 15)
		// (Rapid favours the ends of a range: 50 is rare.)
		if rapid.IntRange(0, 100).Draw(t, "shutdown") == 50 {
			w.step(Shutdown{})
			return
		}
		if ev := w.drawEvent(); ev != nil {
			w.step(ev)
		}
	}
	for range 40 {
		event(t)
	}
	t.Repeat(map[string]func(*rapid.T){"event": event})
	if !w.halted {
		w.advance(propWait(t), false)
		w.step(Shutdown{})
	}
	w.judgeEnd()
	if j.determinism {
		propReplay(t, cfg, w.snap0, w.steps)
	}
}

func propWait(t *rapid.T) time.Duration {
	return rapid.SampledFrom([]time.Duration{0, time.Second, 5 * time.Second, 20 * time.Second, 45 * time.Second,
		2 * time.Minute, 10 * time.Minute, 40 * time.Minute}).Draw(t, "wait")
}

// advance moves the time on by d. As a runner does, the core is stepped
// with a Tick whenever its Next comes first, unless late: then the runner
// was busy and the core sees the time jump.
func (w *propWorld) advance(d time.Duration, late bool) {
	w.tb.Helper()
	target := w.now.Add(d)
	if !late {
		same := 0
		for !w.halted && !w.next.IsZero() && !w.next.After(target) {
			at := w.next
			if at.Before(w.now) {
				at = w.now // catching up after a late step
			}
			if at.Equal(w.now) {
				if same++; same > 1000 {
					w.fail("the core keeps asking to be stepped again at %v: a busy loop", w.rel(at))
				}
			}
			w.move(at, true)
			w.step(Tick{})
		}
	}
	w.move(target, !late)
}

// move sets the time; when the core was stepped at every Next on the way,
// the offers in force since the last step are judged at every boundary
// of the charging profiles they passed.
func (w *propWorld) move(to time.Time, timely bool) {
	w.tb.Helper()
	if timely && w.j.offers && !w.halted {
		for _, ip := range w.profiles {
			for _, b := range []time.Time{ip.Profile.ValidFrom, ip.Profile.ValidTo} {
				if b.After(w.now) && b.Before(to) {
					w.judgeBetween(b, to)
				}
			}
		}
	}
	w.now = to
}

func (w *propWorld) conn(id int) *propConn {
	if id < 1 || id > len(w.conns) {
		return nil
	}
	return w.conns[id-1]
}

func (w *propWorld) rel(at time.Time) string { return "+" + at.Sub(propT0).String() }

// fail ends the run with the steps taken so far.
func (w *propWorld) fail(format string, args ...any) {
	w.tb.Helper()
	var b strings.Builder
	c, s := w.cfg, w.snap0
	fmt.Fprintf(&b, "config: %d connector(s), %d phase(s), MaxCurrent %g A, Managed %v, CanSwitchPhases %v\n",
		c.Connectors, c.Phases, c.MaxCurrent, c.Managed, c.CanSwitchPhases)
	fmt.Fprintf(&b, "settings: FreeCharging %d mode %d, LocalAuthListEnabled %v, LocalPreAuthorize %v, LocalAuthorizeOffline %v, "+
		"AuthorizationCacheEnabled %v, AllowOfflineTxForUnknownId %v, AuthorizeRemoteTxRequests %v, "+
		"StopTransactionOnEVSideDisconnect %v, StopTransactionOnInvalidId %v, TransactionMessageAttempts %d\n",
		s.FreeCharging, s.FreeChargingMode, s.LocalAuthListEnabled, s.LocalPreAuthorize, s.LocalAuthorizeOffline,
		s.AuthorizationCacheEnabled, s.AllowOfflineTxForUnknownId, s.AuthorizeRemoteTxRequests,
		s.StopTransactionOnEVSideDisconnect, s.StopTransactionOnInvalidId, s.TransactionMessageAttempts)
	for i, st := range w.steps {
		if _, ok := st.ev.(Tick); ok && len(st.acts) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  %3d %-8s %s", i, w.rel(st.at), propDescribe(st.ev))
		if a, ok := st.ev.(Answered); ok {
			fmt.Fprintf(&b, " to %s", w.calls[a.Call])
		}
		if len(st.acts) > 0 {
			fmt.Fprintf(&b, "  -> %s", propActs(st.acts))
		}
		b.WriteByte('\n')
	}
	w.tb.Fatalf("%s\nsteps:\n%s", fmt.Sprintf(format, args...), b.String())
}

// step takes one event at w.now and judges what comes out.
func (w *propWorld) step(ev Event) {
	w.tb.Helper()
	meters := w.meters()
	wasUp := w.connected
	for _, o := range w.conns {
		o.faultBefore = o.fault
	}
	w.input(ev)
	acts := slices.Clone(w.core.Step(w.now, meters, ev))
	r := propCloneReady(w.core.Ready())
	w.steps = append(w.steps, propStep{at: w.now, meters: meters, ev: ev, acts: acts, ready: r})
	w.last, w.next = w.now, r.Next
	if _, ok := ev.(Shutdown); ok {
		w.halted = true
	}
	w.takeActs(acts)
	w.takeRecords(r.Records)
	w.takeMessages(r.Messages, wasUp)
	for _, s := range r.Settings {
		if s.Key == "HeartbeatInterval" { // stored, and so in the next settings
			v, _ := strconv.Atoi(s.Value)
			c := *w.snap
			c.HeartbeatInterval = v
			w.snap = &c
		}
	}
	if w.j.offers {
		w.judgeOffers(acts)
	}
}

// meters are the readings at w.now: each EV has drawn its offer while its
// contactor was closed and it asked for energy.
func (w *propWorld) meters() []hw.Reading {
	h := w.now.Sub(w.last).Hours()
	out := make([]hw.Reading, len(w.conns))
	for i, o := range w.conns {
		a := 0.0
		if o.closed && o.pilot.Charging() {
			a = o.offer
		}
		phases := min(o.phases, w.cfg.Phases)
		o.energy += a * 230 * float64(phases) * h
		r := hw.Reading{EnergyWh: o.energy, PowerW: a * 230 * float64(phases)}
		for p := range phases {
			r.Current[p] = a
		}
		out[i] = r
	}
	return out
}

// input notes what an event tells the core about the world.
func (w *propWorld) input(ev Event) {
	switch e := ev.(type) {
	case Started:
		for _, s := range e.Sensed {
			w.sensed(s)
		}
	case Sensed:
		w.sensed(e)
	case LimitsSet:
		for k, a := range e.Limits {
			if o := w.conn(k); o != nil {
				o.share = a
				if a < 0 && w.cfg.Managed {
					o.share = 0 // a bad share under load management is none
				}
			}
		}
	case LinkUp:
		w.connected = true
		w.epoch++
	case LinkDown:
		w.connected = false
		w.epoch++ // what is out is lost
	case SettingsChanged:
		w.snap = e.Settings
	case TagPresented:
		w.tags[e.IDTag] = true
	case Command:
		if r, ok := e.Cmd.(RemoteStart); ok {
			w.tags[r.IDTag] = true
		}
	}
}

// sensed follows a connector's hardware state as Sensed defines it: pilot
// E or F without a fault code is a fault with the EV still there; the
// cable's rating holds while an EV is plugged.
func (w *propWorld) sensed(s Sensed) {
	o := w.conn(s.Connector)
	if o == nil {
		return
	}
	p, fault := s.Pilot, s.Fault != ""
	if p == 0 {
		p = o.pilot
	}
	if !fault && (p == hw.PilotE || p == hw.PilotF) {
		fault, p = true, o.pilot
	}
	o.pilot, o.fault, o.cable = p, fault, 0
	if p.Plugged() {
		o.cable = max(s.CableMax, 0)
	}
}

func (w *propWorld) takeActs(acts []Actuation) {
	w.tb.Helper()
	for _, a := range acts {
		o := w.conn(a.Connector)
		if o == nil {
			w.fail("an actuation for connector %d: %+v", a.Connector, a)
		}
		switch a.Kind {
		case Offer:
			o.offer = a.Amps
		case Contactor:
			o.closed = a.On
		case Phases:
			o.phases = a.Phases
		case Lock:
			if a.For != 0 {
				w.locks = append(w.locks, LockResult{Connector: a.Connector, For: a.For})
			}
		}
	}
}

// takeRecords follows the durable state, and judges the transaction
// ledger as it goes.
func (w *propWorld) takeRecords(recs []Record) {
	w.tb.Helper()
	for _, rec := range recs {
		switch r := rec.(type) {
		case TxOpened:
			o := w.conn(r.Tx.Connector)
			if o == nil {
				w.fail("TxOpened for connector %d", r.Tx.Connector)
			}
			if o.tx != nil && o.tx.Local != r.Tx.Local {
				w.fail("transaction %d opened on connector %d while %d runs there", r.Tx.Local, o.id, o.tx.Local)
			}
			if o.tx == nil {
				w.newTransaction(o, r.Tx)
			}
			tx := r.Tx
			o.tx = &tx
		case TxClosed:
			o := w.conn(r.Connector)
			if o == nil || o.tx == nil {
				w.fail("TxClosed for connector %d without a transaction", r.Connector)
			}
			o.lastClosed, o.tx = o.tx.Local, nil
			if w.cfg.Managed {
				o.share = 0 // the next session waits for its own share
			}
		case Journaled:
			w.journaled(r)
		case JournalRemoved:
			e, ok := w.entries[r.Seq]
			if !ok {
				w.fail("JournalRemoved %d: no such entry", r.Seq)
			}
			delete(w.entries, r.Seq)
			if e.Kind == TxStarted && !w.confirmed[e.Tx] {
				w.givenUp[e.Tx] = true
			}
		case CSMSIDKept:
			w.confirmed[r.Local] = true
			w.csmsIDs = append(w.csmsIDs, r.ID)
		case ProfileKept:
			w.profiles[r.Profile.Profile.ID] = r.Profile
		case ProfileRemoved:
			if _, ok := w.profiles[r.ID]; !ok {
				w.fail("ProfileRemoved %d: not installed", r.ID)
			}
			delete(w.profiles, r.ID)
		case AvailabilityKept:
			w.inop[r.Connector] = !r.Operative
		}
	}
	if !w.j.ledger {
		return
	}
	for _, o := range w.conns {
		if o.tx != nil && !o.tx.Silent && !w.started[o.tx.Local] {
			w.fail("transaction %d runs on connector %d and its start is not journaled", o.tx.Local, o.id)
		}
	}
}

// newTransaction judges a transaction the records show for the first
// time: a new local id, in the name of a tag someone presented or
// asked for (or the offline and fixed tags), silent ones in no name.
func (w *propWorld) newTransaction(o *propConn, tx Transaction) {
	w.tb.Helper()
	if w.opened[tx.Local] || tx.Local <= w.lastLocal {
		w.fail("transaction %d opened on connector %d: its local id is used or not increasing (last %d)", tx.Local, o.id, w.lastLocal)
	}
	w.opened[tx.Local], w.lastLocal = true, tx.Local
	if w.j.offers {
		switch {
		case tx.Silent && tx.IDTag != "":
			w.fail("silent transaction %d in the name of %q", tx.Local, tx.IDTag)
		case tx.Unauthorized && (!w.cfg.TxPoints || tx.IDTag != ""):
			w.fail("transaction %d for %q started before any authorization", tx.Local, tx.IDTag)
		case !tx.Silent && !tx.Unauthorized && !w.tags[tx.IDTag]:
			w.fail("transaction %d for %q, a tag nobody presented or asked for", tx.Local, tx.IDTag)
		}
	}
	if w.j.startsWhereAllowed {
		switch {
		case w.inop[0] || w.inop[o.id]:
			w.fail("transaction %d started on connector %d, which is inoperative", tx.Local, o.id)
		case o.fault && o.faultBefore:
			w.fail("transaction %d started on connector %d, which is faulted", tx.Local, o.id)
		}
	}
}

func (w *propWorld) journaled(r Journaled) {
	w.tb.Helper()
	e := r.Entry
	if _, dup := w.entries[e.Seq]; dup {
		w.fail("journal sequence %d used twice", e.Seq)
	}
	w.entries[e.Seq] = e
	if e.Kind == SecurityNote {
		if e.Tx != 0 || !r.Event.Security.Told() {
			w.fail("journaled security event %q of transaction %d: only those told, of none", r.Event.Security, e.Tx)
		}
		return
	}
	// A transaction's events are numbered from 0 without gaps.
	if r.Event.SeqNo != w.seqNos[e.Tx] {
		w.fail("%s of transaction %d numbered %d, want %d", e.Kind, e.Tx, r.Event.SeqNo, w.seqNos[e.Tx])
	}
	w.seqNos[e.Tx]++
	if !w.j.ledger {
		if e.Kind == TxStarted {
			w.started[e.Tx] = true
		}
		return
	}
	o := w.conn(r.Event.Connector)
	if o == nil {
		w.fail("journaled %s of transaction %d for connector %d", e.Kind, e.Tx, r.Event.Connector)
	}
	switch e.Kind {
	case TxStarted:
		if w.started[e.Tx] {
			w.fail("transaction %d started twice", e.Tx)
		}
		if o.tx == nil || o.tx.Local != e.Tx || o.tx.Silent {
			w.fail("start of transaction %d journaled, but it is not running on connector %d", e.Tx, o.id)
		}
		w.started[e.Tx] = true
	case TxUpdated:
		if !w.started[e.Tx] || o.tx == nil || o.tx.Local != e.Tx {
			w.fail("meter values of transaction %d journaled, but it is not running on connector %d", e.Tx, o.id)
		}
	case TxStopped:
		switch {
		case !w.started[e.Tx]:
			w.fail("stop of transaction %d journaled, but its start never was", e.Tx)
		case o.tx != nil && o.tx.Local == e.Tx, o.lastClosed != e.Tx:
			w.fail("stop of transaction %d journaled, but it is not the one just closed on connector %d", e.Tx, o.id)
		}
		if w.stops[e.Tx]++; w.stops[e.Tx] > 1 {
			w.fail("transaction %d stopped %d times", e.Tx, w.stops[e.Tx])
		}
	}
}

// takeMessages notes the CALLs to answer. None goes out in a step the
// link was down all through (a late step may first do, with the link
// up, what was due before the link went down).
func (w *propWorld) takeMessages(msgs []Message, wasUp bool) {
	w.tb.Helper()
	for _, m := range msgs {
		if m.Call == 0 {
			continue
		}
		if !wasUp && !w.connected {
			w.fail("CALL %T sent while the link is down", m.Body)
		}
		w.pending = append(w.pending, propCall{msg: m, epoch: w.epoch})
		w.calls[m.Call] = strings.TrimPrefix(fmt.Sprintf("%T", m.Body), "chargepoint.")
	}
}

// judgeOffers judges every Offer actuation of a step and the offers in
// force after it.
func (w *propWorld) judgeOffers(acts []Actuation) {
	w.tb.Helper()
	for _, a := range acts {
		if a.Kind == Offer && a.Amps != 0 {
			w.judgeOffer(w.conn(a.Connector), a.Amps, w.now, "offered")
		}
	}
	for _, o := range w.conns {
		if o.offer != 0 {
			w.judgeOffer(o, o.offer, w.now, "offers")
		}
		if o.closed && (o.offer < hw.MinCurrent || !o.pilot.Charging()) {
			w.fail("connector %d's contactor is closed with an offer of %g A and pilot %v", o.id, o.offer, o.pilot)
		}
		// Without phase switching nothing else holds an offer back: it
		// is the least of the caps, not less.
		if !w.cfg.CanSwitchPhases {
			if want := w.expected(o, w.now); o.offer != want {
				w.fail("connector %d offers %g A; the rules give %g A (cap %g)", o.id, o.offer, want, w.cap(o, w.now))
			}
		}
	}
}

// judgeOffer: current is offered only to an authorized session (a
// transaction the records show running and the central system did not
// refuse) on a plugged connector without a fault, and never above the
// caps.
func (w *propWorld) judgeOffer(o *propConn, amps float64, at time.Time, what string) {
	w.tb.Helper()
	switch {
	case o.tx == nil:
		w.fail("connector %d %s %g A without a transaction", o.id, what, amps)
	case o.tx.Deauthorized:
		w.fail("connector %d %s %g A to transaction %d the central system refused", o.id, what, amps, o.tx.Local)
	case o.tx.Unauthorized:
		w.fail("connector %d %s %g A to transaction %d before its driver is authorized", o.id, what, amps, o.tx.Local)
	case o.fault:
		w.fail("connector %d %s %g A while faulted", o.id, what, amps)
	case !o.pilot.Plugged():
		w.fail("connector %d %s %g A with pilot %v", o.id, what, amps, o.pilot)
	case amps < hw.MinCurrent:
		w.fail("connector %d %s %g A, under the least a PWM offer carries", o.id, what, amps)
	case amps > w.cap(o, at)+1e-9:
		w.fail("connector %d %s %g A at %s, over its cap %g A (max %g, cable %g, share %g, schedule %g)",
			o.id, what, amps, w.rel(at), w.cap(o, at), w.cfg.MaxCurrent, o.cable, o.share, w.scheduleLimit(o, at))
	}
}

// judgeBetween judges the offers in force at b, a profile boundary
// between the last step and the next at to: the core asked not to be
// stepped before to, so what it offers must hold at b too.
func (w *propWorld) judgeBetween(b, to time.Time) {
	w.tb.Helper()
	for _, o := range w.conns {
		if o.offer != 0 && o.offer > w.cap(o, b)+1e-9 {
			w.fail("connector %d offers %g A from %s to %s, over the schedule's cap %g A from %s on (Next was %s)",
				o.id, o.offer, w.rel(w.last), w.rel(to), w.cap(o, b), w.rel(b), w.rel(w.next))
		}
		if !w.cfg.CanSwitchPhases {
			if want := w.expected(o, b); o.offer != want {
				w.fail("connector %d offers %g A until %s, but from %s the rules give %g A (Next was %s)",
					o.id, o.offer, w.rel(to), w.rel(b), want, w.rel(w.next))
			}
		}
	}
}

// cap is the most connector o may be offered at: the model's maximum, the
// cable's rating, load management's share and the schedule's limit.
func (w *propWorld) cap(o *propConn, at time.Time) float64 {
	c := w.cfg.MaxCurrent
	if o.cable > 0 {
		c = min(c, o.cable)
	}
	if o.share >= 0 {
		c = min(c, o.share)
	}
	if l := w.scheduleLimit(o, at); l >= 0 {
		c = min(c, l)
	}
	return c
}

// expected is the offer the rules give connector o at: the cap for an
// authorized session, 0 under the schedule's minimum rate or under the
// least a PWM offer carries.
func (w *propWorld) expected(o *propConn, at time.Time) float64 {
	if o.tx == nil || o.tx.Deauthorized || o.tx.Unauthorized || o.fault || !o.pilot.Plugged() {
		return 0
	}
	c := w.cap(o, at)
	if _, minRate := w.schedule(o, at); c < minRate || c < hw.MinCurrent {
		return 0
	}
	return c
}

func (w *propWorld) scheduleLimit(o *propConn, at time.Time) float64 {
	l, _ := w.schedule(o, at)
	return l
}

// schedule is what the installed profiles (as the records show them)
// allow connector o at: the limit (negative: none) and the minimum rate.
// The profiles this test draws have one period from 0 and no duration,
// so a profile either applies with its limit or does not: the
// ChargePointMax profile of the highest stack level, shared equally by
// the connectors with a transaction, and the connector's Tx profile of
// the highest level, or else its TxDefault profile of the highest level
// (its own before connector 0's at the same level).
func (w *propWorld) schedule(o *propConn, at time.Time) (limit, minRate float64) {
	applies := func(p smartcharging.Profile) bool {
		if !p.ValidFrom.IsZero() && at.Before(p.ValidFrom) || !p.ValidTo.IsZero() && !at.Before(p.ValidTo) {
			return false
		}
		if p.Kind == smartcharging.Absolute && !p.Schedule.Start.IsZero() {
			return !at.Before(p.Schedule.Start)
		}
		return o.tx != nil && !at.Before(o.tx.Started) // from the start of the transaction
	}
	var cp, tx, def *InstalledProfile
	higher := func(best *InstalledProfile, ip *InstalledProfile) bool {
		return best == nil || ip.Profile.StackLevel > best.Profile.StackLevel ||
			ip.Profile.StackLevel == best.Profile.StackLevel && ip.Connector == o.id
	}
	for _, ip := range w.profiles {
		if !applies(ip.Profile) {
			continue
		}
		switch ip.Profile.Purpose {
		case smartcharging.ChargePointMax:
			if higher(cp, &ip) {
				cp = &ip
			}
		case smartcharging.Tx:
			if ip.Connector == o.id && o.tx != nil && higher(tx, &ip) {
				tx = &ip
			}
		case smartcharging.TxDefault:
			if (ip.Connector == o.id || ip.Connector == 0) && higher(def, &ip) {
				def = &ip
			}
		}
	}
	limit = smartcharging.NoLimit
	if cp != nil {
		limit = cp.Profile.Schedule.Periods[0].Limit
		if n := w.running(); n > 1 {
			limit *= 1 / float64(n)
		}
	}
	own := tx
	if own == nil {
		own = def
	}
	if own != nil {
		if l := own.Profile.Schedule.Periods[0].Limit; limit < 0 || l < limit {
			limit = l
		}
		minRate = own.Profile.Schedule.MinRate
	}
	return limit, minRate
}

// running counts the connectors with a transaction.
func (w *propWorld) running() int {
	n := 0
	for _, o := range w.conns {
		if o.tx != nil {
			n++
		}
	}
	return n
}

// judgeEnd judges the run after the shutdown: every transaction stopped,
// no offer, no closed contactor; every journaled start has exactly one
// stop unless the start was given up.
func (w *propWorld) judgeEnd() {
	w.tb.Helper()
	for _, o := range w.conns {
		if w.j.ledger && o.tx != nil {
			w.fail("transaction %d still open on connector %d after the shutdown", o.tx.Local, o.id)
		}
		if w.j.offers && (o.offer != 0 || o.closed) {
			w.fail("connector %d offers %g A (contactor closed %v) after the shutdown", o.id, o.offer, o.closed)
		}
	}
	if !w.j.ledger {
		return
	}
	for tx := range w.started {
		if n := w.stops[tx]; n != 1 && !(w.givenUp[tx] && n == 0) {
			w.fail("transaction %d: %d stops journaled after the shutdown, want 1 (start given up: %v)", tx, n, w.givenUp[tx])
		}
	}
}

// propReplay steps a second core with the same inputs and compares every
// step's outcome.
func propReplay(t *rapid.T, cfg Config, s *config.Snapshot, steps []propStep) {
	c, err := New(cfg, s, Restored{})
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range steps {
		acts := slices.Clone(c.Step(st.at, st.meters, st.ev))
		r := propCloneReady(c.Ready())
		if !reflect.DeepEqual(acts, st.acts) || !reflect.DeepEqual(r, st.ready) {
			t.Fatalf("step %d (%s) differs on a second core with the same inputs (-first +second):\nactuations %s\nready %s",
				i, propDescribe(st.ev), cmp.Diff(st.acts, acts), cmp.Diff(st.ready, r))
		}
	}
}

// propCloneReady copies what the core may reuse after the next step.
func propCloneReady(r Ready) Ready {
	r.Records = slices.Clone(r.Records)
	r.Messages = slices.Clone(r.Messages)
	r.Jobs = slices.Clone(r.Jobs)
	r.Settings = slices.Clone(r.Settings)
	r.Loads = slices.Clone(r.Loads)
	return r
}
