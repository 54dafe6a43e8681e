package smartcharging

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

// genProfile draws a profile of any kind, purpose, validity and
// duration around day, with up to 5 periods.
func genProfile(t *rapid.T, id int) Profile {
	purposes := []Purpose{cpMax, txDef, tx}
	kinds := []Kind{abs, rel, recurr}
	p := Profile{ID: id, StackLevel: rapid.IntRange(0, 5).Draw(t, "level"),
		Purpose: rapid.SampledFrom(purposes).Draw(t, "purpose"),
		Kind:    rapid.SampledFrom(kinds).Draw(t, "kind")}
	p.Schedule.Unit = Amperes
	if p.Kind == recurr {
		p.Recurrency = rapid.SampledFrom([]Recurrency{Daily, Weekly}).Draw(t, "every")
	}
	if p.Kind != rel && rapid.IntRange(0, 4).Draw(t, "hasStart") > 0 {
		p.Schedule.Start = day.Add(time.Duration(rapid.IntRange(-48, 48).Draw(t, "startH")) * time.Hour)
	}
	if p.Kind == recurr && p.Schedule.Start.IsZero() {
		p.Schedule.Start = day
	}
	if rapid.Bool().Draw(t, "hasDuration") {
		p.Schedule.Duration = ptr(rapid.IntRange(60, 3*86400).Draw(t, "duration"))
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
		per := SchedulePeriod{Start: at, Limit: float64(rapid.IntRange(0, 64).Draw(t, "limit"))}
		if rapid.IntRange(0, 3).Draw(t, "onePhase") == 0 {
			per.Phases = 1
		}
		p.Schedule.Periods = append(p.Schedule.Periods, per)
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
		var maxes, own []Profile
		for i := range rapid.IntRange(0, 6).Draw(t, "n") {
			p := genProfile(t, i+1)
			if p.Purpose == cpMax {
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
