package smartcharging

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// FuzzComposite feeds any profile the charge point would take (increasing
// periods, a startSchedule between 1970 and 2200) to Composite and Next:
// the schedule covers the window in order, every period agrees with Next,
// and limits are NoLimit or not negative.
func FuzzComposite(f *testing.F) {
	f.Add([]byte(`{"id":1,"stackLevel":0,"purpose":"TxDefault","kind":"Recurring","recurrency":"Daily","schedule":{"start":"2026-06-01T00:00:00Z","unit":"A","periods":[{"start":0,"limit":16},{"start":3600,"limit":6,"phases":1}]}}`), int64(0), true)
	f.Add([]byte(`{"id":2,"stackLevel":3,"purpose":"Tx","kind":"Relative","validTo":"2026-06-02T00:00:00Z","schedule":{"duration":7200,"unit":"A","minRate":8,"periods":[{"start":0,"limit":10}]}}`), int64(-3600), true)
	f.Add([]byte(`{"id":3,"stackLevel":1,"purpose":"ChargePointMax","kind":"Absolute","schedule":{"start":"2199-12-31T00:00:00Z","unit":"A","periods":[{"start":0,"limit":20}]}}`), int64(86400), false)
	f.Fuzz(func(t *testing.T, raw []byte, txOffset int64, active bool) {
		var p Profile
		if json.Unmarshal(raw, &p) != nil || !acceptable(p) {
			return
		}
		s := Session{Active: active, TransactionID: 42, Start: day.Add(time.Duration(txOffset%(400*86400)) * time.Second)}
		window := 3 * 24 * time.Hour
		var maxes, own []Profile
		if p.Purpose == ChargePointMax {
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
func acceptable(p Profile) bool {
	sched := p.Schedule
	if len(sched.Periods) == 0 || sched.Duration != nil && (*sched.Duration < 0 || *sched.Duration > math.MaxInt32) {
		return false
	}
	last := -1
	for _, per := range sched.Periods {
		if per.Start <= last || per.Start > math.MaxInt32 || per.Limit < 0 || per.Phases < 0 || per.Phases > 3 {
			return false
		}
		last = per.Start
	}
	if p.Kind == Recurring && (p.Recurrency.Every() == 0 || sched.Start.IsZero()) {
		return false
	}
	if st := sched.Start; !st.IsZero() && (st.Year() < 1970 || st.Year() >= 2200) {
		return false
	}
	for _, v := range []time.Time{p.ValidFrom, p.ValidTo} {
		if !v.IsZero() && (v.Year() < 1 || v.Year() >= 9999) {
			return false
		}
	}
	return true
}
