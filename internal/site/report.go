package site

import (
	"fmt"
	"io"
	"math"
)

// ReportData is a day of a site as the interactive report draws it: real
// instants of the trace (see thin: the picture never shows what did not
// happen, and keeps the peaks and the dips), what was available, and
// each connector's state, offer and draw.
type ReportData struct {
	Names []string `json:"names"` // the connectors, "charger/n"
	// T are the instants, in seconds from the start.
	T []float64 `json:"t"`
	// Available[p][i] is what phase p had at T[i], in A.
	Available [3][]float64 `json:"available"`
	// Offered[c][i] is connector c's offer (per phase) at T[i];
	// Drawn[p][c][i] its draw on grid phase p; State[c][i] its state.
	Offered [][]float64    `json:"offered"`
	Drawn   [3][][]float64 `json:"drawn"`
	State   [][]string     `json:"state"`
	// WithoutT and WithoutDrawn are the same day without load
	// management: the total drawn per phase (empty without --compare).
	WithoutT     []float64    `json:"withoutT,omitempty"`
	WithoutDrawn [3][]float64 `json:"withoutDrawn"`
	Events       []EventMark  `json:"events"`
	End          float64      `json:"end"`
}

// EventMark is an event of the scenario on the time axis.
type EventMark struct {
	T    float64 `json:"t"`
	Text string  `json:"text"`
}

// reportPoints bounds the instants a report keeps (it zooms).
const reportPoints = 4000

// Report reads a trace (and, in o, the scenario's events and the day
// without load management) into what the interactive report draws.
func Report(trace io.Reader, o PlotOptions) (ReportData, error) {
	var d ReportData
	var end float64
	err := ReadTrace(trace, func(l Line) error {
		if d.Names == nil {
			for _, c := range l.Connectors {
				d.Names = append(d.Names, fmt.Sprintf("%s/%d", c.Charger, c.Connector))
			}
			d.Offered = make([][]float64, len(d.Names))
			d.State = make([][]string, len(d.Names))
			for p := range 3 {
				d.Drawn[p] = make([][]float64, len(d.Names))
			}
		}
		if len(l.Connectors) != len(d.Names) {
			return fmt.Errorf("trace line at t=%g has %d connectors, the first had %d", l.T, len(l.Connectors), len(d.Names))
		}
		d.add(l)
		end = l.T
		return nil
	})
	if err != nil {
		return ReportData{}, err
	}
	if len(d.T) == 0 {
		return ReportData{}, fmt.Errorf("empty trace")
	}
	d.End = math.Max(end, 1)
	d.thin()
	if o.Without != nil {
		var w ReportData
		err := ReadTrace(o.Without, func(l Line) error {
			if w.Names == nil {
				w.Names = make([]string, len(l.Connectors))
				w.Offered = make([][]float64, len(l.Connectors))
				w.State = make([][]string, len(l.Connectors))
				for p := range 3 {
					w.Drawn[p] = make([][]float64, len(l.Connectors))
				}
			}
			if len(l.Connectors) != len(w.Names) {
				return fmt.Errorf("the trace without load management: a line of %d connectors", len(l.Connectors))
			}
			w.add(l)
			return nil
		})
		if err != nil {
			return ReportData{}, fmt.Errorf("the trace without load management: %w", err)
		}
		w.End = d.End
		w.thin()
		d.WithoutT = w.T
		for p := range 3 {
			d.WithoutDrawn[p] = make([]float64, len(w.T))
			for i := range w.T {
				for c := range w.Drawn[p] {
					d.WithoutDrawn[p][i] += w.Drawn[p][c][i]
				}
			}
		}
	}
	d.Events = []EventMark{} // none is a list too, for the script
	for _, e := range eventLabels(o.Scenario, d.End) {
		d.Events = append(d.Events, EventMark{T: e.t, Text: e.text})
	}
	return d, nil
}

// add appends a trace line's instant (the last line of an instant wins).
func (d *ReportData) add(l Line) {
	if n := len(d.T); n > 0 && d.T[n-1] == l.T {
		d.truncate(n - 1)
	}
	d.T = append(d.T, l.T)
	for p := range 3 {
		d.Available[p] = append(d.Available[p], l.Available[p])
	}
	for c, e := range l.Connectors {
		d.Offered[c] = append(d.Offered[c], math.Max(e.Offered[0], math.Max(e.Offered[1], e.Offered[2])))
		d.State[c] = append(d.State[c], e.State)
		for p := range 3 {
			d.Drawn[p][c] = append(d.Drawn[p][c], e.Drawn[p])
		}
	}
}

func (d *ReportData) truncate(n int) {
	d.T = d.T[:n]
	for p := range 3 {
		d.Available[p] = d.Available[p][:n]
		for c := range d.Drawn[p] {
			d.Drawn[p][c] = d.Drawn[p][c][:n]
		}
	}
	for c := range d.Offered {
		d.Offered[c], d.State[c] = d.Offered[c][:n], d.State[c][:n]
	}
}

// thin keeps at most twice reportPoints instants: in each bucket of
// time, the instant of the largest total drawn and the instant of the
// least available (the same one, often): real instants, the peaks and
// the dips both.
func (d *ReportData) thin() {
	if len(d.T) <= reportPoints {
		return
	}
	var keep []int
	bucket := -1
	var most, least int // this bucket's instants
	var mostDrawn, leastAvail float64
	flush := func() {
		if bucket < 0 {
			return
		}
		keep = append(keep, min(most, least))
		if most != least {
			keep = append(keep, max(most, least))
		}
	}
	for i, t := range d.T {
		drawn, avail := 0.0, 0.0
		for p := range 3 {
			avail += d.Available[p][i]
			for c := range d.Drawn[p] {
				drawn += d.Drawn[p][c][i]
			}
		}
		if b := int(t / d.End * (reportPoints - 1)); b != bucket {
			flush()
			bucket, most, least, mostDrawn, leastAvail = b, i, i, drawn, avail
			continue
		}
		if drawn > mostDrawn {
			most, mostDrawn = i, drawn
		}
		if avail < leastAvail {
			least, leastAvail = i, avail
		}
	}
	flush()
	pick := func(s []float64) []float64 {
		out := make([]float64, len(keep))
		for j, i := range keep {
			out[j] = s[i]
		}
		return out
	}
	d.T = pick(d.T)
	for p := range 3 {
		d.Available[p] = pick(d.Available[p])
		for c := range d.Drawn[p] {
			d.Drawn[p][c] = pick(d.Drawn[p][c])
		}
	}
	for c := range d.Offered {
		d.Offered[c] = pick(d.Offered[c])
		st := make([]string, len(keep))
		for j, i := range keep {
			st[j] = d.State[c][i]
		}
		d.State[c] = st
	}
}
