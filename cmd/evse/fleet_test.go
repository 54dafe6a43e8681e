package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// newFleetLedger starts a central system that keeps a ledger of what
// charge points send.
func newFleetLedger(t *testing.T) (*csmstest.Ledger, string) {
	t.Helper()
	l, csms, url, err := csmstest.NewLedger()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { csms.Close() })
	return l, url
}

// waitUntil polls cond for up to d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestThreeShardsRunTheWholeFleetOnce runs a fleet file as three
// processes (--shard 0/3, 1/3, 2/3) against one central system: every
// charge point of the file boots, in exactly one of them.
func TestThreeShardsRunTheWholeFleetOnce(t *testing.T) {
	t.Parallel()
	l, url := newFleetLedger(t)
	file := writeFile(t, "fleet.yaml", `
ramp: {rate: 200}
groups:
  - {name: depot, count: 80, id: "DEPOT-{n:03}"}
  - {name: street, count: 40, id: "ST-{n}", keys: {HeartbeatInterval: "600"}}
`)
	var procs []*process
	for i := range 3 {
		procs = append(procs, startEVSE(t, "fleet", "--csms", url, "--file", file, "--shard", []string{"0/3", "1/3", "2/3"}[i],
			"--data", t.TempDir(), "--listen", "off"))
	}
	waitUntil(t, time.Minute, "120 charge points booted", func() bool { return len(l.Boots()) == 120 })
	for i, p := range procs {
		if err := p.stop(syscall.SIGINT); err != nil {
			t.Errorf("shard %d/3: %v", i, err)
		}
		if !strings.Contains(p.out.String(), "BootNotification") {
			t.Errorf("shard %d/3 printed no report:\n%s", i, p.out)
		}
	}
	for id, n := range l.Boots() {
		if n != 1 {
			t.Errorf("%s booted %d times: in more than one shard", id, n)
		}
	}
}

// TestAFleetKilledResumesEveryChargePointOnItsData kills a busy fleet
// with SIGKILL and starts it again on the same data: every charge point
// boots again, the transactions open at the kill end with PowerLoss, and
// nothing is lost or repeated (but a message whose answer was lost with
// the kill). The report comes as JSON too.
func TestAFleetKilledResumesEveryChargePointOnItsData(t *testing.T) {
	t.Parallel()
	const n = 40
	l, url := newFleetLedger(t)
	file := writeFile(t, "fleet.yaml", `
ramp: {rate: 500}
groups:
  - name: busy
    count: 40
    keys: {MeterValueSampleInterval: "1"}
    behaviour:
      perHour: 600
      stay: {min: 30s, max: 60s}
      authorize: {tags: [TAG-1, TAG-2]}
`)
	data := t.TempDir()
	report := filepath.Join(t.TempDir(), "report.json")
	args := []string{"fleet", "--csms", url, "--file", file, "--data", data, "--listen", "off", "--replay-spread", "100ms", "--seed", "5"}
	first := startEVSE(t, args...)
	waitUntil(t, time.Minute, "20 sessions started", func() bool {
		sessions, _, _ := l.Check(csmstest.CheckOptions{Open: true})
		return sessions >= 20
	})
	first.cmd.Process.Signal(syscall.SIGKILL)
	<-first.done
	second := startEVSE(t, append(args, "--report", report)...)
	waitUntil(t, time.Minute, "every charge point booted again", func() bool {
		boots := l.Boots()
		for _, b := range boots {
			if b < 2 {
				return false
			}
		}
		return len(boots) == n
	})
	waitUntil(t, time.Minute, "the open transactions stopped with PowerLoss", func() bool {
		_, reasons, _ := l.Check(csmstest.CheckOptions{Open: true})
		return reasons["PowerLoss"] > 0
	})
	time.Sleep(2 * time.Second) // the journals' replay (100 ms spread) and a few more sessions
	if err := second.stop(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	sessions, reasons, problems := l.Check(csmstest.CheckOptions{MaxSampleGap: 5 * time.Second})
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("%d sessions; stops %v", sessions, reasons)
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Chargers int `json:"chargers"`
		Actions  []struct {
			Action string `json:"action"`
			Calls  int    `json:"calls"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || r.Chargers != n || len(r.Actions) == 0 {
		t.Errorf("report %s: %v", raw, err)
	}
}

// TestFleetCountOver201: evse fleet --count 3 --ocpp 2.0.1 boots three
// charge points in 2.0.1 and reports their actions in it; a bad
// version, or --ocpp with a file, is refused.
func TestFleetCountOver201(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{Subprotocols: []string{csmstest.OCPP201}})
	out, errOut, code := runEVSE(t, "fleet", "--csms", url, "--count", "3", "--id-prefix", "F201-", "--ocpp", "2.0.1",
		"--duration", "3s", "--listen", "off", "--data", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "3 attempts, 3 made") || !regexp.MustCompile(`CP→CSMS\s+2\.0\.1\s+BootNotification\s+3 `).MatchString(out) {
		t.Errorf("the report:\n%s", out)
	}
	boots := 0
	for _, r := range s.Records() {
		if r.Frame.Action == "BootNotification" && r.Dir == csmstest.FromChargePoint && r.Subprotocol == csmstest.OCPP201 {
			boots++
		}
	}
	if boots != 3 {
		t.Errorf("%d BootNotifications in 2.0.1, want 3", boots)
	}
	noViolations(t, s)
	for _, args := range [][]string{{"--count", "1", "--ocpp", "2.0"}, {"--file", writeFile(t, "f.yaml", "groups: [{count: 1}]\n"), "--ocpp", "2.0.1"}} {
		if _, errOut, code := runEVSE(t, append([]string{"fleet", "--csms", url, "--listen", "off", "--data", t.TempDir()}, args...)...); code == 0 || !strings.Contains(errOut, "--ocpp") {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
}
