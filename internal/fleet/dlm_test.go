package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/hw/sim"
)

// TestADLMGroupSharesItsSite runs a group as one DLM site, a master and
// two slaves over TCP on loopback, on 20 A a phase: with a car at each,
// every one is offered a share and together they never exceed 20 A. When
// the master loses its power, its slaves fall back to
// DlmDisconnectedLimit.
func TestADLMGroupSharesItsSite(t *testing.T) {
	t.Parallel()
	_, url := newLedger(t)
	spec := Spec{Ramp: Ramp{Rate: 1000}, Groups: []Group{{Name: "site", Count: 3, DLM: true,
		Keys: map[string]string{"FreeCharging": "1", "FreeChargingMode": "4",
			"DlmPhase1Limit": "20", "DlmPhase2Limit": "20", "DlmPhase3Limit": "20",
			"DlmOperatorPhase1Limit": "20", "DlmOperatorPhase2Limit": "20", "DlmOperatorPhase3Limit": "20",
			"DlmDisconnectedLimit": "8"}}}}
	if err := spec.check(""); err != nil {
		t.Fatal(err)
	}
	f, stop := runFleet(t, Options{CSMSURL: url, Spec: spec, DataDir: t.TempDir(), Seed: 2})
	defer stop()
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == 3 })
	for _, c := range f.Chargers() {
		if err := c.board.Plug(1, sim.EV{MaxCurrent: 16}); err != nil {
			t.Fatal(err)
		}
	}
	offers := func() (each []float64, sum float64) {
		for _, c := range f.Chargers() {
			s, err := c.board.Snapshot(1)
			if err != nil {
				t.Fatal(err)
			}
			each = append(each, s.Offered)
			sum += s.Offered
		}
		return each, sum
	}
	waitFor(t, func() bool {
		each, _ := offers()
		for _, o := range each {
			if o < 6 {
				return false
			}
		}
		return true
	})
	for range 20 {
		if each, sum := offers(); sum > 20 {
			t.Fatalf("offers %v: %g A on a 20 A site", each, sum)
		}
		time.Sleep(50 * time.Millisecond)
	}
	master, _ := f.Charger("site-00001")
	state, _ := master.settings.Get("DlmState")
	t.Logf("master: %s", state.Value)
	if _, err := f.Apply(Fault{Kind: PowerCut, IDs: []string{"site-00001"}, For: Duration(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		each, _ := offers()
		return each[1] == 8 && each[2] == 8
	})
	slave, _ := f.Charger("site-00002")
	state, _ = slave.settings.Get("DlmState")
	t.Logf("a slave without its master: %s", state.Value)
}

// TestAChargerOfTheFleetObeysAChargingProfile: the central system limits
// one charge point of a fleet to 10 A; its car is offered 10 A and, once
// it has followed, draws no more, which MeterValues show.
func TestAChargerOfTheFleetObeysAChargingProfile(t *testing.T) {
	t.Parallel()
	csms, url := newCSMS(t, csmstest.Options{})
	spec := Spec{Ramp: Ramp{Rate: 1000}, Groups: []Group{{Name: "p", Count: 2,
		Keys: map[string]string{"FreeCharging": "1", "FreeChargingMode": "4", "MeterValueSampleInterval": "1",
			"MeterValuesSampledData": "Energy.Active.Import.Register,Current.Import"}}}}
	if err := spec.check(""); err != nil {
		t.Fatal(err)
	}
	f, stop := runFleet(t, Options{CSMSURL: url, Spec: spec, DataDir: t.TempDir()})
	defer stop()
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	profile := `{"connectorId":0,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile",
		"chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A","startSchedule":"2020-01-01T00:00:00Z",
		"chargingSchedulePeriod":[{"startPeriod":0,"limit":10}]}}}`
	answer, err := csms.Call(ctx, "p-00001", "SetChargingProfile", json.RawMessage(profile))
	if err != nil || !strings.Contains(string(answer), "Accepted") {
		t.Fatalf("SetChargingProfile: %s, %v", answer, err)
	}
	limited, _ := f.Charger("p-00001")
	free, _ := f.Charger("p-00002")
	for _, c := range []*Charger{limited, free} {
		if err := c.board.Plug(1, sim.EV{MaxCurrent: 32, ResponseDelayMs: 100}); err != nil {
			t.Fatal(err)
		}
	}
	mark := len(csms.Records())
	waitFor(t, func() bool {
		s, _ := limited.board.Snapshot(1)
		return s.Offered == 10 && s.Meter.Current[0] > 9 && s.Meter.Current[0] <= 10
	})
	s, _ := free.board.Snapshot(1)
	if s.Offered != 32 {
		t.Errorf("the charge point without a profile offers %g A, want 32", s.Offered)
	}
	rec, err := csms.WaitFor(ctx, mark, func(r csmstest.Record) bool {
		return r.ChargePoint == "p-00001" && r.Frame.Action == "MeterValues" && r.Dir == csmstest.FromChargePoint &&
			strings.Contains(string(r.Frame.Payload), `"Current.Import"`)
	})
	if err != nil {
		t.Fatal(err)
	}
	var mv struct {
		MeterValue []struct {
			SampledValue []struct {
				Value     string `json:"value"`
				Measurand string `json:"measurand"`
			} `json:"sampledValue"`
		} `json:"meterValue"`
	}
	json.Unmarshal(rec.Frame.Payload, &mv)
	for _, v := range mv.MeterValue {
		for _, sv := range v.SampledValue {
			var a float64
			if _, err := fmt.Sscan(sv.Value, &a); sv.Measurand == "Current.Import" && (err != nil || a > 10) {
				t.Errorf("MeterValues report %s A under a 10 A profile", sv.Value)
			}
		}
	}
}
