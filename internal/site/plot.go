package site

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"strings"
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

// Plot draws a trace as SVG: for each grid phase, the current each
// connector draws (stacked, one colour per connector), the total offered
// (dashed) and what was available (black), over the day.
func Plot(trace io.Reader, w io.Writer) error {
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
		// Keep one sample per horizontal pixel at most: the last.
		if n := len(samples); n > 0 && samples[n-1].t == l.T {
			samples[n-1] = s
		} else {
			samples = append(samples, s)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(samples) == 0 {
		return fmt.Errorf("empty trace")
	}
	end := samples[len(samples)-1].t
	if end <= 0 {
		end = 1
	}
	samples = thin(samples, end)
	bw := bufio.NewWriter(w)
	height := marginT + 3*(panelH+panelGap) + 20*legendRows + 20
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", plotWidth, height)
	fmt.Fprintf(bw, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(bw, `<text x="%d" y="20" font-size="14">Current per grid phase: drawn by each connector (stacked), offered in all (dashed), available for EVs (solid)</text>`+"\n", marginL)
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
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}

// thin keeps at most about two samples per horizontal pixel.
func thin(samples []sample, end float64) []sample {
	const max = 2 * (plotWidth - marginL - marginR)
	if len(samples) <= max {
		return samples
	}
	out := samples[:0:0]
	bucket := -1
	for _, s := range samples {
		b := int(s.t / end * max)
		if b == bucket {
			// Keep the bucket's lowest available and highest currents, so
			// that a dip or a peak stays visible.
			last := &out[len(out)-1]
			for p := range 3 {
				last.avail[p] = math.Min(last.avail[p], s.avail[p])
				last.offered[p] = math.Max(last.offered[p], s.offered[p])
			}
			for i := range s.drawn {
				for p := range 3 {
					last.drawn[i][p] = math.Max(last.drawn[i][p], s.drawn[i][p])
				}
			}
			continue
		}
		bucket = b
		c := s
		c.drawn = append([][3]float64(nil), s.drawn...)
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
	hours := end / 3600
	tick := 1.0
	for hours/tick > 12 {
		tick *= 2
	}
	if hours < 2 {
		tick = niceCeil(end/6) / 3600
	}
	for h := 0.0; h <= hours+1e-9; h += tick {
		label := fmt.Sprintf("%gh", math.Round(h*100)/100)
		if hours < 2 {
			label = fmt.Sprintf("%gmin", math.Round(h*60))
		}
		fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(h*3600), top+panelH+14, label)
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
