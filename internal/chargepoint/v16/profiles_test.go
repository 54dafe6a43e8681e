package v16

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/smartcharging"
)

// profileJSON builds a csChargingProfiles object; periods are
// "seconds:limit" or "seconds:limit:phases"; extra is spliced in (for
// validFrom, transactionId and the like).
func profileJSON(id, level int, purpose, kind string, start time.Time, extra string, periods ...string) string {
	var ps []string
	for _, p := range periods {
		f := strings.Split(p, ":")
		item := fmt.Sprintf(`{"startPeriod":%s,"limit":%s`, f[0], f[1])
		if len(f) == 3 {
			item += fmt.Sprintf(`,"numberPhases":%s`, f[2])
		}
		ps = append(ps, item+"}")
	}
	startSchedule := ""
	if !start.IsZero() {
		startSchedule = fmt.Sprintf(`"startSchedule":%q,`, start.UTC().Format(time.RFC3339Nano))
	}
	return fmt.Sprintf(`{"chargingProfileId":%d,"stackLevel":%d,"chargingProfilePurpose":%q,"chargingProfileKind":%q,%s"chargingSchedule":{%s"chargingRateUnit":"A","chargingSchedulePeriod":[%s]}}`,
		id, level, purpose, kind, extra, startSchedule, strings.Join(ps, ","))
}

func setProfile(t *testing.T, cp *ChargePoint, connector int, profile string) string {
	t.Helper()
	out, err := call(t, cp, "SetChargingProfile", fmt.Sprintf(`{"connectorId":%d,"csChargingProfiles":%s}`, connector, profile))
	if err != nil {
		t.Fatalf("SetChargingProfile: %v", err)
	}
	var r ocpp16.SetChargingProfileResponse
	json.Unmarshal([]byte(out), &r)
	return string(r.Status)
}

func composite(t *testing.T, cp *ChargePoint, req string) ocpp16.GetCompositeScheduleResponse {
	t.Helper()
	out, err := call(t, cp, "GetCompositeSchedule", req)
	if err != nil {
		t.Fatalf("GetCompositeSchedule: %v", err)
	}
	var r ocpp16.GetCompositeScheduleResponse
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// periodsOf writes a composite schedule as "start=limit" items ("/1ph"
// for one phase).
func periodsOf(r ocpp16.GetCompositeScheduleResponse) string {
	if r.ChargingSchedule == nil {
		return string(r.Status)
	}
	var out []string
	for _, p := range r.ChargingSchedule.ChargingSchedulePeriod {
		s := fmt.Sprintf("%d=%g", p.StartPeriod, p.Limit)
		if p.NumberPhases != nil {
			s += fmt.Sprintf("/%dph", *p.NumberPhases)
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func manyPeriods(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%d:16", i*60))
	}
	return out
}

// TestSetChargingProfileRejectsWhatTheChargePointCannotKeep: every
// rejection the appendix's limits and OCPP's rules imply, each changing
// nothing.
func TestSetChargingProfileRejectsWhatTheChargePointCannotKeep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"NumberOfConnectors": "2"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		now := time.Now()
		def := func(id, level int, periods ...string) string {
			return profileJSON(id, level, "TxDefaultProfile", "Absolute", now, "", periods...)
		}
		if got := setProfile(t, r.cp, 1, def(1, 0, "0:16")); got != "Accepted" {
			t.Fatalf("a plain TxDefaultProfile: %s", got)
		}
		watts := strings.Replace(def(2, 1, "0:16"), `"chargingRateUnit":"A"`, `"chargingRateUnit":"W"`, 1)
		for _, c := range []struct {
			name      string
			connector int
			profile   string
		}{
			{"a rate in W", 1, watts},
			{"stack level 256", 1, def(2, 256, "0:16")},
			{"256 periods", 1, def(2, 1, manyPeriods(256)...)},
			{"a connector that does not exist", 3, def(2, 1, "0:16")},
			{"a ChargePointMaxProfile on a connector", 1, profileJSON(2, 0, "ChargePointMaxProfile", "Absolute", now, "", "0:16")},
			{"a TxProfile on connector 0", 0, profileJSON(2, 0, "TxProfile", "Absolute", now, "", "0:16")},
			{"a TxProfile without a transaction", 1, profileJSON(2, 0, "TxProfile", "Absolute", now, "", "0:16")},
			{"a Recurring profile without recurrencyKind", 1, profileJSON(2, 1, "TxDefaultProfile", "Recurring", now, "", "0:16")},
			{"periods out of order", 1, def(2, 1, "60:16", "0:10")},
			{"a startPeriod past 2^31 s", 1, def(2, 1, "0:10", "9300000000:20")},
			{"transactionId on a default", 1, profileJSON(2, 1, "TxDefaultProfile", "Absolute", now, `"transactionId":5,`, "0:16")},
			{"a startSchedule in 1900", 1, profileJSON(2, 1, "TxDefaultProfile", "Absolute", time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), "", "0:16")},
			{"validTo not after validFrom", 1, profileJSON(2, 1, "TxDefaultProfile", "Absolute", now,
				fmt.Sprintf(`"validFrom":%q,"validTo":%q,`, now.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)), "0:16")},
		} {
			if got := setProfile(t, r.cp, c.connector, c.profile); got != "Rejected" {
				t.Errorf("%s: %s, want Rejected", c.name, got)
			}
		}
		if got := periodsOf(composite(t, r.cp, `{"connectorId":1,"duration":60}`)); got != "0=16" {
			t.Errorf("after the rejections: %s, want the first profile's 16 A alone", got)
		}
		if got := setProfile(t, r.cp, 1, def(3, 255, manyPeriods(255)...)); got != "Accepted" {
			t.Errorf("stack level 255 with 255 periods: %s", got)
		}
		// MaxChargingProfilesInstalled (255): the 256th is rejected, a
		// replacement still goes in.
		for id := 4; id <= 255; id++ {
			if got := setProfile(t, r.cp, 2, def(id, id-4, "0:20")); got != "Accepted" {
				t.Fatalf("profile %d: %s", id, got)
			}
		}
		// 1 + 1 + 252 installed: one more fits, then the limit holds.
		if got := setProfile(t, r.cp, 2, def(256, 254, "0:20")); got != "Accepted" {
			t.Errorf("the 255th profile: %s", got)
		}
		if got := setProfile(t, r.cp, 1, def(300, 7, "0:20")); got != "Rejected" {
			t.Errorf("a 256th profile: %s", got)
		}
		if got := setProfile(t, r.cp, 2, def(301, 254, "0:24")); got != "Accepted" {
			t.Errorf("replacing connector 2's stack level 254 (a new id) at the limit: %s", got)
		}
		if got := periodsOf(composite(t, r.cp, `{"connectorId":2,"duration":60}`)); got != "0=24" {
			t.Errorf("connector 2 after the replacement: %s, want the new 24 A", got)
		}
		if got := setProfile(t, r.cp, 1, def(1, 0, "0:12")); got != "Accepted" {
			t.Errorf("replacing profile 1 by id at the limit: %s", got)
		}
	})
}

// TestTheOfferChangesExactlyAtPeriodBoundaries: a schedule's periods
// reach the PWM offer at their first instant, under the load-management
// cap and the hardware maximum; a limit under the schedule's
// minChargingRate pauses.
func TestTheOfferChangesExactlyAtPeriodBoundaries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"FreeCharging": "1"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		r.board.Plug(1, sim.EV{Phases: 3, MaxCurrent: 32, CapacityWh: 80000})
		time.Sleep(time.Second)
		t0 := time.Now()
		p := profileJSON(1, 0, "TxDefaultProfile", "Absolute", t0, "", "0:10", "60:16", "120:40", "180:8")
		if got := setProfile(t, r.cp, 1, p); got != "Accepted" {
			t.Fatal(got)
		}
		synctest.Wait()
		applied := func() float64 { return r.cp.Loads()[0].Applied }
		for _, c := range []struct {
			at   time.Duration
			want float64
		}{
			{0, 10}, {60*time.Second - time.Millisecond, 10}, {60 * time.Second, 16},
			{120*time.Second - time.Millisecond, 16}, {120 * time.Second, 32}, // the hardware's 32 A
			{180 * time.Second, 8},
		} {
			time.Sleep(time.Until(t0.Add(c.at)))
			synctest.Wait()
			if got := applied(); got != c.want {
				t.Errorf("at %v: offer %g, want %g", c.at, got, c.want)
			}
		}
		r.cp.SetLimits(map[int]float64{1: 7})
		synctest.Wait()
		if got := applied(); got != 7 {
			t.Errorf("load management's 7 A under the schedule's 8: %g", got)
		}
		r.cp.SetLimits(map[int]float64{1: -1})
		withMin := strings.Replace(profileJSON(2, 1, "TxDefaultProfile", "Absolute", t0, "", "0:8"),
			`"chargingRateUnit"`, `"minChargingRate":10,"chargingRateUnit"`, 1)
		if got := setProfile(t, r.cp, 1, withMin); got != "Accepted" {
			t.Fatal(got)
		}
		synctest.Wait()
		if got := applied(); got != 0 {
			t.Errorf("8 A under a minChargingRate of 10: offer %g, want a pause", got)
		}
		withMin = strings.Replace(withMin, `"limit":8`, `"limit":16`, 1)
		setProfile(t, r.cp, 1, withMin)
		r.cp.SetLimits(map[int]float64{1: 9})
		synctest.Wait()
		if got := applied(); got != 0 {
			t.Errorf("a 9 A share under a minChargingRate of 10: offer %g, want a pause", got)
		}
		r.cp.SetLimits(map[int]float64{1: 12})
		synctest.Wait()
		if got := applied(); got != 12 {
			t.Errorf("a 12 A share over a minChargingRate of 10: offer %g", got)
		}
	})
}

// TestTxProfilesBelongToTheirTransaction: a TxProfile needs the
// connector's transaction (and its id, when named), overrides the
// defaults while it runs, and is gone when it ends; the profile of a
// RemoteStartTransaction applies to the transaction it starts.
func TestTxProfilesBelongToTheirTransaction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"AuthorizeRemoteTxRequests": "false"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		now := time.Now()
		setProfile(t, r.cp, 0, profileJSON(1, 0, "TxDefaultProfile", "Absolute", now, "", "0:20"))
		rs := fmt.Sprintf(`{"connectorId":1,"idTag":"TAG-R","chargingProfile":%s}`,
			profileJSON(7, 0, "TxProfile", "Relative", time.Time{}, "", "0:10", "600:14"))
		if out, _ := call(t, r.cp, "RemoteStartTransaction", rs); out != `{"status":"Accepted"}` {
			t.Fatalf("RemoteStartTransaction with a TxProfile: %s", out)
		}
		r.board.Plug(1, sim.EV{Phases: 3, MaxCurrent: 32, CapacityWh: 80000})
		time.Sleep(time.Second)
		if got := r.cp.Loads()[0].Applied; got != 10 {
			t.Fatalf("the remote start's TxProfile: %g, want 10", got)
		}
		time.Sleep(10 * time.Minute)
		if got := r.cp.Loads()[0].Applied; got != 14 {
			t.Fatalf("10 min into the transaction: %g, want 14", got)
		}
		txID := startsOf(t, csms)
		if len(txID) != 1 {
			t.Fatalf("starts %v", txID)
		}
		wrong := profileJSON(8, 1, "TxProfile", "Absolute", now, `"transactionId":999,`, "0:6")
		if got := setProfile(t, r.cp, 1, wrong); got != "Rejected" {
			t.Errorf("a TxProfile for another transaction: %s", got)
		}
		right := profileJSON(8, 1, "TxProfile", "Absolute", now, `"transactionId":101,`, "0:12")
		if got := setProfile(t, r.cp, 1, right); got != "Accepted" {
			t.Errorf("a TxProfile for the running transaction 101: %s", got)
		}
		synctest.Wait()
		if got := r.cp.Loads()[0].Applied; got != 12 {
			t.Errorf("the higher TxProfile: %g, want 12", got)
		}
		r.board.Unplug(1)
		time.Sleep(time.Second)
		if got := periodsOf(composite(t, r.cp, `{"connectorId":1,"duration":60}`)); got != "0=20" {
			t.Errorf("after the transaction: %s, want the default's 20 A (TxProfiles gone)", got)
		}
		if out, _ := call(t, r.cp, "ClearChargingProfile", `{"chargingProfilePurpose":"TxProfile"}`); out != `{"status":"Unknown"}` {
			t.Errorf("clearing TxProfiles after the transaction: %s, want Unknown", out)
		}
		bad := fmt.Sprintf(`{"connectorId":1,"idTag":"TAG-R","chargingProfile":%s}`,
			profileJSON(9, 0, "TxDefaultProfile", "Relative", time.Time{}, "", "0:10"))
		if out, _ := call(t, r.cp, "RemoteStartTransaction", bad); out != `{"status":"Rejected"}` {
			t.Errorf("RemoteStartTransaction with a TxDefaultProfile: %s", out)
		}
	})
}

// TestARemoteStartsProfileGoesWithItsAuthorization: the TxProfile of a
// RemoteStartTransaction applies to the transaction it starts in a
// fixed-tag free-charging mode too, and lapses with its authorization:
// the same tag presented later at the charger charges without it.
func TestARemoteStartsProfileGoesWithItsAuthorization(t *testing.T) {
	rs := fmt.Sprintf(`{"connectorId":1,"idTag":"TAG-R","chargingProfile":%s}`,
		profileJSON(7, 0, "TxProfile", "Relative", time.Time{}, "", "0:10"))
	t.Run("fixed tag", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			csms := newFakeCSMS()
			r := startRig(t, csms, map[string]string{"FreeCharging": "1", "FreeChargingMode": "3", "RfidTagFreeCharging": "FREE"}, &kv.Mem{})
			defer r.stop()
			synctest.Wait()
			if out, _ := call(t, r.cp, "RemoteStartTransaction", rs); out != `{"status":"Accepted"}` {
				t.Fatalf("RemoteStartTransaction: %s", out)
			}
			r.board.Plug(1, sim.EV{Phases: 3, MaxCurrent: 32, CapacityWh: 80000})
			time.Sleep(time.Second)
			if got := r.cp.Loads()[0].Applied; got != 10 {
				t.Errorf("in the fixed tag's name: %g, want the TxProfile's 10", got)
			}
		})
	})
	t.Run("lapsed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			csms := newFakeCSMS()
			r := startRig(t, csms, map[string]string{"AuthorizeRemoteTxRequests": "false", "ConnectionTimeOut": "30"}, &kv.Mem{})
			defer r.stop()
			synctest.Wait()
			if out, _ := call(t, r.cp, "RemoteStartTransaction", rs); out != `{"status":"Accepted"}` {
				t.Fatalf("RemoteStartTransaction: %s", out)
			}
			time.Sleep(time.Hour)
			r.board.Present("TAG-R", 1)
			time.Sleep(time.Second)
			r.board.Plug(1, sim.EV{Phases: 3, MaxCurrent: 32, CapacityWh: 80000})
			time.Sleep(time.Second)
			if len(startsOf(t, csms)) != 1 {
				t.Fatalf("no local start: %v", startsOf(t, csms))
			}
			if got := r.cp.Loads()[0].Applied; got != 32 {
				t.Errorf("a local session an hour later: %g, want 32 (no TxProfile)", got)
			}
		})
	})
}

// TestClearChargingProfileFilters: by id alone, or by every filter given.
func TestClearChargingProfileFilters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"NumberOfConnectors": "2"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		now := time.Now()
		install := func() {
			call(t, r.cp, "ClearChargingProfile", `{}`)
			for _, p := range []struct{ connector, id, level int }{{0, 1, 0}, {1, 2, 1}, {1, 3, 2}, {2, 4, 1}} {
				if got := setProfile(t, r.cp, p.connector, profileJSON(p.id, p.level, "TxDefaultProfile", "Absolute", now, "", "0:16")); got != "Accepted" {
					t.Fatalf("install %d: %s", p.id, got)
				}
			}
			setProfile(t, r.cp, 0, profileJSON(5, 1, "ChargePointMaxProfile", "Absolute", now, "", "0:30"))
		}
		for _, c := range []struct {
			req, want string
			left      []int
		}{
			{`{"id":3}`, "Accepted", []int{1, 2, 4, 5}},
			{`{"id":3,"connectorId":2}`, "Accepted", []int{1, 2, 4, 5}}, // the id alone counts
			{`{"id":42}`, "Unknown", []int{1, 2, 3, 4, 5}},
			{`{"connectorId":1}`, "Accepted", []int{1, 4, 5}},
			{`{"connectorId":0}`, "Accepted", []int{2, 3, 4}},
			{`{"chargingProfilePurpose":"ChargePointMaxProfile"}`, "Accepted", []int{1, 2, 3, 4}},
			{`{"stackLevel":1}`, "Accepted", []int{1, 3}},
			{`{"connectorId":1,"stackLevel":1}`, "Accepted", []int{1, 3, 4, 5}},
			{`{"connectorId":2,"stackLevel":2}`, "Unknown", []int{1, 2, 3, 4, 5}},
			{`{}`, "Accepted", nil},
		} {
			install()
			out, err := call(t, r.cp, "ClearChargingProfile", c.req)
			if err != nil || out != fmt.Sprintf(`{"status":%q}`, c.want) {
				t.Errorf("%s: %s %v, want %s", c.req, out, err, c.want)
			}
			var left []int
			r.store.View(func(tx kv.Tx) error {
				return tx.ForEach("profiles", func(k string, _ []byte) error {
					n, _ := strconv.Atoi(k)
					left = append(left, n)
					return nil
				})
			})
			if fmt.Sprint(sortedInts(left)) != fmt.Sprint(c.left) {
				t.Errorf("%s: left %v, want %v", c.req, sortedInts(left), c.left)
			}
		}
	})
}

func sortedInts(s []int) []int {
	out := append([]int{}, s...)
	slices.Sort(out)
	return out
}

// TestGetCompositeScheduleReportsWhatTheConnectorGets: the composite of
// the stack under the hardware maximum, per connector and for the whole
// charge point; W and unknown connectors are Rejected.
func TestGetCompositeScheduleReportsWhatTheConnectorGets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"NumberOfConnectors": "2"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		now := time.Now().Truncate(time.Second)
		setProfile(t, r.cp, 0, profileJSON(1, 0, "TxDefaultProfile", "Absolute", now, "", "0:16", "3600:40", "7200:10:1"))
		setProfile(t, r.cp, 2, profileJSON(2, 1, "TxDefaultProfile", "Absolute", now, "", "0:6"))
		setProfile(t, r.cp, 0, profileJSON(3, 0, "ChargePointMaxProfile", "Absolute", now, "", "0:50", "1800:20"))
		for _, c := range []struct{ req, want string }{
			// The default's 40 A is over the maximum's 20; its one phase
			// is honoured as a limit only (no switching here).
			{`{"connectorId":1,"duration":10800}`, "0=16 3600=20 7200=10"},
			{`{"connectorId":1,"duration":10800,"chargingRateUnit":"A"}`, "0=16 3600=20 7200=10"},
			{`{"connectorId":2,"duration":3600}`, "0=6"}, // its own stack level 1 over connector 0's
			// Connector 1 (16, then 32 as the hardware caps 40, then 10)
			// plus connector 2 (6), under the maximum (50, then 20).
			{`{"connectorId":0,"duration":10800}`, "0=22 1800=20 7200=16"},
			{`{"connectorId":1,"duration":10800,"chargingRateUnit":"W"}`, "Rejected"},
			{`{"connectorId":3,"duration":60}`, "Rejected"},
		} {
			got := composite(t, r.cp, c.req)
			if s := periodsOf(got); s != c.want {
				t.Errorf("%s: %s, want %s", c.req, s, c.want)
			}
			if got.Status == "Accepted" && (got.ScheduleStart == nil || !got.ScheduleStart.Time.Equal(now)) {
				t.Errorf("%s: scheduleStart %v, want %v", c.req, got.ScheduleStart, now)
			}
		}
	})
}

// TestAOnePhasePeriodSwitchesTheSessionWhereTheChargerCan: with
// ConnectorSwitch3to1PhaseSupported On, a period of numberPhases 1 moves
// a 3-phase session to one phase and back, and GetCompositeSchedule says
// so; Off, the same schedule only limits the current.
func TestAOnePhasePeriodSwitchesTheSessionWhereTheChargerCan(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("switch=%t", on), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				csms := newFakeCSMS()
				keys := map[string]string{"FreeCharging": "1", "ConnectorSwitch3to1PhaseSupported": "Off"}
				if on {
					keys["ConnectorSwitch3to1PhaseSupported"] = "On"
				}
				r := startRig(t, csms, keys, &kv.Mem{})
				defer r.stop()
				synctest.Wait()
				r.board.Plug(1, sim.EV{Phases: 3, MaxCurrent: 16, CapacityWh: 80000})
				time.Sleep(time.Second)
				t0 := time.Now()
				setProfile(t, r.cp, 1, profileJSON(1, 0, "TxDefaultProfile", "Absolute", t0, "", "0:16:3", "60:12:1", "120:16:3"))
				time.Sleep(30 * time.Second)
				if l := r.cp.Loads()[0]; l.Drawn != [3]float64{16, 16, 16} {
					t.Fatalf("three phases first: %+v", l)
				}
				want := "0=16 30=12/1ph 90=16"
				if !on {
					want = "0=16 30=12 90=16"
				}
				if got := periodsOf(composite(t, r.cp, `{"connectorId":1,"duration":120}`)); got != want {
					t.Errorf("composite: %s, want %s", got, want)
				}
				time.Sleep(time.Until(t0.Add(70 * time.Second)))
				wantDrawn := [3]float64{12, 0, 0}
				if !on {
					wantDrawn = [3]float64{12, 12, 12}
				}
				if l := r.cp.Loads()[0]; l.Drawn != wantDrawn {
					t.Errorf("in the one-phase period: %+v, want drawn %v", l, wantDrawn)
				}
				time.Sleep(time.Until(t0.Add(130 * time.Second)))
				if l := r.cp.Loads()[0]; l.Drawn != [3]float64{16, 16, 16} {
					t.Errorf("back on three: %+v", l)
				}
			})
		})
	}
}

// TestProfilesSurviveARestart: defaults and maxima come back; TxProfiles,
// whose transactions a restart ends, do not.
func TestProfilesSurviveARestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &kv.Mem{}
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"FreeCharging": "1", "FreeChargingMode": "4", "RfidTagFreeCharging": "FREE"}, store)
		synctest.Wait()
		now := time.Now()
		r.board.Plug(1, sim.EV{Phases: 3, MaxCurrent: 32, CapacityWh: 80000})
		time.Sleep(time.Second)
		setProfile(t, r.cp, 1, profileJSON(1, 0, "TxDefaultProfile", "Absolute", now, "", "0:20"))
		setProfile(t, r.cp, 0, profileJSON(2, 0, "ChargePointMaxProfile", "Absolute", now, "", "0:18"))
		if got := setProfile(t, r.cp, 1, profileJSON(3, 0, "TxProfile", "Absolute", now, "", "0:8")); got != "Accepted" {
			t.Fatalf("TxProfile: %s", got)
		}
		r.stop()
		// A crash leaves a TxProfile in the store (a clean stop removes
		// it with its transaction).
		raw, _ := json.Marshal(chargepoint.InstalledProfile{Connector: 1, Profile: smartcharging.Profile{ID: 3,
			Purpose: smartcharging.Tx, Kind: smartcharging.Relative,
			Schedule: smartcharging.Schedule{Unit: smartcharging.Amperes, Periods: []smartcharging.SchedulePeriod{{Limit: 8}}}}})
		store.Update(func(tx kv.Tx) error { return tx.Put("profiles", key(3), raw) })
		r = startRig(t, newFakeCSMS(), map[string]string{"FreeCharging": "1", "FreeChargingMode": "4", "RfidTagFreeCharging": "FREE"}, store)
		defer r.stop()
		time.Sleep(time.Second)
		if got := periodsOf(composite(t, r.cp, `{"connectorId":1,"duration":60}`)); got != "0=18" {
			t.Errorf("after the restart: %s, want 18 (the maximum under the default)", got)
		}
		// The transaction of a new session must not find it.
		r.board.Plug(1, sim.EV{Phases: 3, MaxCurrent: 32, CapacityWh: 80000})
		time.Sleep(5 * time.Second)
		if got := r.cp.Loads()[0].Applied; got != 18 {
			t.Errorf("the new session: %g, want 18 (no TxProfile of the old one)", got)
		}
		store.View(func(tx kv.Tx) error {
			if tx.Get("profiles", key(3)) != nil {
				t.Error("the crashed transaction's TxProfile is still in the store")
			}
			return nil
		})
	})
}

// TestARemoteStartsProfileKeepsItsPlace: while the Authorize of a
// RemoteStartTransaction is out, its TxProfile holds a place among
// MaxChargingProfilesInstalled: a SetChargingProfile cannot take the last
// one, and the session gets its TxProfile.
func TestARemoteStartsProfileKeepsItsPlace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		csms.mu.Lock()
		csms.answers["Authorize"] = func(json.RawMessage) (json.RawMessage, error) {
			time.Sleep(10 * time.Second)
			return json.RawMessage(`{"idTagInfo":{"status":"Accepted"}}`), nil
		}
		csms.mu.Unlock()
		r := startRig(t, csms, map[string]string{"MaxChargingProfilesInstalled": "1", "NumberOfConnectors": "2"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		rs := fmt.Sprintf(`{"connectorId":1,"idTag":"TAG-R","chargingProfile":%s}`,
			profileJSON(7, 0, "TxProfile", "Relative", time.Time{}, "", "0:10"))
		if out, _ := call(t, r.cp, "RemoteStartTransaction", rs); out != `{"status":"Accepted"}` {
			t.Fatalf("RemoteStartTransaction: %s", out)
		}
		time.Sleep(time.Second) // Authorize is out
		if got := setProfile(t, r.cp, 2, profileJSON(8, 1, "TxDefaultProfile", "Absolute", time.Now(), "", "0:20")); got != "Rejected" {
			t.Errorf("SetChargingProfile into the promised place: %s", got)
		}
		time.Sleep(20 * time.Second)
		r.board.Plug(1, sim.EV{Phases: 3, MaxCurrent: 32, CapacityWh: 80000})
		time.Sleep(5 * time.Second)
		if a := r.cp.Loads()[0].Applied; a != 10 {
			t.Errorf("the RemoteStart's TxProfile: applied %g, want 10", a)
		}
		// Unplugged, the TxProfile is gone and its place free again.
		r.board.Unplug(1)
		time.Sleep(time.Second)
		if got := setProfile(t, r.cp, 2, profileJSON(8, 1, "TxDefaultProfile", "Absolute", time.Now(), "", "0:20")); got != "Accepted" {
			t.Errorf("SetChargingProfile after the session: %s", got)
		}
	})
}

// TestTheChargePointMaximumIsSharedByTheSessions: a ChargePointMaxProfile
// is the charge point's total, shared equally by the connectors with a
// transaction, and whole again for the one left.
func TestTheChargePointMaximumIsSharedByTheSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"FreeCharging": "1", "NumberOfConnectors": "2"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		if got := setProfile(t, r.cp, 0, profileJSON(1, 0, "ChargePointMaxProfile", "Absolute", time.Now(), "", "0:20")); got != "Accepted" {
			t.Fatal(got)
		}
		ev := sim.EV{Phases: 3, MaxCurrent: 32, CapacityWh: 80000}
		offers := func() [2]float64 {
			l := r.cp.Loads()
			return [2]float64{l[0].Applied, l[1].Applied}
		}
		r.board.Plug(1, ev)
		time.Sleep(time.Second)
		if got := offers(); got != [2]float64{20, 0} {
			t.Errorf("one session: %v, want the whole 20 A", got)
		}
		r.board.Plug(2, ev)
		time.Sleep(time.Second)
		if got := offers(); got != [2]float64{10, 10} {
			t.Errorf("two sessions: %v, want 10 A each", got)
		}
		r.board.Unplug(1)
		time.Sleep(time.Second)
		if got := offers(); got != [2]float64{0, 20} {
			t.Errorf("one left: %v, want the whole 20 A", got)
		}
	})
}
