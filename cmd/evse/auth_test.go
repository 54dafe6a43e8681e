package main

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// TestOfflineAuthorizationRules runs, with the central system down, the
// four kinds of tag the offline rules tell apart: unknown, cached, in the
// local list, and (with AllowOfflineTxForUnknownId) unknown but allowed.
func TestOfflineAuthorizationRules(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	addr := url[len("ws://") : len(url)-len("/ocpp")]
	dir := t.TempDir()
	if _, errOut, code := runEVSE(t, "config", "set", "--data", dir, "LocalAuthListEnabled=true"); code != 0 {
		t.Fatal(errOut)
	}
	p := startEVSE(t, runArgs(url, "CP-OFF", dir)...)
	base := p.apiURL(t) + "/api/v1"
	waitCall(t, s, 0, "CP-OFF", "StatusNotification", 10*time.Second)

	// Online: the central system puts LISTED in the local list, and
	// CACHED gets into the cache by a session.
	if a := mustCall(t, s, "CP-OFF", "SendLocalList", `{"listVersion":1,"updateType":"Full","localAuthorizationList":[{"idTag":"LISTED","idTagInfo":{"status":"Accepted"}}]}`); a["status"] != "Accepted" {
		t.Fatal(a)
	}
	session := func(tag string) {
		apiDo(t, "POST", base+"/connectors/1/plug", "")
		apiDo(t, "POST", base+"/rfid", `{"idTag":"`+tag+`"}`)
		time.Sleep(500 * time.Millisecond)
		apiDo(t, "POST", base+"/connectors/1/unplug", "")
		time.Sleep(200 * time.Millisecond)
	}
	session("CACHED")
	waitCall(t, s, 0, "CP-OFF", "StopTransaction", 10*time.Second)

	s.Close() // the central system goes down
	waitAPIStatus(t, base, 10*time.Second, "the charge point notices", disconnected)
	for _, tag := range []string{"STRANGER", "CACHED", "LISTED"} {
		session(tag)
	}
	// Now unknown tags may charge offline too.
	if code, _ := apiDo(t, "PUT", base+"/config/AllowOfflineTxForUnknownId", `{"value":"true"}`); code != 200 {
		t.Fatal(code)
	}
	session("STRANGER2")

	s2 := csmstest.New(csmstest.Options{FirstTransactionID: 1000})
	if _, err := s2.Listen(addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	waitAPIStatus(t, base, 40*time.Second, "journal delivered", drained)
	p.stop(syscall.SIGTERM)
	var started []string
	for _, r := range s2.Records() {
		if csmstest.IsCall("CP-OFF", "StartTransaction")(r) {
			var m startMsg
			json.Unmarshal(r.Frame.Payload, &m)
			started = append(started, m.IdTag)
		}
		if csmstest.IsCall("CP-OFF", "Authorize")(r) {
			t.Errorf("Authorize after the outage: %s", r.Frame.Payload)
		}
	}
	if got := strings.Join(started, " "); got != "CACHED LISTED STRANGER2" {
		t.Errorf("offline sessions %q, want CACHED LISTED STRANGER2 (STRANGER refused while unknown tags were not allowed)", got)
	}
}

// TestResetRebootsInPlace: a Reset stops the transaction, and the charge
// point boots again in the same process, the car still plugged in.
func TestResetRebootsInPlace(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	p := startEVSE(t, runArgs(url, "CP-RESET", t.TempDir())...)
	base := p.apiURL(t) + "/api/v1"
	waitCall(t, s, 0, "CP-RESET", "StatusNotification", 10*time.Second)
	apiDo(t, "POST", base+"/connectors/1/plug", "")
	apiDo(t, "POST", base+"/rfid", `{"idTag":"TAG1"}`)
	waitCall(t, s, 0, "CP-RESET", "StartTransaction", 10*time.Second)
	if a := mustCall(t, s, "CP-RESET", "ChangeConfiguration", `{"key":"DlmMode","value":"1"}`); a["status"] != "RebootRequired" {
		t.Fatal(a)
	}
	mark := len(s.Records())
	if a := mustCall(t, s, "CP-RESET", "Reset", `{"type":"Soft"}`); a["status"] != "Accepted" {
		t.Fatal(a)
	}
	stop := waitCall(t, s, mark, "CP-RESET", "StopTransaction", 10*time.Second)
	if !strings.Contains(string(stop.Frame.Payload), `"reason":"SoftReset"`) {
		t.Errorf("stop %s", stop.Frame.Payload)
	}
	boot := waitCall(t, s, stop.Seq, "CP-RESET", "BootNotification", 15*time.Second)
	// After the reboot: the car is still plugged (Preparing), and the
	// reboot-required setting is in force.
	waitStatus(t, s, boot.Seq, "CP-RESET", 1, "Preparing")
	kv := keyValues(t, mustCall(t, s, "CP-RESET", "GetConfiguration", `{"key":["DlmState"]}`))
	if !strings.HasPrefix(kv["DlmState"]["value"].(string), "Master: ") {
		t.Errorf("DlmState after the reboot: %v", kv["DlmState"]["value"])
	}
	if boot.Seq < stop.Seq {
		t.Error("booted before the StopTransaction went out")
	}
	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Errorf("exit: %v", err)
	}
	noViolations(t, s)
}
