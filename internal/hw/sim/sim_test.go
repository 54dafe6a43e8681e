package sim

import (
	"context"
	"math"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/hw"
)

// run starts the board in a synctest bubble and returns a stop function.
func run(t *testing.T, b *Board) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

func drain(b *Board) []hw.Event {
	var out []hw.Event
	for {
		select {
		case e := <-b.Events():
			out = append(out, e)
		default:
			return out
		}
	}
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestAnEVFollowsTheOfferAfterItsDelayAndTheMeterIntegrates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Options{Registers: []float64{1000}})
		stop := run(t, b)
		defer stop()
		c := b.Connectors()[0]
		if err := b.Plug(1, EV{CapacityWh: 100000, SoCPercent: 10}); err != nil {
			t.Fatal(err)
		}
		if c.Pilot() != hw.PilotB {
			t.Fatalf("pilot %v after plugging, want B", c.Pilot())
		}
		c.Offer(16)
		c.SetContactor(true)
		time.Sleep(1500 * time.Millisecond)
		if c.Pilot() != hw.PilotC {
			t.Fatalf("pilot %v with PWM offered, want C", c.Pilot())
		}
		if r := c.Meter(); r.PowerW != 0 {
			t.Fatalf("drawing %v W before the response delay", r.PowerW)
		}
		time.Sleep(2 * time.Second)
		r := c.Meter()
		if r.Current != [3]float64{16, 16, 16} || r.PowerW != 230*16*3 {
			t.Fatalf("after the delay: %+v, want 16 A on three phases", r)
		}
		time.Sleep(time.Hour)
		r = c.Meter()
		if want := 1000 + 230*16*3.0; !near(r.EnergyWh, want, 230*16*3*4/3600.0) {
			t.Errorf("register %.1f Wh after an hour at 11 kW, want about %.1f", r.EnergyWh, want)
		}
		// A lower offer is followed after the delay too.
		c.Offer(6)
		time.Sleep(time.Second)
		if c.Meter().Current[0] != 16 {
			t.Error("followed a lower offer before the delay")
		}
		time.Sleep(3 * time.Second)
		if got := c.Meter().Current[0]; got != 6 {
			t.Errorf("drawing %v A after the delay, want 6", got)
		}
		// Opening the contactor cuts the current at once.
		c.SetContactor(false)
		if r := c.Meter(); r.PowerW != 0 {
			t.Errorf("drawing %v W with the contactor open", r.PowerW)
		}
		if err := b.Unplug(1); err != nil {
			t.Fatal(err)
		}
		if c.Pilot() != hw.PilotA {
			t.Errorf("pilot %v after unplugging", c.Pilot())
		}
		var kinds []hw.EventKind
		for _, e := range drain(b) {
			kinds = append(kinds, e.Kind)
			if e.Connector != 1 {
				t.Errorf("event for connector %d", e.Connector)
			}
		}
		if len(kinds) != 3 { // plugged, B→C, unplugged
			t.Errorf("%d events, want 3", len(kinds))
		}
	})
}

func TestASinglePhaseEVDrawsOnL1AndStopsWhenFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Options{})
		stop := run(t, b)
		defer stop()
		c := b.Connectors()[0]
		b.Plug(1, EV{Phases: 1, MaxCurrent: 16, CapacityWh: 1000, SoCPercent: 50})
		c.Offer(32)
		c.SetContactor(true)
		time.Sleep(5 * time.Second)
		if r := c.Meter(); r.Current != [3]float64{16, 0, 0} {
			t.Fatalf("current %v, want 16 A on L1 only (the EV's maximum)", r.Current)
		}
		// 500 Wh at 3.7 kW is about 8 minutes, slower near full.
		time.Sleep(30 * time.Minute)
		if c.Pilot() != hw.PilotB {
			t.Errorf("pilot %v with a full battery, want B", c.Pilot())
		}
		if r := c.Meter(); r.PowerW != 0 {
			t.Errorf("a full EV draws %v W", r.PowerW)
		}
		s, _ := b.Snapshot(1)
		if s.EV.SoCPercent != 100 {
			t.Errorf("SoC %v", s.EV.SoCPercent)
		}
		if !near(s.Meter.EnergyWh, 500, 5) {
			t.Errorf("register %.1f Wh for half of a 1 kWh battery", s.Meter.EnergyWh)
		}
	})
}

func TestFaultsInputsAndTags(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Options{Connectors: 2})
		c := b.Connectors()[1]
		if err := c.SetLock(true); err != nil {
			t.Fatal(err)
		}
		b.SetFault(2, "ConnectorLockFailure")
		if err := c.SetLock(false); err == nil {
			t.Error("the lock moved with ConnectorLockFailure")
		}
		if c.Fault() != "ConnectorLockFailure" {
			t.Errorf("fault %q", c.Fault())
		}
		b.SetInput(2, true)
		if !b.Input(2) || b.Input(1) {
			t.Error("inputs")
		}
		b.Present("TAG1", 2)
		ev := drain(b)
		if len(ev) != 3 || ev[2].Kind != hw.TagPresented || ev[2].IDTag != "TAG1" || ev[2].Connector != 2 {
			t.Errorf("events %+v", ev)
		}
		for _, err := range []error{b.Plug(3, EV{}), b.Present("x", 3), b.SetInput(3, true),
			b.Plug(1, EV{Phases: 2}), b.Plug(1, EV{MaxCurrent: 2000}), b.Unplug(1)} {
			if err == nil {
				t.Error("bad call accepted")
			}
		}
	})
}

// Events never block their sender, even with nobody reading, and keep
// their order.
func TestEventsNeverBlockAndKeepTheirOrder(t *testing.T) {
	b := New(Options{})
	for i := range 5000 {
		b.Present(strconv.Itoa(i), 0)
	}
	for i := range 5000 {
		var e hw.Event
		select {
		case e = <-b.Events():
		default:
			b.omu.Lock()
			b.flushLocked()
			b.omu.Unlock()
			e = <-b.Events()
		}
		if e.IDTag != strconv.Itoa(i) {
			t.Fatalf("event %d is tag %q", i, e.IDTag)
		}
	}
}

func TestAnEVFollowsASeriesOfOffersEachOneDelayLater(t *testing.T) {
	var r Response
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	steps := []struct {
		ms    int
		offer float64
		want  float64
	}{
		{0, 32, 0}, {1999, 32, 0}, {2000, 32, 32},
		{3000, 20, 32}, {4000, 10, 32}, // two lowerings a second apart
		{5000, 10, 20}, {6000, 10, 10}, // each followed 2 s after it came
	}
	for _, s := range steps {
		r.Set(s.offer, 2*time.Second, at(s.ms))
		if got := r.At(at(s.ms)); got != s.want {
			t.Errorf("at %d ms: follows %g, want %g", s.ms, got, s.want)
		}
	}
}
