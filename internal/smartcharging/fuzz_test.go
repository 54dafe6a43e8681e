package smartcharging

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/ocpp16"
)

// FuzzComposite feeds any profile the charge point would take (increasing
// periods, a startSchedule between 1970 and 2200) to Composite and Next:
// the schedule covers the window in order, every period agrees with Next,
// and limits are NoLimit or not negative.
func FuzzComposite(f *testing.F) {
	f.Add([]byte(`{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Recurring","recurrencyKind":"Daily","chargingSchedule":{"startSchedule":"2026-06-01T00:00:00Z","chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16},{"startPeriod":3600,"limit":6,"numberPhases":1}]}}`), int64(0), true)
	f.Add([]byte(`{"chargingProfileId":2,"stackLevel":3,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative","validTo":"2026-06-02T00:00:00Z","chargingSchedule":{"duration":7200,"chargingRateUnit":"A","minChargingRate":8,"chargingSchedulePeriod":[{"startPeriod":0,"limit":10}]}}`), int64(-3600), true)
	f.Add([]byte(`{"chargingProfileId":3,"stackLevel":1,"chargingProfilePurpose":"ChargePointMaxProfile","chargingProfileKind":"Absolute","chargingSchedule":{"startSchedule":"2199-12-31T00:00:00Z","chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":20}]}}`), int64(86400), false)
	f.Fuzz(func(t *testing.T, raw []byte, txOffset int64, active bool) {
		var p ocpp16.ChargingProfile
		if json.Unmarshal(raw, &p) != nil || !acceptable(p) {
			return
		}
		s := Session{Active: active, TransactionID: 42, Start: day.Add(time.Duration(txOffset%(400*86400)) * time.Second)}
		window := 3 * 24 * time.Hour
		var maxes, own []ocpp16.ChargingProfile
		if p.ChargingProfilePurpose == ocpp16.ChargingProfilePurposeTypeChargePointMaxProfile {
			maxes = append(maxes, p)
		} else {
			own = append(own, p)
		}
		sched := Composite(maxes, own, s, day, window)
		if len(sched) == 0 || sched[0].Start != 0 {
			t.Fatalf("the schedule does not start at the window: %+v", sched)
		}
		for i, per := range sched {
			if i > 0 && per.Start <= sched[i-1].Start || per.Start >= window {
				t.Fatalf("period %d out of order or window: %+v", i, sched)
			}
			if per.Limit < 0 && per.Limit != NoLimit || per.Phases < 1 || per.Phases > 3 {
				t.Fatalf("period %d: %+v", i, per)
			}
			now, _ := Next(maxes, own, s, day.Add(per.Start))
			if now.Limit != per.Limit || now.Phases != per.Phases {
				t.Fatalf("at %v Composite says %+v, Next %+v", per.Start, per, now)
			}
		}
	})
}

// acceptable is what the charge point's SetChargingProfile checks that
// bear on computing: periods in increasing order, not negative, with 1-3
// phases, a duration not negative, a Recurring profile with its kind and
// start, and a startSchedule in range.
func acceptable(p ocpp16.ChargingProfile) bool {
	sched := p.ChargingSchedule
	if len(sched.ChargingSchedulePeriod) == 0 || sched.Duration != nil && (*sched.Duration < 0 || *sched.Duration > math.MaxInt32) {
		return false
	}
	last := -1
	for _, per := range sched.ChargingSchedulePeriod {
		if per.StartPeriod <= last || per.StartPeriod > math.MaxInt32 || per.Limit < 0 || per.NumberPhases != nil && (*per.NumberPhases < 1 || *per.NumberPhases > 3) {
			return false
		}
		last = per.StartPeriod
	}
	if p.ChargingProfileKind == ocpp16.ChargingProfileKindTypeRecurring && (recurrence(p) == 0 || sched.StartSchedule == nil) {
		return false
	}
	if st := sched.StartSchedule; st != nil && (st.Time.Year() < 1970 || st.Time.Year() >= 2200) {
		return false
	}
	return true
}
