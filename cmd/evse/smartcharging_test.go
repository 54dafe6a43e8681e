package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// chargingProfile writes a csChargingProfiles object starting at start;
// periods are "seconds:limit"; extra is spliced in.
func chargingProfile(id, level int, purpose string, start time.Time, extra string, periods ...string) string {
	var ps []string
	for _, p := range periods {
		at, limit, _ := strings.Cut(p, ":")
		ps = append(ps, fmt.Sprintf(`{"startPeriod":%s,"limit":%s}`, at, limit))
	}
	return fmt.Sprintf(`{"chargingProfileId":%d,"stackLevel":%d,"chargingProfilePurpose":%q,"chargingProfileKind":"Absolute",%s`+
		`"chargingSchedule":{"startSchedule":%q,"chargingRateUnit":"A","chargingSchedulePeriod":[%s]}}`,
		id, level, purpose, extra, start.UTC().Format(time.RFC3339), strings.Join(ps, ","))
}

// connectorField reads a number of connector 1 from the local API's
// status, -1 when absent.
func connectorField(t *testing.T, base, field string) float64 {
	t.Helper()
	_, st := apiDo(t, "GET", base+"/status", "")
	conns, _ := st["connectors"].([]any)
	if len(conns) < 2 {
		return -1
	}
	v, ok := conns[1].(map[string]any)[field].(float64)
	if !ok {
		return -1
	}
	return v
}

// TestSmartChargingWithTheRealBinary: SetChargingProfile with every
// rejection the appendix's limits imply, the offer following the
// schedule from a period's start, TxProfiles tied to their transaction,
// ClearChargingProfile, GetCompositeSchedule, and profiles surviving a
// restart of the process.
func TestSmartChargingWithTheRealBinary(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	dir := t.TempDir()
	p := startEVSE(t, runArgs(url, "CP-SC", dir)...)
	base := p.apiURL(t) + "/api/v1"
	waitCall(t, s, 0, "CP-SC", "StatusNotification", 10*time.Second)
	set := func(connector int, profile string) string {
		t.Helper()
		a := mustCall(t, s, "CP-SC", "SetChargingProfile", fmt.Sprintf(`{"connectorId":%d,"csChargingProfiles":%s}`, connector, profile))
		return a["status"].(string)
	}
	now := time.Now().Truncate(time.Second)
	// Period 2 starts 4 s from now: the offer must not move before it.
	boundary := now.Add(4 * time.Second)
	if st := set(0, chargingProfile(1, 0, "TxDefaultProfile", now, "", "0:10", "4:16")); st != "Accepted" {
		t.Fatalf("a TxDefaultProfile on connector 0: %s", st)
	}
	var periods []string
	for i := range 256 {
		periods = append(periods, fmt.Sprintf("%d:16", i*60))
	}
	watts := strings.Replace(chargingProfile(2, 1, "TxDefaultProfile", now, "", "0:16"), `"A"`, `"W"`, 1)
	for _, c := range []struct {
		name      string
		connector int
		profile   string
	}{
		{"a rate in W (ChargingScheduleAllowedChargingRateUnit is Current)", 1, watts},
		{"stack level 256 (ChargeProfileMaxStackLevel 255)", 1, chargingProfile(2, 256, "TxDefaultProfile", now, "", "0:16")},
		{"256 periods (ChargingScheduleMaxPeriods 255)", 1, chargingProfile(2, 1, "TxDefaultProfile", now, "", periods...)},
		{"a TxProfile without a transaction", 1, chargingProfile(2, 1, "TxProfile", now, "", "0:16")},
		{"a ChargePointMaxProfile on connector 1", 1, chargingProfile(2, 1, "ChargePointMaxProfile", now, "", "0:16")},
		{"connector 9", 9, chargingProfile(2, 1, "TxDefaultProfile", now, "", "0:16")},
	} {
		if st := set(c.connector, c.profile); st != "Rejected" {
			t.Errorf("%s: %s, want Rejected", c.name, st)
		}
	}
	mark := len(s.Records())
	apiDo(t, "POST", base+"/connectors/1/plug", `{}`)
	apiDo(t, "POST", base+"/rfid", `{"idTag":"SC-TAG"}`)
	waitCall(t, s, mark, "CP-SC", "StartTransaction", 10*time.Second)
	for time.Now().Before(boundary.Add(3 * time.Second)) {
		offered := connectorField(t, base, "offeredA")
		answered := time.Now() // the offer read was taken before this
		if offered == 16 && answered.Before(boundary) {
			t.Fatalf("offered 16 A by %v, before the period starting at %v", answered, boundary)
		}
		if offered == 16 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := connectorField(t, base, "offeredA"); got != 16 {
		t.Fatalf("offered %g A 3 s into the second period, want 16", got)
	}
	var txID int
	for range 100 {
		_, st := apiDo(t, "GET", base+"/status", "")
		if tx, ok := st["connectors"].([]any)[1].(map[string]any)["transaction"].(map[string]any); ok && tx["id"].(float64) != 0 {
			txID = int(tx["id"].(float64))
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st := set(1, chargingProfile(3, 0, "TxProfile", now, `"transactionId":999999,`, "0:12")); st != "Rejected" {
		t.Errorf("a TxProfile for another transaction: %s", st)
	}
	if st := set(1, chargingProfile(3, 0, "TxProfile", now, fmt.Sprintf(`"transactionId":%d,`, txID), "0:12")); st != "Accepted" {
		t.Fatalf("a TxProfile for transaction %d: %s", txID, st)
	}
	waitUntil(t, 5*time.Second, "the TxProfile's 12 A", func() bool { return connectorField(t, base, "offeredA") == 12 })
	if a := mustCall(t, s, "CP-SC", "GetCompositeSchedule", `{"connectorId":1,"duration":600}`); schedulePeriods(a) != "0=12" {
		t.Errorf("GetCompositeSchedule: %v", a)
	}
	if a := mustCall(t, s, "CP-SC", "GetCompositeSchedule", `{"connectorId":1,"duration":31536000}`); a["chargingSchedule"].(map[string]any)["duration"] != float64(7*86400) {
		t.Errorf("GetCompositeSchedule for a year: %v, want a week", a)
	}
	if a := mustCall(t, s, "CP-SC", "GetCompositeSchedule", `{"connectorId":1,"duration":600,"chargingRateUnit":"W"}`); a["status"] != "Rejected" {
		t.Errorf("GetCompositeSchedule in W: %v", a)
	}
	if a := mustCall(t, s, "CP-SC", "ClearChargingProfile", `{"id":3}`); a["status"] != "Accepted" {
		t.Errorf("ClearChargingProfile of the TxProfile: %v", a)
	}
	waitUntil(t, 5*time.Second, "back to the default's 16 A", func() bool { return connectorField(t, base, "offeredA") == 16 })
	if a := mustCall(t, s, "CP-SC", "ClearChargingProfile", `{"id":3}`); a["status"] != "Unknown" {
		t.Errorf("clearing it again: %v", a)
	}
	// MaxChargingProfilesInstalled 255: 254 more fit, the 256th does not.
	for id := 10; id < 10+254; id++ {
		if st := set(0, chargingProfile(id, id-10, "ChargePointMaxProfile", now, "", "0:32")); st != "Accepted" {
			t.Fatalf("profile %d: %s", id, st)
		}
	}
	if st := set(0, chargingProfile(300, 1, "TxDefaultProfile", now, "", "0:32")); st != "Rejected" {
		t.Errorf("a 256th profile: %s", st)
	}
	if a := mustCall(t, s, "CP-SC", "ClearChargingProfile", `{"chargingProfilePurpose":"ChargePointMaxProfile"}`); a["status"] != "Accepted" {
		t.Errorf("clearing the maxima: %v", a)
	}
	// A restart keeps the default.
	p.stop(syscall.SIGTERM)
	s2, url2 := newCSMS(t, csmstest.Options{})
	startEVSE(t, runArgs(url2, "CP-SC", dir)...)
	waitCall(t, s2, 0, "CP-SC", "StatusNotification", 10*time.Second)
	if a := mustCall(t, s2, "CP-SC", "GetCompositeSchedule", `{"connectorId":1,"duration":60}`); schedulePeriods(a) != "0=16" {
		t.Errorf("after a restart: %v, want the default's 16 A", a)
	}
	noViolations(t, s)
	noViolations(t, s2)
}

// schedulePeriods writes a GetCompositeSchedule answer's periods as
// "start=limit" items.
func schedulePeriods(a map[string]any) string {
	sched, ok := a["chargingSchedule"].(map[string]any)
	if !ok {
		return fmt.Sprint(a["status"])
	}
	var out []string
	for _, p := range sched["chargingSchedulePeriod"].([]any) {
		m := p.(map[string]any)
		out = append(out, fmt.Sprintf("%v=%v", m["startPeriod"], m["limit"]))
	}
	return strings.Join(out, " ")
}
