package chargepoint

import (
	"time"

	"github.com/evse-dev/evse/internal/smartcharging"
)

// MaxCompositeDuration bounds what GetCompositeSchedule computes: a week
// covers every recurrence, and a year of 255 daily profiles of 255
// periods would hold the answer up for a minute.
const MaxCompositeDuration = 7 * 24 * time.Hour

// CompositeDuration is a GetCompositeSchedule's duration, in seconds, as
// the length of the schedule computed: at most MaxCompositeDuration (so
// a count of seconds no time.Duration holds is a week too), none below 0.
func CompositeDuration(seconds int) time.Duration {
	switch {
	case seconds <= 0:
		return 0
	case seconds >= int(MaxCompositeDuration/time.Second):
		return MaxCompositeDuration
	}
	return time.Duration(seconds) * time.Second
}

// Schedule is the composite schedule a connector (0: the charge point)
// will follow for dur from the inputs' start: for a connector, what its
// profiles allow under its share of the ChargePointMax profile, capped
// at the hardware maximum (which also stands where no profile limits),
// with three phases where it cannot switch to one; for the charge point,
// the connectors' schedules summed under the ChargePointMax profile.
// OCPP 1.6's and 2.0.1's GetCompositeSchedule both answer with it.
func (in *CompositeInputs) Schedule(connector int, dur time.Duration) []smartcharging.Period {
	return wholeSeconds(in.schedule(connector, dur))
}

// wholeSeconds moves each period's start up to a whole second (the
// messages' startPeriod), the first staying at 0: a period that then
// starts with the next one is left out (a transaction started a moment
// after the schedule's start, for one).
func wholeSeconds(ps []smartcharging.Period) []smartcharging.Period {
	var out []smartcharging.Period
	for i, p := range ps {
		if i > 0 {
			p.Start = (p.Start + time.Second - 1).Truncate(time.Second)
		}
		if n := len(out); n > 0 && out[n-1].Start == p.Start {
			out = out[:n-1]
		}
		out = append(out, p)
	}
	return out
}

func (in *CompositeInputs) schedule(connector int, dur time.Duration) []smartcharging.Period {
	if connector > 0 {
		st := in.Stacks[0]
		return reported(smartcharging.Composite(st.CPMax, st.Own, st.Session, in.Start, dur), in.MaxCurrent, st.Switchable)
	}
	var all [][]smartcharging.Period
	for _, st := range in.Stacks {
		all = append(all, reported(smartcharging.Composite(nil, st.Own, st.Session, in.Start, dur), in.MaxCurrent, st.Switchable))
	}
	all = append(all, smartcharging.Composite(in.Stacks[0].CPMax, nil, smartcharging.Session{}, in.Start, dur))
	return smartcharging.Merge(all, func(ls []float64) float64 {
		sum := 0.0
		for _, l := range ls[:len(ls)-1] {
			sum += l
		}
		if m := ls[len(ls)-1]; m >= 0 {
			return min(sum, m)
		}
		return sum
	})
}

// reported is a connector's schedule as it will be followed: capped at
// the hardware maximum, which also stands where no profile limits, and
// with three phases where the connector cannot switch to one.
func reported(ps []smartcharging.Period, hwMax float64, switchable bool) []smartcharging.Period {
	var out []smartcharging.Period
	for _, p := range ps {
		if p.Limit < 0 || p.Limit > hwMax {
			p.Limit = hwMax
		}
		if !switchable {
			p.Phases = 3
		}
		if n := len(out); n > 0 && out[n-1].Limit == p.Limit && out[n-1].Phases == p.Phases && out[n-1].MinRate == p.MinRate {
			continue
		}
		out = append(out, p)
	}
	return out
}
