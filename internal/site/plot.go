package site

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// Plot sizes, in SVG pixels.
const (
	plotWidth  = 1200
	panelH     = 220
	marginL    = 60
	marginR    = 20
	marginT    = 40
	panelGap   = 40
	legendRows = 4
)

// palette colours the connectors, in turn.
var palette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
	"#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#8c564b"}

// sample is what the plot keeps of a trace line.
type sample struct {
	t       float64
	avail   [3]float64
	offered [3]float64
	drawn   [][3]float64 // per connector
}

// plotSamples reads a trace into what the plot draws: its instants,
// thinned to the plot's width, the connectors' names and the end time.
func plotSamples(trace io.Reader) ([]sample, []string, float64, error) {
	var samples []sample
	var names []string
	err := ReadTrace(trace, func(l Line) error {
		if names == nil {
			for _, c := range l.Connectors {
				names = append(names, fmt.Sprintf("%s/%d", c.Charger, c.Connector))
			}
		}
		if len(l.Connectors) != len(names) {
			return fmt.Errorf("trace line at t=%g has %d connectors, the first had %d", l.T, len(l.Connectors), len(names))
		}
		s := sample{t: l.T, avail: l.Available, drawn: make([][3]float64, len(names))}
		for i, c := range l.Connectors {
			s.drawn[i] = c.Drawn
			for p := range 3 {
				s.offered[p] += c.Offered[p]
			}
		}
		// One sample per instant: the last.
		if n := len(samples); n > 0 && samples[n-1].t == l.T {
			samples[n-1] = s
		} else {
			samples = append(samples, s)
		}
		return nil
	})
	if err != nil {
		return nil, nil, 0, err
	}
	if len(samples) == 0 {
		return nil, nil, 0, fmt.Errorf("empty trace")
	}
	end := samples[len(samples)-1].t
	if end <= 0 {
		end = 1
	}
	return thin(samples, end), names, end, nil
}

// PlotOptions add to the picture of a trace. The zero value draws the
// trace alone.
type PlotOptions struct {
	// Scenario names its events (meter, links, limits, inputs, power)
	// on the time axis.
	Scenario *Scenario
	// Cars are summed up below the picture (Stats.Cars).
	Cars []Car
	// Without is the trace of the same day without load management: its
	// total drawn per phase is drawn over the picture, in red.
	Without io.Reader
}

// Rows of the summaries below the panels.
const (
	maxEventLabels = 30
	maxCarRows     = 40
)

// Plot draws a trace as SVG: for each grid phase, the current each
// connector draws (stacked, one colour per connector), the total offered
// (dashed) and what was available (black), over the day, with clock times
// on the axis; and what o adds.
func Plot(trace io.Reader, w io.Writer, o PlotOptions) error {
	samples, names, end, err := plotSamples(trace)
	if err != nil {
		return err
	}
	var without []sample
	if o.Without != nil {
		if without, _, _, err = plotSamples(o.Without); err != nil {
			return fmt.Errorf("the trace without load management: %w", err)
		}
	}
	events := eventLabels(o.Scenario, end)
	bw := bufio.NewWriter(w)
	cars := min(len(o.Cars), maxCarRows+1)
	height := marginT + 3*(panelH+panelGap) + 20*legendRows + 20 + 16*(len(events)+1) + 16*(cars+1)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", plotWidth, height)
	fmt.Fprintf(bw, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	title := "Current per grid phase: drawn by each connector (stacked), offered in all (dashed), available for EVs (solid)"
	if without != nil {
		title += ", drawn without load management (red)"
	}
	fmt.Fprintf(bw, `<text x="%d" y="20" font-size="14">%s</text>`+"\n", marginL, html.EscapeString(title))
	for p := range 3 {
		top := marginT + p*(panelH+panelGap)
		ymax := 1.0
		for _, s := range samples {
			ymax = math.Max(ymax, math.Max(s.avail[p], s.offered[p]))
			sum := 0.0
			for _, d := range s.drawn {
				sum += d[p]
			}
			ymax = math.Max(ymax, sum)
		}
		for _, s := range without {
			ymax = math.Max(ymax, drawnTotal(s, p))
		}
		ymax = niceCeil(ymax * 1.05)
		x := func(t float64) float64 { return marginL + t/end*(plotWidth-marginL-marginR) }
		y := func(a float64) float64 { return float64(top+panelH) - a/ymax*panelH }
		axes(bw, p, top, ymax, end, x, y)
		// Stacked drawn current, one polygon per connector that ever draws.
		below := make([]float64, len(samples))
		for i := range names {
			any := false
			for _, s := range samples {
				if s.drawn[i][p] > 0 {
					any = true
					break
				}
			}
			if !any {
				continue
			}
			var upper, lower []string
			for k, s := range samples {
				x0, x1 := x(s.t), x(end)
				if k+1 < len(samples) {
					x1 = x(samples[k+1].t)
				}
				hi := below[k] + s.drawn[i][p]
				upper = append(upper, pt(x0, y(hi)), pt(x1, y(hi)))
				lower = append(lower, pt(x0, y(below[k])), pt(x1, y(below[k])))
				below[k] = hi
			}
			for a, b := 0, len(lower)-1; a < b; a, b = a+1, b-1 {
				lower[a], lower[b] = lower[b], lower[a]
			}
			fmt.Fprintf(bw, `<polygon points="%s %s" fill="%s" fill-opacity="0.85" stroke="none"><title>%s</title></polygon>`+"\n",
				strings.Join(upper, " "), strings.Join(lower, " "), palette[i%len(palette)], html.EscapeString(names[i]))
		}
		fmt.Fprintf(bw, `<polyline points="%s" fill="none" stroke="#333" stroke-width="1.2" stroke-dasharray="5,3"/>`+"\n",
			steps(samples, end, x, y, func(s sample) float64 { return s.offered[p] }))
		fmt.Fprintf(bw, `<polyline points="%s" fill="none" stroke="black" stroke-width="1.6"/>`+"\n",
			steps(samples, end, x, y, func(s sample) float64 { return s.avail[p] }))
		if without != nil {
			fmt.Fprintf(bw, `<polyline points="%s" fill="none" stroke="#d62728" stroke-width="1.2"/>`+"\n",
				steps(without, end, x, y, func(s sample) float64 { return drawnTotal(s, p) }))
		}
		for i, e := range events {
			fmt.Fprintf(bw, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#d62728" stroke-opacity="0.5" stroke-dasharray="2,3"/>`+"\n",
				x(e.t), x(e.t), top, top+panelH)
			if p == 0 {
				fmt.Fprintf(bw, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle" fill="#d62728">%d</text>`+"\n", x(e.t), top-3, i+1)
			}
		}
	}
	// Legend.
	ly := marginT + 3*(panelH+panelGap)
	per := (len(names) + legendRows - 1) / legendRows
	if per == 0 {
		per = 1
	}
	colW := float64(plotWidth-marginL-marginR) / float64(per)
	for i, n := range names {
		if i >= legendRows*per {
			break
		}
		lx := float64(marginL) + float64(i%per)*colW
		lyy := ly + 20*(i/per)
		fmt.Fprintf(bw, `<rect x="%.1f" y="%d" width="10" height="10" fill="%s"/><text x="%.1f" y="%d">%s</text>`+"\n",
			lx, lyy, palette[i%len(palette)], lx+14, lyy+10, html.EscapeString(n))
	}
	// The events, numbered as on the axis.
	ty := ly + 20*legendRows + 16
	if len(events) > 0 {
		fmt.Fprintf(bw, `<text x="%d" y="%d" font-weight="bold">Events</text>`+"\n", marginL, ty)
		for i, e := range events {
			ty += 16
			fmt.Fprintf(bw, `<text x="%d" y="%d" fill="#d62728">%d</text><text x="%d" y="%d">%s %s</text>`+"\n",
				marginL, ty, i+1, marginL+24, ty, clockAt(e.t, end), html.EscapeString(e.text))
		}
		ty += 24
	}
	// The cars.
	if len(o.Cars) > 0 {
		full, waited := 0, time.Duration(0)
		for _, c := range o.Cars {
			if c.Full {
				full++
			}
			waited += c.Waiting
		}
		fmt.Fprintf(bw, `<text x="%d" y="%d" font-weight="bold">%d cars: %d full when they left, %s waiting in all</text>`+"\n",
			marginL, ty, len(o.Cars), full, hm(waited))
		for i, c := range o.Cars {
			ty += 16
			if i == maxCarRows {
				fmt.Fprintf(bw, `<text x="%d" y="%d">… and %d more</text>`+"\n", marginL, ty, len(o.Cars)-maxCarRows)
				break
			}
			state := "not full"
			if c.Full {
				state = "full"
			}
			fmt.Fprintf(bw, `<text x="%d" y="%d">%s/%d  %s–%s  %.1f kWh  waited %s  %s</text>`+"\n",
				marginL, ty, html.EscapeString(c.Charger), c.Connector, clockAt(c.Arrival, end), clockAt(c.Departure, end),
				c.EnergyWh/1000, hm(c.Waiting), state)
		}
	}
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}

// drawnTotal is what all connectors of a sample draw on phase p.
func drawnTotal(s sample, p int) float64 {
	sum := 0.0
	for _, d := range s.drawn {
		sum += d[p]
	}
	return sum
}

// eventLabel is an event of the scenario shown on the time axis.
type eventLabel struct {
	t    float64
	text string
}

// eventLabels are the scenario's events that change the site (meter,
// links, limits and other keys, inputs, power; not the cars), at most
// maxEventLabels.
func eventLabels(sc *Scenario, end float64) []eventLabel {
	if sc == nil {
		return nil
	}
	var out []eventLabel
	for _, e := range sc.Events {
		var text string
		switch {
		case e.Meter == "fail":
			text = "the meter fails"
		case e.Meter == "ok":
			text = "the meter is back"
		case e.Link != "":
			text = e.Charger + "'s link " + e.Link
		case e.Power != "":
			text = e.Charger + " powered " + e.Power
		case e.Input != 0:
			level := "low"
			if e.High {
				level = "high"
			}
			text = fmt.Sprintf("%s input %d %s", e.Charger, e.Input, level)
		case e.Config != nil:
			var kv []string
			for k, v := range e.Config {
				kv = append(kv, k+"="+v)
			}
			sort.Strings(kv)
			text = e.Charger + ": " + strings.Join(kv, " ")
		default:
			continue
		}
		t := time.Duration(e.At).Seconds()
		if t > end {
			continue
		}
		if len(out) == maxEventLabels {
			out = append(out, eventLabel{t: t, text: "… and more"})
			break
		}
		out = append(out, eventLabel{t: t, text: text})
	}
	return out
}

// clockAt is a time of the run as a clock shows it ("06:30"), with the day
// on a run of more than a day ("d2 06:30").
func clockAt(t, end float64) string {
	d := time.Duration(t * float64(time.Second))
	day, rest := int(d/(24*time.Hour)), d%(24*time.Hour)
	hm := fmt.Sprintf("%02d:%02d", int(rest/time.Hour), int(rest%time.Hour/time.Minute))
	if end > 86400 {
		return fmt.Sprintf("d%d %s", day+1, hm)
	}
	if day > 0 {
		return "24:00"
	}
	return hm
}

// hm is a duration as hours and minutes ("2:05").
func hm(d time.Duration) string {
	return fmt.Sprintf("%d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// thin keeps at most about two samples per horizontal pixel. A kept
// sample shows, on each phase, the currents of one real instant of its
// bucket (the one with the most drawn in all on that phase), so that the
// stack is never higher than the trace ever was; the lowest available and
// the highest offer of the bucket, so that a dip or a peak stays visible.
func thin(samples []sample, end float64) []sample {
	const max = 2 * (plotWidth - marginL - marginR)
	if len(samples) <= max {
		return samples
	}
	out := samples[:0:0]
	bucket := -1
	var best [3]float64 // the kept instant's total drawn, per phase
	total := func(s sample, p int) float64 {
		sum := 0.0
		for _, d := range s.drawn {
			sum += d[p]
		}
		return sum
	}
	for _, s := range samples {
		b := int(s.t / end * max)
		if b == bucket {
			last := &out[len(out)-1]
			for p := range 3 {
				last.avail[p] = math.Min(last.avail[p], s.avail[p])
				last.offered[p] = math.Max(last.offered[p], s.offered[p])
				if sum := total(s, p); sum > best[p] {
					best[p] = sum
					for i := range s.drawn {
						last.drawn[i][p] = s.drawn[i][p]
					}
				}
			}
			continue
		}
		bucket = b
		c := s
		c.drawn = append([][3]float64(nil), s.drawn...)
		for p := range 3 {
			best[p] = total(s, p)
		}
		out = append(out, c)
	}
	return out
}

func pt(x, y float64) string { return fmt.Sprintf("%.1f,%.1f", x, y) }

// steps is a step line through the samples.
func steps(samples []sample, end float64, x, y func(float64) float64, v func(sample) float64) string {
	var b strings.Builder
	for k, s := range samples {
		x1 := x(end)
		if k+1 < len(samples) {
			x1 = x(samples[k+1].t)
		}
		fmt.Fprintf(&b, "%s %s ", pt(x(s.t), y(v(s))), pt(x1, y(v(s))))
	}
	return b.String()
}

// axes draws a panel's frame, its amperes and its hours.
func axes(w io.Writer, phase, top int, ymax, end float64, x, y func(float64) float64) {
	fmt.Fprintf(w, `<text x="%d" y="%d" font-weight="bold">L%d</text>`+"\n", 10, top+panelH/2, phase+1)
	fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>`+"\n",
		marginL, top, plotWidth-marginL-marginR, panelH)
	step := niceCeil(ymax / 5)
	for a := 0.0; a <= ymax+1e-9; a += step {
		fmt.Fprintf(w, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%g A</text>`+"\n",
			marginL, plotWidth-marginR, y(a), y(a), marginL-4, y(a)+4, a)
	}
	// Ticks at round clock times, a dozen at most.
	tick := 5 * time.Minute
	for _, d := range []time.Duration{5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour,
		2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour} {
		tick = d
		if end/d.Seconds() <= 12 {
			break
		}
	}
	for t := 0.0; t <= end+1e-9; t += tick.Seconds() {
		fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(t), top+panelH+14, clockAt(t, end))
	}
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
