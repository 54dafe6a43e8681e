package site

import (
	"container/heap"
	"context"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/chargepoint/runner"
	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/dlm"
	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/model"
)

// start is the virtual clock's origin.
var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Options change how a site runs; the zero value runs it as the real
// chargers would.
type Options struct {
	// Core, when set, changes each charger's core configuration (tests
	// that show the site runs the charger's own rules).
	Core func(*chargepoint.Config)
}

// charger is one charger of the site: the real charging core on
// simulated hardware, its settings and store, and its DLM role.
type charger struct {
	spec     Charger
	settings *config.Settings
	store    kv.Store
	board    *sim.Board
	unit     *runner.Unit
	conns    []*conn
	reporter dlm.Reporter
	side     *dlm.SlaveSide // slaves (modes 3 and 4)
	linkUp   bool
	// linkedAnew: its link came up; it reports at once, as a slave does
	// on every new link.
	linkedAnew bool
	off        bool // powered off: no current, no messages, no decisions
	opto       [2]bool

	// reports are the connectors' reports as last built; loads the
	// loads they were built from (a change reports at once).
	reports map[int]dlm.ConnectorReport
	loads   []dlm.Load
	// The master's own connectors (mode 1) report to it directly: on a
	// change, and every ReportInterval.
	reportedAt time.Time
	// sent is the report last sent to the master, at sentAt; quiet:
	// the next would repeat it (quiet.go), and the master has had the
	// repeats up to masterAt.
	sent             map[int]dlm.ConnectorReport
	sentAt, masterAt time.Time
	quiet            bool
	answer           message // what the master answers a quiet link
	// owes: the master changed its offers at owedSince; until a report
	// of the charger sent since reaches it, a repeat is news to it (it
	// confirms a lowering), so the link is not quiet.
	owes      bool
	owedSince time.Time
	// offers and phases are what the master last gave its own
	// connectors.
	offers map[int]float64
	phases map[int]int
	// touched: something happened to the charger at this instant.
	touched   bool
	next      time.Time
	heapIndex int
}

// conn is what the site keeps of a connector for its trace and checks:
// what it offers and draws on each grid phase and its state, as of the
// last time its charger was driven.
type conn struct {
	n        int
	rotation [3]int
	arrival  float64 // seconds, while an EV is plugged
	plugged  bool

	offered, drawn [3]float64
	state          string
	dirty          bool // changed since the trace last looked
	// car is the index in Stats.Cars of the car plugged in (-1: none);
	// startWh the register when it came; stateSince when state began.
	car        int
	startWh    float64
	stateSince time.Time
}

// message travels the in-process network.
type message struct {
	at     time.Time
	slave  *charger
	report map[int]dlm.ConnectorReport // to the master; nil: offers to the slave
	offers map[int]float64
	one    map[int]bool
	fcm    int
}

// Site is a running simulation.
type Site struct {
	sc       *Scenario
	opts     Options
	clock    *clock.Virtual
	now      time.Time
	runner   *runner.Runner
	store    *kv.Mem
	chargers []*charger
	byID     map[string]*charger
	master   *charger
	dm       *dlm.Master
	net      []message // in order of arrival: every message has the same latency
	wakes    wakeHeap

	touched []*charger // chargers to drive at this instant
	quiet   []*charger // slaves on a quiet link (quiet.go)
	dirty   []*conn    // connectors whose trace values changed
	// offeredDLM and drawnDLM are what the connectors under DLM offer
	// and draw on each grid phase, kept as they change.
	offeredDLM, drawnDLM [3]float64
	// drawnAll is what every connector draws on each grid phase.
	drawnAll [3]float64

	otherLoad [3]float64
	meterOK   bool
	lastMeter time.Time
	masterDue bool       // the master must step
	reporters []*charger // slaves whose report reached the master at this instant
	trace     *traceWriter
	stats     Stats
	// everyRoundTrip steps through every report and answer, quiet or
	// not (tests compare it with the quiet links).
	everyRoundTrip bool
	overOffer      [3]time.Time // since when a phase's offers are over what is available
	overDrawn      [3]time.Time
	lastAvail      dlm.Phases
	lastChange     bool
}

// Stats sums up a run.
type Stats struct {
	Simulated time.Duration
	Lines     int
	// Bytes is the size of the trace.
	Bytes    int64
	EnergyWh float64
	// OverOffered is the longest time the offers on a grid phase
	// exceeded what was available; OverDrawn the same for the current
	// drawn. Both include the time offers take to reach slaves and EVs to
	// follow.
	OverOffered, OverDrawn time.Duration
	// Steps counts the instants the simulation stopped at.
	Steps int
	// Peak is the most current drawn in all on each grid phase.
	Peak [3]float64
	// Cars are the cars that came, in order of arrival.
	Cars []Car
}

// Car is what became of one car.
type Car struct {
	Charger   string
	Connector int
	// Arrival and Departure are seconds from the start; Departure is the
	// end of the run for a car still there.
	Arrival, Departure float64
	EnergyWh           float64
	// Waiting is how long it was there wanting current and offered none.
	Waiting time.Duration
	// Full: its battery was full when it left (or at the end).
	Full bool
}

// New prepares a scenario's site.
func New(sc *Scenario, opts ...Options) (*Site, error) {
	s := &Site{sc: sc, byID: map[string]*charger{}, now: start, meterOK: true, clock: clock.NewVirtual(start),
		store: &kv.Mem{}}
	if len(opts) > 0 {
		s.opts = opts[0]
	}
	s.runner = runner.New(runner.Options{Store: s.store, Clock: s.clock, Synchronous: true})
	for _, spec := range sc.Chargers {
		ch, err := s.newCharger(spec)
		if err != nil {
			return nil, err
		}
		s.chargers = append(s.chargers, ch)
		s.byID[spec.ID] = ch
		if spec.Mode == 1 || spec.Mode == 2 {
			s.master = ch
		}
	}
	if s.master != nil {
		s.dm = dlm.NewMaster(dlm.SiteOf(s.master.settings.Snapshot()), s.now)
		s.masterDue = true
	}
	for _, ch := range s.chargers {
		if ch.slave() {
			ch.side = dlm.NewSlaveSide(ch.disconnected(), s.now)
			ch.linkUp = true
		}
		if err := s.boot(ch); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Site) newCharger(spec Charger) (*charger, error) {
	defaults := model.Default().ConfigDefaults()
	defaults["NumberOfConnectors"] = strconv.Itoa(spec.Connectors)
	cat, err := config.NewCatalogue(defaults)
	if err != nil {
		return nil, err
	}
	settings, err := config.Open(cat, &config.MemStorage{}, nil)
	if err != nil {
		return nil, err
	}
	// The charger's wiring is its ConnectorPhaseRotation, as the reports
	// to the master read it.
	pairs := []config.Pair{{Key: "FreeCharging", Value: "1"}, {Key: "DlmMode", Value: strconv.Itoa(spec.Mode)},
		{Key: "ConnectorPhaseRotation", Value: "0." + spec.PhaseRotation}}
	for k, v := range spec.Config {
		pairs = append(pairs, config.Pair{Key: k, Value: v})
	}
	sortPairs(pairs)
	if _, err := settings.SetAll(pairs, config.ActorInstaller); err != nil {
		return nil, fmt.Errorf("charger %q: %w", spec.ID, err)
	}
	rot := dlm.Rotations(settings.Snapshot().ConnectorPhaseRotation)
	ch := &charger{spec: spec, settings: settings, store: runner.Prefixed(s.store, spec.ID+"/"), heapIndex: -1,
		board: sim.New(sim.Options{Clock: s.clock, Connectors: spec.Connectors})}
	for n := 1; n <= spec.Connectors; n++ {
		ch.conns = append(ch.conns, &conn{n: n, rotation: dlm.RotationOf(rot, n), car: -1})
	}
	return ch, nil
}

// boot starts a charger's core, from what its store kept.
func (s *Site) boot(ch *charger) error {
	m := model.Default()
	cfg := chargepoint.Config{Connectors: ch.spec.Connectors, Phases: 3, MaxCurrent: float64(m.MaxCurrent),
		CanSwitchPhases: true, Managed: ch.underDLM(),
		Identity: chargepoint.Identity{Vendor: m.Vendor, Model: m.Model, FirmwareVersion: m.FirmwareVersion}}
	if s.opts.Core != nil {
		s.opts.Core(&cfg)
	}
	u, err := s.runner.Add(runner.UnitOptions{ID: ch.spec.ID, Core: cfg, Settings: ch.settings, Board: ch.board, Store: ch.store})
	if err != nil {
		return fmt.Errorf("charger %q: %w", ch.spec.ID, err)
	}
	ch.unit, ch.reports, ch.loads, ch.reportedAt, ch.offers, ch.phases, ch.sent = u, nil, nil, time.Time{}, nil, nil, nil
	ch.reporter = dlm.Reporter{} // a new process knows nothing of the EVs it finds
	s.touch(ch)
	return nil
}

// underDLM reports whether the charger's connectors follow DLM.
func (ch *charger) underDLM() bool {
	return ch.spec.Mode == 1 || ch.spec.Mode == 3 || ch.spec.Mode == 4
}

func (ch *charger) slave() bool { return ch.spec.Mode == 3 || ch.spec.Mode == 4 }

func (ch *charger) disconnected() float64 {
	return float64(ch.settings.Snapshot().DlmDisconnectedLimit)
}

// Run simulates the scenario, writing the trace to tw (nil: none).
func (s *Site) Run(tw *TraceOptions) (Stats, error) { return s.RunContext(context.Background(), tw) }

// RunContext is Run until ctx ends: then it stops with ctx's error (the
// trace is written up to where it got).
func (s *Site) RunContext(ctx context.Context, tw *TraceOptions) (Stats, error) {
	if tw != nil {
		s.trace = newTraceWriter(s, *tw)
	}
	end := start.Add(time.Duration(s.sc.Duration))
	next := 0
	for {
		s.stats.Steps++
		if s.stats.Steps%1024 == 0 && ctx.Err() != nil {
			if s.trace != nil {
				s.trace.flush()
			}
			return s.stats, fmt.Errorf("site: stopped at %v of %v: %w", s.now.Sub(start), end.Sub(start), ctx.Err())
		}
		for next < len(s.sc.Events) && !start.Add(time.Duration(s.sc.Events[next].At)).After(s.now) {
			e := s.sc.Events[next]
			if err := s.apply(e); err != nil {
				return s.stats, fmt.Errorf("event %d at %v: %w", next+1, time.Duration(e.At), err)
			}
			if e.Plug != nil || e.Unplug {
				// The charger sees each car come and go, even two at one
				// instant, and tells its master so.
				s.drive(s.byID[e.Charger])
			}
			next++
		}
		s.instant()
		last := !s.now.Before(end)
		if s.trace != nil {
			if err := s.trace.instant(s.now, last); err != nil {
				return s.stats, err
			}
		}
		s.check()
		if last {
			break
		}
		t := end
		if next < len(s.sc.Events) {
			t = earliest(t, start.Add(time.Duration(s.sc.Events[next].At)))
		}
		t = earliest(t, s.nextInstant())
		if !t.After(s.now) {
			t = s.now.Add(time.Millisecond) // never stand still
		}
		s.clock.Advance(t.Sub(s.now))
		s.now = t
	}
	s.stats.Simulated = end.Sub(start)
	for _, ch := range s.chargers {
		for _, c := range ch.conns {
			s.depart(ch, c) // the cars still there
		}
	}
	for _, ch := range s.chargers {
		for _, c := range ch.board.Connectors() {
			s.stats.EnergyWh += c.Meter().EnergyWh
		}
	}
	s.closeRuns()
	if s.trace != nil {
		s.stats.Lines, s.stats.Bytes = s.trace.lines, s.trace.bytes
		return s.stats, s.trace.flush()
	}
	return s.stats, nil
}

func earliest(a, b time.Time) time.Time {
	if !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

// nextInstant is when something next happens: a message arrives, a
// charger wakes (its core, its EVs, its DLM side), the master wakes or
// reads its meter.
func (s *Site) nextInstant() time.Time {
	var t time.Time
	if len(s.net) > 0 {
		t = s.net[0].at
	}
	if len(s.wakes) > 0 {
		t = earliestNonZero(t, s.wakes[0].next)
	}
	if s.trace != nil {
		t = earliestNonZero(t, s.trace.pendingAt)
	}
	if s.dm != nil && !s.master.off {
		t = earliestNonZero(t, s.dm.Next())
		if s.master.settings.Snapshot().DlmExtMeterEnabled == 1 {
			t = earliestNonZero(t, s.now.Truncate(time.Second).Add(time.Second))
		}
	}
	return t
}

func earliestNonZero(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// touch marks a charger to be driven at this instant.
func (s *Site) touch(ch *charger) {
	if !ch.touched {
		ch.touched = true
		s.touched = append(s.touched, ch)
	}
}

// instant does everything due at s.now, until nothing more happens at it.
func (s *Site) instant() {
	s.deliver()
	for _, ch := range s.wakes.due(s.now) {
		s.touch(ch)
	}
	var driven []*charger
	for round := 0; round < 8; round++ {
		touched := s.touched
		s.touched = nil
		for _, ch := range touched {
			ch.touched = false
			s.drive(ch)
			driven = append(driven, ch)
		}
		if !s.stepMaster() && len(s.touched) == 0 {
			break
		}
	}
	for _, ch := range driven {
		if ch.heapIndex < 0 || !ch.touched {
			s.schedule(ch)
		}
	}
}

// apply carries out one scenario event.
func (s *Site) apply(e Event) error {
	ch := s.byID[e.Charger]
	switch {
	case e.OtherLoad != nil:
		s.otherLoad = *e.OtherLoad
	case e.Meter != "":
		s.meterOK = e.Meter == "ok"
	case e.Plug != nil:
		c := ch.conns[e.Connector-1]
		if c.plugged {
			s.depart(ch, c)
			ch.board.Unplug(e.Connector) // another car takes its place
			s.drive(ch)
		}
		if err := ch.board.Plug(e.Connector, e.Plug.WithDefaults()); err != nil {
			return err
		}
		c.plugged, c.arrival = true, s.now.Sub(start).Seconds()
		c.car, c.startWh = len(s.stats.Cars), ch.board.Connectors()[e.Connector-1].Meter().EnergyWh
		s.stats.Cars = append(s.stats.Cars, Car{Charger: ch.spec.ID, Connector: e.Connector, Arrival: c.arrival})
	case e.Unplug:
		c := ch.conns[e.Connector-1]
		if c.plugged {
			s.depart(ch, c)
			ch.board.Unplug(e.Connector)
		}
		c.plugged = false
	case e.Input != 0:
		ch.opto[e.Input-1] = e.High
		ch.board.SetInput(e.Input, e.High)
		if ch == s.master {
			s.dm.Input(e.Input, e.High)
		}
	case e.Link != "":
		s.wake(ch)
		ch.linkedAnew = e.Link == "up" && !ch.linkUp
		ch.linkUp = e.Link == "up"
	case e.Power != "":
		return s.power(ch, e.Power == "on")
	case e.Config != nil:
		if ch == s.master {
			s.wakeAll() // its answers may carry another FreeChargingMode from now on
		}
		var pairs []config.Pair
		for k, v := range e.Config {
			pairs = append(pairs, config.Pair{Key: k, Value: v})
		}
		sortPairs(pairs)
		if _, err := ch.settings.SetAll(pairs, config.ActorInstaller); err != nil {
			return err
		}
		if ch == s.master {
			s.dm.SetSite(dlm.SiteOf(ch.settings.Snapshot()))
		}
	}
	if ch != nil {
		s.touch(ch)
	}
	s.masterDue = true
	return nil
}

// power turns a charger off (it dies: its EVs draw nothing, it sends and
// hears nothing, a master decides nothing) or on again (it starts afresh
// from its store: a slave offers nothing until its master speaks, a
// master holds raises for dlm.StartGrace).
func (s *Site) power(ch *charger, on bool) error {
	if ch.off != on {
		return nil // already so
	}
	s.wake(ch)
	if ch == s.master {
		s.wakeAll()
	}
	ch.off = !on
	if !on {
		for _, c := range ch.board.Connectors() {
			c.Offer(0)
			c.SetContactor(false)
			c.(hw.PhaseSwitcher).SetPhases(3)
		}
		s.runner.Remove(ch.unit)
		s.wakes.remove(ch)
		s.observe(ch)
		return nil
	}
	switch {
	case ch.slave():
		ch.side = dlm.NewSlaveSide(ch.disconnected(), s.now)
	case ch == s.master:
		s.dm = dlm.NewMaster(dlm.SiteOf(ch.settings.Snapshot()), s.now)
		s.dm.HoldRaisesUntil(s.now.Add(dlm.StartGrace))
		for p := range 2 {
			s.dm.Input(p+1, ch.opto[p])
		}
	}
	return s.boot(ch)
}

// deliver hands over the messages due.
func (s *Site) deliver() {
	n := 0
	for _, m := range s.net {
		if m.at.After(s.now) {
			break
		}
		n++
		if !m.slave.linkUp || m.slave.off || s.master.off {
			continue // lost with the link, or with a dead end
		}
		if m.report != nil {
			before := s.dm.Available()
			s.dm.Report(m.slave.spec.ID, m.report, s.now)
			s.reporters = append(s.reporters, m.slave)
			// What the EVs draw moves the meter's other load: less
			// available is acted on at once, as by the real master, which
			// steps after every report.
			after := s.dm.Available()
			for p := range 3 {
				s.masterDue = s.masterDue || after[p] < before[p]
			}
			continue
		}
		s.wake(m.slave)
		m.slave.side.Heard(m.offers, m.one, s.now)
		if m.slave.settings.Snapshot().FreeChargingMode != m.fcm {
			m.slave.settings.Set("FreeChargingMode", strconv.Itoa(m.fcm), config.ActorInstaller)
		}
		s.touch(m.slave)
	}
	s.net = s.net[n:]
}

// drive brings a charger to now: its EVs, its core, and its DLM side.
func (s *Site) drive(ch *charger) {
	if ch.off {
		return
	}
	defer s.observe(ch)
	s.unquiet(ch) // driven now: its quiet ends here
	ch.board.Sync()
	ch.unit.Drive(s.now)
	switch {
	case ch.side != nil:
		// Limits and phases apply first; the report then tells them. A
		// new link reports at once.
		report := ch.linkedAnew
		ch.linkedAnew = false
		for i := range 4 {
			changed := ch.readLoads()
			a := ch.side.Update(ch.reports, ch.disconnected(), s.now, report || changed, ch.linkUp)
			report = report || a.Report
			if a.Limits == nil && a.Phases == nil || i == 3 {
				break
			}
			var evs []chargepoint.Event
			if a.Phases != nil {
				evs = append(evs, chargepoint.PhasesSet{Phases: a.Phases})
			}
			if a.Limits != nil {
				evs = append(evs, chargepoint.LimitsSet{Limits: a.Limits})
			}
			ch.unit.Drive(s.now, evs...)
		}
		if report {
			ch.sentAt = s.now // the side reports on its schedule, linked or not
		}
		if report && ch.linkUp {
			ch.sent = maps.Clone(ch.reports)
			s.send(message{at: s.now.Add(time.Duration(s.sc.Latency)), slave: ch, report: ch.sent})
			ch.owes = ch.owes && s.now.Before(ch.owedSince)
		}
		s.maybeQuiet(ch)
	case ch == s.master && ch.spec.Mode == 1:
		// Its repeats are the master's to take (quietMaster); a change
		// goes at once.
		due := s.now.Sub(ch.reportedAt) >= dlm.ReportInterval
		changed := ch.readLoads() || !maps.Equal(ch.reports, ch.sent)
		if changed || due && (ch.owes || s.everyRoundTrip) {
			ch.owes = false
			ch.sent = maps.Clone(ch.reports)
			s.dm.Report(ch.spec.ID, ch.sent, s.now)
			// A repeat is no news: the master steps if it says so (Next).
			ch.reportedAt, s.masterDue = s.now, s.masterDue || changed
		}
	default:
		ch.readLoads()
	}
}

// readLoads builds the charger's reports from its core's loads, and
// reports whether its loads changed since the last.
func (ch *charger) readLoads() bool {
	var loads []dlm.Load
	for _, l := range ch.unit.Loads() {
		loads = append(loads, dlm.Load{Connector: l.Connector, Ready: l.Ready, Applied: l.Applied, Drawn: l.Drawn})
	}
	changed := len(loads) != len(ch.loads)
	for i := range loads {
		if !changed && (loads[i].Ready != ch.loads[i].Ready || loads[i].Applied != ch.loads[i].Applied) {
			changed = true
		}
	}
	ch.loads = loads
	ch.reports = ch.reporter.Reports(loads, ch.settings.Snapshot(), float64(model.Default().MaxCurrent), 3)
	return changed
}

// stepMaster runs the master when something happened or is due, and
// sends its offers; it reports whether it did anything.
func (s *Site) stepMaster() bool {
	if s.dm == nil || s.master.off {
		s.reporters = s.reporters[:0]
		return false
	}
	// A meter reading matters at once only when less is available (the
	// other load rose, the meter failed): raising waits for the
	// recalculation anyway.
	lower := false
	if s.master.settings.Snapshot().DlmExtMeterEnabled == 1 && s.now.Sub(s.lastMeter) >= time.Second &&
		s.now.Truncate(time.Second).Equal(s.now) {
		s.lastMeter = s.now
		before := s.dm.Available()
		s.dm.MeterReading(s.meterReading(), s.meterOK)
		after := s.dm.Available()
		for p := range 3 {
			lower = lower || after[p] < before[p]
		}
	}
	if !s.masterDue && !lower && s.now.Before(s.dm.Next()) && len(s.reporters) == 0 {
		return false
	}
	var changedIDs []string
	if s.masterDue || lower || !s.now.Before(s.dm.Next()) {
		s.masterDue = false
		s.quietMaster()
		for _, o := range s.dm.Step(s.now) {
			changedIDs = append(changedIDs, o.ID.Slave)
		}
		if m := s.master; m.spec.Mode == 1 {
			offers, one := s.dm.Offers(m.spec.ID), s.dm.OnePhase(m.spec.ID)
			phases := map[int]int{}
			for n := range offers {
				phases[n] = 3
				if one[n] {
					phases[n] = 1
				}
			}
			if !maps.Equal(offers, m.offers) || !maps.Equal(phases, m.phases) {
				m.offers, m.phases = offers, phases
				m.owes, m.owedSince = true, s.now
				m.unit.Drive(s.now, chargepoint.PhasesSet{Phases: phases}, chargepoint.LimitsSet{Limits: offers})
				s.touch(m)
			}
		}
	}
	latency := time.Duration(s.sc.Latency)
	fcm := s.master.settings.Snapshot().FreeChargingMode
	sent := map[*charger]bool{}
	send := func(ch *charger) {
		if ch != nil && ch.side != nil && ch.linkUp && !ch.off && !sent[ch] {
			sent[ch] = true
			s.send(message{at: s.now.Add(latency), slave: ch, offers: s.dm.Offers(ch.spec.ID),
				one: s.dm.OnePhase(ch.spec.ID), fcm: fcm})
		}
	}
	// Every change is sent, every report answered (the slave's sign of
	// the master's life).
	sort.Strings(changedIDs)
	for _, id := range changedIDs {
		if ch := s.byID[id]; ch != nil && ch.side != nil {
			s.wake(ch)
			ch.owes, ch.owedSince = true, s.now
		}
		send(s.byID[id])
	}
	for _, ch := range s.reporters {
		send(ch)
	}
	s.reporters = s.reporters[:0]
	return len(changedIDs) > 0
}

// meterReading is what the external meter shows: the other load, plus
// the EVs when it is located Including the EVSE sub-distribution.
func (s *Site) meterReading() dlm.Phases {
	r := dlm.Phases(s.otherLoad)
	if s.master.settings.Snapshot().DlmExtMeterLocation == 0 {
		for _, ch := range s.chargers {
			for _, c := range ch.conns {
				for p := range 3 {
					r[p] += c.drawn[p]
				}
			}
		}
	}
	return r
}

// schedule places a charger by its next wake-up: its core's, its EVs', its
// DLM side's, its own report to the master.
func (s *Site) schedule(ch *charger) {
	var t time.Time
	if !ch.off {
		t = earliestNonZero(ch.unit.Next(), ch.board.Next())
		if ch.side != nil && !ch.quiet {
			t = earliestNonZero(t, ch.side.Next())
		}
		if ch == s.master && ch.spec.Mode == 1 && (s.everyRoundTrip || ch.owes) {
			t = earliestNonZero(t, ch.reportedAt.Add(dlm.ReportInterval))
		}
	}
	ch.next = t
	s.wakes.set(ch)
}

// observe takes what the charger's connectors offer and draw on each
// grid phase, and their states, for the trace and the checks.
func (s *Site) observe(ch *charger) {
	for _, c := range ch.conns {
		snap, _ := ch.board.Snapshot(c.n)
		var offered, drawn [3]float64
		for i := range 3 {
			drawn[c.rotation[i]] += snap.Meter.Current[i]
		}
		if snap.EV != nil && snap.Offered > 0 {
			// On all three phases while the EV's phases are not known;
			// on its grid phase only for an EV known to draw on one or
			// a connector switched to one.
			if snap.OnePhase || ch.reports[c.n].Phases == 1 {
				offered[c.rotation[0]] = snap.Offered
			} else {
				for i := range 3 {
					offered[c.rotation[i]] += snap.Offered
				}
			}
		}
		state := "waiting"
		switch {
		case snap.EV == nil:
			state = "empty"
		case snap.EV.SoCPercent >= 100 || !ch.reports[c.n].Ready:
			state = "finished"
		case snap.Offered >= hw.MinCurrent:
			state = "charging"
		}
		if offered == c.offered && drawn == c.drawn && state == c.state {
			continue
		}
		if state != c.state {
			if c.state == "waiting" && c.car >= 0 {
				s.stats.Cars[c.car].Waiting += s.now.Sub(c.stateSince)
			}
			c.stateSince = s.now
		}
		for p := range 3 {
			s.drawnAll[p] += drawn[p] - c.drawn[p]
			if ch.underDLM() {
				s.offeredDLM[p] += offered[p] - c.offered[p]
				s.drawnDLM[p] += drawn[p] - c.drawn[p]
			}
		}
		c.offered, c.drawn, c.state = offered, drawn, state
		if !c.dirty {
			c.dirty = true
			s.dirty = append(s.dirty, c)
		}
	}
}

// depart closes the record of the car leaving connector c (or there at
// the end).
func (s *Site) depart(ch *charger, c *conn) {
	if c.car < 0 {
		return
	}
	car := &s.stats.Cars[c.car]
	car.Departure = s.now.Sub(start).Seconds()
	if c.state == "waiting" {
		car.Waiting += s.now.Sub(c.stateSince)
	}
	h := ch.board.Connectors()[c.n-1]
	car.EnergyWh = h.Meter().EnergyWh - c.startWh
	if snap, err := ch.board.Snapshot(c.n); err == nil && snap.EV != nil {
		car.Full = snap.EV.SoCPercent >= 99.9
	}
	c.car = -1
}

// available is what the master may hand to cars now (the trace's
// "available"); 0 without a master.
func (s *Site) available() dlm.Phases {
	if s.dm == nil {
		return dlm.Phases{}
	}
	return s.dm.Available()
}

// check keeps the longest time offers and draws exceeded what was
// available.
func (s *Site) check() {
	for p := range 3 {
		s.stats.Peak[p] = max(s.stats.Peak[p], s.drawnAll[p])
	}
	if s.dm == nil {
		return
	}
	avail := s.available()
	for p := range 3 {
		track(&s.overOffer[p], s.offeredDLM[p] > avail[p]+1e-6, s.now, &s.stats.OverOffered)
		track(&s.overDrawn[p], s.drawnDLM[p] > avail[p]+1e-6, s.now, &s.stats.OverDrawn)
	}
}

// track follows a run over the limit: it starts at the first instant
// over and ends at the first instant not over.
func track(since *time.Time, over bool, now time.Time, longest *time.Duration) {
	switch {
	case over && since.IsZero():
		*since = now
	case !over && !since.IsZero():
		*longest = max(*longest, now.Sub(*since))
		*since = time.Time{}
	}
}

// closeRuns ends the runs still over at the end.
func (s *Site) closeRuns() {
	for p := range 3 {
		track(&s.overOffer[p], false, s.now, &s.stats.OverOffered)
		track(&s.overDrawn[p], false, s.now, &s.stats.OverDrawn)
	}
}

func sortPairs(p []config.Pair) {
	// Phase limits before operator limits: an operator limit may not
	// exceed its phase limit. Otherwise by name, for a stable order.
	rank := func(k string) int {
		if len(k) > 8 && k[:8] == "DlmPhase" {
			return 0
		}
		return 1
	}
	sort.SliceStable(p, func(i, j int) bool {
		if rank(p[i].Key) != rank(p[j].Key) {
			return rank(p[i].Key) < rank(p[j].Key)
		}
		return p[i].Key < p[j].Key
	})
}

// wakeHeap orders the chargers by their next wake-up.
type wakeHeap []*charger

func (h wakeHeap) Len() int           { return len(h) }
func (h wakeHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h wakeHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIndex, h[j].heapIndex = i, j
}
func (h *wakeHeap) Push(x any) {
	ch := x.(*charger)
	ch.heapIndex = len(*h)
	*h = append(*h, ch)
}
func (h *wakeHeap) Pop() any {
	old := *h
	ch := old[len(old)-1]
	*h = old[:len(old)-1]
	ch.heapIndex = -1
	return ch
}

func (h *wakeHeap) set(ch *charger) {
	switch {
	case ch.next.IsZero():
		h.remove(ch)
	case ch.heapIndex >= 0:
		heap.Fix(h, ch.heapIndex)
	default:
		heap.Push(h, ch)
	}
}

func (h *wakeHeap) remove(ch *charger) {
	if ch.heapIndex >= 0 {
		heap.Remove(h, ch.heapIndex)
	}
}

// due takes the chargers whose wake-up has come.
func (h *wakeHeap) due(now time.Time) []*charger {
	var out []*charger
	for len(*h) > 0 && !(*h)[0].next.After(now) {
		out = append(out, heap.Pop(h).(*charger))
	}
	return out
}
