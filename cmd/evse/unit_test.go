package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// TestADataDirectoryBelongsToOneChargePoint: a charge point killed in a
// session leaves its data; started on it with another --id, evse refuses
// with a message naming the owner and sends nothing (the old session's
// PowerLoss stop is not sent in another's name). With --adopt it runs as
// the new id.
func TestADataDirectoryBelongsToOneChargePoint(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	dir := t.TempDir()
	p := startEVSE(t, runArgs(url, "CP-OWNER", dir)...)
	base := p.apiURL(t) + "/api/v1"
	waitCall(t, s, 0, "CP-OWNER", "StatusNotification", 10*time.Second)
	apiDo(t, "POST", base+"/connectors/1/plug", `{}`)
	apiDo(t, "POST", base+"/rfid", `{"idTag":"TAG-1"}`)
	waitCall(t, s, 0, "CP-OWNER", "StartTransaction", 10*time.Second)
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done

	mark := len(s.Records())
	_, errOut, code := runEVSE(t, runArgs(url, "CP-OTHER", dir)...)
	if code == 0 || !strings.Contains(errOut, `"CP-OWNER"`) || !strings.Contains(errOut, "--adopt") {
		t.Fatalf("another id on the data: exit %d, %s", code, errOut)
	}
	for _, r := range s.Records()[mark:] {
		if r.ChargePoint == "CP-OTHER" {
			t.Fatalf("CP-OTHER exchanged frames on CP-OWNER's data: %+v", r)
		}
	}

	p = startEVSE(t, runArgs(url, "CP-OTHER", dir, "--adopt")...)
	stop := waitCall(t, s, mark, "CP-OTHER", "StopTransaction", 20*time.Second)
	if !strings.Contains(string(stop.Frame.Payload), `"PowerLoss"`) {
		t.Errorf("the adopted data's stop: %s", stop.Frame.Payload)
	}
	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Adopted: CP-OTHER is its owner now.
	p = startEVSE(t, runArgs(url, "CP-OTHER", dir)...)
	waitCall(t, s, mark, "CP-OTHER", "BootNotification", 10*time.Second)
	p.stop(syscall.SIGTERM)
}

// TestTheStoreKeepsItsModel: the model a store was made with is kept:
// evse config get without --model shows a two-connector unit as such, and
// evse run with another model is refused unless --adopt.
func TestTheStoreKeepsItsModel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	modelFile := filepath.Join(t.TempDir(), "two.json")
	if err := os.WriteFile(modelFile, []byte(`{"vendor":"Ensto","model":"EVF200","connectors":2}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runEVSE(t, "config", "set", "--data", dir, "--model", modelFile, "MeterValueSampleInterval=30"); code != 0 {
		t.Fatal(errOut)
	}
	out, errOut, code := runEVSE(t, "config", "get", "--data", dir, "NumberOfConnectors")
	if code != 0 || strings.TrimSpace(out) != "NumberOfConnectors=2" {
		t.Errorf("config get without --model: %q %s", out, errOut)
	}
	other := filepath.Join(t.TempDir(), "one.json")
	os.WriteFile(other, []byte(`{"vendor":"Ensto","model":"EVF100","connectors":1}`), 0o600)
	s, url := newCSMS(t, csmstest.Options{})
	_, errOut, code = runEVSE(t, runArgs(url, "CP-MODEL", dir, "--model", other)...)
	if code == 0 || !strings.Contains(errOut, "EVF200") {
		t.Errorf("run with another model: exit %d, %s", code, errOut)
	}
	p := startEVSE(t, runArgs(url, "CP-MODEL", dir)...)
	boot := waitCall(t, s, 0, "CP-MODEL", "BootNotification", 10*time.Second)
	if !strings.Contains(string(boot.Frame.Payload), `"EVF200"`) {
		t.Errorf("run without --model boots as %s, want the kept EVF200", boot.Frame.Payload)
	}
	p.stop(syscall.SIGTERM)
}

// TestASocketUnitReportsWhatARealOneDoes: a model with socket connectors:
// the EV unplugged at its end leaves the cable in the socket, and the
// central system sees Finishing until the API takes the cable out, then
// Available.
func TestASocketUnitReportsWhatARealOneDoes(t *testing.T) {
	t.Parallel()
	modelFile := filepath.Join(t.TempDir(), "socket.json")
	os.WriteFile(modelFile, []byte(`{"vendor":"Ensto","model":"EVF200","cable":"socket"}`), 0o600)
	s, url := newCSMS(t, csmstest.Options{})
	p := startEVSE(t, runArgs(url, "CP-SOCKET", t.TempDir(), "--model", modelFile)...)
	base := p.apiURL(t) + "/api/v1"
	waitCall(t, s, 0, "CP-SOCKET", "StatusNotification", 10*time.Second)
	apiDo(t, "POST", base+"/connectors/1/plug", `{}`)
	apiDo(t, "POST", base+"/rfid", `{"idTag":"TAG-1"}`)
	start := waitCall(t, s, 0, "CP-SOCKET", "StartTransaction", 10*time.Second)
	apiDo(t, "POST", base+"/connectors/1/unplug", "")
	waitCall(t, s, start.Seq, "CP-SOCKET", "StopTransaction", 10*time.Second)
	finishing := waitStatus(t, s, start.Seq, "CP-SOCKET", 1, "Finishing")
	if code, hw := apiDo(t, "GET", base+"/connectors/1", ""); code != 200 || hw["cable"] != true {
		t.Errorf("the hardware after the EV left: %v", hw)
	}
	if code, _ := apiDo(t, "POST", base+"/connectors/1/remove-cable", ""); code != 200 {
		t.Fatalf("remove-cable: %d", code)
	}
	waitStatus(t, s, finishing.Seq, "CP-SOCKET", 1, "Available")
	if code, _ := apiDo(t, "POST", base+"/connectors/1/remove-cable", ""); code != 409 {
		t.Errorf("removing a cable that is not there: %d, want 409", code)
	}
	p.stop(syscall.SIGTERM)
}
