package smartcharging

import (
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/ocpp16"
	"pgregory.net/rapid"
)

// genProfile draws a profile of any kind, purpose, validity and
// duration around day, with up to 5 periods.
func genProfile(t *rapid.T, id int) ocpp16.ChargingProfile {
	purposes := []ocpp16.ChargingProfilePurposeType{cpMax, txDef, tx}
	kinds := []ocpp16.ChargingProfileKindType{abs, rel, recurr}
	p := ocpp16.ChargingProfile{ChargingProfileId: id, StackLevel: rapid.IntRange(0, 5).Draw(t, "level"),
		ChargingProfilePurpose: rapid.SampledFrom(purposes).Draw(t, "purpose"),
		ChargingProfileKind:    rapid.SampledFrom(kinds).Draw(t, "kind")}
	p.ChargingSchedule.ChargingRateUnit = ocpp16.ChargingRateUnitTypeA
	if p.ChargingProfileKind == recurr {
		p.RecurrencyKind = rapid.SampledFrom([]ocpp16.RecurrencyKindType{ocpp16.RecurrencyKindTypeDaily, ocpp16.RecurrencyKindTypeWeekly}).Draw(t, "every")
	}
	if p.ChargingProfileKind != rel && rapid.IntRange(0, 4).Draw(t, "hasStart") > 0 {
		p.ChargingSchedule.StartSchedule = dt(day.Add(time.Duration(rapid.IntRange(-48, 48).Draw(t, "startH")) * time.Hour))
	}
	if p.ChargingProfileKind == recurr && p.ChargingSchedule.StartSchedule == nil {
		p.ChargingSchedule.StartSchedule = dt(day)
	}
	if rapid.Bool().Draw(t, "hasDuration") {
		p.ChargingSchedule.Duration = ptr(rapid.IntRange(60, 3*86400).Draw(t, "duration"))
	}
	if rapid.Bool().Draw(t, "hasValidity") {
		from := day.Add(time.Duration(rapid.IntRange(-24, 72).Draw(t, "fromH")) * time.Hour)
		p.ValidFrom = dt(from)
		p.ValidTo = dt(from.Add(time.Duration(rapid.IntRange(1, 96).Draw(t, "validH")) * time.Hour))
	}
	at := 0
	for i := range rapid.IntRange(1, 5).Draw(t, "periods") {
		if i > 0 {
			at += rapid.IntRange(1, 40000).Draw(t, "gap")
		}
		per := ocpp16.ChargingSchedulePeriod{StartPeriod: at, Limit: float64(rapid.IntRange(0, 64).Draw(t, "limit"))}
		if rapid.IntRange(0, 3).Draw(t, "onePhase") == 0 {
			per.NumberPhases = ptr(1)
		}
		p.ChargingSchedule.ChargingSchedulePeriod = append(p.ChargingSchedule.ChargingSchedulePeriod, per)
	}
	return p
}

// TestCompositeAgreesWithNext: over random stacks, the composite schedule
// of a window holds, at any time in it, the period Next finds in force
// then; and the limit does not change between a time and the boundary
// Next names after it. This is what lets the charge point recompute only
// at boundaries.
func TestCompositeAgreesWithNext(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var maxes, own []ocpp16.ChargingProfile
		for i := range rapid.IntRange(0, 6).Draw(t, "n") {
			p := genProfile(t, i+1)
			if p.ChargingProfilePurpose == cpMax {
				maxes = append(maxes, p)
			} else {
				own = append(own, p)
			}
		}
		s := Session{}
		if rapid.Bool().Draw(t, "session") {
			s = Session{Active: true, TransactionID: 42, Start: day.Add(time.Duration(rapid.IntRange(-36, 36).Draw(t, "txH")) * time.Hour)}
		}
		start := day.Add(time.Duration(rapid.IntRange(-24*3600, 48*3600).Draw(t, "startS")) * time.Second)
		window := 48 * time.Hour
		sched := Composite(maxes, own, s, start, window)
		for range 20 {
			off := time.Duration(rapid.Int64Range(0, int64(window/time.Second)-1).Draw(t, "off")) * time.Second
			at := start.Add(off)
			var inForce Period
			for _, p := range sched {
				if p.Start <= off {
					inForce = p
				}
			}
			now, until := Next(maxes, own, s, at)
			if now.Limit != inForce.Limit || now.Phases != inForce.Phases || now.MinRate != inForce.MinRate {
				t.Fatalf("at %v: Composite says %+v, Next %+v", off, inForce, now)
			}
			if until.IsZero() || !until.After(at) {
				if !until.IsZero() {
					t.Fatalf("at %v: next boundary %v is not after it", off, until)
				}
				continue
			}
			before, _ := Next(maxes, own, s, until.Add(-time.Nanosecond))
			if before.Limit != now.Limit || before.Phases != now.Phases {
				t.Fatalf("at %v: the limit changed before the boundary %v: %+v then %+v", off, until.Sub(start), now, before)
			}
		}
	})
}
