package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// fullDisk returns a wrapper that runs the binary with its data directory
// on a tmpfs of its own, in a mount namespace of its own: the test fills
// it by making ctrl/fill (the wrapper answers ctrl/full) and frees it
// with ctrl/free (ctrl/freed). It skips where mount namespaces cannot be
// made.
func fullDisk(t *testing.T, data, ctrl string) []string {
	t.Helper()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare is not installed: no disk of our own to fill")
	}
	probe := filepath.Join(t.TempDir(), "m")
	os.Mkdir(probe, 0o700)
	if out, err := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c",
		"mount -t tmpfs -o size=64k tmpfs "+probe).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs in a mount namespace here (root is needed): %v: %s", err, out)
	}
	script := `set -e
mount -t tmpfs -o size=8m tmpfs "$DATA"
"$@" &
pid=$!
while [ ! -e "$CTRL/fill" ]; do sleep 0.05; done
dd if=/dev/zero of="$DATA/filler" bs=4k 2>/dev/null || true
touch "$CTRL/full"
while [ ! -e "$CTRL/free" ]; do sleep 0.05; done
rm -f "$DATA/filler"
touch "$CTRL/freed"
wait $pid`
	return []string{"env", "DATA=" + data, "CTRL=" + ctrl, "unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"}
}

// TestAFullDiskIsToldAndLosesNothing runs the real binary on a disk that
// fills during a session: the central system is told the charge point is
// Faulted (InternalError, "cannot write its data"), and so is the
// installer (the status and the log); a tag starts nothing; the session
// goes on; once there is room again the meter values kept meanwhile are
// delivered and the charge point is Available.
func TestAFullDiskIsToldAndLosesNothing(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	data, ctrl := filepath.Join(root, "data"), filepath.Join(root, "ctrl")
	os.Mkdir(data, 0o700)
	os.Mkdir(ctrl, 0o700)
	wrap := fullDisk(t, data, ctrl)
	s, url := newCSMS(t, csmstest.Options{})
	p := startEVSEUnder(t, wrap, runArgs(url, "CP-FULL", data)...)
	base := p.apiURL(t) + "/api/v1"
	waitCall(t, s, 0, "CP-FULL", "StatusNotification", 10*time.Second)
	mustCall(t, s, "CP-FULL", "ChangeConfiguration", `{"key":"MeterValueSampleInterval","value":"1"}`)
	apiDo(t, "POST", base+"/connectors/1/plug", `{"responseDelayMs":100}`)
	apiDo(t, "POST", base+"/rfid", `{"idTag":"TAG-1"}`)
	start := waitCall(t, s, 0, "CP-FULL", "StartTransaction", 10*time.Second)
	waitFile := func(name string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(ctrl, name)); err == nil {
				return
			}
		}
		t.Fatalf("the wrapper did not make %s", name)
	}
	os.WriteFile(filepath.Join(ctrl, "fill"), nil, 0o600)
	waitFile("full")
	full := len(s.Records())
	r := waitCall(t, s, full, "CP-FULL", "StatusNotification", 30*time.Second)
	for !strings.Contains(string(r.Frame.Payload), `"connectorId":0`) {
		r = waitCall(t, s, r.Seq+1, "CP-FULL", "StatusNotification", 30*time.Second)
	}
	if p := string(r.Frame.Payload); !strings.Contains(p, `"Faulted"`) || !strings.Contains(p, `"InternalError"`) || !strings.Contains(p, "cannot write") {
		t.Fatalf("the charge point's status on a full disk: %s", p)
	}
	_, st := apiDo(t, "GET", base+"/status", "")
	if conns, _ := st["connectors"].([]any); len(conns) == 0 || conns[0].(map[string]any)["status"] != "Faulted" {
		t.Errorf("the installer's status on a full disk: %v", st)
	}
	apiDo(t, "POST", base+"/rfid", `{"idTag":"TAG-2","connector":1}`) // would stop the session, if anything started
	time.Sleep(2 * time.Second)
	for _, r := range s.Records()[full:] {
		if csmstest.IsCall("CP-FULL", "StartTransaction")(r) || csmstest.IsCall("CP-FULL", "StopTransaction")(r) {
			t.Errorf("a transaction message on a full disk: %s", r.Frame.Payload)
		}
	}
	meterBefore := 0
	for _, r := range s.Records()[start.Seq:] {
		if csmstest.IsCall("CP-FULL", "MeterValues")(r) {
			meterBefore++
		}
	}
	os.WriteFile(filepath.Join(ctrl, "free"), nil, 0o600)
	waitFile("freed")
	waitAPIStatus(t, base, 60*time.Second, "Available and nothing left to send after the disk had room", func(st map[string]any) bool {
		conns, _ := st["connectors"].([]any)
		return drained(st) && len(conns) > 0 && conns[0].(map[string]any)["status"] == "Available"
	})
	meterAfter := 0
	for _, r := range s.Records()[start.Seq:] {
		if csmstest.IsCall("CP-FULL", "MeterValues")(r) {
			meterAfter++
		}
	}
	if meterAfter < meterBefore+2 {
		t.Errorf("%d meter values before the disk had room, %d after: the ones kept were not delivered", meterBefore, meterAfter)
	}
	if !strings.Contains(p.errOut.String(), "cannot be written") {
		t.Error("the log does not say the data file cannot be written")
	}
	noViolations(t, s)
}
