package dlm

import (
	"fmt"
	"math"
	"testing"

	"pgregory.net/rapid"
)

var (
	three = [3]bool{true, true, true}
	l1    = [3]bool{true, false, false}
	l2    = [3]bool{false, true, false}
	l3    = [3]bool{false, false, true}
)

func TestAllocate(t *testing.T) {
	cases := []struct {
		name      string
		available Phases
		evs       []EV
		want      []float64
	}{
		{"nobody", Phases{32, 32, 32}, nil, []float64{}},
		{"one EV takes what it can", Phases{32, 32, 32}, []EV{{Arrival: 1, Uses: three, Min: 6, Max: 16}}, []float64{16}},
		{"one EV, less available than it wants", Phases{10, 32, 32}, []EV{{Arrival: 1, Uses: three, Min: 6, Max: 16}}, []float64{10}},
		{"equal shares", Phases{32, 32, 32}, []EV{
			{Arrival: 1, Uses: three, Min: 6, Max: 32}, {Arrival: 2, Uses: three, Min: 6, Max: 32}}, []float64{16, 16}},
		{"a capped EV leaves its share to the others", Phases{32, 32, 32}, []EV{
			{Arrival: 1, Uses: three, Min: 6, Max: 10}, {Arrival: 2, Uses: three, Min: 6, Max: 32}}, []float64{10, 22}},
		{"FIFO: the later waits when both minimums do not fit", Phases{16, 16, 16}, []EV{
			{Arrival: 2, Uses: three, Min: 6, Max: 32}, {Arrival: 1, Uses: three, Min: 6, Max: 32},
			{Arrival: 3, Uses: three, Min: 6, Max: 32}}, []float64{8, 8, 0}},
		{"never below the minimum: 0 or at least 6", Phases{11, 11, 11}, []EV{
			{Arrival: 1, Uses: three, Min: 6, Max: 32}, {Arrival: 2, Uses: three, Min: 6, Max: 32}}, []float64{11, 0}},
		{"a minimum under 6 A counts as 6", Phases{11, 11, 11}, []EV{
			{Arrival: 1, Uses: three, Min: 0, Max: 32}, {Arrival: 2, Uses: three, Min: 2, Max: 32}}, []float64{11, 0}},
		{"per-charger minimums: each floor holds", Phases{18, 18, 18}, []EV{
			{Arrival: 1, Uses: three, Min: 6, Max: 32}, {Arrival: 2, Uses: three, Min: 10, Max: 32}}, []float64{8, 10}},
		{"single-phase cars on different grid phases do not compete", Phases{16, 16, 16}, []EV{
			{Arrival: 1, Uses: l1, Min: 6, Max: 16}, {Arrival: 2, Uses: l2, Min: 6, Max: 16}, {Arrival: 3, Uses: l3, Min: 6, Max: 16}}, []float64{16, 16, 16}},
		{"a single-phase car shares only its phase with a three-phase one", Phases{20, 32, 32}, []EV{
			{Arrival: 1, Uses: three, Min: 6, Max: 32}, {Arrival: 2, Uses: l1, Min: 6, Max: 32}}, []float64{10, 10}},
		{"the short phase decides a three-phase car's share", Phases{32, 32, 8}, []EV{
			{Arrival: 1, Uses: three, Min: 6, Max: 32}}, []float64{8}},
		{"a three-phase car cannot fit beside an earlier single-phase one on a short phase", Phases{10, 32, 32}, []EV{
			{Arrival: 1, Uses: l1, Min: 6, Max: 32}, {Arrival: 2, Uses: three, Min: 6, Max: 32}}, []float64{10, 0}},
		{"a later car on a free phase charges while one on a full phase waits", Phases{12, 12, 12}, []EV{
			{Arrival: 1, Uses: l1, Min: 6, Max: 32}, {Arrival: 2, Uses: l1, Min: 6, Max: 32},
			{Arrival: 3, Uses: l1, Min: 6, Max: 32}, {Arrival: 4, Uses: l2, Min: 6, Max: 32}}, []float64{6, 6, 0, 12}},
		{"an EV that cannot take its minimum waits", Phases{32, 32, 32}, []EV{
			{Arrival: 1, Uses: three, Min: 10, Max: 8}, {Arrival: 2, Uses: three, Min: 6, Max: 32}}, []float64{0, 32}},
		{"nothing available", Phases{0, 0, 0}, []EV{{Arrival: 1, Uses: three, Min: 6, Max: 32}}, []float64{0}},
		{"negative available counts as none", Phases{-5, 32, 32}, []EV{{Arrival: 1, Uses: l1, Min: 6, Max: 32}}, []float64{0}},
		{"offers are rounded down to 0.1 A", Phases{20, 20, 20}, []EV{
			{Arrival: 1, Uses: three, Min: 6, Max: 32}, {Arrival: 2, Uses: three, Min: 6, Max: 32}, {Arrival: 3, Uses: three, Min: 6, Max: 32}},
			[]float64{6.6, 6.6, 6.6}},
	}
	for _, c := range cases {
		got := Allocate(c.available, c.evs)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// genSite draws a random site: what is available and the EVs.
func genSite(t *rapid.T) (Phases, []EV) {
	var avail Phases
	for p := range 3 {
		avail[p] = rapid.Float64Range(-10, 200).Draw(t, fmt.Sprintf("avail%d", p))
	}
	n := rapid.IntRange(0, 40).Draw(t, "n")
	evs := make([]EV, n)
	for i := range evs {
		kind := rapid.IntRange(0, 3).Draw(t, "kind")
		uses := three
		if kind > 0 {
			uses = [3]bool{}
			uses[kind-1] = true
		}
		evs[i] = EV{
			Arrival: int64(rapid.IntRange(0, 20).Draw(t, "arrival")),
			Uses:    uses,
			Min:     float64(rapid.IntRange(0, 16).Draw(t, "min")),
			Max:     rapid.Float64Range(0, 63).Draw(t, "max"),
		}
	}
	return avail, evs
}

// TestAllocationInvariants: over random sites, no phase is ever over what
// is available, no offer is between 0 and the EV's minimum or above its
// maximum, and an EV waits only when its minimum does not fit beside the
// minimums of those that arrived before it.
func TestAllocationInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		avail, evs := genSite(t)
		offers := Allocate(avail, evs)
		var sum Phases
		for i, ev := range evs {
			o := offers[i]
			minimum := math.Max(ev.Min, MinSignal)
			if o != 0 && (o < minimum-1e-9 || o > ev.Max+1e-9) {
				t.Fatalf("EV %d offered %v, outside 0 or [%v, %v]", i, o, minimum, ev.Max)
			}
			for p := range 3 {
				if ev.Uses[p] {
					sum[p] += o
				}
			}
		}
		for p := range 3 {
			if sum[p] > math.Max(avail[p], 0)+1e-6 {
				t.Fatalf("phase L%d: %v offered, %v available", p+1, sum[p], avail[p])
			}
		}
		// FIFO: a waiting EV that could take its minimum lacks room on one
		// of its phases beside the minimums of the charging EVs that
		// arrived before it (or at the same time, earlier in the list).
		for w, ev := range evs {
			minimum := math.Max(ev.Min, MinSignal)
			if offers[w] != 0 || ev.Max < minimum || ev.Uses == [3]bool{} {
				continue
			}
			blocked := false
			for p := range 3 {
				if !ev.Uses[p] {
					continue
				}
				before := 0.0
				for c, other := range evs {
					earlier := other.Arrival < ev.Arrival || (other.Arrival == ev.Arrival && c < w)
					if offers[c] > 0 && earlier && other.Uses[p] {
						before += math.Max(other.Min, MinSignal)
					}
				}
				if before+minimum > math.Max(avail[p], 0)+1e-9 {
					blocked = true
				}
			}
			if !blocked {
				t.Fatalf("EV %d waits although its minimum fits beside the earlier ones", w)
			}
		}
	})
}

// TestSharesAreEqualWhereNothingElseDecides: two EVs on the same phases,
// neither at its maximum nor held up by its minimum, get the same share.
func TestSharesAreEqualWhereNothingElseDecides(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		avail, evs := genSite(t)
		offers := Allocate(avail, evs)
		for i := range evs {
			for j := range evs {
				a, b := evs[i], evs[j]
				if i == j || a.Uses != b.Uses || offers[i] == 0 || offers[j] == 0 {
					continue
				}
				free := func(k int) bool {
					return offers[k] < evs[k].Max-0.1 && offers[k] > math.Max(evs[k].Min, MinSignal)+0.1
				}
				if free(i) && free(j) && math.Abs(offers[i]-offers[j]) > 0.1+1e-9 {
					t.Fatalf("EVs %d and %d on the same phases get %v and %v", i, j, offers[i], offers[j])
				}
			}
		}
	})
}

func BenchmarkAllocate1000EVs(b *testing.B) {
	evs := make([]EV, 1000)
	for i := range evs {
		uses := three
		if i%4 != 0 {
			uses = [3]bool{}
			uses[i%3] = true
		}
		evs[i] = EV{Arrival: int64(i), Uses: uses, Min: float64(6 + i%4), Max: float64(10 + i%23)}
	}
	avail := Phases{4000, 3500, 3000}
	b.ReportAllocs()
	for b.Loop() {
		Allocate(avail, evs)
	}
}
