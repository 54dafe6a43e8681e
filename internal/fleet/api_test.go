package fleet

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTheFleetAPIListsDrivesAndMeasures: list and filter charge points,
// drive one as evse run's API does, ask for a fault, read the metrics.
func TestTheFleetAPIListsDrivesAndMeasures(t *testing.T) {
	const n = 30
	_, url := newLedger(t)
	spec, err := Simple(n, "A-")
	if err != nil {
		t.Fatal(err)
	}
	spec.Ramp.Rate = 1000
	f, stop := runFleet(t, Options{CSMSURL: url, Spec: spec, DataDir: t.TempDir()})
	defer stop()
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == n })
	srv := httptest.NewServer(f.Handler(nil))
	defer srv.Close()
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}

	code, body := call("GET", "/api/v1/chargers?state=accepted&offset=10&limit=5", "")
	var page struct {
		Total    int           `json:"total"`
		Chargers []ChargerInfo `json:"chargers"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil || code != 200 {
		t.Fatalf("list: %d %s", code, body)
	}
	if page.Total != n || len(page.Chargers) != 5 || page.Chargers[0].ID != "A-00011" {
		t.Errorf("list: total %d, %d on the page from %v; want %d, 5 from A-00011", page.Total, len(page.Chargers), page.Chargers, n)
	}
	if code, body := call("GET", "/api/v1/chargers?state=failing", ""); code != 200 || !strings.Contains(body, `"total":0`) {
		t.Errorf("filter by failing: %d %s", code, body)
	}
	if code, _ := call("GET", "/api/v1/chargers?limit=5000", ""); code != 400 {
		t.Errorf("limit 5000: %d, want 400", code)
	}

	if code, body := call("POST", "/api/v1/chargers/A-00003/connectors/1/plug", `{"maxCurrent":16}`); code != 200 {
		t.Fatalf("plug: %d %s", code, body)
	}
	waitFor(t, func() bool {
		_, body := call("GET", "/api/v1/chargers/A-00003/status", "")
		return strings.Contains(body, "Preparing")
	})
	if code, _ := call("GET", "/api/v1/chargers/NOPE/status", ""); code != 404 {
		t.Errorf("an unknown charge point: %d, want 404", code)
	}
	if code, body := call("PUT", "/api/v1/chargers/A-00003/config/HeartbeatInterval", `{"value":"90"}`); code != 200 {
		t.Errorf("a key: %d %s", code, body)
	}
	c, _ := f.Charger("A-00003")
	if got := c.settings.Snapshot().HeartbeatInterval; got != 90 {
		t.Errorf("HeartbeatInterval %d after the API set it to 90", got)
	}

	if code, body := call("POST", "/api/v1/faults", `{"kind":"drop-links","ids":["A-00001","A-00002"]}`); code != 200 || !strings.Contains(body, `"chargers":2`) {
		t.Errorf("fault: %d %s", code, body)
	}
	if code, _ := call("POST", "/api/v1/faults", `{"kind":"meteor"}`); code != 400 {
		t.Errorf("an unknown fault: %d, want 400", code)
	}
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == n })

	_, metrics := call("GET", "/metrics", "")
	for _, want := range []string{
		`evse_fleet_chargers{state="accepted"} 30`,
		`evse_fleet_messages_total{action="BootNotification",direction="to_csms",ocpp="1.6"}`,
		`evse_fleet_csms_answer_seconds_bucket{action="StatusNotification"`,
		`evse_fleet_connection_attempts_total`,
		`evse_fleet_reconnects_total 2`,
		`evse_fleet_journal_depth 0`,
		`evse_fleet_sessions_total 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestActionsAreCountedInBoundedMemory: a central system that sends
// ever new action names cannot grow the counts or the metrics' labels
// past maxActions.
func TestActionsAreCountedInBoundedMemory(t *testing.T) {
	s := newStats()
	for i := range 5000 {
		s.received("Action"+strings.Repeat("x", i%7)+string(rune('A'+i%26))+strings.Repeat("y", i), "1.6", false)
	}
	if n := len(s.actions); n > maxActions+1 {
		t.Errorf("%d actions kept", n)
	}
	families, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range families {
		if n := len(fam.GetMetric()); n > maxActions+1 {
			t.Errorf("%s has %d series", fam.GetName(), n)
		}
	}
}
