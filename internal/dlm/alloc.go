package dlm

import (
	"math"
	"slices"
)

// Phases is a current on each grid phase L1, L2, L3, in A.
type Phases [3]float64

// MinSignal is the least current an EV can be offered (IEC 61851: a 10 %
// duty cycle is 6 A); a smaller minimum counts as this.
const MinSignal = 6

// EV is an EV ready to charge, as the allocation sees it.
type EV struct {
	// Arrival orders EVs: the smaller, the earlier it got ready. Ties are
	// broken by position in the input.
	Arrival int64
	// Uses says which grid phases the EV draws on (after the connector's
	// phase rotation). An EV whose phases are not known yet uses all three.
	Uses [3]bool
	// Min is the least it may be offered (DlmMinCurrentRating of its
	// charger), in A; below MinSignal counts as MinSignal.
	Min float64
	// Max is the most it can take on each phase, in A: the EV's and the
	// connector's maximum, or less when it draws less than it was offered
	// (its unused current is handed to the others).
	Max float64
}

// Allocate shares available among the EVs and returns each EV's offer, in
// A per phase it uses, in the order of evs. It holds, for any input:
//   - on every phase, the offers of the EVs using it add up to at most
//     what is available there;
//   - an offer is 0 or between the EV's minimum and its maximum;
//   - an EV waits (0) only when its minimum does not fit on one of its
//     phases beside the minimums of the EVs that arrived before it there;
//   - the EVs that charge get equal shares, raised together until a phase
//     is full or an EV's maximum is reached, never below their minimums.
//
// Offers are rounded down to 0.1 A.
func Allocate(available Phases, evs []EV) []float64 {
	n := len(evs)
	offers := make([]float64, n)
	mins := make([]float64, n)
	charging := make([]bool, n)
	for i, ev := range evs {
		mins[i] = max(ev.Min, MinSignal)
		// An EV that cannot take its minimum, or uses no phase, waits.
		charging[i] = ev.Max >= mins[i] && (ev.Uses[0] || ev.Uses[1] || ev.Uses[2])
	}
	avail := available
	for p := range avail {
		avail[p] = max(avail[p], 0)
	}

	// Who charges: in arrival order, each EV whose minimum still fits on
	// every phase it uses beside those admitted before it.
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case evs[a].Arrival < evs[b].Arrival:
			return -1
		case evs[a].Arrival > evs[b].Arrival:
			return 1
		}
		return 0
	})
	var used Phases
	for _, i := range order {
		if !charging[i] {
			continue
		}
		fits := true
		for p := range 3 {
			if evs[i].Uses[p] && used[p]+mins[i] > avail[p]+1e-9 {
				fits = false
			}
		}
		if !fits {
			charging[i] = false
			continue
		}
		for p := range 3 {
			if evs[i].Uses[p] {
				used[p] += mins[i]
			}
		}
	}

	// Equal shares with floors: every charging EV gets clamp(L, min, max)
	// for a common level L, raised until a phase is full; the EVs of a full
	// phase keep their share and the others go on rising.
	level := make([]float64, n) // the share of a frozen EV
	frozen := make([]bool, n)
	for i := range n {
		if !charging[i] {
			frozen[i] = true
		}
	}
	for round := 0; round < 4; round++ {
		// The highest level each phase allows with the EVs still rising.
		best := math.Inf(1)
		var full [3]bool
		var limits [3]float64
		for p := range 3 {
			var rising []int
			fixed := 0.0
			for i := range n {
				if !charging[i] || !evs[i].Uses[p] {
					continue
				}
				if frozen[i] {
					fixed += level[i]
				} else {
					rising = append(rising, i)
				}
			}
			if len(rising) == 0 {
				limits[p] = math.Inf(1)
				continue
			}
			limits[p] = highestLevel(avail[p]-fixed, rising, mins, evs)
			best = min(best, limits[p])
		}
		if math.IsInf(best, 1) {
			// Every EV still rising fits at its maximum.
			for i := range n {
				if !frozen[i] {
					level[i], frozen[i] = evs[i].Max, true
				}
			}
			break
		}
		for p := range 3 {
			full[p] = limits[p] <= best
		}
		// Freeze the EVs of the full phases at best, and those capped
		// below it (they are at their maximum: frozen at any level).
		done := true
		for i := range n {
			if frozen[i] {
				continue
			}
			onFull := false
			for p := range 3 {
				if evs[i].Uses[p] && full[p] {
					onFull = true
				}
			}
			if onFull {
				level[i] = clamp(best, mins[i], evs[i].Max)
				frozen[i] = true
			} else {
				done = false
			}
		}
		if done {
			break
		}
	}
	for i := range n {
		if charging[i] {
			offers[i] = math.Floor(level[i]*10+1e-9) / 10
		}
	}
	return offers
}

func clamp(x, lo, hi float64) float64 { return max(lo, min(x, hi)) }

// highestLevel is the highest L such that the sum over the rising EVs of
// clamp(L, min, max) stays within room; +Inf when they all fit at their
// maximums. The minimums always fit (they were admitted so).
func highestLevel(room float64, rising []int, mins []float64, evs []EV) float64 {
	total := 0.0
	for _, i := range rising {
		total += evs[i].Max
	}
	if total <= room+1e-9 {
		return math.Inf(1)
	}
	// Walk the breakpoints upward: below every minimum the sum is the sum
	// of the minimums; it then grows by one A per A of level for each EV
	// between its min and max.
	type event struct {
		at    float64
		slope int
	}
	events := make([]event, 0, 2*len(rising))
	sum := 0.0
	for _, i := range rising {
		sum += mins[i]
		events = append(events, event{mins[i], +1}, event{evs[i].Max, -1})
	}
	slices.SortFunc(events, func(a, b event) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	l, slope := events[0].at, 0
	for _, e := range events {
		next := sum + float64(slope)*(e.at-l)
		if next > room && slope > 0 {
			return l + (room-sum)/float64(slope)
		}
		sum, l = next, e.at
		slope += e.slope
	}
	return l
}
