package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// TestLocalAPIDrivesASession plugs a car in and presents a tag through
// the local API of the real binary, and watches the session on both sides.
func TestLocalAPIDrivesASession(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	p := startEVSE(t, runArgs(url, "CP-API", t.TempDir())...)
	base := p.apiURL(t) + "/api/v1"
	waitCall(t, s, 0, "CP-API", "StatusNotification", 10*time.Second)

	code, body := apiDo(t, "POST", base+"/connectors/1/plug", `{"phases":1,"maxCurrent":16,"capacityWh":40000,"socPercent":30}`)
	if code != 200 || body["pilot"] != "B" {
		t.Fatalf("plug: %d %v", code, body)
	}
	if code, _ := apiDo(t, "POST", base+"/rfid", `{"idTag":"CARD-1"}`); code != 202 {
		t.Fatalf("rfid: %d", code)
	}
	start := waitCall(t, s, 0, "CP-API", "StartTransaction", 10*time.Second)
	if !strings.Contains(string(start.Frame.Payload), `"idTag":"CARD-1"`) {
		t.Errorf("StartTransaction %s", start.Frame.Payload)
	}
	if auth := waitCall(t, s, 0, "CP-API", "Authorize", time.Second); auth.Seq > start.Seq {
		t.Error("Authorize after StartTransaction")
	}
	// The status shows the session.
	var charging map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, st := apiDo(t, "GET", base+"/status", "")
		conns, _ := st["connectors"].([]any)
		if len(conns) == 2 {
			c1 := conns[1].(map[string]any)
			if c1["status"] == "Charging" && c1["transaction"] != nil {
				if cur, _ := c1["currentA"].([]any); len(cur) == 3 && cur[0].(float64) == 16 {
					charging = st
					break
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if charging == nil {
		_, st := apiDo(t, "GET", base+"/status", "")
		t.Fatalf("status never showed the EV charging 16 A on L1: %v", st)
	}
	if charging["registration"] != "Accepted" || charging["connected"] != true {
		t.Errorf("status %v", charging)
	}
	tx := charging["connectors"].([]any)[1].(map[string]any)["transaction"].(map[string]any)
	if tx["idTag"] != "CARD-1" || tx["id"].(float64) < 1 {
		t.Errorf("transaction %v", tx)
	}
	code, _ = apiDo(t, "POST", base+"/connectors/1/unplug", "")
	if code != 200 {
		t.Fatalf("unplug: %d", code)
	}
	stop := waitCall(t, s, start.Seq, "CP-API", "StopTransaction", 10*time.Second)
	if !strings.Contains(string(stop.Frame.Payload), `"reason":"EVDisconnected"`) {
		t.Errorf("StopTransaction %s", stop.Frame.Payload)
	}
	// The emergency stop button.
	apiDo(t, "POST", base+"/connectors/1/plug", "")
	apiDo(t, "POST", base+"/rfid", `{"idTag":"CARD-1"}`)
	start2 := waitCall(t, s, stop.Seq, "CP-API", "StartTransaction", 10*time.Second)
	if code, _ := apiDo(t, "POST", base+"/emergency-stop", ""); code != 200 {
		t.Fatalf("emergency stop: %d", code)
	}
	stop = waitCall(t, s, start2.Seq, "CP-API", "StopTransaction", 10*time.Second)
	if !strings.Contains(string(stop.Frame.Payload), `"reason":"EmergencyStop"`) {
		t.Errorf("StopTransaction %s", stop.Frame.Payload)
	}
	noViolations(t, s)
}

func TestLocalAPIConfigAndBadRequests(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	p := startEVSE(t, runArgs(url, "CP-API2", t.TempDir())...)
	base := p.apiURL(t) + "/api/v1"
	waitCall(t, s, 0, "CP-API2", "StatusNotification", 10*time.Second)

	// The installer sets a read-only key through the API; the central
	// system sees it.
	code, body := apiDo(t, "PUT", base+"/config/GetConfigurationMaxKeys", `{"value":"20"}`)
	if code != 200 || body["value"] != "20" || body["takesEffect"] != "immediate" {
		t.Fatalf("PUT: %d %v", code, body)
	}
	kv := keyValues(t, mustCall(t, s, "CP-API2", "GetConfiguration", `{"key":["GetConfigurationMaxKeys","ConnectionTimeOut"]}`))
	if kv["GetConfigurationMaxKeys"]["value"] != "20" {
		t.Errorf("over OCPP after the installer's change: %v", kv)
	}
	code, body = apiDo(t, "PUT", base+"/config/DlmMode", `{"value":"DLM Master (Standalone)"}`)
	if code != 200 || body["value"] != "2" || body["takesEffect"] != "reboot" {
		t.Errorf("reboot key: %d %v", code, body)
	}
	req, _ := http.NewRequest("GET", base+"/config", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var keys []map[string]any
	json.NewDecoder(resp.Body).Decode(&keys)
	resp.Body.Close()
	if want := catalogueSize(t); len(keys) != want {
		t.Errorf("GET /config lists %d keys, the catalogue has %d", len(keys), want)
	}
	for _, c := range []struct {
		method, path, body string
		code               int
	}{
		{"PUT", "/config/ConnectionTimeOut", `{"value":"5"}`, 400},
		{"PUT", "/config/ConnectionTimeOut", `{"value":5}`, 400},
		{"PUT", "/config/ConnectionTimeOut", `{}`, 400},
		{"PUT", "/config/NoSuchKey", `{"value":"1"}`, 404},
		{"PUT", "/config/DlmState", `{"value":"x"}`, 400},
		{"GET", "/config/NoSuchKey", ``, 404},
		{"GET", "/connectors/1", ``, 200},
		{"GET", "/connectors/2", ``, 404},
		{"POST", "/connectors/2/plug", `{}`, 404},
		{"POST", "/connectors/x/plug", `{}`, 404},
		{"POST", "/connectors/1/plug", `{"phases":2}`, 400},
		{"POST", "/connectors/1/plug", `{"wheels":4}`, 400},
		{"POST", "/connectors/1/unplug", ``, 409},
		{"POST", "/connectors/1/fault", `{"errorCode":"NoError"}`, 400},
		{"POST", "/rfid", `{"idTag":""}`, 400},
		{"POST", "/rfid", `{"idTag":"ABCDEFGHIJKLMNOPQRSTUVWXYZ"}`, 400},
		{"POST", "/rfid", `{"idTag":"A","connector":9}`, 404},
		{"POST", "/inputs/3", `{"high":true}`, 404},
		{"POST", "/inputs/1", `{}`, 400},
		{"DELETE", "/status", ``, 405},
	} {
		if code, body := apiDo(t, c.method, base+c.path, c.body); code != c.code {
			t.Errorf("%s %s %s: %d %v, want %d", c.method, c.path, c.body, code, body, c.code)
		}
	}
	if v := keyValues(t, mustCall(t, s, "CP-API2", "GetConfiguration", `{"key":["ConnectionTimeOut"]}`))["ConnectionTimeOut"]["value"]; v != "45" {
		t.Errorf("a refused PUT changed ConnectionTimeOut to %v", v)
	}
	// A fault shows as Faulted at the central system, and clears.
	if code, _ := apiDo(t, "POST", base+"/connectors/1/fault", `{"errorCode":"GroundFailure"}`); code != 200 {
		t.Fatal(code)
	}
	r := waitStatus(t, s, 0, "CP-API2", 1, "Faulted")
	if !strings.Contains(string(r.Frame.Payload), `"errorCode":"GroundFailure"`) {
		t.Errorf("fault status %s", r.Frame.Payload)
	}
	apiDo(t, "POST", base+"/connectors/1/clear", "")
	waitStatus(t, s, r.Seq, "CP-API2", 1, "Available")
	if code, body := apiDo(t, "POST", base+"/inputs/1", `{"high":true}`); code != 200 || body["high"] != true {
		t.Errorf("input: %d %v", code, body)
	}
	noViolations(t, s)
}

// waitStatus waits for a StatusNotification of a connector with a status,
// recorded at from or later.
func waitStatus(t *testing.T, s *csmstest.Server, from int, cp string, connector int, status string) csmstest.Record {
	t.Helper()
	r, err := s.WaitFor(ctxFor(t, 10*time.Second), from, func(r csmstest.Record) bool {
		p := string(r.Frame.Payload)
		return csmstest.IsCall(cp, "StatusNotification")(r) &&
			strings.Contains(p, `"connectorId":`+itoa(connector)+`,`) && strings.Contains(p, `"status":"`+status+`"`)
	})
	if err != nil {
		t.Fatalf("no StatusNotification %s for connector %d: %v", status, connector, err)
	}
	return r
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
