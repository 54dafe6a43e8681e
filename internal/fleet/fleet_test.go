package fleet

import (
	"context"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// newLedger starts a central system that keeps a ledger.
func newLedger(t testing.TB) (*csmstest.Ledger, string) {
	l, csms, url, err := csmstest.NewLedger()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { csms.Close() })
	return l, url
}

// newCSMS starts the test central system on loopback for the test.
func newCSMS(t testing.TB, opts csmstest.Options) (*csmstest.Server, string) {
	t.Helper()
	csms := csmstest.New(opts)
	url, err := csms.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { csms.Close() })
	return csms, url
}

// checkLedger fails t with what the ledger finds wrong.
func checkLedger(t *testing.T, l *csmstest.Ledger) (int, map[string]int) {
	t.Helper()
	// The busy fleets sample every second: a gap of 5 s is a loss.
	sessions, reasons, problems := l.Check(csmstest.CheckOptions{MaxSampleGap: 5 * time.Second})
	for i, p := range problems {
		if i == 20 {
			t.Errorf("and %d more", len(problems)-20)
			break
		}
		t.Error(p)
	}
	return sessions, reasons
}

// busySpec is a group of n charge points whose cars come often and stay
// a few seconds, started by tags, sampled every second.
func busySpec(t *testing.T, n int, rate float64) Spec {
	t.Helper()
	s := Spec{Ramp: Ramp{Rate: rate}, Groups: []Group{{Name: "busy", Count: n,
		Keys:      map[string]string{"MeterValueSampleInterval": "1", "MinimumStatusDuration": "0"},
		Behaviour: Behaviour{PerHour: 1200, Authorize: Authorize{Tags: []string{"TAG-1", "tag-2"}}}}}}
	s.Groups[0].Behaviour.Stay.Min, s.Groups[0].Behaviour.Stay.Max = Duration(2*time.Second), Duration(5*time.Second)
	if err := s.check(""); err != nil {
		t.Fatal(err)
	}
	return s
}

// runFleet starts a fleet; the returned function stops it cleanly and
// returns Run's error.
func runFleet(t *testing.T, opts Options) (*Fleet, func() error) {
	t.Helper()
	if opts.MinBackoff == 0 {
		opts.MinBackoff, opts.MaxBackoff = 200*time.Millisecond, 2*time.Second
	}
	if opts.ReplaySpread == 0 {
		opts.ReplaySpread = time.Millisecond
	}
	f, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	stopped := false
	var runErr error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			runErr = <-done
		}
		return runErr
	}
	t.Cleanup(func() { stop() })
	return f, stop
}

// TestAFleetOf1000ChargesConsistentlyWithinItsRamp runs 1,000 charge
// points against the test central system: all are accepted, no second
// sees more connection attempts than the ramp, the generator's sessions
// reach the central system, and on a clean stop every transaction is
// stopped exactly once, in order, with nothing repeated.
func TestAFleetOf1000ChargesConsistentlyWithinItsRamp(t *testing.T) {
	n := envInt("EVSE_FLEET_TEST_N", 1000)
	l, url := newLedger(t)
	const rate = 400
	start := time.Now()
	f, stop := runFleet(t, Options{CSMSURL: url, Spec: busySpec(t, n, rate), DataDir: t.TempDir(), Seed: 7})
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == n })
	t.Logf("%d accepted after %.1f s", n, time.Since(start).Seconds())
	waitFor(t, func() bool { return f.stats.sessions.Load() >= int64(n) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if most := l.MaxPerSecond(start); most > withJitter(rate) {
		t.Errorf("%d connection attempts in one second; the ramp allows %d (and %d of jitter)", most, rate, withJitter(rate)-rate)
	}
	sessions, reasons := checkLedger(t, l)
	r := f.Report()
	t.Logf("%d sessions (stops: %v), %.2f kWh, %d cars", sessions, reasons, r.EnergyKWh, r.Cars)
	if sessions < n || int64(sessions) != r.Sessions {
		t.Errorf("%d sessions at the central system, %d in the report: want the same, at least %d", sessions, r.Sessions, n)
	}
	if boots := l.Boots(); len(boots) != n {
		t.Errorf("%d charge points booted, want %d", len(boots), n)
	}
	if r.EnergyKWh <= 0 {
		t.Errorf("no energy counted")
	}
}
