package site

import (
	"fmt"
	"math"
	"time"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/dlm"
	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/model"
)

// Tick is the simulation's time step.
const Tick = 100 * time.Millisecond

// Tuning shared with the real charge point: see internal/chargepoint.
const (
	evDoneAfter     = 30 * time.Second // an offer left unused this long: the EV is done
	responseDefault = 2 * time.Second  // sim.Board's default response delay
	voltage         = 230.0
)

// start is the virtual clock's origin.
var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// connector is one simulated connector and its EV.
type connector struct {
	n        int
	rotation [3]int
	ev       *sim.EV // nil: empty
	arrival  float64 // seconds, when ev != nil
	limit    float64 // DLM cap; negative: none
	applied  float64 // PWM offer now
	drawn    float64 // A per phase now
	response sim.Response
	phases   int // known from drawing: 0, 1 or 3
	idle     time.Time
	done     bool
	onePhase bool // switched to one phase by the master
	energyWh float64
}

func (c *connector) ready() bool { return c.ev != nil && !c.done }

// evPhases is how many phases the EV draws on: one while the connector is
// switched to one phase.
func (c *connector) evPhases() int {
	if c.onePhase {
		return 1
	}
	return c.ev.Phases
}

// setPhases switches the connector as the master said: offer nothing
// first, as a real charger does; the EV's phases are then not known until
// it draws again.
func (c *connector) setPhases(one bool) {
	if c.onePhase == one {
		return
	}
	c.onePhase, c.applied, c.drawn, c.response = one, 0, 0, sim.Response{}
	c.phases = 0
	if one && c.ev != nil {
		c.phases = 1
	}
}

// report is the connector as its charger tells the master.
func (c *connector) report(min, disconnected float64) dlm.ConnectorReport {
	r := dlm.ConnectorReport{Ready: c.ready(), Phases: c.phases, Rotation: c.rotation, Max: maxCurrent,
		Min: min, Disconnected: disconnected, Applied: c.applied}
	if c.ev != nil && c.drawn > 0 {
		for i := range c.evPhases() {
			r.Drawn[i] = c.drawn
		}
	}
	return r
}

// maxCurrent is what a charger offers at most: the default model's.
var maxCurrent = float64(model.Default().MaxCurrent)

// charger is one simulated charger.
type charger struct {
	spec     Charger
	settings *config.Settings
	conns    []*connector
	slave    *dlm.Slave // modes 3 and 4
	linkUp   bool
	off      bool // powered off: no current, no messages, no decisions
	opto     [2]bool
	reported time.Time
	heard    bool        // offers arrived this tick
	sig      []signature // of the last report sent, to send changes at once

	// Settings read often, kept until a config event.
	minA, disconnectedA float64
	fcm                 int
	meterOn, including  bool
	canSwitch           bool // ConnectorSwitch3to1PhaseSupported
}

// signature is what of a connector must reach the master at once.
type signature struct {
	ready   bool
	phases  int
	applied float64
	drawn   float64 // as last reported; a move of dlm.DrawnReport is reported
}

// refresh reads the settings the simulation uses all the time.
func (ch *charger) refresh() {
	ch.minA = float64(ch.settings.Int("DlmMinCurrentRating"))
	ch.disconnectedA = float64(ch.settings.Int("DlmDisconnectedLimit"))
	ch.fcm = ch.settings.Int("FreeChargingMode")
	ch.meterOn = ch.settings.Int("DlmExtMeterEnabled") == 1
	ch.including = ch.settings.Int("DlmExtMeterLocation") == 0
	ch.canSwitch = ch.settings.Bool("ConnectorSwitch3to1PhaseSupported")
}

func (ch *charger) disconnected() float64 { return ch.disconnectedA }

func (ch *charger) reports() map[int]dlm.ConnectorReport {
	out := make(map[int]dlm.ConnectorReport, len(ch.conns))
	for _, c := range ch.conns {
		r := c.report(ch.minA, ch.disconnectedA)
		r.CanSwitch = ch.canSwitch
		out[c.n] = r
	}
	return out
}

// due reports whether the charger must report now: a change, or
// dlm.ReportInterval since the last report. It notes the report as sent.
func (ch *charger) due(now time.Time) bool {
	changed := len(ch.sig) != len(ch.conns)
	if changed {
		ch.sig = make([]signature, len(ch.conns))
	}
	for i, c := range ch.conns {
		sg := signature{c.ready(), c.phases, c.applied, ch.sig[i].drawn}
		if math.Abs(c.drawn-sg.drawn) >= dlm.DrawnReport {
			sg.drawn = c.drawn
		}
		if sg != ch.sig[i] {
			ch.sig[i], changed = sg, true
		}
	}
	if !changed && now.Sub(ch.reported) < dlm.ReportInterval {
		return false
	}
	ch.reported = now
	return true
}

// message travels the in-process network.
type message struct {
	at     time.Time
	slave  *charger
	report map[int]dlm.ConnectorReport // to the master; nil: offers to the slave
	offers map[int]float64
	one    map[int]bool // connectors switched to one phase
	fcm    int
}

// Site is a running simulation.
type Site struct {
	sc       *Scenario
	chargers []*charger
	byID     map[string]*charger
	master   *charger
	dm       *dlm.Master
	net      []message
	now      time.Time

	otherLoad [3]float64
	meterOK   bool
	force     bool       // the master must step
	reporters []*charger // slaves whose report reached the master this tick
	dirty     bool       // an offer, a drawn current or what is available moved this tick
	lastAvail dlm.Phases
	trace     *traceWriter
	stats     Stats
}

// Stats sums up a run.
type Stats struct {
	Simulated time.Duration
	Lines     int
	EnergyWh  float64
	// OverOffered is the longest time the offers on a grid phase
	// exceeded what was available; OverDrawn the same for the current
	// drawn. Both include the time offers take to reach slaves and EVs to
	// follow.
	OverOffered, OverDrawn time.Duration
}

// New prepares a scenario's site.
func New(sc *Scenario) (*Site, error) {
	s := &Site{sc: sc, byID: map[string]*charger{}, now: start, meterOK: true}
	for _, spec := range sc.Chargers {
		ch, err := newCharger(spec)
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
		if s.master.spec.Mode == 1 {
			for _, c := range s.master.conns {
				c.limit = 0 // nothing until the master has decided
			}
		}
	}
	for _, ch := range s.chargers {
		if ch.spec.Mode == 3 || ch.spec.Mode == 4 {
			ch.slave = dlm.NewSlave(ch.disconnected(), s.now)
			ch.linkUp = true
			for _, c := range ch.conns {
				c.limit = ch.slave.Limit(c.n, s.now) // nothing until the master speaks
			}
		}
	}
	return s, nil
}

func newCharger(spec Charger) (*charger, error) {
	defaults := model.Default().ConfigDefaults()
	defaults["NumberOfConnectors"] = itoa(spec.Connectors)
	cat, err := config.NewCatalogue(defaults)
	if err != nil {
		return nil, err
	}
	settings, err := config.Open(cat, &config.MemStorage{}, nil)
	if err != nil {
		return nil, err
	}
	pairs := []config.Pair{{Key: "FreeCharging", Value: "1"}, {Key: "DlmMode", Value: itoa(spec.Mode)}}
	for k, v := range spec.Config {
		pairs = append(pairs, config.Pair{Key: k, Value: v})
	}
	sortPairs(pairs)
	if _, err := settings.SetAll(pairs, config.ActorInstaller); err != nil {
		return nil, fmt.Errorf("charger %q: %w", spec.ID, err)
	}
	rot := dlm.Rotations("0." + spec.PhaseRotation)
	ch := &charger{spec: spec, settings: settings}
	ch.refresh()
	for n := 1; n <= spec.Connectors; n++ {
		ch.conns = append(ch.conns, &connector{n: n, rotation: dlm.RotationOf(rot, n), limit: -1})
	}
	return ch, nil
}

// underDLM reports whether the charger's connectors follow DLM.
func (ch *charger) underDLM() bool {
	return ch.spec.Mode == 1 || ch.spec.Mode == 3 || ch.spec.Mode == 4
}

// Run simulates the scenario, writing the trace to w (nil: none).
func (s *Site) Run(tw *TraceOptions) (Stats, error) {
	if tw != nil {
		s.trace = newTraceWriter(s, *tw)
	}
	end := start.Add(time.Duration(s.sc.Duration))
	next := 0
	var over, overDrawn [3]time.Time
	for s.now = start; ; s.now = s.now.Add(Tick) {
		for next < len(s.sc.Events) && !start.Add(time.Duration(s.sc.Events[next].At)).After(s.now) {
			if err := s.apply(s.sc.Events[next]); err != nil {
				return s.stats, fmt.Errorf("event %d at %v: %w", next+1, time.Duration(s.sc.Events[next].At), err)
			}
			next++
		}
		s.deliver()
		s.slaves()
		s.physics()
		s.report()
		s.step()
		// Trace and check look again only when something moved.
		if avail := s.available(); avail != s.lastAvail {
			s.lastAvail, s.dirty = avail, true
		}
		if s.trace != nil && (s.dirty || s.trace.pending || s.now.Equal(end)) {
			if err := s.trace.tick(s.now, s.now.Equal(end)); err != nil {
				return s.stats, err
			}
		}
		if s.dirty {
			s.check(&over, &overDrawn)
		} else {
			s.extend(&over, &overDrawn)
		}
		s.dirty = false
		if !s.now.Before(end) {
			break
		}
	}
	s.stats.Simulated = end.Sub(start)
	for _, ch := range s.chargers {
		for _, c := range ch.conns {
			s.stats.EnergyWh += c.energyWh
		}
	}
	if s.trace != nil {
		s.stats.Lines = s.trace.lines
		return s.stats, s.trace.flush()
	}
	return s.stats, nil
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
		s.sessionEnded(ch, c)
		ev := e.Plug.WithDefaults()
		*c = connector{n: c.n, rotation: c.rotation, limit: c.limit, energyWh: c.energyWh, ev: &ev,
			arrival: s.now.Sub(start).Seconds(), onePhase: c.onePhase}
	case e.Unplug:
		c := ch.conns[e.Connector-1]
		s.sessionEnded(ch, c)
		*c = connector{n: c.n, rotation: c.rotation, limit: c.limit, energyWh: c.energyWh, onePhase: c.onePhase}
	case e.Input != 0:
		ch.opto[e.Input-1] = e.High
		if ch == s.master {
			s.dm.Input(e.Input, e.High)
		}
	case e.Link != "":
		ch.linkUp = e.Link == "up"
	case e.Power != "":
		s.power(ch, e.Power == "on")
	case e.Config != nil:
		var pairs []config.Pair
		for k, v := range e.Config {
			pairs = append(pairs, config.Pair{Key: k, Value: v})
		}
		sortPairs(pairs)
		if _, err := ch.settings.SetAll(pairs, config.ActorInstaller); err != nil {
			return err
		}
		ch.refresh()
		if ch == s.master {
			s.dm.SetSite(dlm.SiteOf(ch.settings.Snapshot()))
		}
		if ch.slave != nil {
			ch.slave.SetDisconnected(ch.disconnected())
		}
	}
	s.force, s.dirty = true, true // the trace looks again too
	return nil
}

// power turns a charger off (it dies: its EVs draw nothing, it sends and
// hears nothing, a master decides nothing) or on again (it starts afresh:
// a slave offers nothing until its master speaks, a master holds raises
// for dlm.StartGrace).
func (s *Site) power(ch *charger, on bool) {
	if ch.off != on {
		return // already so
	}
	ch.off = !on
	for _, c := range ch.conns {
		c.limit, c.applied, c.drawn, c.response = 0, 0, 0, sim.Response{}
		c.phases, c.onePhase, c.idle, c.done = 0, false, time.Time{}, false
	}
	if !on {
		return
	}
	ch.sig, ch.reported = nil, time.Time{}
	switch {
	case ch.slave != nil:
		ch.slave = dlm.NewSlave(ch.disconnected(), s.now)
	case ch == s.master:
		s.dm = dlm.NewMaster(dlm.SiteOf(ch.settings.Snapshot()), s.now)
		s.dm.HoldRaisesUntil(s.now.Add(dlm.StartGrace))
		for p := range 2 {
			s.dm.Input(p+1, ch.opto[p])
		}
	default:
		for _, c := range ch.conns {
			c.limit = -1
		}
	}
}

// sessionEnded: a managed connector's session ends (its EV leaves, or
// another takes its place), and the next one waits for its own share, as
// on a real charge point.
func (s *Site) sessionEnded(ch *charger, c *connector) {
	switch {
	case ch.slave != nil:
		ch.slave.Ended(c.n)
		c.limit = ch.slave.Limit(c.n, s.now)
	case ch == s.master && ch.spec.Mode == 1:
		c.limit = 0
	}
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
				s.force = s.force || after[p] < before[p]
			}
			continue
		}
		m.slave.slave.Heard(m.offers, m.one, s.now)
		for _, c := range m.slave.conns {
			c.setPhases(m.slave.slave.Phases(c.n) == 1)
		}
		m.slave.heard = true
		if m.slave.fcm != m.fcm {
			m.slave.settings.Set("FreeChargingMode", itoa(m.fcm), config.ActorInstaller)
			m.slave.refresh()
		}
	}
	s.net = s.net[n:]
}

// slaves apply their limits: the master's offers, or the fallback.
func (s *Site) slaves() {
	for _, ch := range s.chargers {
		if ch.slave == nil || ch.off || (!ch.heard && s.now.Before(ch.slave.Next())) {
			continue // nothing new, and not lost now
		}
		ch.heard = false
		for _, c := range ch.conns {
			c.limit = ch.slave.Limit(c.n, s.now)
		}
	}
}

// physics moves every connector one tick: the offer, the EV following it,
// energy.
func (s *Site) physics() {
	dt := Tick.Hours()
	for _, ch := range s.chargers {
		if ch.off {
			continue
		}
		for _, c := range ch.conns {
			if c.ev == nil {
				continue
			}
			offer := maxCurrent
			if c.limit >= 0 {
				offer = math.Min(offer, c.limit)
			}
			if offer < hw.MinCurrent {
				offer = 0
			}
			if c.applied != offer {
				c.applied, s.dirty = offer, true
			}
			if c.drawn > 0 {
				wh := voltage * c.drawn * float64(c.evPhases()) * dt
				c.energyWh += wh
				c.ev.SoCPercent = math.Min(100, c.ev.SoCPercent+100*wh/c.ev.CapacityWh)
			}
			delay := responseDefault
			if c.ev.ResponseDelayMs > 0 {
				delay = time.Duration(c.ev.ResponseDelayMs) * time.Millisecond
			}
			// Meters and EVs move in steps of 0.1 A.
			if d := math.Floor(c.ev.Draws(c.response.Step(offer, delay, s.now))*10) / 10; d != c.drawn {
				c.drawn, s.dirty = d, true
			}
			if c.drawn >= 1 && c.phases == 0 {
				c.phases = c.evPhases()
				if c.phases != 1 {
					c.phases = 3
				}
			}
			// Done: the offer goes unused for evDoneAfter.
			switch {
			case c.applied < hw.MinCurrent || c.drawn > 0:
				c.idle = time.Time{}
			case c.idle.IsZero():
				c.idle = s.now
			case s.now.Sub(c.idle) >= evDoneAfter:
				c.done = true
			}
		}
	}
}

// report sends the slaves' reports: on change, and every
// dlm.ReportInterval. The master's own connectors report directly.
func (s *Site) report() {
	latency := time.Duration(s.sc.Latency)
	for _, ch := range s.chargers {
		switch {
		case ch.off:
		case ch == s.master && ch.spec.Mode == 1:
			if ch.due(s.now) {
				s.dm.Report(ch.spec.ID, ch.reports(), s.now)
				s.force = true
			}
		case ch.slave != nil:
			if ch.due(s.now) && ch.linkUp {
				s.net = append(s.net, message{at: s.now.Add(latency), slave: ch, report: ch.reports()})
			}
		}
	}
}

// step runs the master when something happened or is due, and sends its
// offers.
func (s *Site) step() {
	if s.dm == nil || s.master.off {
		s.reporters = s.reporters[:0]
		return
	}
	// A meter reading matters at once only when less is available (the
	// other load rose, the meter failed): raising waits for the
	// recalculation anyway.
	lower := false
	if s.master.meterOn && s.now.Sub(start)%time.Second == 0 {
		before := s.dm.Available()
		s.dm.MeterReading(s.meterReading(), s.meterOK)
		after := s.dm.Available()
		for p := range 3 {
			lower = lower || after[p] < before[p]
		}
	}
	var changedIDs []string
	if s.force || lower || !s.now.Before(s.dm.Next()) {
		s.force = false
		for _, o := range s.dm.Step(s.now) {
			changedIDs = append(changedIDs, o.ID.Slave)
		}
		if s.master.spec.Mode == 1 {
			offers, one := s.dm.Offers(s.master.spec.ID), s.dm.OnePhase(s.master.spec.ID)
			for _, c := range s.master.conns {
				c.limit = offers[c.n]
				c.setPhases(one[c.n])
			}
		}
	}
	latency := time.Duration(s.sc.Latency)
	fcm := s.master.fcm
	sent := map[*charger]bool{}
	send := func(ch *charger) {
		if ch.slave != nil && ch.linkUp && !sent[ch] {
			sent[ch] = true
			s.net = append(s.net, message{at: s.now.Add(latency), slave: ch, offers: s.dm.Offers(ch.spec.ID),
				one: s.dm.OnePhase(ch.spec.ID), fcm: fcm})
		}
	}
	// Every change is sent, every report answered (the slave's sign of
	// the master's life).
	for _, id := range changedIDs {
		send(s.byID[id])
	}
	for _, ch := range s.reporters {
		send(ch)
	}
	s.reporters = s.reporters[:0]
}

// meterReading is what the external meter shows: the other load, plus
// the EVs when it is located Including the EVSE sub-distribution.
func (s *Site) meterReading() dlm.Phases {
	r := dlm.Phases(s.otherLoad)
	if s.master.including {
		for _, ch := range s.chargers {
			for _, c := range ch.conns {
				g := c.gridDrawn()
				for p := range 3 {
					r[p] += g[p]
				}
			}
		}
	}
	return r
}

// gridDrawn is the current drawn on each grid phase.
func (c *connector) gridDrawn() [3]float64 {
	var g [3]float64
	if c.ev == nil || c.drawn == 0 {
		return g
	}
	for i := range c.evPhases() {
		g[c.rotation[i]] += c.drawn
	}
	return g
}

// gridOffered is what the connector may draw on each grid phase under its
// offer: all three while its phases are not known.
func (c *connector) gridOffered() [3]float64 {
	var g [3]float64
	if c.ev == nil || c.applied == 0 {
		return g
	}
	if c.phases == 1 || c.onePhase { // a switched connector has one phase whatever the EV
		g[c.rotation[0]] = c.applied
		return g
	}
	for i := range 3 {
		g[c.rotation[i]] += c.applied
	}
	return g
}

// available is what the master may hand to cars now (the trace's
// "available"); 0 without a master.
func (s *Site) available() dlm.Phases {
	if s.dm == nil {
		return dlm.Phases{}
	}
	return s.dm.Available()
}

// underDLM sums what connectors under DLM offer and draw, per grid phase.
func (s *Site) underDLM() (offered, drawn [3]float64) {
	for _, ch := range s.chargers {
		if !ch.underDLM() {
			continue
		}
		for _, c := range ch.conns {
			o, d := c.gridOffered(), c.gridDrawn()
			for p := range 3 {
				offered[p] += o[p]
				drawn[p] += d[p]
			}
		}
	}
	return offered, drawn
}

// check keeps the longest time offers and draws exceeded what was
// available.
func (s *Site) check(over, overDrawn *[3]time.Time) {
	if s.dm == nil {
		return
	}
	avail := s.available()
	offered, drawn := s.underDLM()
	for p := range 3 {
		track(&over[p], offered[p] > avail[p]+1e-6, s.now, &s.stats.OverOffered)
		track(&overDrawn[p], drawn[p] > avail[p]+1e-6, s.now, &s.stats.OverDrawn)
	}
}

// extend carries the over-limit runs through a tick where nothing moved.
func (s *Site) extend(over, overDrawn *[3]time.Time) {
	for p := range 3 {
		if !over[p].IsZero() {
			s.stats.OverOffered = max(s.stats.OverOffered, s.now.Sub(over[p])+Tick)
		}
		if !overDrawn[p].IsZero() {
			s.stats.OverDrawn = max(s.stats.OverDrawn, s.now.Sub(overDrawn[p])+Tick)
		}
	}
}

func track(since *time.Time, over bool, now time.Time, longest *time.Duration) {
	if !over {
		*since = time.Time{}
		return
	}
	if since.IsZero() {
		*since = now
	}
	if d := now.Sub(*since) + Tick; d > *longest {
		*longest = d
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
	for i := 1; i < len(p); i++ {
		for j := i; j > 0; j-- {
			a, b := p[j-1], p[j]
			if rank(a.Key) < rank(b.Key) || (rank(a.Key) == rank(b.Key) && a.Key <= b.Key) {
				break
			}
			p[j-1], p[j] = b, a
		}
	}
}
