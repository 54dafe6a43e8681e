package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// getVariable reads one variable over GetVariables: its status and value.
func getVariable(t *testing.T, s *csmstest.Server, cp, component, variable, instance string) (string, string) {
	t.Helper()
	v := map[string]any{"name": variable}
	if instance != "" {
		v["instance"] = instance
	}
	body, _ := json.Marshal(map[string]any{"getVariableData": []any{map[string]any{
		"component": map[string]any{"name": component}, "variable": v}}})
	a := mustCall(t, s, cp, "GetVariables", string(body))
	res := a["getVariableResult"].([]any)[0].(map[string]any)
	value, _ := res["attributeValue"].(string)
	return res["attributeStatus"].(string), value
}

// setVariable sets one variable over SetVariables and returns its status.
func setVariable(t *testing.T, s *csmstest.Server, cp, component, variable, value string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"setVariableData": []any{map[string]any{
		"component": map[string]any{"name": component}, "variable": map[string]any{"name": variable},
		"attributeValue": value}}})
	a := mustCall(t, s, cp, "SetVariables", string(body))
	return a["setVariableResult"].([]any)[0].(map[string]any)["attributeStatus"].(string)
}

// transactionEvents lists the TransactionEvents cp sent, decoded.
func transactionEvents(s *csmstest.Server, cp string) []map[string]any {
	var out []map[string]any
	for _, r := range s.Records() {
		if csmstest.IsCall(cp, "TransactionEvent")(r) {
			var m map[string]any
			json.Unmarshal(r.Frame.Payload, &m)
			out = append(out, m)
		}
	}
	return out
}

// TestTheRealBinaryAsAnOCPP201ChargingStation runs evse run --ocpp 2.0.1
// against the test CSMS speaking 2.0.1 only, with strict validation of
// every frame: B01 (BootNotification, then the StatusNotification of each
// EVSE), B06/B05 (GetVariables and SetVariables over the device model, a
// value set over 2.0.1 read back, and the refusals), E01/E06/F03 (a
// session's TransactionEvent Started, Updated, and Ended after
// RequestStopTransaction, numbered by seqNo from 0) and F01
// (RequestStartTransaction), B11 (Reset Immediate, then a boot with the
// reason RemoteReset; a BootNotification is not triggered once
// accepted), and a station
// that offers "2.0.1,1.6" to a CSMS of 1.6 only speaks 1.6.
func TestTheRealBinaryAsAnOCPP201ChargingStation(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{Subprotocols: []string{csmstest.OCPP201}})
	p := startEVSE(t, runArgs(url, "CS-201", t.TempDir(), "--ocpp", "2.0.1")...)
	defer p.stop(os.Interrupt)
	boot := waitCall(t, s, 0, "CS-201", "BootNotification", 10*time.Second)
	if !strings.Contains(string(boot.Frame.Payload), `"reason":"PowerUp"`) || boot.Subprotocol != csmstest.OCPP201 {
		t.Errorf("BootNotification %s over %q", boot.Frame.Payload, boot.Subprotocol)
	}
	status := waitCall(t, s, boot.Seq, "CS-201", "StatusNotification", 10*time.Second)
	if !strings.Contains(string(status.Frame.Payload), `"evseId":1`) {
		t.Errorf("StatusNotification %s", status.Frame.Payload)
	}

	// B06 and B05: the device model over the same settings as 1.6's keys.
	if st, v := getVariable(t, s, "CS-201", "OCPPCommCtrlr", "HeartbeatInterval", ""); st != "Accepted" || v != "240" {
		t.Errorf("HeartbeatInterval: %s %q, want the boot's 240", st, v)
	}
	if st := setVariable(t, s, "CS-201", "OCPPCommCtrlr", "HeartbeatInterval", "60"); st != "Accepted" {
		t.Errorf("SetVariables HeartbeatInterval: %s", st)
	}
	if _, v := getVariable(t, s, "CS-201", "OCPPCommCtrlr", "HeartbeatInterval", ""); v != "60" {
		t.Errorf("HeartbeatInterval reads %q after SetVariables", v)
	}
	if st, v := getVariable(t, s, "CS-201", "DLMCtrlr", "DlmInput1CurrOffset", "Phase2"); st != "Accepted" || v == "" {
		t.Errorf("a DLM key over 2.0.1: %s %q", st, v)
	}
	for _, c := range []struct{ component, variable, value, want string }{
		{"CoffeeCtrlr", "HeartbeatInterval", "60", "UnknownComponent"},
		{"OCPPCommCtrlr", "Coffee", "60", "UnknownVariable"},
		{"OCPPCommCtrlr", "HeartbeatInterval", "soon", "Rejected"},
		{"EnstoCtrlr", "NumberOfConnectors", "2", "Rejected"},
	} {
		if st := setVariable(t, s, "CS-201", c.component, c.variable, c.value); st != c.want {
			t.Errorf("SetVariables %s.%s=%s: %s, want %s", c.component, c.variable, c.value, st, c.want)
		}
	}

	// The local API and the page name the protocol.
	if _, st := apiDo(t, "GET", p.apiURL(t)+"/api/v1/status", ""); st["protocol"] != "ocpp2.0.1" {
		t.Errorf("the status names the protocol %v", st["protocol"])
	}

	// A session, stopped from the CSMS.
	if st := setVariable(t, s, "CS-201", "SampledDataCtrlr", "TxUpdatedInterval", "1"); st != "Accepted" {
		t.Fatalf("TxUpdatedInterval: %s", st)
	}
	base := p.apiURL(t) + "/api/v1"
	apiDo(t, "POST", base+"/connectors/1/plug", "")
	apiDo(t, "POST", base+"/rfid", `{"idTag":"TAG201"}`)
	started := waitCall(t, s, 0, "CS-201", "TransactionEvent", 10*time.Second)
	var ev struct {
		EventType       string `json:"eventType"`
		SeqNo           int    `json:"seqNo"`
		TransactionInfo struct {
			TransactionID string `json:"transactionId"`
		} `json:"transactionInfo"`
		IDToken struct {
			IDToken string `json:"idToken"`
		} `json:"idToken"`
	}
	json.Unmarshal(started.Frame.Payload, &ev)
	if ev.EventType != "Started" || ev.SeqNo != 0 || ev.IDToken.IDToken != "TAG201" || ev.TransactionInfo.TransactionID == "" {
		t.Fatalf("the first TransactionEvent: %s", started.Frame.Payload)
	}
	updated := waitCall(t, s, started.Seq+1, "CS-201", "TransactionEvent", 10*time.Second)
	if !strings.Contains(string(updated.Frame.Payload), `"eventType":"Updated"`) {
		t.Errorf("the second TransactionEvent: %s", updated.Frame.Payload)
	}
	if a := mustCall(t, s, "CS-201", "RequestStopTransaction", `{"transactionId":"`+ev.TransactionInfo.TransactionID+`"}`); a["status"] != "Accepted" {
		t.Fatalf("RequestStopTransaction: %v", a)
	}
	if a := mustCall(t, s, "CS-201", "RequestStopTransaction", `{"transactionId":"not-mine"}`); a["status"] != "Rejected" {
		t.Errorf("RequestStopTransaction of another's transaction: %v", a)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		evs := transactionEvents(s, "CS-201")
		if last := evs[len(evs)-1]; last["eventType"] == "Ended" {
			info := last["transactionInfo"].(map[string]any)
			if info["stoppedReason"] != "Remote" || info["transactionId"] != ev.TransactionInfo.TransactionID {
				t.Errorf("Ended: %v", last)
			}
			for i, e := range evs {
				if int(e["seqNo"].(float64)) != i {
					t.Errorf("TransactionEvent %d has seqNo %v", i, e["seqNo"])
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no TransactionEvent Ended within 10 s")
		}
	}
	// F01: a remote start on the plugged EV.
	if a := mustCall(t, s, "CS-201", "RequestStartTransaction", `{"idToken":{"idToken":"REMOTE","type":"Central"},"remoteStartId":7,"evseId":1}`); a["status"] != "Accepted" {
		t.Errorf("RequestStartTransaction: %v", a)
	}
	// B11 and B01 again: a reset restarts the station, which boots with
	// the reason RemoteReset; a triggered boot says Triggered.
	mark := len(s.Records())
	if a := mustCall(t, s, "CS-201", "Reset", `{"type":"Immediate"}`); a["status"] != "Accepted" {
		t.Fatalf("Reset: %v", a)
	}
	again := waitCall(t, s, mark, "CS-201", "BootNotification", 20*time.Second)
	if !strings.Contains(string(again.Frame.Payload), `"reason":"RemoteReset"`) {
		t.Errorf("after Reset: %s", again.Frame.Payload)
	}
	waitCall(t, s, again.Seq+1, "CS-201", "StatusNotification", 10*time.Second) // registered again
	// F06.FR.17: once accepted, a BootNotification is not triggered.
	if a := mustCall(t, s, "CS-201", "TriggerMessage", `{"requestedMessage":"BootNotification"}`); a["status"] != "Rejected" {
		t.Errorf("TriggerMessage BootNotification once accepted: %v", a)
	}
	noViolations(t, s)

	// Offered both, to a CSMS of 1.6 only: 1.6.
	s16, url16 := newCSMS(t, csmstest.Options{})
	p16 := startEVSE(t, runArgs(url16, "CS-BOTH", t.TempDir(), "--ocpp", "2.0.1,1.6")...)
	defer p16.stop(os.Interrupt)
	b16 := waitCall(t, s16, 0, "CS-BOTH", "BootNotification", 10*time.Second)
	if b16.Subprotocol != csmstest.OCPP16 || !strings.Contains(string(b16.Frame.Payload), `"chargePointVendor"`) {
		t.Errorf("offered both to a 1.6 CSMS: %s over %q", b16.Frame.Payload, b16.Subprotocol)
	}
	noViolations(t, s16)
}

// TestDemoOver201ShowsTheDeviceModelTour runs evse demo --ocpp 2.0.1:
// the tour in 2.0.1's messages, valid to its schemas, smart charging
// included.
func TestDemoOver201ShowsTheDeviceModelTour(t *testing.T) {
	t.Parallel()
	p := startEVSE(t, "demo", "--ocpp", "2.0.1", "--full")
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(p.out.String(), "# done;") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	out := p.out.String()
	for _, want := range []string{
		`CSMS→CP CALLRESULT BootNotification             {"currentTime"`,
		`"status":"Accepted"`,
		`OccurrenceConstraintViolation 2 variables asked`,
		`"attributeStatus":"UnknownVariable"`,
		`"attributeStatus":"UnknownComponent"`,
		`"attributeStatus":"RebootRequired"`,
		`"reasonCode":"ReadOnly"`,
		`CP→CSMS CALL       Authorize`,
		`"eventType":"Started"`,
		`CSMS→CP CALL       GetTransactionStatus`,
		`CSMS→CP CALL       RequestStopTransaction`,
		`"eventType":"Ended"`,
		`CSMS→CP CALL       SetChargingProfile`,
		`EVSE 1 offers 10 A`,
		`CP→CSMS CALL       ReportChargingProfiles`,
		`# done;`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if n := strings.Count(out, "CALLERROR"); n != 1 {
		t.Errorf("%d CALLERRORs, want the one of too many variables", n)
	}
	for _, never := range []string{"schema violation", "CALL       GetConfiguration", "CALL       StartTransaction"} {
		if strings.Contains(out, never) {
			t.Errorf("demo output has %q", never)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
	if err := p.stop(syscall.SIGINT); err != nil {
		t.Errorf("demo exit after Ctrl-C: %v", err)
	}
}

// setNetworkProfile sends SetNetworkProfile and returns its status and
// reasonCode.
func setNetworkProfile(t *testing.T, s *csmstest.Server, cp string, slot int, version, url string, security int) (string, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"configurationSlot": slot, "connectionData": map[string]any{
		"ocppVersion": version, "ocppTransport": "JSON", "ocppCsmsUrl": url, "messageTimeout": 30,
		"securityProfile": security, "ocppInterface": "Wired0"}})
	a := mustCall(t, s, cp, "SetNetworkProfile", string(body))
	reason := ""
	if info, ok := a["statusInfo"].(map[string]any); ok {
		reason, _ = info["reasonCode"].(string)
	}
	return a["status"].(string), reason
}

// deadURL is a ws:// URL on loopback that nobody answers: a port that was
// free a moment ago.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "ws://" + addr + "/ocpp"
}

// TestB09B10SetNetworkProfileAndMigrateToANewCSMS runs evse run --ocpp
// 2.0.1 against two test CSMSs on loopback. On the first (slot 0, the
// command line's), B09: SetNetworkProfile refuses what it must (slot 0,
// a slot out of range, OCPP16, profile 2 over ws://, a lower security
// profile) and keeps a profile of the second in slot 1;
// NetworkConfigurationPriority naming an empty slot is refused, "1,0"
// needs a reboot. B10: after Reset the station boots at the second
// CSMS; there slot 1, in use, cannot be set. A profile whose URL nobody
// answers, first in the priority, is tried NetworkProfileConnectionAttempts
// times after the next Reset, and the station falls back to the second
// CSMS; killed (SIGKILL) and started again, it still boots there.
func TestB09B10SetNetworkProfileAndMigrateToANewCSMS(t *testing.T) {
	t.Parallel()
	const cp = "CS-B10"
	opts := csmstest.Options{Subprotocols: []string{csmstest.OCPP201}}
	a, urlA := newCSMS(t, opts)
	b, urlB := newCSMS(t, opts)
	dir := t.TempDir()
	p := startEVSE(t, runArgs(urlA, cp, dir, "--ocpp", "2.0.1")...)
	waitCall(t, a, 0, cp, "BootNotification", 10*time.Second)

	// B09: what a station must refuse, and changes nothing.
	for _, c := range []struct {
		name     string
		slot     int
		version  string
		url      string
		security int
		reason   string
	}{
		{"the installer's slot", 0, "OCPP20", urlB, 0, "InvalidConfSlot"},
		{"a slot out of range", 4, "OCPP20", urlB, 0, "InvalidConfSlot"},
		{"OCPP 1.6", 1, "OCPP16", urlB, 0, "InvalidNetworkConf"},
		{"profile 2 over ws://", 1, "OCPP20", urlB, 2, "InvalidNetworkConf"},
		{"profile 1 without a password", 1, "OCPP20", urlB, 1, "InvalidNetworkConf"},
		{"not a URL", 1, "OCPP20", "http://127.0.0.1/", 0, "InvalidNetworkConf"},
	} {
		if st, reason := setNetworkProfile(t, a, cp, c.slot, c.version, c.url, c.security); st != "Rejected" || reason != c.reason {
			t.Errorf("SetNetworkProfile %s: %s %s, want Rejected %s", c.name, st, reason, c.reason)
		}
	}
	if st := setVariable(t, a, cp, "OCPPCommCtrlr", "NetworkConfigurationPriority", "1,0"); st != "Rejected" {
		t.Errorf("a priority naming an empty slot: %s", st)
	}
	if st, reason := setNetworkProfile(t, a, cp, 1, "OCPP20", urlB, 0); st != "Accepted" {
		t.Fatalf("SetNetworkProfile of the second CSMS: %s %s", st, reason)
	}
	if st := setVariable(t, a, cp, "OCPPCommCtrlr", "NetworkConfigurationPriority", "1,0"); st != "RebootRequired" {
		t.Fatalf("NetworkConfigurationPriority 1,0: %s", st)
	}
	if st, v := getVariable(t, a, cp, "OCPPCommCtrlr", "NetworkConfigurationPriority", ""); st != "Accepted" || v != "1,0" {
		t.Errorf("NetworkConfigurationPriority reads %s %q", st, v)
	}

	// B10: the Reset, and the station boots at the second CSMS.
	if r := mustCall(t, a, cp, "Reset", `{"type":"Immediate"}`); r["status"] != "Accepted" {
		t.Fatalf("Reset: %v", r)
	}
	boot := waitCall(t, b, 0, cp, "BootNotification", 10*time.Second)
	if !strings.Contains(string(boot.Frame.Payload), `"reason":"RemoteReset"`) {
		t.Errorf("the boot at the second CSMS: %s", boot.Frame.Payload)
	}
	waitCall(t, b, boot.Seq, cp, "StatusNotification", 10*time.Second)
	if st, reason := setNetworkProfile(t, b, cp, 1, "OCPP20", urlB, 0); st != "Rejected" || reason != "InvalidConfSlot" {
		t.Errorf("SetNetworkProfile of the slot in use: %s %s", st, reason)
	}

	// A profile nobody answers, first: one attempt, then back to the
	// second CSMS, the next of the priority.
	if st, reason := setNetworkProfile(t, b, cp, 2, "OCPP20", deadURL(t), 0); st != "Accepted" {
		t.Fatalf("SetNetworkProfile of a dead URL: %s %s", st, reason)
	}
	if st := setVariable(t, b, cp, "OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "1"); st != "Accepted" {
		t.Fatalf("NetworkProfileConnectionAttempts: %s", st)
	}
	if st := setVariable(t, b, cp, "OCPPCommCtrlr", "NetworkConfigurationPriority", "2,1"); st != "RebootRequired" {
		t.Fatalf("NetworkConfigurationPriority 2,1: %s", st)
	}
	last := b.Records()[len(b.Records())-1].Seq
	if r := mustCall(t, b, cp, "Reset", `{"type":"Immediate"}`); r["status"] != "Accepted" {
		t.Fatalf("Reset: %v", r)
	}
	again := waitCall(t, b, last+1, cp, "BootNotification", 10*time.Second)
	if !strings.Contains(string(again.Frame.Payload), `"reason":"RemoteReset"`) {
		t.Errorf("the boot after falling back: %s", again.Frame.Payload)
	}
	if !strings.Contains(p.errOut.String()+p.out.String(), "trying the next") {
		t.Errorf("the station did not say it left the dead slot")
	}

	// The profiles and the priority are the store's: killed and started
	// again with the first CSMS on its command line, it boots at the
	// second.
	p.stop(syscall.SIGKILL)
	last = b.Records()[len(b.Records())-1].Seq
	p = startEVSE(t, runArgs(urlA, cp, dir, "--ocpp", "2.0.1")...)
	defer p.stop(os.Interrupt)
	if power := waitCall(t, b, last+1, cp, "BootNotification", 10*time.Second); !strings.Contains(string(power.Frame.Payload), `"reason":"PowerUp"`) {
		t.Errorf("the boot after a restart: %s", power.Frame.Payload)
	}

	// B10.FR.10: the second CSMS gone, the station moves to the first
	// within the run, and registers there anew.
	if st := setVariable(t, b, cp, "OCPPCommCtrlr", "NetworkConfigurationPriority", "1,0"); st != "RebootRequired" {
		t.Fatalf("NetworkConfigurationPriority 1,0: %s", st)
	}
	last = b.Records()[len(b.Records())-1].Seq
	if r := mustCall(t, b, cp, "Reset", `{"type":"Immediate"}`); r["status"] != "Accepted" {
		t.Fatalf("Reset: %v", r)
	}
	waitCall(t, b, last+1, cp, "BootNotification", 10*time.Second)
	lastA := a.Records()[len(a.Records())-1].Seq
	noViolations(t, b)
	b.Close()
	waitCall(t, a, lastA+1, cp, "BootNotification", 15*time.Second)
	noViolations(t, a)
}

// TestD01D02TheLocalListOver201 runs the real binary as a 2.0.1 station
// against the strict test CSMS: SendLocalList Full and Differential
// (D01), GetLocalListVersion (D02), a list kept across a kill -9, and a
// listed token authorized from the list (LocalPreAuthorize).
func TestD01D02TheLocalListOver201(t *testing.T) {
	t.Parallel()
	const cp = "CS-D01"
	s, url := newCSMS(t, csmstest.Options{Subprotocols: []string{csmstest.OCPP201}})
	dir := t.TempDir()
	configure(t, dir, "LocalAuthListEnabled=true", "LocalAuthorizeOffline=true", "LocalPreAuthorize=true")
	p := startEVSE(t, runArgs(url, cp, dir, "--ocpp", "2.0.1")...)
	waitCall(t, s, 0, cp, "BootNotification", 10*time.Second)

	full := `{"versionNumber":3,"updateType":"Full","localAuthorizationList":[` +
		`{"idToken":{"idToken":"LISTED","type":"ISO14443"},"idTokenInfo":{"status":"Accepted"}},` +
		`{"idToken":{"idToken":"GONE","type":"eMAID"},"idTokenInfo":{"status":"Accepted"}}]}`
	if a := mustCall(t, s, cp, "SendLocalList", full); a["status"] != "Accepted" {
		t.Fatalf("SendLocalList Full: %v", a)
	}
	diff := `{"versionNumber":4,"updateType":"Differential","localAuthorizationList":[` +
		`{"idToken":{"idToken":"GONE","type":"eMAID"}},` +
		`{"idToken":{"idToken":"STOLEN","type":"ISO14443"},"idTokenInfo":{"status":"Blocked"}}]}`
	if a := mustCall(t, s, cp, "SendLocalList", diff); a["status"] != "Accepted" {
		t.Fatalf("SendLocalList Differential: %v", a)
	}
	if a := mustCall(t, s, cp, "SendLocalList", diff); a["status"] != "VersionMismatch" {
		t.Errorf("the same Differential again: %v", a)
	}

	// Kept across a kill -9.
	p.stop(syscall.SIGKILL)
	mark := s.Records()[len(s.Records())-1].Seq
	p = startEVSE(t, runArgs(url, cp, dir, "--ocpp", "2.0.1")...)
	defer p.stop(os.Interrupt)
	waitCall(t, s, mark+1, cp, "BootNotification", 10*time.Second)
	if a := mustCall(t, s, cp, "GetLocalListVersion", `{}`); a["versionNumber"] != 4.0 {
		t.Errorf("GetLocalListVersion after a restart: %v", a)
	}

	// C13 with LocalPreAuthorize: a listed token starts at once, without
	// an Authorize.
	base := p.apiURL(t) + "/api/v1"
	mark = s.Records()[len(s.Records())-1].Seq
	apiDo(t, "POST", base+"/connectors/1/plug", "")
	apiDo(t, "POST", base+"/rfid", `{"idTag":"LISTED"}`)
	started := waitCall(t, s, mark, cp, "TransactionEvent", 10*time.Second)
	if !strings.Contains(string(started.Frame.Payload), `"idToken":"LISTED"`) {
		t.Errorf("the listed token's transaction: %s", started.Frame.Payload)
	}
	for _, r := range s.Records() {
		if r.Seq > mark && r.Frame.Action == "Authorize" {
			t.Errorf("Authorize for a listed token: %s", r.Frame.Payload)
		}
	}
	noViolations(t, s)
}

// TestH01H02H04ReservationsOver201 runs the real binary as a 2.0.1
// station: ReserveNow (H01), CancelReservation (H02), and a reservation
// left to expire told with ReservationStatusUpdate (H04).
func TestH01H02H04ReservationsOver201(t *testing.T) {
	t.Parallel()
	const cp = "CS-H01"
	s, p := station201(t, cp, t.TempDir())
	defer p.stop(os.Interrupt)
	reserve := func(id int, in time.Duration) any {
		req := fmt.Sprintf(`{"id":%d,"expiryDateTime":%q,"idToken":{"idToken":"RES-%d","type":"ISO14443"},"evseId":1}`,
			id, time.Now().Add(in).UTC().Format(time.RFC3339), id)
		return mustCall(t, s, cp, "ReserveNow", req)["status"]
	}
	if st := reserve(1, time.Hour); st != "Accepted" {
		t.Fatalf("ReserveNow: %v", st)
	}
	if st := reserve(2, time.Hour); st != "Occupied" {
		t.Errorf("a second reservation of EVSE 1: %v", st)
	}
	if a := mustCall(t, s, cp, "CancelReservation", `{"reservationId":1}`); a["status"] != "Accepted" {
		t.Errorf("CancelReservation: %v", a)
	}
	mark := s.Records()[len(s.Records())-1].Seq
	if st := reserve(3, 2*time.Second); st != "Accepted" {
		t.Fatalf("ReserveNow for 2 s: %v", st)
	}
	expired := waitCall(t, s, mark, cp, "ReservationStatusUpdate", 10*time.Second)
	if !strings.Contains(string(expired.Frame.Payload), `"reservationId":3`) || !strings.Contains(string(expired.Frame.Payload), `"Expired"`) {
		t.Errorf("ReservationStatusUpdate: %s", expired.Frame.Payload)
	}
	noViolations(t, s)
}

// TestK01K08K10SmartChargingOver201 runs the real binary as a 2.0.1
// station: a TxDefaultProfile set over 2.0.1 (K01) limits the session's
// offer, GetCompositeSchedule (K08) reports it, ClearChargingProfile (K10)
// lifts it.
func TestK01K08K10SmartChargingOver201(t *testing.T) {
	t.Parallel()
	const cp = "CS-K01"
	s, p := station201(t, cp, t.TempDir())
	defer p.stop(os.Interrupt)
	base := p.apiURL(t) + "/api/v1"
	profile := `{"evseId":0,"chargingProfile":{"id":7,"stackLevel":1,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Relative",` +
		`"chargingSchedule":[{"id":1,"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":10}]}]}}`
	if a := mustCall(t, s, cp, "SetChargingProfile", profile); a["status"] != "Accepted" {
		t.Fatalf("SetChargingProfile: %v", a)
	}
	apiDo(t, "POST", base+"/connectors/1/plug", "")
	apiDo(t, "POST", base+"/rfid", `{"idTag":"TAG-K"}`)
	waitUntil(t, 10*time.Second, "10 A offered", func() bool { return connectorField(t, base, "offeredA") == 10 })
	// The schedule from the start of this second: 10 A from the
	// transaction's start on (startPeriod 0 or 1).
	a := mustCall(t, s, cp, "GetCompositeSchedule", `{"evseId":1,"duration":600}`)
	sched, _ := a["schedule"].(map[string]any)
	if a["status"] != "Accepted" || sched == nil {
		t.Fatalf("GetCompositeSchedule: %v", a)
	}
	periods := sched["chargingSchedulePeriod"].([]any)
	if last := periods[len(periods)-1].(map[string]any); last["limit"] != 10.0 || last["startPeriod"].(float64) > 1 || len(periods) > 2 {
		t.Errorf("GetCompositeSchedule: %v", periods)
	}
	if a := mustCall(t, s, cp, "ClearChargingProfile", `{"chargingProfileId":7}`); a["status"] != "Accepted" {
		t.Errorf("ClearChargingProfile: %v", a)
	}
	waitUntil(t, 10*time.Second, "the hardware's maximum offered", func() bool { return connectorField(t, base, "offeredA") > 10 })
	noViolations(t, s)
}

// O01–O05 with the real binary: a message set over 2.0.1 is on the
// charger's page as its display, escaped; GetDisplayMessages tells it
// with NotifyDisplayMessages; once cleared, the page shows none.
func TestO01O03O05DisplayMessagesOnTheChargersPage(t *testing.T) {
	t.Parallel()
	const cp = "CS-O01"
	s, p := station201(t, cp, t.TempDir())
	defer p.stop(os.Interrupt)
	set := `{"message":{"id":42,"priority":"InFront","state":"Idle",` +
		`"message":{"format":"UTF8","language":"en","content":"Free <b>today</b> & \"tomorrow\""}}}`
	if a := mustCall(t, s, cp, "SetDisplayMessage", set); a["status"] != "Accepted" {
		t.Fatalf("SetDisplayMessage: %v", a)
	}
	page := func() string {
		t.Helper()
		resp, err := http.Get(p.apiURL(t) + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return string(raw)
	}
	const shown = `<li id="display-42" class="display-message" data-priority="InFront" lang="en">Free &lt;b&gt;today&lt;/b&gt; &amp; &#34;tomorrow&#34;</li>`
	if body := page(); !strings.Contains(body, shown) || strings.Contains(body, "<b>today") {
		t.Errorf("the charger's page does not show the message escaped as its display:\n%s", body)
	}
	if _, st := apiDo(t, "GET", p.apiURL(t)+"/api/v1/status", ""); !strings.Contains(fmt.Sprint(st["display"]), "Free <b>today</b>") {
		t.Errorf("the API's status: display %v", st["display"])
	}
	mark := s.Records()[len(s.Records())-1].Seq
	if a := mustCall(t, s, cp, "GetDisplayMessages", `{"requestId":5,"priority":"InFront"}`); a["status"] != "Accepted" {
		t.Errorf("GetDisplayMessages: %v", a)
	}
	told := waitCall(t, s, mark, cp, "NotifyDisplayMessages", 10*time.Second)
	if !strings.Contains(string(told.Frame.Payload), `"requestId":5`) || !strings.Contains(string(told.Frame.Payload), `"id":42`) {
		t.Errorf("NotifyDisplayMessages: %s", told.Frame.Payload)
	}
	if a := mustCall(t, s, cp, "ClearDisplayMessage", `{"id":42}`); a["status"] != "Accepted" {
		t.Errorf("ClearDisplayMessage: %v", a)
	}
	if body := page(); strings.Contains(body, "display-42") || !strings.Contains(body, `id="display-none"`) {
		t.Errorf("the page after the clear still shows the message")
	}
	noViolations(t, s)
}

// TestN04MonitoringOver201: a monitor set over 2.0.1 on a variable of the
// device model trips when SetVariables changes the variable (NotifyEvent),
// and is kept across a restart (GetMonitoringReport).
func TestN04MonitoringOver201(t *testing.T) {
	t.Parallel()
	const cp = "CS-N04"
	dir := t.TempDir()
	s, url := newCSMS(t, csmstest.Options{Subprotocols: []string{csmstest.OCPP201}})
	p := startEVSE(t, runArgs(url, cp, dir, "--ocpp", "2.0.1")...)
	waitCall(t, s, 0, cp, "BootNotification", 10*time.Second)
	a := mustCall(t, s, cp, "SetVariableMonitoring", `{"setMonitoringData":[{"value":600,"type":"UpperThreshold","severity":4,
		"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}`)
	res, _ := a["setMonitoringResult"].([]any)
	if len(res) != 1 || res[0].(map[string]any)["status"] != "Accepted" {
		t.Fatalf("SetVariableMonitoring: %v", a)
	}
	mark := s.Records()[len(s.Records())-1].Seq
	mustCall(t, s, cp, "SetVariables", `{"setVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"},"attributeValue":"900"}]}`)
	ev := waitCall(t, s, mark, cp, "NotifyEvent", 10*time.Second)
	for _, want := range []string{`"trigger":"Alerting"`, `"actualValue":"900"`, `"eventNotificationType":"CustomMonitor"`, `"HeartbeatInterval"`} {
		if !strings.Contains(string(ev.Frame.Payload), want) {
			t.Errorf("NotifyEvent %s lacks %s", ev.Frame.Payload, want)
		}
	}
	p.stop(os.Interrupt)

	mark = s.Records()[len(s.Records())-1].Seq
	p = startEVSE(t, runArgs(url, cp, dir, "--ocpp", "2.0.1")...)
	defer p.stop(os.Interrupt)
	waitCall(t, s, mark, cp, "BootNotification", 10*time.Second)
	mark = s.Records()[len(s.Records())-1].Seq
	if a := mustCall(t, s, cp, "GetMonitoringReport", `{"requestId":5,"monitoringCriteria":["ThresholdMonitoring"]}`); a["status"] != "Accepted" {
		t.Fatalf("GetMonitoringReport after a restart: %v", a)
	}
	report := waitCall(t, s, mark, cp, "NotifyMonitoringReport", 10*time.Second)
	if !strings.Contains(string(report.Frame.Payload), `"HeartbeatInterval"`) || !strings.Contains(string(report.Frame.Payload), `"UpperThreshold"`) {
		t.Errorf("NotifyMonitoringReport: %s", report.Frame.Payload)
	}
	noViolations(t, s)
}

// station201 starts the real binary as the 2.0.1 station cp on data dir,
// against a test CSMS speaking 2.0.1 only (strict), and waits for its
// BootNotification; the caller stops it.
func station201(t *testing.T, cp, dir string) (*csmstest.Server, *process) {
	t.Helper()
	s, url := newCSMS(t, csmstest.Options{Subprotocols: []string{csmstest.OCPP201}})
	p := startEVSE(t, runArgs(url, cp, dir, "--ocpp", "2.0.1")...)
	waitCall(t, s, 0, cp, "BootNotification", 10*time.Second)
	return s, p
}
