package v201

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/ocpp201"
)

// chargingProfile is a SetChargingProfile payload of one period.
func chargingProfile(evse, id, stack int, purpose, kind, extra string, limit float64) string {
	return fmt.Sprintf(`{"evseId":%d,"chargingProfile":{"id":%d,"stackLevel":%d,"chargingProfilePurpose":%q,"chargingProfileKind":%q%s,`+
		`"chargingSchedule":[{"id":%d,"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":%g}]}]}}`,
		evse, id, stack, purpose, kind, extra, id*10, limit)
}

// setProfile sends SetChargingProfile and returns its status and
// reasonCode.
func setProfile(t *testing.T, r *rig, payload string) string {
	t.Helper()
	a := mustCall(t, r.cp, "SetChargingProfile", payload)
	if info, ok := a["statusInfo"].(map[string]any); ok {
		return status(a) + "/" + fmt.Sprint(info["reasonCode"])
	}
	return status(a)
}

// K01, K08, K09, K10, F01: profiles set (and refused), reported, cleared;
// the composite schedule and the offer follow them; a remote start's
// TxProfile.
func TestK01SetChargingProfileK08CompositeK09ReportK10Clear(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms, r := quietRig(t, map[string]string{"NumberOfConnectors": "2"})
		defer r.stop()
		r.board.Plug(1, sim.EV{})
		mustCall(t, r.cp, "RequestStartTransaction", `{"idToken":{"idToken":"APP","type":"Central"},"remoteStartId":1,"evseId":1,`+
			`"chargingProfile":{"id":50,"stackLevel":0,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative",`+
			`"chargingSchedule":[{"id":1,"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":10}]}]}}`)
		time.Sleep(10 * time.Second)
		evs := txEvents(t, csms)
		if len(evs) == 0 {
			t.Fatal("no transaction")
		}
		tx := evs[0].TransactionInfo.TransactionId
		if a := offered(t, r); a != 10 {
			t.Errorf("offered %v A under the remote start's TxProfile of 10 A", a)
		}

		for _, c := range []struct{ what, payload, want string }{
			{"a station maximum", chargingProfile(0, 1, 0, "ChargingStationMaxProfile", "Absolute", `,"validFrom":"2000-01-01T00:00:00Z"`, 20), "Accepted"},
			{"a default for every EVSE", chargingProfile(0, 2, 1, "TxDefaultProfile", "Absolute", "", 16), "Accepted"},
			{"a TxProfile of the transaction", chargingProfile(1, 3, 2, "TxProfile", "Relative", `,"transactionId":"`+tx+`"`, 8), "Accepted"},
			{"a TxProfile without transactionId", chargingProfile(1, 4, 3, "TxProfile", "Relative", "", 8), "Rejected/TxNotFound"},
			{"a TxProfile of another transaction", chargingProfile(1, 4, 3, "TxProfile", "Relative", `,"transactionId":"EVSE-99"`, 8), "Rejected/InvalidValue"},
			{"a TxProfile where nothing charges", chargingProfile(2, 4, 3, "TxProfile", "Relative", `,"transactionId":"`+tx+`"`, 8), "Rejected/InvalidValue"},
			{"external constraints", chargingProfile(0, 5, 0, "ChargingStationExternalConstraints", "Absolute", "", 8), "Rejected/InvalidProfile"},
			{"another of the same stack level", chargingProfile(0, 6, 1, "TxDefaultProfile", "Absolute", "", 12), "Rejected/DuplicateProfile"},
			{"over ChargeProfileMaxStackLevel", chargingProfile(0, 7, 256, "TxDefaultProfile", "Absolute", "", 12), "Rejected/InvalidValue"},
			{"in W", strings.Replace(chargingProfile(0, 8, 4, "TxDefaultProfile", "Absolute", "", 12), `"A"`, `"W"`, 1), "Rejected/InvalidSchedule"},
			{"the station maximum on an EVSE", chargingProfile(1, 9, 0, "ChargingStationMaxProfile", "Absolute", "", 12), "Rejected/InvalidValue"},
		} {
			if got := setProfile(t, r, c.payload); got != c.want {
				t.Errorf("%s: %s, want %s", c.what, got, c.want)
			}
		}
		time.Sleep(time.Second)
		if a := offered(t, r); a != 8 {
			t.Errorf("offered %v A under the TxProfile of 8 A at the higher stack level", a)
		}

		// K08: the schedule EVSE 1 follows, and the station's.
		a := mustCall(t, r.cp, "GetCompositeSchedule", `{"duration":3600,"evseId":1}`)
		sched, _ := a["schedule"].(map[string]any)
		if status(a) != "Accepted" || sched == nil || fmt.Sprint(sched["chargingSchedulePeriod"].([]any)[0].(map[string]any)["limit"]) != "8" {
			t.Errorf("GetCompositeSchedule of EVSE 1: %v", a)
		}
		if a := mustCall(t, r.cp, "GetCompositeSchedule", `{"duration":3600,"evseId":0,"chargingRateUnit":"W"}`); status(a) != "Rejected" {
			t.Errorf("GetCompositeSchedule in W: %v", a)
		}
		if a := mustCall(t, r.cp, "GetCompositeSchedule", `{"duration":3600,"evseId":7}`); status(a) != "Rejected" {
			t.Errorf("GetCompositeSchedule of an EVSE it has not: %v", a)
		}

		// K09: the profiles, one report per EVSE after the answer.
		if a := mustCall(t, r.cp, "GetChargingProfiles", `{"requestId":5,"chargingProfile":{}}`); status(a) != "Accepted" {
			t.Errorf("GetChargingProfiles: %v", a)
		}
		time.Sleep(time.Second)
		var got []string
		for _, c := range csms.sent("ReportChargingProfiles") {
			rep := decode[ocpp201.ReportChargingProfilesRequest](t, c)
			for _, p := range rep.ChargingProfile {
				got = append(got, fmt.Sprintf("%d:%d/%s/sched%d", rep.EvseId, p.Id, p.ChargingProfilePurpose, p.ChargingSchedule[0].Id))
			}
			if rep.RequestId != 5 || rep.ChargingLimitSource != ocpp201.ChargingLimitSourceCSO {
				t.Errorf("ReportChargingProfiles %+v", rep)
			}
		}
		want := "0:1/ChargingStationMaxProfile/sched10 0:2/TxDefaultProfile/sched20 1:50/TxProfile/sched1 1:3/TxProfile/sched30"
		if strings.Join(got, " ") != want {
			t.Errorf("reported %v, want %s", got, want)
		}
		if a := mustCall(t, r.cp, "GetChargingProfiles", `{"requestId":6,"evseId":2,"chargingProfile":{}}`); status(a) != "NoProfiles" {
			t.Errorf("GetChargingProfiles of EVSE 2: %v", a)
		}

		// K10: by id, by criteria, and none left to clear.
		if a := mustCall(t, r.cp, "ClearChargingProfile", `{"chargingProfileId":3}`); status(a) != "Accepted" {
			t.Errorf("ClearChargingProfile 3: %v", a)
		}
		if a := mustCall(t, r.cp, "ClearChargingProfile", `{"chargingProfileCriteria":{"evseId":0,"chargingProfilePurpose":"TxDefaultProfile"}}`); status(a) != "Accepted" {
			t.Errorf("ClearChargingProfile of the defaults: %v", a)
		}
		if a := mustCall(t, r.cp, "ClearChargingProfile", `{"chargingProfileId":3}`); status(a) != "Unknown" {
			t.Errorf("ClearChargingProfile 3 again: %v", a)
		}
		time.Sleep(time.Second)
		if a := offered(t, r); a != 10 {
			t.Errorf("offered %v A once the 8 A profile is cleared, want the remote start's 10 A", a)
		}
	})
}

// K12/K13 with load management as the external system: a limit under
// what the hardware offers is told with NotifyChargingLimit (source EMS)
// once it has held 2 s on a transaction, and again when it moves by an
// ampere or more; its lifting, and the end of the transaction it
// limited, with ClearedChargingLimit.
func TestK12NotifyChargingLimitAndK13ClearedChargingLimitFromLoadManagement(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms, r := quietRig(t, nil)
		defer r.stop()
		told := func() string {
			var out []string
			for _, c := range csms.sent("") {
				switch c.action {
				case "NotifyChargingLimit":
					n := decode[ocpp201.NotifyChargingLimitRequest](t, c)
					if n.ChargingLimit.ChargingLimitSource != ocpp201.ChargingLimitSourceEMS || n.EvseId == nil {
						t.Errorf("NotifyChargingLimit %+v", n)
					}
					out = append(out, fmt.Sprintf("limit:%g", n.ChargingSchedule[0].ChargingSchedulePeriod[0].Limit))
				case "ClearedChargingLimit":
					out = append(out, "cleared")
				}
			}
			return strings.Join(out, " ")
		}
		r.cp.SetLimits(map[int]float64{1: 10})
		time.Sleep(time.Second)
		if got := told(); got != "" {
			t.Errorf("a limit without a transaction told: %s", got)
		}
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 1)
		time.Sleep(5 * time.Second)
		// Each held past the 2 s it takes to be told, but for 11.5 A: not a
		// move of an ampere from 12, and 9 A: too short.
		for _, l := range []float64{10.4, 12, 11.5, 40, 9, 16} { // 40: over the hardware's 32 A, no limit
			r.cp.SetLimits(map[int]float64{1: l})
			if l == 9 {
				time.Sleep(time.Second)
				continue
			}
			time.Sleep(3 * time.Second)
		}
		if a := offered(t, r); a != 16 {
			t.Errorf("offered %v A under a limit of 16", a)
		}
		r.board.Unplug(1)
		time.Sleep(3 * time.Second)
		if got, want := told(), "limit:10 limit:12 cleared limit:16 cleared"; got != want {
			t.Errorf("told %q, want %q", got, want)
		}
	})
}

// K08: a duration of more seconds than a time.Duration holds is a week,
// not a negative schedule.
func TestK08AHugeDurationIsAWeek(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, r := quietRig(t, nil)
		defer r.stop()
		a := mustCall(t, r.cp, "GetCompositeSchedule", `{"duration":9999999999,"evseId":1}`)
		sched, _ := a["schedule"].(map[string]any)
		if status(a) != "Accepted" || sched == nil || sched["duration"] != float64(7*24*3600) {
			t.Errorf("GetCompositeSchedule of 9999999999 s: %v", a)
		}
	})
}
