package dlm

import (
	"math"
	"slices"

	"time"
)

// Site is the master's configuration: the limits of the installation.
type Site struct {
	// PhaseLimit is DlmPhase{1,2,3}Limit, the EVSE sub-distribution limit.
	PhaseLimit Phases
	// OperatorLimit is DlmOperatorPhase{1,2,3}Limit.
	OperatorLimit Phases
	// InputOffsets are DlmInput{1,2}CurrOffset Phase{1,2,3} (0 or negative);
	// InputOpto says which opto input (1 or 2; 0: disabled) each DLM input
	// follows (DlmInput{1,2}CurrOffset Cfg).
	InputOffsets [2]Phases
	InputOpto    [2]int
	// Meter: DlmExtMeterEnabled; Excluding: DlmExtMeterLocation is
	// Excluding EVSE Sub-Distribution; MainLimit and Fallback are
	// DlmExtMeterMainDistributionLimitPhase and
	// DlmExtMeterDisconnectedFallbackPhase.
	Meter     bool
	Excluding bool
	MainLimit Phases
	Fallback  Phases
	// Recalc is DlmRecalcInterval.
	Recalc time.Duration
}

// RecalcIntervals are the DlmRecalcInterval options by their number.
var RecalcIntervals = []time.Duration{2 * time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 10 * time.Minute, 15 * time.Minute}

// Available is what may be handed to EVs on each grid phase: the lower of
// the sub-distribution and operator limits, plus the offsets of the inputs
// that are high, and with the external meter at most the main limit less
// the other load. Never below 0.
func (s Site) Available(optoHigh [2]bool, otherLoad Phases) Phases {
	var a Phases
	for p := range 3 {
		a[p] = math.Min(s.PhaseLimit[p], s.OperatorLimit[p])
		for in := range 2 {
			if o := s.InputOpto[in]; o >= 1 && o <= 2 && optoHigh[o-1] {
				a[p] += math.Min(s.InputOffsets[in][p], 0)
			}
		}
		if s.Meter {
			a[p] = math.Min(a[p], s.MainLimit[p]-otherLoad[p])
		}
		a[p] = math.Max(a[p], 0)
	}
	return a
}

// ConnectorReport is what a slave tells the master of one connector.
type ConnectorReport struct {
	// Ready: an EV is there and may charge (a transaction or free
	// charging runs, the EV is not full).
	Ready bool
	// Phases the EV draws on: 1, 3, or 0 while not known.
	Phases int
	// Rotation maps connector phase L1, L2, L3 to a grid phase (0, 1, 2),
	// from ConnectorPhaseRotation.
	Rotation [3]int
	// Max is the most the connector and its EV can take per phase, in A.
	Max float64
	// Drawn is the current drawn on connector phases L1..L3, in A.
	Drawn Phases
	// Min and Disconnected are the charger's DlmMinCurrentRating and
	// DlmDisconnectedLimit.
	Min, Disconnected float64
	// Applied is the current the connector offers its EV now (PWM), in A:
	// the master's last offer, or the slave's fallback while it had no
	// master.
	Applied float64
	// CanSwitch: the charger may switch a session from three phases to
	// one (ConnectorSwitch3to1PhaseSupported).
	CanSwitch bool
}

// maxDrawn is the most drawn on any phase.
func (c ConnectorReport) maxDrawn() float64 { return max(c.Drawn[0], c.Drawn[1], c.Drawn[2]) }

// ConfirmTolerance is how far above its offer an EV may draw and still
// count as having followed it (meters and EVs are not exact).
const ConfirmTolerance = 0.5

// gridUses returns the grid phases a connector's EV draws on: all three
// when its phases are not known or it uses three; the grid phase of its
// L1 when it uses one.
func (c ConnectorReport) gridUses() [3]bool {
	if c.Phases == 1 {
		var u [3]bool
		u[c.Rotation[0]%3] = true
		return u
	}
	return [3]bool{true, true, true}
}

// uses returns the grid phases a connector's EV draws on, as the master
// has it: its connector's L1 only while switched to one phase.
func (m *Master) uses(id ConnectorID, r ConnectorReport) [3]bool {
	c := m.conns[id]
	switch {
	case c != nil && c.onePhase:
		var u [3]bool
		u[r.Rotation[0]%3] = true
		return u
	case c != nil && c.wasOne:
		return [3]bool{true, true, true} // its report may still say one phase
	}
	return r.gridUses()
}

// gridDrawn returns the current drawn on each grid phase.
func (c ConnectorReport) gridDrawn() Phases {
	var g Phases
	for i := range 3 {
		g[c.Rotation[i]%3] += c.Drawn[i]
	}
	return g
}

// ConnectorID names a connector of the site.
type ConnectorID struct {
	Slave     string
	Connector int
}

// Tuning of the master's behaviour over time; see docs/dlm.md.
const (
	// LowerDeadline is how long the master waits for a slave to confirm a
	// lowered offer before it hands the current on anyway: an EV may take
	// 5 s to follow a lower PWM, and the confirmation comes after that.
	LowerDeadline = 8 * time.Second
	// MinPause is how long an EV paused for want of current stays paused,
	// so that shares do not flap.
	MinPause = 60 * time.Second
	// Hysteresis: a raise of less than this is not made (a lowering always
	// is).
	Hysteresis = 1.0
	// Headroom: an EV that draws less than its offer keeps this much above
	// what it draws; the rest goes to the others at the next recalculation.
	Headroom = 2.0
	// ApplyDeadline: a slave that has not reported a lowered offer in
	// force this long after it was sent may not have got it (its link may
	// be gone before it counts as lost): until it does, its old offer is
	// reserved and the others share the rest, so that the offers on a
	// phase are back within what is available in well under a second.
	ApplyDeadline = 500 * time.Millisecond
	// SwitchHold is the least time between two phase switches of a
	// connector (ConnectorSwitch3to1PhaseSupported): switching stops the
	// charge and wears the contactors, so shares must not flap through it.
	SwitchHold = 5 * time.Minute
	// Settle is how long an EV has its offer before what it draws tells
	// whether it uses it.
	Settle = 10 * time.Second
	// SlaveLost: a slave that has not reported for this long is lost.
	// It is shorter than the slave's MasterLost, so that the master
	// reserves a lost slave's fallback before the slave may take it.
	SlaveLost = 6 * time.Second
)

// Offer tells a slave what one of its connectors may draw on each phase.
type Offer struct {
	ID   ConnectorID
	Amps float64
}

// Master is the DLM master's decision logic, without I/O: reports,
// confirmations, meter readings and input changes come in with the time
// they happened; Step says which offers to send. It is not safe for
// concurrent use: one goroutine owns it.
type Master struct {
	site   Site
	slaves map[string]*slaveState
	conns  map[ConnectorID]*connState
	opto   [2]bool
	meter  meterState
	seq    int64 // arrival order

	ids      []ConnectorID // sorted keys of conns; nil when stale
	evsDrawn Phases        // what all reported connectors draw, per grid phase

	// gen counts the changes; Available and Next keep their last answer
	// for the generation they computed it in.
	gen               uint64
	availGen, nextGen uint64
	availMemo         Phases
	nextMemo          time.Time

	nextRecalc time.Time
	holdUntil  time.Time // no raise before this (HoldRaisesUntil)
	force      bool      // recalculate at the next Step (a limit changed, an EV got ready)
	wake       bool      // step soon, without recalculating (a lowering was confirmed: raises may follow)
}

type slaveState struct {
	conns    map[int]ConnectorReport
	drawn    Phases // what its connectors draw, per grid phase
	lastSeen time.Time
	lost     bool
}

type connState struct {
	offer     float64   // as sent
	raise     float64   // a raise waiting for the lowerings to be confirmed
	lowering  bool      // a lowered offer sent, not confirmed
	old       float64   // the offer before that lowering: the EV may still draw it
	loweredAt time.Time // when it was sent
	// applied: a report showed the lowered offer in force (PWM), though
	// the EV may still draw more; stuck: not applied within
	// ApplyDeadline, so the slave may not have got it.
	applied, stuck bool
	capped         bool // held below its maximum because its EV draws less
	// onePhase: switched to one phase (its connector's L1) by the master;
	// switchedAt: when it last switched either way.
	onePhase   bool
	switchedAt time.Time
	toThree    bool      // going back to three phases: at 0 on purpose, not paused
	wasOne     bool      // back from one phase: counted on three until a report shows three
	since      time.Time // when offer was sent
	arrival    int64     // 0 while no EV is ready
	paused     time.Time // paused for want of current until then
}

type meterState struct {
	ok      bool
	latest  Phases
	sum     Phases
	samples int
	seen    bool
}

// NewMaster returns a master for a site.
func NewMaster(site Site, now time.Time) *Master {
	if site.Recalc <= 0 {
		site.Recalc = 30 * time.Second
	}
	return &Master{site: site, slaves: map[string]*slaveState{}, conns: map[ConnectorID]*connState{},
		nextRecalc: now, meter: meterState{ok: true}}
}

// SetSite changes the limits; they apply at the next Step.
func (m *Master) SetSite(site Site) {
	m.gen++
	if site.Recalc <= 0 {
		site.Recalc = m.site.Recalc
	}
	m.site, m.force = site, true
}

// Input sets opto input 1 or 2.
func (m *Master) Input(opto int, high bool) {
	m.gen++
	if opto >= 1 && opto <= 2 && m.opto[opto-1] != high {
		m.opto[opto-1], m.force = high, true
	}
}

// MeterReading takes a reading of the external meter (the current on each
// grid phase), or its failure (ok false).
func (m *Master) MeterReading(r Phases, ok bool) {
	m.gen++
	if ok != m.meter.ok {
		m.force = true
	}
	m.meter.ok, m.meter.seen = ok, true
	if !ok {
		return
	}
	m.meter.latest = r
	for p := range 3 {
		m.meter.sum[p] += r[p]
	}
	m.meter.samples++
}

// Report takes a slave's report of its connectors; it is also the
// slave's sign of life.
func (m *Master) Report(slave string, conns map[int]ConnectorReport, now time.Time) {
	m.gen++
	s := m.slaves[slave]
	if s == nil {
		s = &slaveState{}
		m.slaves[slave] = s
	}
	if s.lost {
		m.force = true // back: its reservation goes
	}
	prev := s.conns
	s.conns, s.lastSeen, s.lost = conns, now, false
	defer m.recount(slave)
	for n, r := range conns {
		id := ConnectorID{slave, n}
		c := m.conn(id)
		if p, ok := prev[n]; !ok || p.gridUses() != r.gridUses() {
			m.force = true // its offer now counts on other phases
		}
		if c.wasOne && (r.Phases == 3 || !r.Ready) {
			c.wasOne = false
		}
		// The slave's word on what it offers wins: after a restart of the
		// master or a lost link, it may be at its fallback. Until it
		// follows the master's offer, that is what it may draw.
		if r.Applied > c.effective()+1e-9 {
			if !c.lowering {
				c.old = r.Applied
			}
			c.old = math.Max(c.old, r.Applied)
			c.lowering, c.loweredAt, c.applied = true, now, false
		}
		// A lowering is confirmed by a report that shows the connector
		// offering no more than its offer, and its EV following.
		if c.lowering && !c.applied && r.Applied <= c.offer+1e-9 {
			c.applied = true
			if c.stuck {
				c.stuck, m.force = false, true // its reservation goes
			}
		}
		if c.lowering && r.Applied <= c.offer+1e-9 && r.maxDrawn() <= c.offer+ConfirmTolerance {
			// Raises decided may follow at the next Step; no new
			// allocation (that waits for the interval, as the meter
			// average does).
			c.lowering, m.wake = false, true
		}
		switch {
		case r.Ready && c.arrival == 0:
			m.seq++
			c.arrival, m.force = m.seq, true
		case !r.Ready && c.arrival != 0:
			c.arrival, c.paused, m.force = 0, time.Time{}, true // its share is free
			c.onePhase, c.toThree = false, false                // the next EV starts as wired
		}
	}
}

func (m *Master) conn(id ConnectorID) *connState {
	c := m.conns[id]
	if c == nil {
		c = &connState{}
		m.conns[id] = c
		m.ids = nil
	}
	return c
}

// HoldRaisesUntil makes no raise before t, only lowerings. A master that
// starts may be a master that restarted: slaves that have not reported
// yet may still offer their last share (for up to MasterLost), and then
// their fallback, which it cannot count. See StartGrace.
func (m *Master) HoldRaisesUntil(t time.Time) {
	m.gen++
	m.holdUntil = t
}

// StartGrace is how long a master that starts holds raises: slaves that
// had a master before reconnect within a second or two (their backoff
// starts at 1 s) and report what they offer, which the master then counts.
// A slave that comes back later is counted from its first report on.
const StartGrace = 5 * time.Second

// recount updates what a slave's EVs draw, as the Including meter's
// other load subtracts it: what each connector reported, but no more than
// its offer now (a report may be 2 s old; an EV lowered since has
// followed its offer or will soon, and counting it at its offer errs on
// the side of less available, never more). A connector whose current the
// master reserves (a lost slave's, a stuck lowering) counts at its
// reservation: the meter sees what it draws, and the reservation already
// keeps room for it, so it must not count twice.
func (m *Master) recount(slave string) {
	s := m.slaves[slave]
	if s == nil {
		return
	}
	var drawn Phases
	for n, r := range s.conns {
		id := ConnectorID{slave, n}
		c := m.conn(id)
		if s.lost || c.stuck {
			res := c.effective()
			u := m.uses(id, r)
			if s.lost {
				res, u = math.Max(res, r.Disconnected), [3]bool{true, true, true}
			}
			for p := range 3 {
				if u[p] {
					drawn[p] += res
				}
			}
			continue
		}
		g := r.gridDrawn()
		for p := range 3 {
			drawn[p] += math.Min(g[p], c.offer)
		}
	}
	for p := range 3 {
		m.evsDrawn[p] += drawn[p] - s.drawn[p]
	}
	s.drawn = drawn
}

// Offers returns the offers in effect for a slave's connectors: what the
// master last sent. A master sends them with every answer to a report, so
// that a slave that missed one, or restarted, catches up.
func (m *Master) Offers(slave string) map[int]float64 {
	s := m.slaves[slave]
	if s == nil {
		return nil
	}
	out := make(map[int]float64, len(s.conns))
	for n := range s.conns {
		out[n] = m.conn(ConnectorID{slave, n}).offer
	}
	return out
}

// otherLoad is the site's load besides the EVs, per grid phase: from the
// meter, averaged since the last recalculation but never below the latest
// reading (averaging must not hide a rise); the fallback when the meter
// failed.
func (m *Master) otherLoad() Phases {
	if !m.site.Meter {
		return Phases{}
	}
	if !m.meter.ok || !m.meter.seen {
		return m.site.Fallback
	}
	var evs Phases
	if !m.site.Excluding { // the meter sees the EVs too
		evs = m.evsDrawn
	}
	var load Phases
	for p := range 3 {
		avg := m.meter.latest[p]
		if m.meter.samples > 0 {
			avg = m.meter.sum[p] / float64(m.meter.samples)
		}
		load[p] = math.Max(math.Max(avg, m.meter.latest[p])-evs[p], 0)
	}
	return load
}

// effective is what a connector may be drawing now: its offer, or the one
// before while a lowering is not confirmed.
func (c *connState) effective() float64 {
	if c.lowering {
		return math.Max(c.offer, c.old)
	}
	return c.offer
}

// MasterState is what the master tells of itself (DlmState, the API).
type MasterState struct {
	SlavesOnline, SlavesLost int
	// Charging counts the connectors with an offer; Waiting the EVs ready
	// without one.
	Charging, Waiting int
	Available         Phases // for EVs, after limits, inputs and meter
	Offered           Phases // the offers in effect, with reservations of lost slaves
	MeterOK           bool
	// Warning is set when the disconnected limits of all slaves together
	// could exceed a phase limit (if every link failed at once).
	Warning string
}

// Available is what may be handed to EVs now on each grid phase, before
// the reservations of lost slaves.
func (m *Master) Available() Phases {
	if m.availGen != m.gen || m.gen == 0 {
		m.availMemo, m.availGen = m.site.Available(m.opto, m.otherLoad()), m.gen
	}
	return m.availMemo
}

// Step decides, at now, which offers to send: lowerings at once, raises
// once the lowerings before them are confirmed (or overdue). Call it after
// every event and at Next.
func (m *Master) Step(now time.Time) []Offer {
	m.gen++
	m.wake = false
	recount := map[string]bool{}
	for name, s := range m.slaves {
		if !s.lost && now.Sub(s.lastSeen) >= SlaveLost {
			s.lost, m.force, recount[name] = true, true, true
		}
	}
	if !m.holdUntil.IsZero() && !now.Before(m.holdUntil) {
		m.holdUntil, m.force = time.Time{}, true // the hold is over: raise what may be
	}
	for id, c := range m.conns {
		// Overdue: the EV has surely followed by now, if the slave got the
		// offer; a lost slave may not have, so its lowering stands.
		sl := m.slaves[id.Slave]
		if c.lowering && now.Sub(c.loweredAt) >= LowerDeadline && !sl.lost && !c.stuck &&
			sl.conns[id.Connector].Applied <= c.offer+1e-9 { // its last report shows the lowered offer
			c.lowering = false
		}
		stuck := c.lowering && !c.applied && now.Sub(c.loweredAt) >= ApplyDeadline
		if stuck != c.stuck {
			c.stuck, m.force, recount[id.Slave] = stuck, true, true
		}
		if !c.paused.IsZero() && !now.Before(c.paused) {
			c.paused, m.force = time.Time{}, true // its turn may have come
		}
	}
	for name := range recount {
		m.recount(name)
	}
	m.gen++ // what is available may have moved with the recount
	avail := m.shareable()
	ids := m.readyIDs(now)

	targets := map[ConnectorID]float64{}
	recalc := m.force || !now.Before(m.nextRecalc) || m.over(avail)
	if recalc {
		evs := make([]EV, len(ids))
		for i, id := range ids {
			evs[i] = m.ev(id, now)
		}
		shares := m.switchPhases(avail, ids, evs, Allocate(avail, evs), now)
		for i, o := range shares {
			targets[ids[i]] = o
		}
		m.nextRecalc, m.force = now.Add(m.site.Recalc), false
		m.meter.sum, m.meter.samples = Phases{}, 0
	} else {
		// Between recalculations offers stay, and a raise decided stays
		// decided.
		for _, id := range ids {
			c := m.conns[id]
			targets[id] = math.Max(c.offer, c.raise)
		}
	}
	out := m.apply(targets, now)
	m.gen++ // what Step changed invalidates what it computed on the way
	return out
}

// apply turns targets into offers: lower at once, raise when no lowering
// is pending. Connectors without a target (not ready, lost slave) go to 0,
// but those of lost slaves, whose offers stand as reserved.
func (m *Master) apply(targets map[ConnectorID]float64, now time.Time) []Offer {
	var out []Offer
	for _, id := range m.sortedIDs() {
		c := m.conns[id]
		if s := m.slaves[id.Slave]; s == nil || s.lost || c.stuck {
			continue // its offer stands, reserved
		}
		t := targets[id]
		switch {
		case t < c.offer-1e-9:
			if !c.lowering {
				c.old = c.offer
			}
			c.offer, c.raise, c.lowering, c.loweredAt, c.since = t, 0, true, now, now
			c.applied, c.stuck = false, false
			m.recount(id.Slave)
			if t == 0 && c.arrival != 0 && !c.toThree {
				c.paused = now.Add(MinPause) // paused for want of current
			}
			out = append(out, Offer{id, t})
		case t > c.offer+1e-9 && (c.offer == 0 || t-c.offer >= Hysteresis):
			c.raise = t
		default:
			c.raise = 0
		}
	}
	// Raises: each within what may be shared now, counting what the
	// connectors being lowered may still draw, so that no phase is ever
	// over even before the lowerings are confirmed. An EV without current
	// takes what fits at once (at least its minimum) and the rest later.
	if now.Before(m.holdUntil) {
		for _, c := range m.conns {
			c.raise = 0 // decided again when the hold ends
		}
		return out
	}
	avail, used := m.shareable(), m.inUse()
	pending := false
	for _, c := range m.conns {
		pending = pending || c.lowering
	}
	for _, id := range m.sortedIDs() {
		c := m.conns[id]
		if s := m.slaves[id.Slave]; s == nil || s.lost || c.stuck {
			c.raise = 0 // it cannot be told; its offer stands, reserved
			continue
		}
		if c.raise <= c.offer {
			continue
		}
		r := m.slaves[id.Slave].conns[id.Connector]
		u := m.uses(id, r)
		room := math.Inf(1)
		for p := range 3 {
			if u[p] {
				room = math.Min(room, avail[p]-used[p])
			}
		}
		give := math.Min(c.raise, math.Floor((c.offer+room)*10+1e-6)/10)
		switch {
		case give >= c.raise-1e-9:
			c.raise = 0
		case c.offer == 0 && give >= math.Max(r.Min, MinSignal):
			// the rest of the raise stays decided
		case pending:
			continue // the lowerings will make room
		default:
			c.raise = 0 // the room is gone: the next recalculation decides again
			m.force = true
			continue
		}
		for p := range 3 {
			if u[p] {
				used[p] += give - c.offer
			}
		}
		c.offer, c.since, c.toThree = give, now, false
		out = append(out, Offer{id, give})
	}
	return out
}

// shareable is what may be shared among the EVs of the slaves online:
// what is available less the reservations of the lost slaves.
func (m *Master) shareable() Phases {
	avail := m.Available()
	for name, s := range m.slaves {
		for n, r := range s.conns {
			c := m.conn(ConnectorID{name, n})
			var res float64
			u := m.uses(ConnectorID{name, n}, r)
			switch {
			case s.lost:
				// It may be drawing its last share, or its fallback, and
				// on any phase: another EV may have come meanwhile.
				res = math.Max(c.effective(), r.Disconnected)
				u = [3]bool{true, true, true}
			case c.stuck: // it may not have got its lowered offer
				res = c.effective()
			default:
				continue
			}
			for p := range 3 {
				if u[p] {
					avail[p] = math.Max(avail[p]-res, 0)
				}
			}
		}
	}
	return avail
}

// readyIDs lists, in a fixed order, the connectors of slaves online with
// an EV ready and not paused.
func (m *Master) readyIDs(now time.Time) []ConnectorID {
	var ids []ConnectorID
	for _, id := range m.sortedIDs() {
		s := m.slaves[id.Slave]
		if s == nil || s.lost {
			continue
		}
		r, ok := s.conns[id.Connector]
		c := m.conns[id]
		if !ok || !r.Ready || now.Before(c.paused) || c.stuck {
			continue
		}
		ids = append(ids, id)
	}
	return ids
}

// ev describes a ready connector for Allocate.
func (m *Master) ev(id ConnectorID, now time.Time) EV {
	r := m.slaves[id.Slave].conns[id.Connector]
	c := m.conns[id]
	limit := r.Max
	// Current it does not take goes to the others: an EV that has drawn
	// well below its offer for a while keeps Headroom above what it draws;
	// and an EV that does not use all it has gets no more, so that its
	// offer does not swing up and down at every recalculation.
	drawn := r.maxDrawn()
	settled := c.offer > 0 && now.Sub(c.since) >= Settle
	switch {
	case settled && drawn+Headroom <= c.offer-Hysteresis:
		limit = math.Min(limit, math.Max(drawn+Headroom, math.Max(r.Min, MinSignal)))
	case (settled || c.capped) && drawn < c.offer-ConfirmTolerance:
		limit = math.Min(limit, c.offer)
	}
	c.capped = limit < r.Max
	return EV{Arrival: c.arrival, Uses: m.uses(id, r), Min: r.Min, Max: limit}
}

// inUse is what the connectors of slaves online may draw now, per grid
// phase.
func (m *Master) inUse() Phases { return m.perPhase((*connState).effective) }

// offered is what the connectors of slaves online are offered, per grid
// phase.
func (m *Master) offered() Phases {
	return m.perPhase(func(c *connState) float64 { return c.offer })
}

// perPhase sums a value of the connectors of slaves online over the grid
// phases each draws on; lost and stuck ones are left out (they are
// reserved in shareable).
func (m *Master) perPhase(value func(*connState) float64) Phases {
	var sum Phases
	for id, c := range m.conns {
		s := m.slaves[id.Slave]
		if s == nil || s.lost || c.stuck {
			continue
		}
		u := m.uses(id, s.conns[id.Connector])
		for p := range 3 {
			if u[p] {
				sum[p] += value(c)
			}
		}
	}
	return sum
}

// over reports whether the offers exceed what may be shared: the offers
// as sent, as what connectors being lowered may still draw is being dealt
// with already, and recalculating for it at every step would only throw
// the meter's average away.
func (m *Master) over(avail Phases) bool {
	offered := m.offered()
	for p := range 3 {
		if offered[p] > avail[p]+1e-9 {
			return true
		}
	}
	return false
}

func (m *Master) sortedIDs() []ConnectorID {
	if m.ids != nil {
		return m.ids
	}
	ids := make([]ConnectorID, 0, len(m.conns))
	for id := range m.conns {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b ConnectorID) int {
		if a.Slave != b.Slave {
			if a.Slave < b.Slave {
				return -1
			}
			return 1
		}
		return a.Connector - b.Connector
	})
	m.ids = ids
	return ids
}

// Next is when Step must be called again if nothing happens before (at
// once when it is not after the last Step).
func (m *Master) Next() time.Time {
	if m.nextGen != m.gen || m.gen == 0 {
		m.nextMemo, m.nextGen = m.next(), m.gen
	}
	return m.nextMemo
}

func (m *Master) next() time.Time {
	if m.force || m.wake {
		return time.Time{}
	}
	next := m.nextRecalc
	earlier := func(t time.Time) {
		if t.Before(next) {
			next = t
		}
	}
	for _, s := range m.slaves {
		if !s.lost {
			earlier(s.lastSeen.Add(SlaveLost))
		}
	}
	if !m.holdUntil.IsZero() {
		earlier(m.holdUntil)
	}
	for id, c := range m.conns {
		if c.lowering && !m.slaves[id.Slave].lost {
			earlier(c.loweredAt.Add(LowerDeadline))
			if !c.applied && !c.stuck {
				earlier(c.loweredAt.Add(ApplyDeadline))
			}
		}
		if !c.paused.IsZero() {
			earlier(c.paused)
		}
	}
	return next
}

// State tells what the master is doing.
func (m *Master) State(now time.Time) MasterState {
	st := MasterState{Available: m.site.Available(m.opto, m.otherLoad()), MeterOK: !m.site.Meter || (m.meter.ok && m.meter.seen)}
	var disconnected Phases
	for name, s := range m.slaves {
		if s.lost {
			st.SlavesLost++
		} else {
			st.SlavesOnline++
		}
		for n, r := range s.conns {
			c := m.conn(ConnectorID{name, n})
			u := m.uses(ConnectorID{name, n}, r)
			offered := c.effective()
			if s.lost {
				offered = math.Max(c.effective(), r.Disconnected)
				u = [3]bool{true, true, true}
			}
			for p := range 3 {
				if u[p] {
					st.Offered[p] += offered
				}
				disconnected[p] += r.Disconnected
			}
			switch {
			case c.offer > 0:
				st.Charging++
			case r.Ready:
				st.Waiting++
			}
		}
	}
	for p := range 3 {
		if disconnected[p] > math.Min(m.site.PhaseLimit[p], m.site.OperatorLimit[p]) {
			st.Warning = "the slaves' DlmDisconnectedLimit together exceed the phase limit of L" + string(rune('1'+p))
			break
		}
	}
	return st
}

// switchPhases applies the three-to-one phase policy to an allocation and
// returns the shares to use. An EV not known to draw on one phase, whose
// charger may switch (CanSwitch) and that would wait, with no current
// now, is switched to
// one phase when that gives it at least its minimum; a switched EV goes
// back to three phases when they would give it its minimum. Between two
// switches of a connector SwitchHold passes. Going back to three phases
// takes the EV to 0 first: it is raised on three phases once that is
// confirmed, within the room there is then.
func (m *Master) switchPhases(avail Phases, ids []ConnectorID, evs []EV, shares []float64, now time.Time) []float64 {
	for i, id := range ids {
		c := m.conns[id]
		r := m.slaves[id.Slave].conns[id.Connector]
		if !r.CanSwitch || (!c.switchedAt.IsZero() && now.Sub(c.switchedAt) < SwitchHold) {
			continue
		}
		minimum := math.Max(r.Min, MinSignal)
		switch {
		case !c.onePhase && shares[i] == 0 && r.Phases != 1 && c.offer == 0 && !c.lowering:
			// (A waiting EV's phases are not known yet: it has not drawn.)
			one := [3]bool{}
			one[r.Rotation[0]%3] = true
			saved := evs[i].Uses
			evs[i].Uses = one
			if alt := Allocate(avail, evs); alt[i] >= minimum {
				c.onePhase, c.switchedAt, shares = true, now, alt
				continue
			}
			evs[i].Uses = saved
		case c.onePhase:
			saved := evs[i].Uses
			evs[i].Uses = [3]bool{true, true, true}
			if alt := Allocate(avail, evs); alt[i] >= minimum {
				c.onePhase, c.switchedAt, c.toThree, c.wasOne, shares = false, now, true, true, alt
				shares[i] = 0 // to 0 first; raised on three phases once confirmed
				m.force = true
				continue
			}
			evs[i].Uses = saved
		}
	}
	return shares
}

// OnePhase returns the connectors of a slave switched to one phase.
func (m *Master) OnePhase(slave string) map[int]bool {
	out := map[int]bool{}
	if s := m.slaves[slave]; s != nil {
		for n := range s.conns {
			if c := m.conns[ConnectorID{slave, n}]; c != nil && c.onePhase {
				out[n] = true
			}
		}
	}
	return out
}
