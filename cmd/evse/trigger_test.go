package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/ocppj"
)

// TestTriggerMessageEveryMessage asks the real binary for each message
// TriggerMessage names, with and without connectorId, and checks the
// answer and that the message follows it (for the right connector);
// a connector that does not exist is Rejected.
func TestTriggerMessageEveryMessage(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	p := startEVSE(t, runArgs(url, "CP-TRIGGER", t.TempDir())...)
	base := p.apiURL(t) + "/api/v1"
	waitCall(t, s, 0, "CP-TRIGGER", "StatusNotification", 10*time.Second)
	// A session, so that MeterValues has something to say.
	apiDo(t, "POST", base+"/connectors/1/plug", `{}`)
	apiDo(t, "POST", base+"/rfid", `{"idTag":"TRIGGER-TAG"}`)
	waitCall(t, s, 0, "CP-TRIGGER", "StartTransaction", 10*time.Second)
	time.Sleep(time.Second)
	for _, c := range []struct {
		payload, status, action string
		connector               float64 // of the message that follows; -1: none; -2: each connector
	}{
		{`{"requestedMessage":"BootNotification"}`, "Accepted", "BootNotification", -1},
		{`{"requestedMessage":"Heartbeat"}`, "Accepted", "Heartbeat", -1},
		{`{"requestedMessage":"DiagnosticsStatusNotification"}`, "Accepted", "DiagnosticsStatusNotification", -1},
		{`{"requestedMessage":"FirmwareStatusNotification"}`, "Accepted", "FirmwareStatusNotification", -1},
		{`{"requestedMessage":"StatusNotification","connectorId":1}`, "Accepted", "StatusNotification", 1},
		{`{"requestedMessage":"StatusNotification","connectorId":0}`, "Accepted", "StatusNotification", 0},
		{`{"requestedMessage":"StatusNotification"}`, "Accepted", "StatusNotification", -2}, // every connector
		{`{"requestedMessage":"MeterValues","connectorId":1}`, "Accepted", "MeterValues", 1},
		{`{"requestedMessage":"MeterValues"}`, "Accepted", "MeterValues", 1},
		{`{"requestedMessage":"StatusNotification","connectorId":2}`, "Rejected", "", -1},
		{`{"requestedMessage":"MeterValues","connectorId":9}`, "Rejected", "", -1},
	} {
		mark := len(s.Records())
		a, err := csmsCall(t, s, "CP-TRIGGER", "TriggerMessage", c.payload)
		if err != nil || a["status"] != c.status {
			t.Errorf("%s: %v, %v; want %s", c.payload, a, err, c.status)
			continue
		}
		if c.action == "" {
			time.Sleep(300 * time.Millisecond)
			for _, r := range s.Records()[mark:] {
				if r.Dir == csmstest.FromChargePoint && r.Frame.Type == ocppj.Call && r.Frame.Action != "Heartbeat" {
					t.Errorf("%s: Rejected, yet %s followed", c.payload, r.Frame.Action)
				}
			}
			continue
		}
		if c.connector == -2 {
			for _, n := range []string{"0", "1"} {
				if _, err := s.WaitFor(ctxFor(t, 5*time.Second), mark, func(r csmstest.Record) bool {
					return csmstest.IsCall("CP-TRIGGER", "StatusNotification")(r) &&
						strings.Contains(string(r.Frame.Payload), `"connectorId":`+n+`,`)
				}); err != nil {
					t.Errorf("%s: no StatusNotification for connector %s: %v", c.payload, n, err)
				}
			}
			continue
		}
		r := waitCall(t, s, mark, "CP-TRIGGER", c.action, 5*time.Second)
		if c.connector >= 0 {
			var body map[string]any
			json.Unmarshal(r.Frame.Payload, &body)
			if body["connectorId"] != c.connector {
				t.Errorf("%s: %s for connector %v, want %v", c.payload, c.action, body["connectorId"], c.connector)
			}
		}
	}
	noViolations(t, s)
}
