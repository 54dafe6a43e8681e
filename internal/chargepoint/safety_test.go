package chargepoint_test

import (
	"math"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/hw"
)

// TestNoSessionStartsWhileTheChargePointResets: after a Reset, while the
// core waits for the stops to be delivered, a tag on a plugged connector
// starts nothing; once halted, a Shutdown still leaves every connector
// with no offer and its contactor open.
func TestNoSessionStartsWhileTheChargePointResets(t *testing.T) {
	c := newCore(t, settings(t, 2, map[string]string{"LocalAuthListEnabled": "true"}))
	now := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	listed := chargepoint.Known{List: &chargepoint.AuthInfo{Status: chargepoint.AuthAccepted}}
	var offered [3]float64 // by connector
	step := func(ev chargepoint.Event) chargepoint.Ready {
		for _, a := range c.Step(now, nil, ev) {
			if a.Kind == chargepoint.Offer {
				offered[a.Connector] = a.Amps
			}
		}
		return c.Ready()
	}
	step(chargepoint.Started{Sensed: []chargepoint.Sensed{{Connector: 1, Pilot: hw.PilotA}, {Connector: 2, Pilot: hw.PilotA}}})
	answerAll(c, now, step(chargepoint.LinkUp{}))
	step(chargepoint.Sensed{Connector: 1, Pilot: hw.PilotC})
	answerAll(c, now, step(chargepoint.TagPresented{Connector: 1, IDTag: "A", Known: listed}))
	if offered[1] == 0 {
		t.Fatal("no session on connector 1 before the reset")
	}
	// The Reset: its StopTransaction goes out and stays unanswered, so the
	// core waits ResetFlush before it halts.
	if rd := step(chargepoint.Command{ID: 1, Cmd: chargepoint.Reset{}}); rd.Halt != nil {
		t.Fatal("halted before the stop was delivered")
	}
	if offered[1] != 0 {
		t.Errorf("connector 1 offers %g A after the reset", offered[1])
	}
	now = now.Add(time.Second)
	step(chargepoint.Sensed{Connector: 2, Pilot: hw.PilotC})
	rd := step(chargepoint.TagPresented{Connector: 2, IDTag: "B", Known: listed})
	for _, r := range rd.Records {
		if j, ok := r.(chargepoint.Journaled); ok && j.Entry.Kind == chargepoint.TxStarted {
			t.Errorf("a transaction started while the charge point resets: %+v", j.Event)
		}
	}
	if offered[2] != 0 {
		t.Errorf("connector 2 offers %g A while the charge point resets", offered[2])
	}
	now = now.Add(c.Rules().ResetFlush)
	if rd := step(chargepoint.Tick{}); rd.Halt == nil || !c.Halted() {
		t.Fatal("not halted once ResetFlush passed")
	}
	offered = [3]float64{-1, -1, -1}
	contactor := map[int]bool{}
	for _, a := range c.Step(now, nil, chargepoint.Shutdown{}) {
		switch a.Kind {
		case chargepoint.Offer:
			offered[a.Connector] = a.Amps
		case chargepoint.Contactor:
			contactor[a.Connector] = a.On
		}
	}
	for n := 1; n <= 2; n++ {
		if on, told := contactor[n]; offered[n] != 0 || !told || on {
			t.Errorf("after the halt, Shutdown leaves connector %d offering %g A (contactor told %v, closed %v)", n, offered[n], told, on)
		}
	}
}

// TestABadShareUnderLoadManagementIsNoCurrent: a managed charge point
// takes a share that is negative or not a number as 0 A (a load manager's
// bug must not lift the cap), where an unmanaged one takes a negative
// amount as no cap.
func TestABadShareUnderLoadManagementIsNoCurrent(t *testing.T) {
	for _, c := range []struct {
		managed bool
		share   float64
		want    float64
	}{
		{true, 10, 10},
		{true, -1, 0},
		{true, math.NaN(), 0},
		{true, math.Inf(-1), 0},
		{false, -1, 32},
		{false, math.NaN(), 0},
	} {
		s := settings(t, 1, map[string]string{"FreeCharging": "1", "FreeChargingMode": "0"})
		core, err := chargepoint.New(chargepoint.Config{Connectors: 1, MaxCurrent: 32, Managed: c.managed}, s, chargepoint.Restored{})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
		offer := -1.0
		step := func(ev chargepoint.Event) {
			for _, a := range core.Step(now, nil, ev) {
				if a.Kind == chargepoint.Offer {
					offer = a.Amps
				}
			}
			core.Ready()
		}
		step(chargepoint.Started{Sensed: []chargepoint.Sensed{{Connector: 1, Pilot: hw.PilotA}}})
		step(chargepoint.Sensed{Connector: 1, Pilot: hw.PilotC})
		step(chargepoint.LimitsSet{Limits: map[int]float64{1: 16}})
		if offer != 16 {
			t.Fatalf("managed %v: a free-charging session under a 16 A share offers %g A", c.managed, offer)
		}
		step(chargepoint.LimitsSet{Limits: map[int]float64{1: c.share}})
		if offer != c.want {
			t.Errorf("managed %v, share %g: offer %g A, want %g", c.managed, c.share, offer, c.want)
		}
	}
}

// TestACentralSystemThatNeverAnswersCannotGrowTheQueue: TriggerMessage
// MeterValues a thousand times, never answered: at most a bounded number
// of the meter values are out at once; once answered, new ones go again.
func TestACentralSystemThatNeverAnswersCannotGrowTheQueue(t *testing.T) {
	c := newCore(t, settings(t, 2, nil))
	now := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	c.Step(now, nil, chargepoint.Started{Sensed: []chargepoint.Sensed{{Connector: 1, Pilot: hw.PilotA}, {Connector: 2, Pilot: hw.PilotA}}})
	answerAll(c, now, c.Ready())
	c.Step(now, nil, chargepoint.LinkUp{})
	answerAll(c, now, c.Ready())
	var out []uint64
	for i := range 1000 {
		c.Step(now, nil, chargepoint.Command{ID: uint64(i + 1), Cmd: chargepoint.Trigger{Message: chargepoint.TriggerMeterValues}})
		for _, m := range c.Ready().Messages {
			if _, ok := m.Body.(chargepoint.MeterValues); ok && m.Call != 0 {
				out = append(out, m.Call)
			}
		}
	}
	if len(out) == 0 || len(out) > 64 {
		t.Fatalf("%d triggered meter values out unanswered, want some and at most 64", len(out))
	}
	t.Logf("%d of 2,000 triggered meter values went out", len(out))
	for _, id := range out {
		c.Step(now, nil, chargepoint.Answered{Call: id})
		c.Ready()
	}
	c.Step(now, nil, chargepoint.Command{ID: 5000, Cmd: chargepoint.Trigger{Message: chargepoint.TriggerMeterValues}})
	n := 0
	for _, m := range c.Ready().Messages {
		if _, ok := m.Body.(chargepoint.MeterValues); ok {
			n++
		}
	}
	if n != 2 {
		t.Errorf("once answered, a trigger sends %d meter values, want one per connector", n)
	}
}
