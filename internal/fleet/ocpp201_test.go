package fleet

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evse-dev/evse/internal/csmstest"
)

// TestAGroupSaysWhichOCPPVersionsItOffers: a list, a string and the
// default, read into subprotocols in order.
func TestAGroupSaysWhichOCPPVersionsItOffers(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want Versions
	}{
		{"", Versions{"ocpp1.6"}},
		{"ocpp: [2.0.1, 1.6]", Versions{"ocpp2.0.1", "ocpp1.6"}},
		{`ocpp: "2.0.1,1.6"`, Versions{"ocpp2.0.1", "ocpp1.6"}},
		{"ocpp: 2.0.1", Versions{"ocpp2.0.1"}},
		{"ocpp: [ocpp1.6]", Versions{"ocpp1.6"}},
	} {
		path := filepath.Join(t.TempDir(), "fleet.yaml")
		if err := os.WriteFile(path, []byte("groups:\n- name: a\n  count: 1\n  "+tc.yaml+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := LoadSpec(path)
		if err != nil {
			t.Errorf("%q: %v", tc.yaml, err)
			continue
		}
		if got := s.Groups[0].OCPP; !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, want %v", tc.yaml, got, tc.want)
		}
	}
}

// specOf is busySpec(n) with one group per version list, named after
// them.
func specOf(t *testing.T, n int, versions ...string) Spec {
	t.Helper()
	s := busySpec(t, n, 200)
	g := s.Groups[0]
	s.Groups = nil
	for _, v := range versions {
		g.Name = "g" + strings.NewReplacer(".", "", ",", "-").Replace(v)
		g.ID = g.Name + "-{n}"
		var err error
		if g.OCPP, err = ParseVersions(v); err != nil {
			t.Fatal(err)
		}
		g.Keys = map[string]string{"MeterValueSampleInterval": "1", "MinimumStatusDuration": "0"}
		s.Groups = append(s.Groups, g)
	}
	if err := s.check(""); err != nil {
		t.Fatal(err)
	}
	return s
}

// transactionEvents counts the TransactionEvents of each eventType the
// central system got in 2.0.1, and fails t on any frame its schemas
// refused.
func transactionEvents(t *testing.T, csms *csmstest.Server) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range csms.Records() {
		if r.Invalid != "" {
			t.Errorf("%s %s: invalid: %s", r.ChargePoint, r.Frame.Action, r.Invalid)
		}
		if r.Dir != csmstest.FromChargePoint || r.Frame.Action != "TransactionEvent" || r.Subprotocol != csmstest.OCPP201 {
			continue
		}
		var ev struct {
			EventType string `json:"eventType"`
		}
		if err := json.Unmarshal(r.Frame.Payload, &ev); err == nil {
			out[ev.EventType]++
		}
	}
	return out
}

// actionsOf lists the report's actions to the central system as
// "action version".
func actionsOf(r Report) []string {
	var out []string
	for _, a := range r.Actions {
		if a.Direction == toCSMS {
			out = append(out, a.Action+" "+a.OCPP)
		}
	}
	return out
}

// TestA201GroupBootsChargesAndReports: a group at 2.0.1 against a
// central system that speaks only 2.0.1 boots, the generator's cars
// make sessions (TransactionEvent Started and Ended, valid to the
// schemas), and the report counts them in 2.0.1's actions.
func TestA201GroupBootsChargesAndReports(t *testing.T) {
	const n = 3
	csms, url := newCSMS(t, csmstest.Options{Subprotocols: []string{csmstest.OCPP201}})
	f, stop := runFleet(t, Options{CSMSURL: url, Spec: specOf(t, n, "2.0.1"), DataDir: t.TempDir(), Seed: 3})
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == n })
	waitFor(t, func() bool { return f.stats.sessions.Load() >= n })
	waitFor(t, func() bool { return transactionEvents(t, csms)["Ended"] >= 1 })
	for _, c := range f.Chargers() {
		if sp, _ := csms.Subprotocol(c.ID); sp != csmstest.OCPP201 {
			t.Errorf("%s spoke %q", c.ID, sp)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	events := transactionEvents(t, csms)
	r := f.Report()
	t.Logf("TransactionEvents %v, report: %d sessions, %v", events, r.Sessions, actionsOf(r))
	if int64(events["Started"]) < r.Sessions || r.Sessions < n {
		t.Errorf("%d TransactionEvent Started, %d sessions in the report: want at least %d, and no more sessions than starts", events["Started"], r.Sessions, n)
	}
	if events["Ended"] != events["Started"] {
		t.Errorf("%d transactions ended of %d started (a clean stop ends them all)", events["Ended"], events["Started"])
	}
	actions := actionsOf(r)
	for _, want := range []string{"BootNotification 2.0.1", "TransactionEvent 2.0.1", "StatusNotification 2.0.1"} {
		if !slices.Contains(actions, want) {
			t.Errorf("the report lacks %s: %v", want, actions)
		}
	}
	for _, a := range actions {
		if strings.HasSuffix(a, " 1.6") {
			t.Errorf("the report has %s", a)
		}
	}
}

// TestAMixedFleetSpeaksEachGroupsVersion: one group offering 1.6 only,
// one offering 2.0.1 then 1.6, against a central system speaking both:
// each charge point speaks its group's first version, and both groups'
// sessions are counted, each in its version's actions.
func TestAMixedFleetSpeaksEachGroupsVersion(t *testing.T) {
	const n = 2
	csms, url := newCSMS(t, csmstest.Options{Subprotocols: []string{csmstest.OCPP201, csmstest.OCPP16}})
	f, stop := runFleet(t, Options{CSMSURL: url, Spec: specOf(t, n, "1.6", "2.0.1,1.6"), DataDir: t.TempDir(), Seed: 5})
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == 2*n })
	starts := func() (v16, v201 int) {
		for _, r := range csms.Records() {
			if r.Dir == csmstest.FromChargePoint && r.Frame.Action == "StartTransaction" {
				v16++
			}
		}
		return v16, transactionEvents(t, csms)["Started"]
	}
	waitFor(t, func() bool { a, b := starts(); return a >= n && b >= n })
	for _, c := range f.Chargers() {
		want := csmstest.OCPP16
		if c.Group() == "g201-16" {
			want = csmstest.OCPP201
		}
		if sp, _ := csms.Subprotocol(c.ID); sp != want {
			t.Errorf("%s of group %s spoke %q, want %q", c.ID, c.Group(), sp, want)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	a, b := starts()
	r := f.Report()
	t.Logf("StartTransaction %d, TransactionEvent Started %d, report: %d sessions, %v", a, b, r.Sessions, actionsOf(r))
	if r.Sessions < int64(2*n) || r.Sessions > int64(a+b) {
		t.Errorf("%d sessions in the report; %d + %d started", r.Sessions, a, b)
	}
	actions := actionsOf(r)
	for _, want := range []string{"BootNotification 1.6", "BootNotification 2.0.1", "StartTransaction 1.6", "TransactionEvent 2.0.1"} {
		if !slices.Contains(actions, want) {
			t.Errorf("the report lacks %s: %v", want, actions)
		}
	}
}
