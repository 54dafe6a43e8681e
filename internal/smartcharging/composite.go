// Package smartcharging computes what OCPP 1.6 charging profiles allow: the
// composite schedule of a connector, without I/O. The charge point keeps
// the profiles; this package only reads them.
package smartcharging

import (
	"slices"
	"time"

	"github.com/evse-dev/evse/internal/ocpp16"
)

// Session is what a connector's schedule depends on besides the profiles:
// its transaction, if any.
type Session struct {
	// TransactionID is the central system's id of the transaction; 0:
	// none (TxProfiles do not apply).
	TransactionID int
	// Start is when the transaction started: Relative profiles count from
	// it.
	Start time.Time
}

// Period is a span of a composite schedule.
type Period struct {
	// Start is from the schedule's start.
	Start time.Duration
	// Limit is in A per phase; negative: no profile limits it.
	Limit float64
	// Phases is the number of phases the schedule allows (1 or 3).
	Phases int
}

// NoLimit is the Limit of a period no profile limits.
const NoLimit = -1

// Composite is the schedule in force on a connector from start for
// duration: in each span, the lower of what the ChargePointMaxProfiles
// allow (cpMax) and what the connector's TxProfile (for the session's
// transaction) or else its TxDefaultProfile allows. Within a purpose, the
// valid profile of the highest stack level that has a period at that time
// decides. Equal neighbouring spans are merged.
func Composite(cpMax, connector []ocpp16.ChargingProfile, s Session, start time.Time, duration time.Duration) []Period {
	end := start.Add(duration)
	var all []ocpp16.ChargingProfile
	all = append(append(all, cpMax...), connector...)
	times := []time.Time{start}
	for _, p := range all {
		for _, t := range boundaries(p, s, start, end) {
			if t.After(start) && t.Before(end) {
				times = append(times, t)
			}
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	times = slices.CompactFunc(times, func(a, b time.Time) bool { return a.Equal(b) })
	var out []Period
	for _, t := range times {
		limit, phases := at(cpMax, connector, s, t)
		if n := len(out); n > 0 && out[n-1].Limit == limit && out[n-1].Phases == phases {
			continue
		}
		out = append(out, Period{Start: t.Sub(start), Limit: limit, Phases: phases})
	}
	return out
}

// LimitAt is the limit in force at t (NoLimit when none), and the phases.
func LimitAt(cpMax, connector []ocpp16.ChargingProfile, s Session, t time.Time) (float64, int) {
	return at(cpMax, connector, s, t)
}

func at(cpMax, connector []ocpp16.ChargingProfile, s Session, t time.Time) (float64, int) {
	limit, phases := float64(NoLimit), 3
	lower := func(l float64, ph int, ok bool) {
		if !ok {
			return
		}
		if limit < 0 || l < limit {
			limit = l
		}
		phases = min(phases, ph)
	}
	lower(purposeAt(cpMax, ocpp16.ChargingProfilePurposeTypeChargePointMaxProfile, s, t))
	if l, ph, ok := purposeAt(connector, ocpp16.ChargingProfilePurposeTypeTxProfile, s, t); ok {
		lower(l, ph, ok)
	} else {
		lower(purposeAt(connector, ocpp16.ChargingProfilePurposeTypeTxDefaultProfile, s, t))
	}
	return limit, phases
}

// purposeAt is the limit of the highest stack level among the profiles of
// a purpose that have a period at t.
func purposeAt(profiles []ocpp16.ChargingProfile, purpose ocpp16.ChargingProfilePurposeType, s Session, t time.Time) (float64, int, bool) {
	best, bestLevel, phases, found := 0.0, -1, 3, false
	for _, p := range profiles {
		if p.ChargingProfilePurpose != purpose || p.StackLevel <= bestLevel {
			continue
		}
		if purpose == ocpp16.ChargingProfilePurposeTypeTxProfile &&
			(s.TransactionID == 0 || (p.TransactionId != nil && *p.TransactionId != s.TransactionID)) {
			continue
		}
		if l, ph, ok := limitAt(p, s, t); ok {
			best, bestLevel, phases, found = l, p.StackLevel, ph, true
		}
	}
	return best, phases, found
}

// scheduleStart is when the occurrence of a profile's schedule that t
// falls in started; ok false when none has started by t.
func scheduleStart(p ocpp16.ChargingProfile, s Session, t time.Time) (time.Time, bool) {
	switch p.ChargingProfileKind {
	case ocpp16.ChargingProfileKindTypeRelative:
		return s.Start, !s.Start.IsZero() && !t.Before(s.Start)
	case ocpp16.ChargingProfileKindTypeRecurring:
		if p.ChargingSchedule.StartSchedule == nil {
			return time.Time{}, false
		}
		base := p.ChargingSchedule.StartSchedule.Time
		every := recurrence(p)
		if t.Before(base) || every == 0 {
			return time.Time{}, false
		}
		return base.Add(t.Sub(base) / every * every), true
	default: // Absolute
		if p.ChargingSchedule.StartSchedule == nil {
			return time.Time{}, false
		}
		st := p.ChargingSchedule.StartSchedule.Time
		return st, !t.Before(st)
	}
}

func recurrence(p ocpp16.ChargingProfile) time.Duration {
	switch p.RecurrencyKind {
	case ocpp16.RecurrencyKindTypeDaily:
		return 24 * time.Hour
	case ocpp16.RecurrencyKindTypeWeekly:
		return 7 * 24 * time.Hour
	}
	return 0
}

// limitAt is a profile's limit at t, if it has a period then.
func limitAt(p ocpp16.ChargingProfile, s Session, t time.Time) (float64, int, bool) {
	if p.ValidFrom != nil && t.Before(p.ValidFrom.Time) || p.ValidTo != nil && !t.Before(p.ValidTo.Time) {
		return 0, 0, false
	}
	st, ok := scheduleStart(p, s, t)
	if !ok {
		return 0, 0, false
	}
	off := t.Sub(st)
	if d := p.ChargingSchedule.Duration; d != nil && off >= time.Duration(*d)*time.Second {
		return 0, 0, false
	}
	// The period in force is the one that started last, by off.
	limit, phases, latest := 0.0, 3, -1
	for _, per := range p.ChargingSchedule.ChargingSchedulePeriod {
		if time.Duration(per.StartPeriod)*time.Second > off || per.StartPeriod <= latest {
			continue
		}
		limit, latest, phases = per.Limit, per.StartPeriod, 3
		if per.NumberPhases != nil {
			phases = *per.NumberPhases
		}
	}
	return limit, phases, latest >= 0
}

// boundaries lists the times a profile's limit may change around [from,
// to): its validity, and its periods' starts and end in every occurrence.
func boundaries(p ocpp16.ChargingProfile, s Session, from, to time.Time) []time.Time {
	var out []time.Time
	if p.ValidFrom != nil {
		out = append(out, p.ValidFrom.Time)
	}
	if p.ValidTo != nil {
		out = append(out, p.ValidTo.Time)
	}
	var starts []time.Time
	switch p.ChargingProfileKind {
	case ocpp16.ChargingProfileKindTypeRelative:
		if !s.Start.IsZero() {
			starts = append(starts, s.Start)
		}
	case ocpp16.ChargingProfileKindTypeRecurring:
		if st, ok := scheduleStart(p, s, from); ok {
			every := recurrence(p)
			for o := st; o.Before(to); o = o.Add(every) {
				starts = append(starts, o)
			}
		} else if p.ChargingSchedule.StartSchedule != nil {
			base := p.ChargingSchedule.StartSchedule.Time
			for o := base; o.Before(to) && recurrence(p) > 0; o = o.Add(recurrence(p)) {
				starts = append(starts, o)
			}
		}
	default:
		if p.ChargingSchedule.StartSchedule != nil {
			starts = append(starts, p.ChargingSchedule.StartSchedule.Time)
		}
	}
	for _, st := range starts {
		for _, per := range p.ChargingSchedule.ChargingSchedulePeriod {
			out = append(out, st.Add(time.Duration(per.StartPeriod)*time.Second))
		}
		if d := p.ChargingSchedule.Duration; d != nil {
			out = append(out, st.Add(time.Duration(*d)*time.Second))
		}
	}
	return out
}
