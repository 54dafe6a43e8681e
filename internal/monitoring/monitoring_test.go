package monitoring

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var hb = Target{Component: "OCPPCommCtrlr", Variable: "HeartbeatInterval"}

func noTx(int) string { return "" }

// A threshold tells each crossing once, and each crossing back as
// cleared; a delta the moves beyond it from the value last told.
func TestObserveTellsCrossingsAndDeltas(t *testing.T) {
	s := New(nil, nil)
	if _, st := s.Put(Monitor{Target: hb, Type: UpperThreshold, Value: 300, Severity: 5}, true); st != Accepted {
		t.Fatal(st)
	}
	if _, st := s.Put(Monitor{Target: hb, Type: Delta, Value: 100, Severity: 5}, true); st != Accepted {
		t.Fatal(st)
	}
	var got []string
	now := time.Unix(0, 0)
	for _, v := range []string{"240", "310", "400", "290", "250", "500"} {
		for _, e := range s.Observe(hb, v, true, noTx, now) {
			got = append(got, fmt.Sprintf("%s:%s:%v", e.Trigger, e.Value, e.Cleared))
		}
	}
	want := "Alerting:310:false Delta:400:false Alerting:290:true Delta:290:false Alerting:500:false Delta:500:false"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

// Put's rules, and Clear's.
func TestPutAndClearRules(t *testing.T) {
	hard := Monitor{ID: 1, Target: Target{Component: "ChargingStation", Variable: "Problem"}, Type: Delta, Severity: 2, Kind: HardWired}
	s := New([]Monitor{hard}, nil)
	for _, c := range []struct {
		m       Monitor
		numeric bool
		want    Status
	}{
		{Monitor{Target: hb, Type: UpperThreshold, Value: 1, Severity: 5}, false, UnsupportedMonitorType},
		{Monitor{Target: hb, Type: Delta, Value: -1, Severity: 5}, true, Rejected},
		{Monitor{Target: hb, Type: Periodic, Value: 0.5, Severity: 5}, true, Rejected},
		{Monitor{Target: hb, Type: Periodic, Value: 1e10, Severity: 5}, true, Rejected}, // over MaxPeriod: no Duration holds it
		{Monitor{Target: hb, Type: PeriodicClockAligned, Value: MaxPeriod + 1, Severity: 5}, true, Rejected},
		{Monitor{Target: hb, Type: Delta, Value: 1, Severity: -1}, true, Rejected},
		{Monitor{ID: 1, Target: hard.Target, Type: Delta, Severity: 3}, false, Rejected},
		{Monitor{Target: hard.Target, Type: Delta, Severity: 2}, false, Duplicate},
		{Monitor{Target: hb, Type: Delta, Value: 1, Severity: 5}, true, Accepted},
	} {
		if _, got := s.Put(c.m, c.numeric); got != c.want {
			t.Errorf("%+v: %s, want %s", c.m, got, c.want)
		}
	}
	for i := len(s.Active()) - 1; i < MaxCustom; i++ {
		other := Target{Component: "EVSE", EVSE: i, Variable: "Power"}
		if _, st := s.Put(Monitor{Target: other, Type: Periodic, Value: 60, Severity: 5}, true); st != Accepted {
			t.Fatalf("custom monitor %d: %s", i, st)
		}
	}
	if _, got := s.Put(Monitor{Target: hb, Type: LowerThreshold, Value: 1, Severity: 0}, true); got != Rejected {
		t.Errorf("one custom monitor too many: %s", got)
	}
	if s.Clear(1) != Rejected || s.Clear(999) != NotFound || s.Clear(2) != Accepted {
		t.Error("Clear")
	}
}

// PeriodicClockAligned comes round at the multiples of its period.
func TestDueAlignsToTheClock(t *testing.T) {
	s := New(nil, nil)
	s.Put(Monitor{Target: hb, Type: PeriodicClockAligned, Value: 900, Severity: 5}, true)
	start := time.Date(2026, 1, 1, 10, 7, 0, 0, time.UTC)
	var at []string
	for now := start; now.Before(start.Add(time.Hour)); now = now.Add(time.Second) {
		for _, e := range s.Due(now, noTx) {
			at = append(at, e.At.Format("15:04:05"))
		}
	}
	if got := strings.Join(at, " "); got != "10:15:00 10:30:00 10:45:00 11:00:00" {
		t.Errorf("due at %s", got)
	}
}

// A Periodic monitor stepped after a long pause comes round once, and
// next a period after now: the catch-up is one step, not one per period.
func TestDueCatchesUpInOneStep(t *testing.T) {
	s := New(nil, nil)
	if _, st := s.Put(Monitor{Target: hb, Type: Periodic, Value: MaxPeriod, Severity: 5}, true); st != Accepted {
		t.Fatalf("a period of MaxPeriod: %s", st)
	}
	if _, st := s.Put(Monitor{Target: Target{Component: "OCPPCommCtrlr", Variable: "WebSocketPingInterval"}, Type: Periodic, Value: 1, Severity: 5}, true); st != Accepted {
		t.Fatalf("a period of 1 s: %s", st)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.Due(start, noTx) // the first sight sets the next instants
	later := start.Add(10 * 365 * 24 * time.Hour)
	if n := len(s.Due(later, noTx)); n != 2 {
		t.Errorf("%d events after ten years, want one of each monitor", n)
	}
	if n := len(s.Due(later.Add(500*time.Millisecond), noTx)); n != 0 {
		t.Errorf("%d events half a second later, want none", n)
	}
	if n := len(s.Due(later.Add(time.Second), noTx)); n != 1 {
		t.Errorf("%d events a second later, want the 1 s one", n)
	}
}
