package site

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"time"
)

// TraceOptions say where the trace goes.
type TraceOptions struct {
	W io.Writer
}

// traceWriter writes a JSON line of the whole site whenever an offer or
// what is available changes, or a drawn current moves by 0.5 A or more
// (at most once a second of virtual time for those), plus the first and
// last instants.
type traceWriter struct {
	s     *Site
	w     *bufio.Writer
	buf   []byte
	lines int
	// last written, per connector in site order
	offered, drawn [][3]float64
	states         []string
	avail          [3]float64
	meter          string
	lastLine       time.Time
	// pending: a drawn current moved but its line waits for the once a
	// second limit.
	pending bool
}

func newTraceWriter(s *Site, o TraceOptions) *traceWriter {
	t := &traceWriter{s: s, w: bufio.NewWriterSize(o.W, 1<<20)}
	for _, ch := range s.chargers {
		for range ch.conns {
			t.offered = append(t.offered, [3]float64{})
			t.states = append(t.states, "")
			t.drawn = append(t.drawn, [3]float64{})
		}
	}
	return t
}

// meterState is the trace's "meter".
func (s *Site) meterState() string {
	switch {
	case s.master == nil || !s.master.meterOn:
		return "off"
	case !s.meterOK:
		return "failed"
	}
	return "ok"
}

func (t *traceWriter) tick(now time.Time, last bool) error {
	first := t.lines == 0
	avail, meter := round3(t.s.available()), t.s.meterState()
	must := first || last || avail != t.avail || meter != t.meter
	moved := false
	var sumNow, sumWritten [3]float64
	i := 0
	for _, ch := range t.s.chargers {
		for _, c := range ch.conns {
			o, d := round3(c.gridOffered()), round3(c.gridDrawn())
			if o != t.offered[i] || c.state() != t.states[i] {
				must = true
			}
			for p := range 3 {
				if math.Abs(d[p]-t.drawn[i][p]) >= 0.5 {
					moved = true
				}
				sumNow[p] += d[p]
				sumWritten[p] += t.drawn[i][p]
			}
			i++
		}
	}
	// Small moves that take a phase over what is available, or back
	// under, are written at once: the trace must not hide either.
	for p := range 3 {
		if (sumNow[p] > avail[p]+1e-6) != (sumWritten[p] > avail[p]+1e-6) {
			must = true
		}
	}
	if !must && !(moved && now.Sub(t.lastLine) >= time.Second) {
		t.pending = moved
		return nil
	}
	t.avail, t.meter, t.lastLine, t.pending = avail, meter, now, false
	b := t.buf[:0]
	b = append(b, `{"t":`...)
	b = strconv.AppendFloat(b, now.Sub(start).Seconds(), 'f', -1, 64)
	b = append(b, `,"available":`...)
	b = appendPhases(b, avail)
	b = append(b, `,"meter":"`...)
	b = append(b, meter...)
	b = append(b, `","connectors":[`...)
	i = 0
	for _, ch := range t.s.chargers {
		for _, c := range ch.conns {
			o, d := round3(c.gridOffered()), round3(c.gridDrawn())
			t.offered[i], t.drawn[i], t.states[i] = o, d, c.state()
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"charger":`...)
			b = strconv.AppendQuote(b, ch.spec.ID)
			b = append(b, `,"connector":`...)
			b = strconv.AppendInt(b, int64(c.n), 10)
			b = append(b, `,"state":"`...)
			b = append(b, c.state()...)
			b = append(b, `","arrival":`...)
			if c.ev == nil {
				b = append(b, "null"...)
			} else {
				b = strconv.AppendFloat(b, c.arrival, 'f', -1, 64)
			}
			b = append(b, `,"offered":`...)
			b = appendPhases(b, o)
			b = append(b, `,"drawn":`...)
			b = appendPhases(b, d)
			b = append(b, '}')
			i++
		}
	}
	b = append(b, "]}\n"...)
	t.buf = b
	t.lines++
	_, err := t.w.Write(b)
	return err
}

func (t *traceWriter) flush() error { return t.w.Flush() }

// state is the trace's connector state.
func (c *connector) state() string {
	switch {
	case c.ev == nil:
		return "empty"
	case c.done || c.ev.SoCPercent >= 100:
		return "finished"
	case c.applied >= 6:
		return "charging"
	}
	return "waiting"
}

func round3(p [3]float64) [3]float64 {
	for i := range p {
		p[i] = math.Round(p[i]*100) / 100
	}
	return p
}

func appendPhases(b []byte, p [3]float64) []byte {
	b = append(b, '[')
	for i, v := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	return append(b, ']')
}
