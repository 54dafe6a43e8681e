// Package smartcharging computes what charging profiles allow: the
// composite schedule of a connector, without I/O. Its [Profile] is
// protocol-neutral: the OCPP 1.6 and 2.0.1 adapters convert theirs. The
// charge point keeps the profiles; this package only reads them.
package smartcharging

import (
	"slices"
	"sort"
	"time"
)

// Session is what a connector's schedule depends on besides the profiles:
// its transaction, if any.
type Session struct {
	// Active: the connector has a transaction; TxProfiles apply to it
	// only then.
	Active bool
	// TransactionID is the central system's id of the transaction, 0
	// while unknown: a TxProfile naming a transactionId applies only to
	// that transaction.
	TransactionID int
	// Start is when the transaction started: Relative profiles, and
	// Absolute ones without a startSchedule, count from it.
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
	// MinRate is the minChargingRate of the connector's deciding
	// schedule, 0 when it has none: the EV does not charge below it.
	MinRate float64
}

// NoLimit is the Limit of a period no profile limits.
const NoLimit = -1

// Composite is the schedule in force on a connector from start for
// duration: in each span, the lower of what the ChargePointMaxProfiles
// allow (cpMax) and what the connector's TxProfile (for the session's
// transaction) or else its TxDefaultProfile allows. Within a purpose, the
// valid profile of the highest stack level that has a period at that time
// decides. Equal neighbouring spans are merged.
func Composite(cpMax, connector []Profile, s Session, start time.Time, duration time.Duration) []Period {
	cpMax, connector = byLevel(cpMax), byLevel(connector)
	end := start.Add(duration)
	var all []Profile
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
		p := at(cpMax, connector, s, t)
		if n := len(out); n > 0 && out[n-1].Limit == p.Limit && out[n-1].Phases == p.Phases && out[n-1].MinRate == p.MinRate {
			continue
		}
		p.Start = t.Sub(start)
		out = append(out, p)
	}
	return out
}

// horizon bounds how far Next looks for the next change: a week and a
// day covers every occurrence of a weekly schedule.
const horizon = 8 * 24 * time.Hour

// Next is the period in force at t (its Start is 0) and when the limit may
// next change: the first boundary of any profile after t, zero when none
// comes within eight days. It costs one pass over the profiles, where
// Composite costs one per boundary: a charge point calls it at every
// boundary to know its limit.
func Next(cpMax, connector []Profile, s Session, t time.Time) (Period, time.Time) {
	var until time.Time
	for _, list := range [][]Profile{cpMax, connector} {
		for _, p := range list {
			for _, b := range boundaries(p, s, t, t.Add(horizon)) {
				if b.After(t) && (until.IsZero() || b.Before(until)) {
					until = b
				}
			}
		}
	}
	return at(byLevel(cpMax), byLevel(connector), s, t), until
}

// byLevel returns the profiles from the highest stack level down, so
// that the first profile of a purpose with a period at a time decides.
func byLevel(ps []Profile) []Profile {
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b Profile) int { return b.StackLevel - a.StackLevel })
	return out
}

// Scale returns profiles with every limit multiplied by f: a charge
// point's maximum shared by n connectors is Scale(cpMax, 1/n).
func Scale(profiles []Profile, f float64) []Profile {
	out := make([]Profile, len(profiles))
	for i, p := range profiles {
		p.Schedule.Periods = slices.Clone(p.Schedule.Periods)
		for j := range p.Schedule.Periods {
			p.Schedule.Periods[j].Limit *= f
		}
		out[i] = p
	}
	return out
}

// Merge combines schedules that start at the same time into one: in each
// span, combine of the limits the schedules have then (NoLimit included).
// Phases are the fewest any of them allows; MinRate is dropped.
func Merge(schedules [][]Period, combine func(limits []float64) float64) []Period {
	var starts []time.Duration
	for _, s := range schedules {
		for _, p := range s {
			starts = append(starts, p.Start)
		}
	}
	slices.Sort(starts)
	starts = slices.Compact(starts)
	var out []Period
	limits := make([]float64, len(schedules))
	for _, st := range starts {
		phases := 3
		for i, s := range schedules {
			limits[i] = NoLimit
			inForce := 3
			for _, p := range s {
				if p.Start > st {
					break
				}
				limits[i], inForce = p.Limit, p.Phases
			}
			phases = min(phases, inForce)
		}
		l := combine(limits)
		if n := len(out); n > 0 && out[n-1].Limit == l && out[n-1].Phases == phases {
			continue
		}
		out = append(out, Period{Start: st, Limit: l, Phases: phases})
	}
	return out
}

// at is the period in force at t.
func at(cpMax, connector []Profile, s Session, t time.Time) Period {
	out := Period{Limit: NoLimit, Phases: 3}
	lower := func(d decision, ok bool) {
		if !ok {
			return
		}
		if out.Limit < 0 || d.limit < out.Limit {
			out.Limit = d.limit
		}
		out.Phases = min(out.Phases, d.phases)
	}
	lower(purposeAt(cpMax, ChargePointMax, s, t))
	d, ok := purposeAt(connector, Tx, s, t)
	if !ok {
		d, ok = purposeAt(connector, TxDefault, s, t)
	}
	lower(d, ok)
	if ok {
		out.MinRate = d.minRate
	}
	return out
}

// decision is what the profile that decides at a time allows.
type decision struct {
	limit   float64
	phases  int
	minRate float64
}

// purposeAt is what the highest stack level among the profiles of a
// purpose that have a period at t allows; profiles come sorted by
// byLevel.
func purposeAt(profiles []Profile, purpose Purpose, s Session, t time.Time) (decision, bool) {
	for _, p := range profiles {
		if p.Purpose != purpose {
			continue
		}
		if purpose == Tx &&
			(!s.Active || (p.TransactionID != nil && *p.TransactionID != s.TransactionID)) {
			continue
		}
		if l, ph, ok := limitAt(p, s, t); ok {
			d := decision{limit: l, phases: ph}
			d.minRate = p.Schedule.MinRate
			return d, true
		}
	}
	return decision{}, false
}

// scheduleStart is when the occurrence of a profile's schedule that t
// falls in started; ok false when none has started by t.
func scheduleStart(p Profile, s Session, t time.Time) (time.Time, bool) {
	switch p.Kind {
	case Relative:
		return s.Start, s.Active && !s.Start.IsZero() && !t.Before(s.Start)
	case Recurring:
		base := p.Schedule.Start
		every := p.Recurrency.Every()
		if base.IsZero() {
			return time.Time{}, false
		}
		if t.Before(base) || every == 0 {
			return time.Time{}, false
		}
		return base.Add(t.Sub(base) / every * every), true
	default: // Absolute
		st := p.Schedule.Start
		if st.IsZero() {
			// Without a startSchedule the schedule counts from the
			// start of charging.
			return s.Start, s.Active && !s.Start.IsZero() && !t.Before(s.Start)
		}
		return st, !t.Before(st)
	}
}

// limitAt is a profile's limit at t, if it has a period then.
func limitAt(p Profile, s Session, t time.Time) (float64, int, bool) {
	if !p.ValidFrom.IsZero() && t.Before(p.ValidFrom) || !p.ValidTo.IsZero() && !t.Before(p.ValidTo) {
		return 0, 0, false
	}
	st, ok := scheduleStart(p, s, t)
	if !ok {
		return 0, 0, false
	}
	off := t.Sub(st)
	if d := p.Schedule.Duration; d != nil && off >= time.Duration(*d)*time.Second {
		return 0, 0, false
	}
	// The period in force is the last to start by off (the charge point
	// takes periods in increasing order of startPeriod only).
	periods := p.Schedule.Periods
	i := sort.Search(len(periods), func(i int) bool { return time.Duration(periods[i].Start)*time.Second > off }) - 1
	if i < 0 {
		return 0, 0, false
	}
	phases := 3
	if n := periods[i].Phases; n != 0 {
		phases = n
	}
	return periods[i].Limit, phases, true
}

// boundaries lists the times a profile's limit may change around [from,
// to): its validity, and its periods' starts and end in every occurrence.
func boundaries(p Profile, s Session, from, to time.Time) []time.Time {
	var out []time.Time
	if !p.ValidFrom.IsZero() {
		out = append(out, p.ValidFrom)
	}
	if !p.ValidTo.IsZero() {
		out = append(out, p.ValidTo)
	}
	var starts []time.Time
	switch p.Kind {
	case Relative:
		if s.Active && !s.Start.IsZero() {
			starts = append(starts, s.Start)
		}
	case Recurring:
		every := p.Recurrency.Every()
		if st, ok := scheduleStart(p, s, from); ok {
			for o := st; o.Before(to); o = o.Add(every) {
				starts = append(starts, o)
			}
		} else if base := p.Schedule.Start; !base.IsZero() {
			// Not begun by from: its first occurrence counts even past
			// to, so that Next finds a start weeks away.
			starts = append(starts, base)
			for o := base.Add(every); o.Before(to) && every > 0; o = o.Add(every) {
				starts = append(starts, o)
			}
		}
	default:
		if !p.Schedule.Start.IsZero() {
			starts = append(starts, p.Schedule.Start)
		} else if s.Active && !s.Start.IsZero() {
			starts = append(starts, s.Start)
		}
	}
	for _, st := range starts {
		for _, per := range p.Schedule.Periods {
			out = append(out, st.Add(time.Duration(per.Start)*time.Second))
		}
		if d := p.Schedule.Duration; d != nil {
			out = append(out, st.Add(time.Duration(*d)*time.Second))
		}
	}
	return out
}
