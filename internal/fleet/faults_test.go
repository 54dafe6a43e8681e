package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// TestAReconnectStormDeliversEveryJournalWithinTheRamp drops every link
// of a busy fleet at once: the reconnections keep to the ramp, and what
// the charge points journaled meanwhile reaches the central system in
// order, nothing lost, nothing repeated but a message whose answer went
// with its link.
func TestAReconnectStormDeliversEveryJournalWithinTheRamp(t *testing.T) {
	const n, rate = 300, 100
	l, url := newLedger(t)
	f, stop := runFleet(t, Options{CSMSURL: url, Spec: busySpec(t, n, rate), DataDir: t.TempDir(), Seed: 11})
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == n })
	waitFor(t, func() bool { return f.stats.sessions.Load() >= n/2 })
	storm := time.Now()
	hit, err := f.Apply(Fault{Kind: DropLinks})
	if err != nil || hit != n {
		t.Fatalf("drop-links hit %d, %v", hit, err)
	}
	waitFor(t, func() bool { return f.stats.connects.Load() >= 2*n })
	t.Logf("all %d back after %.1f s", n, time.Since(storm).Seconds())
	waitFor(t, func() bool { return f.journalDepth() == 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if most := l.MaxPerSecond(storm); most > withJitter(rate) {
		t.Errorf("%d connection attempts in one second after the storm; the ramp allows %d (and %d of jitter)", most, rate, withJitter(rate)-rate)
	}
	if took := time.Since(storm); took < time.Duration(n/rate-1)*time.Second {
		t.Errorf("%d reconnected in %s: faster than the ramp", n, took)
	}
	sessions, reasons := checkLedger(t, l)
	t.Logf("%d sessions, stops %v", sessions, reasons)
}

// TestAPowerCutEndsTheOpenTransactionsWithPowerLoss cuts the power of
// half a busy fleet for 2 s: those charge points boot again, the
// transactions they had open end with PowerLoss, and the ledger holds.
func TestAPowerCutEndsTheOpenTransactionsWithPowerLoss(t *testing.T) {
	t.Parallel()
	const n = 100
	l, url := newLedger(t)
	spec := busySpec(t, n, 1000)
	spec.Groups[0].Behaviour.Stay.Min, spec.Groups[0].Behaviour.Stay.Max = Duration(20*time.Second), Duration(30*time.Second)
	f, stop := runFleet(t, Options{CSMSURL: url, Spec: spec, DataDir: t.TempDir(), Seed: 3})
	waitFor(t, func() bool { return f.stats.sessions.Load() >= n/2 })
	hit, err := f.Apply(Fault{Kind: PowerCut, Share: 0.5, For: Duration(2 * time.Second)})
	if err != nil || hit == 0 {
		t.Fatalf("power-cut hit %d, %v", hit, err)
	}
	waitFor(t, func() bool { return f.Progress().States[StatePowerOff] == hit })
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == n })
	rebooted := 0
	for _, b := range l.Boots() {
		if b >= 2 {
			rebooted++
		}
	}
	if rebooted != hit {
		t.Errorf("%d charge points booted again, %d lost their power", rebooted, hit)
	}
	waitFor(t, func() bool { return f.journalDepth() == 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	_, reasons := checkLedger(t, l)
	if reasons["PowerLoss"] == 0 {
		t.Errorf("stops %v: none with PowerLoss", reasons)
	}
	t.Logf("%d lost their power; stops %v", hit, reasons)
}

// TestAnUnreachableCentralSystemIsRetriedAndFoundAgain makes the central
// system unreachable for 2 s: every link drops, every attempt meanwhile
// fails, and then all are back.
func TestAnUnreachableCentralSystemIsRetriedAndFoundAgain(t *testing.T) {
	t.Parallel()
	const n = 50
	_, url := newLedger(t)
	spec, err := Simple(n, "U-")
	if err != nil {
		t.Fatal(err)
	}
	spec.Ramp.Rate = 1000
	f, stop := runFleet(t, Options{CSMSURL: url, Spec: spec, DataDir: t.TempDir()})
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == n })
	if _, err := f.Apply(Fault{Kind: Unreachable, For: Duration(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return f.Progress().States[StateFailing] == n })
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == n })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestClockSkewShowsInTheTimestamps sets one charge point's clock an hour
// ahead: its next messages carry that time.
func TestClockSkewShowsInTheTimestamps(t *testing.T) {
	t.Parallel()
	csms, url := newCSMS(t, csmstest.Options{})
	spec, err := Simple(2, "S-")
	if err != nil {
		t.Fatal(err)
	}
	spec.Ramp.Rate = 1000
	f, stop := runFleet(t, Options{CSMSURL: url, Spec: spec, DataDir: t.TempDir()})
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == 2 })
	if _, err := f.Apply(Fault{Kind: ClockSkew, IDs: []string{"S-00001"}, By: Duration(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	mark := len(csms.Records())
	c, _ := f.Charger("S-00001")
	if err := c.board.SetFault(1, "GroundFailure"); err != nil { // a status with a timestamp
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rec, err := csms.WaitFor(ctx, mark, csmstest.IsCall("S-00001", "StatusNotification"))
	if err != nil {
		t.Fatal(err)
	}
	var sn struct {
		Timestamp time.Time `json:"timestamp"`
	}
	if err := json.Unmarshal(rec.Frame.Payload, &sn); err != nil {
		t.Fatal(err)
	}
	if ahead := time.Until(sn.Timestamp); ahead < 59*time.Minute || ahead > 61*time.Minute {
		t.Errorf("timestamp %s is %s ahead, want an hour", sn.Timestamp, ahead)
	}
	stop()
}

// TestMisbehaviourIsWhatWasAskedFor: CALLERRORs, late answers, repeated
// CALLs, each on when asked for, off otherwise.
func TestMisbehaviourIsWhatWasAskedFor(t *testing.T) {
	t.Parallel()
	csms, url := newCSMS(t, csmstest.Options{})
	spec := Spec{Ramp: Ramp{Rate: 1000}, Groups: []Group{
		{Name: "errors", Count: 1, Misbehave: Misbehave{CallErrors: 1}},
		{Name: "late", Count: 1, Misbehave: Misbehave{LateAnswers: 1, LateBy: Duration(time.Second)}},
		{Name: "repeats", Count: 1, Misbehave: Misbehave{Repeats: 1}},
		{Name: "good", Count: 1},
	}}
	if err := spec.check(""); err != nil {
		t.Fatal(err)
	}
	f, stop := runFleet(t, Options{CSMSURL: url, Spec: spec, DataDir: t.TempDir()})
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == 4 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	get := json.RawMessage(`{"key":["HeartbeatInterval"]}`)

	_, err := csms.Call(ctx, "errors-00001", "GetConfiguration", get)
	var callErr *rpc.Error
	if !errors.As(err, &callErr) || callErr.Code != rpc.InternalError {
		t.Errorf("callErrors 1: GetConfiguration answered %v, want CALLERROR InternalError", err)
	}
	start := time.Now()
	if _, err := csms.Call(ctx, "late-00001", "GetConfiguration", get); err != nil || time.Since(start) < time.Second {
		t.Errorf("lateAnswers 1: answered after %s (%v), want after 1 s", time.Since(start), err)
	}
	start = time.Now()
	if _, err := csms.Call(ctx, "good-00001", "GetConfiguration", get); err != nil || time.Since(start) > 500*time.Millisecond {
		t.Errorf("a well-behaved charge point answered after %s (%v)", time.Since(start), err)
	}
	boots := func(cp string) int {
		n := 0
		for _, r := range csms.Records() {
			if r.ChargePoint == cp && r.Dir == csmstest.FromChargePoint && r.Frame.Action == "BootNotification" {
				n++
			}
		}
		return n
	}
	waitFor(t, func() bool { return boots("repeats-00001") == 2 })
	if n := boots("good-00001"); n != 1 {
		t.Errorf("a well-behaved charge point sent %d BootNotifications", n)
	}
	stop()
	report := f.Report()
	for _, a := range report.Actions {
		if a.Action == "GetConfiguration" && a.Direction == fromCSMS && (a.Calls != 3 || a.CallErrors != 1) {
			t.Errorf("report: GetConfiguration %d calls, %d CALLERRORs; want 3, 1", a.Calls, a.CallErrors)
		}
	}
}

// TestAGroupOfSecurityProfile1AuthenticatesWithItsKey: every charge point
// of the group connects with Basic authentication, its id and the
// group's AuthorizationKey; a central system that knows another key
// refuses them.
func TestAGroupOfSecurityProfile1AuthenticatesWithItsKey(t *testing.T) {
	const key = "00112233445566778899aabbccddeeff"
	for _, tc := range []struct {
		name   string
		known  []byte
		accept bool
	}{
		{"the right key", []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}, true},
		{"another key", []byte("not-the-password"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			passwords := map[string][]byte{}
			for n := 1; n <= 3; n++ {
				passwords[(Group{ID: "P-{n}"}).id(n)] = tc.known
			}
			csms := csmstest.New(csmstest.Options{Passwords: passwords})
			url, err := csms.Listen("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer csms.Close()
			spec := Spec{Ramp: Ramp{Rate: 1000}, Groups: []Group{{Name: "p", Count: 3, ID: "P-{n}",
				Security: Security{Profile: 1, AuthorizationKey: key}}}}
			if err := spec.check(""); err != nil {
				t.Fatal(err)
			}
			f, stop := runFleet(t, Options{CSMSURL: url, Spec: spec, DataDir: t.TempDir()})
			defer stop()
			if tc.accept {
				waitFor(t, func() bool { return f.Progress().States[StateAccepted] == 3 })
				return
			}
			waitFor(t, func() bool { return f.Progress().States[StateFailing] == 3 })
			c, _ := f.Charger("P-1")
			if !strings.Contains(c.LastError(), "refused the credentials") {
				t.Errorf("last error %q", c.LastError())
			}
		})
	}
}

// TestNoChargePointConnectsWithoutPower cuts the power while most of a
// fleet waits in a slow ramp: none of them connects until the power is
// back (the central system counts its connections all along), and then
// all do.
func TestNoChargePointConnectsWithoutPower(t *testing.T) {
	t.Parallel()
	const n = 20
	csms, url := newCSMS(t, csmstest.Options{Forget: true})
	spec, err := Simple(n, "P-")
	if err != nil {
		t.Fatal(err)
	}
	spec.Ramp = Ramp{Rate: 4}
	f, stop := runFleet(t, Options{CSMSURL: url, Spec: spec, DataDir: t.TempDir()})
	defer stop()
	waitFor(t, func() bool { return csms.ConnectedCount() >= 1 }) // the ramp has begun
	if _, err := f.Apply(Fault{Kind: PowerCut, For: Duration(3 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return csms.ConnectedCount() == 0 })
	for f.Progress().States[StatePowerOff] == n {
		if got := csms.ConnectedCount(); got != 0 {
			t.Fatalf("%d charge points without power are connected", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == n })
}

// TestRemoteStartDriversWaitForTheCentralSystem: drivers of the
// remoteStart share present no card; nothing starts until the central
// system sends RemoteStartTransaction, and then that session does.
func TestRemoteStartDriversWaitForTheCentralSystem(t *testing.T) {
	t.Parallel()
	csms, url := newCSMS(t, csmstest.Options{})
	spec := Spec{Ramp: Ramp{Rate: 1000}, Groups: []Group{{Name: "app", Count: 3,
		Behaviour: Behaviour{PerHour: 3600, Authorize: Authorize{RemoteStart: 1}}}}}
	spec.Groups[0].Behaviour.Stay.Min, spec.Groups[0].Behaviour.Stay.Max = Duration(time.Hour), Duration(time.Hour)
	if err := spec.check(""); err != nil {
		t.Fatal(err)
	}
	f, stop := runFleet(t, Options{CSMSURL: url, Spec: spec, DataDir: t.TempDir(), Seed: 4})
	defer stop()
	waitFor(t, func() bool { return f.Report().RemoteStartWaits == 3 })
	if n := f.Report().Sessions; n != 0 {
		t.Fatalf("%d sessions before any RemoteStartTransaction", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answer, err := csms.Call(ctx, "app-00002", "RemoteStartTransaction", json.RawMessage(`{"connectorId":1,"idTag":"APP-USER"}`))
	if err != nil || !strings.Contains(string(answer), "Accepted") {
		t.Fatalf("RemoteStartTransaction: %s %v", answer, err)
	}
	waitFor(t, func() bool { return f.Report().Sessions == 1 })
}

// TestAFleetChargerRefusesSecurityProfile3: over ws://, the central
// system cannot raise a fleet charger to profile 3 (it would lock the
// charger out: profile 3 needs wss:// and a certificate; over wss://,
// TestAFleetChargerRefusesSecurityProfile3WithoutACertificate).
func TestAFleetChargerRefusesSecurityProfile3(t *testing.T) {
	t.Parallel()
	csms, url := newCSMS(t, csmstest.Options{})
	spec, err := Simple(1, "SP-")
	if err != nil {
		t.Fatal(err)
	}
	spec.Ramp.Rate = 1000
	f, stop := runFleet(t, Options{CSMSURL: url, Spec: spec, DataDir: t.TempDir()})
	defer stop()
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answer, err := csms.Call(ctx, "SP-00001", "ChangeConfiguration", json.RawMessage(`{"key":"SecurityProfile","value":"3"}`))
	if err != nil || !strings.Contains(string(answer), "Rejected") {
		t.Errorf("SecurityProfile=3 on a fleet charger: %s %v", answer, err)
	}
	c, _ := f.Charger("SP-00001")
	if _, err := c.settings.Set("SecurityProfile", "3", config.ActorOCPP); err == nil || !strings.Contains(err.Error(), "needs a wss://") {
		t.Errorf("SecurityProfile=3 over ws://: %v, want a refusal naming wss://", err)
	}
}

// withJitter is the most connection attempts a ramp of rate a second may
// show in one second at the central system: it counts them as they
// arrive, and a busy machine (CI runs packages side by side) delays some
// and bunches them, so a window may hold a few of the next second's;
// 5 % and one. A ramp that lets a storm through shows many times more.
func withJitter(rate int) int { return rate + rate/20 + 1 }
