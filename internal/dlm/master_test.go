package dlm

import (
	"fmt"
	"maps"
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"
)

var t0 = time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)

func site16() Site {
	return Site{PhaseLimit: Phases{32, 32, 32}, OperatorLimit: Phases{32, 32, 32}, Recalc: 30 * time.Second}
}

// threePhase is a ready three-phase car on a connector wired RST.
func threePhase(max float64) ConnectorReport {
	return ConnectorReport{Ready: true, Phases: 3, Rotation: [3]int{0, 1, 2}, Max: max, Min: 6, Disconnected: 6}
}

// report makes slave report one connector, drawing what it is offered
// (its EV follows, so that the unused-current rule stays out of the way).
func report(m *Master, slave string, r ConnectorReport, now time.Time) {
	if c := m.conns[ConnectorID{slave, 1}]; c != nil && r.Ready {
		o := c.effective()
		r.Drawn = Phases{o, o, o}
		if r.Phases == 1 {
			r.Drawn = Phases{o, 0, 0}
		}
	}
	m.Report(slave, map[int]ConnectorReport{1: r}, now)
}

// confirm makes a connector's slave report that it follows its offer:
// the offer in force, its EV drawing it.
func confirm(m *Master, id ConnectorID, now time.Time) {
	conns := maps.Clone(m.slaves[id.Slave].conns)
	r, o := conns[id.Connector], m.conns[id].offer
	r.Applied, r.Drawn = o, Phases{o, o, o}
	if r.Phases == 1 {
		r.Drawn = Phases{o, 0, 0}
	}
	conns[id.Connector] = r
	m.Report(id.Slave, conns, now)
}

func offersOf(out []Offer) string {
	s := ""
	for _, o := range out {
		s += fmt.Sprintf("%s/%d=%g ", o.ID.Slave, o.ID.Connector, o.Amps)
	}
	return s
}

func TestAnEVGettingReadyIsServedAtOnceFromWhatIsFree(t *testing.T) {
	m := NewMaster(site16(), t0)
	report(m, "A", threePhase(20), t0)
	if got := offersOf(m.Step(t0)); got != "A/1=20 " {
		t.Fatalf("first EV: %q", got)
	}
	// Ten seconds later, before the next recalculation, a second EV: at
	// once, A is lowered to the fair share and B gets what is free while
	// A may still draw 20 A (12 A), without waiting.
	now := t0.Add(10 * time.Second)
	report(m, "A", threePhase(20), now)
	report(m, "B", threePhase(32), now)
	if got := offersOf(m.Step(now)); got != "A/1=16 B/1=12 " {
		t.Fatalf("second EV: %q", got)
	}
	// ...and B raised only once A confirmed.
	if got := offersOf(m.Step(now.Add(time.Second))); got != "" {
		t.Fatalf("raised before the lowering was confirmed: %q", got)
	}
	confirm(m, ConnectorID{"A", 1}, now.Add(time.Second))
	if got := offersOf(m.Step(now.Add(2 * time.Second))); got != "B/1=16 " {
		t.Fatalf("after the confirmation: %q", got)
	}
}

func TestAnUnconfirmedLoweringIsWaitedForUntilItsDeadline(t *testing.T) {
	m := NewMaster(site16(), t0)
	report(m, "A", threePhase(32), t0)
	m.Step(t0)
	now := t0.Add(time.Second)
	report(m, "B", threePhase(32), now)
	m.SetSite(site16()) // force a recalculation
	if got := offersOf(m.Step(now)); got != "A/1=16 " {
		t.Fatalf("%q", got)
	}
	report(m, "A", threePhase(32), now.Add(5*time.Second))
	report(m, "B", threePhase(32), now.Add(5*time.Second))
	if got := offersOf(m.Step(now.Add(5 * time.Second))); got != "" {
		t.Fatalf("raised 5 s after an unconfirmed lowering: %q", got)
	}
	report(m, "A", threePhase(32), now.Add(LowerDeadline))
	report(m, "B", threePhase(32), now.Add(LowerDeadline))
	if got := offersOf(m.Step(now.Add(LowerDeadline))); got != "B/1=16 " {
		t.Fatalf("after the deadline: %q", got)
	}
}

func TestALoweredOperatorLimitActsAtOnce(t *testing.T) {
	m := NewMaster(site16(), t0)
	report(m, "A", threePhase(32), t0)
	m.Step(t0)
	s := site16()
	s.OperatorLimit = Phases{10, 32, 32}
	m.SetSite(s)
	if got := offersOf(m.Step(t0.Add(time.Second))); got != "A/1=10 " {
		t.Fatalf("%q", got)
	}
}

func TestALostSlaveKeepsItsShareReserved(t *testing.T) {
	m := NewMaster(site16(), t0)
	lost := threePhase(32)
	lost.Disconnected = 10
	report(m, "A", lost, t0)
	report(m, "B", threePhase(32), t0)
	m.Step(t0)
	for i := 1; i <= 11; i++ { // A falls silent; B goes on reporting
		now := t0.Add(time.Duration(i) * time.Second)
		report(m, "B", threePhase(32), now)
		m.Step(now)
	}
	st := m.State(t0.Add(11 * time.Second))
	if st.SlavesLost != 1 {
		t.Fatalf("state %+v", st)
	}
	// A's last share (16) is reserved: B stays at 16, not 32.
	now := t0.Add(40 * time.Second)
	report(m, "B", threePhase(32), now)
	m.Step(now)
	if o := m.conns[ConnectorID{"B", 1}].offer; o != 16 {
		t.Fatalf("B offered %v while A is lost with 16 A", o)
	}
	// A is back: its reservation goes, fair shares again.
	report(m, "A", lost, now.Add(time.Second))
	report(m, "B", threePhase(32), now.Add(time.Second))
	m.Step(now.Add(time.Second))
	if o := m.conns[ConnectorID{"B", 1}].offer; o != 16 {
		t.Fatalf("B offered %v after A came back", o)
	}
}

func TestAnEVPausedForWantOfCurrentStaysPaused(t *testing.T) {
	s := site16()
	s.PhaseLimit = Phases{12, 12, 12}
	m := NewMaster(s, t0)
	report(m, "A", threePhase(32), t0)
	report(m, "B", threePhase(32), t0)
	m.Step(t0) // 6 and 6
	s.OperatorLimit = Phases{11, 11, 11}
	m.SetSite(s) // only one fits now: B (later) pauses
	report(m, "A", threePhase(32), t0.Add(time.Second))
	report(m, "B", threePhase(32), t0.Add(time.Second))
	if got := offersOf(m.Step(t0.Add(time.Second))); got != "B/1=0 " {
		t.Fatalf("%q", got)
	}
	// The limit comes back 5 s later, but B stays paused for MinPause.
	s.OperatorLimit = Phases{32, 32, 32}
	m.SetSite(s)
	confirm(m, ConnectorID{"B", 1}, t0.Add(2*time.Second))
	for sec := 5; sec < 60; sec += 5 {
		now := t0.Add(time.Duration(sec) * time.Second)
		report(m, "A", threePhase(32), now)
		report(m, "B", threePhase(32), now)
		m.Step(now)
		if o := m.conns[ConnectorID{"B", 1}].offer; o != 0 {
			t.Fatalf("B offered %v at %ds, during its pause", o, sec)
		}
	}
	// Its pause over, it takes part in the next recalculation (every
	// 30 s: at 65 s), A being lowered first.
	for _, sec := range []int{62, 65, 66} {
		now := t0.Add(time.Duration(sec) * time.Second)
		report(m, "A", threePhase(32), now)
		report(m, "B", threePhase(32), now)
		m.Step(now)
		confirm(m, ConnectorID{"A", 1}, now)
	}
	if o := m.conns[ConnectorID{"B", 1}].offer; o != 6 {
		t.Fatalf("B offered %v after its pause and a recalculation, want 6 (12 A shared)", o)
	}
}

func TestTheMeterLowersAtOnceAndRaisesOnlyAtTheRecalculation(t *testing.T) {
	s := site16()
	s.Meter, s.Excluding = true, true
	s.MainLimit = Phases{50, 50, 50}
	s.Fallback = Phases{9999, 9999, 9999}
	m := NewMaster(s, t0)
	m.MeterReading(Phases{10, 10, 10}, true)
	report(m, "A", threePhase(32), t0)
	m.Step(t0) // 32: the main limit leaves 40
	// Other load jumps to 30: at once to 20.
	m.MeterReading(Phases{30, 30, 30}, true)
	report(m, "A", threePhase(32), t0.Add(time.Second))
	if got := offersOf(m.Step(t0.Add(time.Second))); got != "A/1=20 " {
		t.Fatalf("a rise of the other load: %q, want 20 at once", got)
	}
	confirm(m, ConnectorID{"A", 1}, t0.Add(time.Second))
	// It drops back: the EV waits for the recalculation to rise.
	m.MeterReading(Phases{10, 10, 10}, true)
	report(m, "A", threePhase(32), t0.Add(2*time.Second))
	if got := offersOf(m.Step(t0.Add(2 * time.Second))); got != "" {
		t.Fatalf("raised before the recalculation: %q", got)
	}
	// The meter fails: the fallback (9999) is the other load, nothing left.
	m.MeterReading(Phases{}, false)
	report(m, "A", threePhase(32), t0.Add(3*time.Second))
	if got := offersOf(m.Step(t0.Add(3 * time.Second))); got != "A/1=0 " {
		t.Fatalf("failed meter: %q", got)
	}
	if st := m.State(t0.Add(3 * time.Second)); st.MeterOK {
		t.Error("state says the meter is fine")
	}
}

func TestInputsLowerTheLimitWhileHigh(t *testing.T) {
	s := site16()
	s.InputOpto = [2]int{2, 0}
	s.InputOffsets[0] = Phases{-10, -20, -30}
	if a := s.Available([2]bool{true, false}, Phases{}); a != (Phases{32, 32, 32}) {
		t.Errorf("opto 1 high, DLM input 1 follows opto 2: %v", a)
	}
	if a := s.Available([2]bool{false, true}, Phases{}); a != (Phases{22, 12, 2}) {
		t.Errorf("opto 2 high: %v", a)
	}
	s.InputOffsets[0] = Phases{-40, 0, 0}
	if a := s.Available([2]bool{false, true}, Phases{}); a[0] != 0 {
		t.Errorf("never below 0: %v", a)
	}
}

func TestDisconnectedLimitsWarning(t *testing.T) {
	s := site16()
	m := NewMaster(s, t0)
	for _, n := range []string{"A", "B", "C", "D", "E", "F"} {
		r := threePhase(32)
		r.Disconnected = 6
		m.Report(n, map[int]ConnectorReport{1: r}, t0)
	}
	if w := m.State(t0).Warning; w == "" {
		t.Error("six slaves at 6 A each on a 32 A limit: no warning")
	}
}

// TestNeverOverTheLimitNotEvenInTransition drives a master with random
// events and checks that it never grants more than may be shared (the
// offers it has sent add up to at most that on every phase), and that a
// raise never goes out while an earlier lowering may still be drawing:
// whenever it raises an offer, what may be drawn, lowerings not yet
// confirmed at their old value, is within what may be shared.
func TestNeverOverTheLimitNotEvenInTransition(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := site16()
		s.PhaseLimit = Phases{float64(rapid.IntRange(0, 64).Draw(t, "l1")), 40, 40}
		m := NewMaster(s, t0)
		now := t0
		slaves := []string{"A", "B", "C", "D"}
		reports := map[string]ConnectorReport{}
		for step := range 60 {
			now = now.Add(time.Duration(rapid.IntRange(100, 20000).Draw(t, "dt")) * time.Millisecond)
			switch rapid.IntRange(0, 5).Draw(t, "event") {
			case 0, 1: // a connector changes: an EV comes, goes, fills up
				sl := rapid.SampledFrom(slaves).Draw(t, "slave")
				r := threePhase(float64(rapid.IntRange(6, 32).Draw(t, "max")))
				r.Ready = rapid.Bool().Draw(t, "ready")
				r.CanSwitch = rapid.Bool().Draw(t, "canSwitch")
				if rapid.Bool().Draw(t, "single") {
					r.Phases = 1
					r.Rotation = [3]int{rapid.IntRange(0, 2).Draw(t, "rot"), 0, 0}
				}
				reports[sl] = r
			case 2: // the operator limit moves
				s.OperatorLimit = Phases{float64(rapid.IntRange(0, 40).Draw(t, "op")), 40, 40}
				m.SetSite(s)
			case 3: // confirmations come in
				for _, id := range m.sortedIDs() { // in order: rapid must replay the same draws
					if c := m.conns[id]; c.lowering && rapid.Bool().Draw(t, "confirm") {
						confirm(m, id, now)
					}
				}
			}
			for _, sl := range slaves {
				r, ok := reports[sl]
				if ok && rapid.IntRange(0, 9).Draw(t, "silent") > 0 { // now and then a report is late
					report(m, sl, r, now)
				}
			}
			before := map[ConnectorID]float64{}
			for id, c := range m.conns {
				before[id] = c.offer
			}
			out := m.Step(now)
			avail := m.shareable()
			var granted Phases
			for id, c := range m.conns {
				sl := m.slaves[id.Slave]
				if sl == nil || sl.lost || c.stuck { // reserved in shareable
					continue
				}
				u := m.uses(id, sl.conns[id.Connector])
				for p := range 3 {
					if u[p] {
						granted[p] += c.offer
					}
				}
			}
			var raisedOn [3]bool // phases a raise of this step uses
			for _, o := range out {
				if o.Amps > before[o.ID] {
					u := m.uses(o.ID, m.slaves[o.ID.Slave].conns[o.ID.Connector])
					for p := range 3 {
						raisedOn[p] = raisedOn[p] || u[p]
					}
				}
			}
			used := m.inUse()
			for p := range 3 {
				if granted[p] > avail[p]+1e-6 {
					for id, c := range m.conns {
						sl := m.slaves[id.Slave]
						t.Logf("%v: %+v lost=%v report=%+v", id, *c, sl.lost, sl.conns[id.Connector])
					}
					t.Fatalf("step %d: L%d granted %v, %v shareable", step, p+1, granted[p], avail[p])
				}
				if raisedOn[p] && used[p] > avail[p]+1e-6 {
					t.Fatalf("step %d: raised while L%d may draw %v of %v", step, p+1, used[p], avail[p])
				}
			}
		}
	})
}

func TestRecalcIntervalsMatchTheAppendix(t *testing.T) {
	want := []string{"2s", "5s", "15s", "30s", "1m0s", "10m0s", "15m0s"}
	for i, d := range RecalcIntervals {
		if d.String() != want[i] {
			t.Errorf("option %d is %v", i, d)
		}
	}
	_ = math.Inf
}

func TestAThreePhaseEVThatWouldWaitIsSwitchedToOnePhaseAndBack(t *testing.T) {
	s := Site{PhaseLimit: Phases{10, 32, 32}, OperatorLimit: Phases{10, 32, 32}, Recalc: 30 * time.Second}
	m := NewMaster(s, t0)
	a := ConnectorReport{Ready: true, Phases: 1, Rotation: [3]int{0, 1, 2}, Max: 16, Min: 6, Disconnected: 6}
	// B: three phases, wired STR (its L1 on grid L2), on a charger that
	// may switch.
	b := ConnectorReport{Ready: true, Phases: 3, Rotation: [3]int{1, 2, 0}, Max: 32, Min: 6, Disconnected: 6, CanSwitch: true}
	m.Report("A", map[int]ConnectorReport{1: a}, t0)
	m.Step(t0)
	m.Report("B", map[int]ConnectorReport{1: b}, t0)
	// A holds grid L1 (10 A): on three phases B would wait; on one, on
	// grid L2, it gets its maximum.
	got := offersOf(m.Step(t0))
	if got != "B/1=32 " || !m.OnePhase("B")[1] {
		t.Fatalf("offers %q, one phase %v; want B switched to one phase with 32 A", got, m.OnePhase("B"))
	}
	if st := m.State(t0); st.Offered != (Phases{10, 32, 0}) {
		t.Fatalf("offered %v, want B on grid L2 only", st.Offered)
	}
	// B without the switch: it would wait.
	b2 := b
	b2.CanSwitch = false
	m2 := NewMaster(s, t0)
	m2.Report("A", map[int]ConnectorReport{1: a}, t0)
	m2.Step(t0)
	m2.Report("B", map[int]ConnectorReport{1: b2}, t0)
	if got := offersOf(m2.Step(t0)); got != "" {
		t.Fatalf("without ConnectorSwitch3to1PhaseSupported: %q, want B waiting", got)
	}
	// A leaves. B stays on one phase until SwitchHold has passed...
	a.Ready = false
	now := t0.Add(time.Minute)
	b.Applied, b.Drawn = 32, Phases{32, 0, 0}
	m.Report("A", map[int]ConnectorReport{1: a}, now)
	m.Report("B", map[int]ConnectorReport{1: b}, now)
	m.Step(now)
	if !m.OnePhase("B")[1] {
		t.Fatal("switched back before SwitchHold")
	}
	// ...then goes back to three phases: to 0 first, then 10 A on three.
	now = t0.Add(SwitchHold + time.Minute)
	m.Report("A", map[int]ConnectorReport{1: a}, now)
	m.Report("B", map[int]ConnectorReport{1: b}, now)
	if got := offersOf(m.Step(now)); got != "B/1=0 " || m.OnePhase("B")[1] {
		t.Fatalf("switching back: %q, one phase %v; want B to 0 first", got, m.OnePhase("B"))
	}
	// Its charger reports 0 A, and still one phase (it has not drawn on
	// three yet): the raise is counted on three phases all the same.
	b.Applied, b.Drawn, b.Phases = 0, Phases{}, 1
	now = now.Add(3 * time.Second)
	m.Report("B", map[int]ConnectorReport{1: b}, now)
	if got := offersOf(m.Step(now)); got != "B/1=10 " {
		t.Fatalf("after the switch: %q, want 10 A on three phases", got)
	}
	if st := m.State(now); st.Offered != (Phases{10, 10, 10}) {
		t.Fatalf("offered %v, want 10 A on every phase", st.Offered)
	}
}

func TestASlaveThatKeepsOfferingMoreIsCountedAtWhatItReports(t *testing.T) {
	// The master's offers do not reach the slave (a one-way fault), its
	// reports do: it keeps reporting 16 A against an offer of 6 A.
	m := NewMaster(site16(), t0)
	r := threePhase(32)
	m.Report("A", map[int]ConnectorReport{1: r}, t0)
	m.Step(t0)
	r.Applied, r.Drawn = 32, Phases{32, 32, 32}
	m.Report("A", map[int]ConnectorReport{1: r}, t0.Add(time.Second))
	m.Step(t0.Add(time.Second))
	m.Report("B", map[int]ConnectorReport{1: threePhase(32)}, t0.Add(2*time.Second))
	m.Step(t0.Add(2 * time.Second)) // A lowered to 16
	// A follows once (confirmed)...
	followed := r
	followed.Applied, followed.Drawn = 16, Phases{16, 16, 16}
	m.Report("A", map[int]ConnectorReport{1: followed}, t0.Add(2500*time.Millisecond))
	m.Step(t0.Add(2500 * time.Millisecond))
	// ...then, its answers lost, it is back at 32 A and says so.
	for s := 3; s <= 30; s++ {
		now := t0.Add(time.Duration(s) * time.Second)
		m.Report("A", map[int]ConnectorReport{1: r}, now)
		b := threePhase(32)
		m.Report("B", map[int]ConnectorReport{1: b}, now)
		m.Step(now)
		if e := m.conns[ConnectorID{"A", 1}].effective(); e < 32 {
			t.Fatalf("at %ds: A counted at %g A while it reports %g A", s, e, r.Applied)
		}
	}
}

func TestARestartedMasterHoldsRaisesForItsGrace(t *testing.T) {
	m := NewMaster(site16(), t0)
	m.HoldRaisesUntil(t0.Add(StartGrace))
	m.Report("A", map[int]ConnectorReport{1: threePhase(32)}, t0)
	if got := offersOf(m.Step(t0)); got != "" {
		t.Fatalf("raised during the grace: %q", got)
	}
	if next := m.Next(); !next.Equal(t0.Add(StartGrace)) && !next.Before(t0.Add(StartGrace)) {
		t.Fatalf("next step %v, want by the end of the grace", next)
	}
	now := t0.Add(StartGrace)
	m.Report("A", map[int]ConnectorReport{1: threePhase(32)}, now)
	if got := offersOf(m.Step(now)); got != "A/1=32 " {
		t.Fatalf("after the grace: %q", got)
	}
}
