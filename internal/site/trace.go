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

// traceVersion is the trace format written (docs/site.md); version 1
// wrote the whole site on every line.
const traceVersion = 2

// traceWriter writes the trace as changes: a header naming the
// connectors, then a site line when what is available or the meter
// changes, and a connector line when its state, arrival or offer changes
// or its drawn current moves by 0.5 A or more (at most once a second of
// virtual time for those); small moves that take a phase over what is
// available, or back under, are written at once. The first and last
// instants are written whole.
type traceWriter struct {
	s     *Site
	w     *bufio.Writer
	buf   []byte
	lines int
	bytes int64
	conns []written // per connector, in site order
	avail [3]float64
	meter string
	// pendingAt is when a drawn move held back by the once a second
	// limit may be written.
	pendingAt time.Time
}

// written is a connector as last written.
type written struct {
	ch              *charger
	c               *conn
	state           string
	arrival         float64 // -1: empty
	offered, drawn  [3]float64
	at              time.Time
	nowOff, nowDraw [3]float64 // as it is now
	nowState        string
	nowArrival      float64
}

func newTraceWriter(s *Site, o TraceOptions) *traceWriter {
	t := &traceWriter{s: s, w: bufio.NewWriterSize(o.W, 1<<20)}
	for _, ch := range s.chargers {
		for _, c := range ch.conns {
			t.conns = append(t.conns, written{ch: ch, c: c})
		}
	}
	return t
}

// meterState is the trace's "meter".
func (s *Site) meterState() string {
	switch {
	case s.master == nil || s.master.settings.Snapshot().DlmExtMeterEnabled != 1:
		return "off"
	case !s.meterOK:
		return "failed"
	}
	return "ok"
}

// instant writes what changed at now.
func (t *traceWriter) instant(now time.Time, last bool) error {
	first := t.lines == 0
	if first {
		t.header()
	}
	avail, meter := round3(t.s.available()), t.s.meterState()
	if first || last || avail != t.avail || meter != t.meter {
		t.avail, t.meter = avail, meter
		t.siteLine(now)
	}
	var sumNow, sumWritten [3]float64
	for i := range t.conns {
		w := &t.conns[i]
		w.nowOff, w.nowDraw = round3(w.ch.gridOffered(w.c)), round3(w.ch.gridDrawn(w.c))
		w.nowState, w.nowArrival = w.ch.state(w.c), -1
		if w.c.plugged {
			w.nowArrival = w.c.arrival
		}
		for p := range 3 {
			sumNow[p] += w.nowDraw[p]
			sumWritten[p] += w.drawn[p]
		}
	}
	// A phase going over what is available, or back under, by small
	// moves is written at once: the trace must not hide either.
	crossed := false
	for p := range 3 {
		if (sumNow[p] > avail[p]+1e-6) != (sumWritten[p] > avail[p]+1e-6) {
			crossed = true
		}
	}
	t.pendingAt = time.Time{}
	for i := range t.conns {
		w := &t.conns[i]
		must := first || last || w.nowState != w.state || w.nowArrival != w.arrival || w.nowOff != w.offered
		moved := false
		for p := range 3 {
			if math.Abs(w.nowDraw[p]-w.drawn[p]) >= 0.5 {
				moved = true
			}
		}
		if crossed && w.nowDraw != w.drawn {
			must = true
		}
		if !must && moved {
			if next := w.at.Add(time.Second); now.Before(next) {
				t.pendingAt = earliestNonZero(t.pendingAt, next)
				continue
			}
			must = true
		}
		if must {
			w.state, w.arrival, w.offered, w.drawn, w.at = w.nowState, w.nowArrival, w.nowOff, w.nowDraw, now
			t.connLine(now, i, w)
		}
	}
	return nil
}

func (t *traceWriter) header() {
	b := append(t.buf[:0], `{"trace":"evse site","version":`...)
	b = strconv.AppendInt(b, traceVersion, 10)
	b = append(b, `,"connectors":[`...)
	for i, w := range t.conns {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"charger":`...)
		b = strconv.AppendQuote(b, w.ch.spec.ID)
		b = append(b, `,"connector":`...)
		b = strconv.AppendInt(b, int64(w.c.n), 10)
		b = append(b, '}')
	}
	t.write(append(b, "]}\n"...))
}

func (t *traceWriter) siteLine(now time.Time) {
	b := append(t.buf[:0], `{"t":`...)
	b = appendT(b, now)
	b = append(b, `,"available":`...)
	b = appendPhases(b, t.avail)
	b = append(b, `,"meter":"`...)
	b = append(b, t.meter...)
	t.write(append(b, "\"}\n"...))
}

func (t *traceWriter) connLine(now time.Time, i int, w *written) {
	b := append(t.buf[:0], `{"t":`...)
	b = appendT(b, now)
	b = append(b, `,"c":`...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, `,"state":"`...)
	b = append(b, w.state...)
	b = append(b, `","arrival":`...)
	if w.arrival < 0 {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendFloat(b, w.arrival, 'f', -1, 64)
	}
	b = append(b, `,"offered":`...)
	b = appendPhases(b, w.offered)
	b = append(b, `,"drawn":`...)
	b = appendPhases(b, w.drawn)
	t.write(append(b, "}\n"...))
}

func (t *traceWriter) write(b []byte) {
	t.buf = b
	t.lines++
	t.bytes += int64(len(b))
	t.w.Write(b)
}

func (t *traceWriter) flush() error { return t.w.Flush() }

func appendT(b []byte, now time.Time) []byte {
	return strconv.AppendFloat(b, math.Round(now.Sub(start).Seconds()*1000)/1000, 'f', -1, 64)
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
