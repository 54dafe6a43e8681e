package site

import (
	"bufio"
	"io"
	"math"
	"slices"
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
	s      *Site
	w      *bufio.Writer
	buf    []byte
	lines  int
	bytes  int64
	conns  []written // per connector, in site order
	byConn map[*conn]*written
	avail  [3]float64
	meter  string
	// writtenDrawn sums the drawn current written, per grid phase.
	writtenDrawn [3]float64
	// held are connectors whose drawn move waits for the once a second
	// limit, until pendingAt.
	held      []*written
	pendingAt time.Time
}

// written is a connector as last written.
type written struct {
	ch             *charger
	c              *conn
	state          string
	arrival        float64 // -1: empty
	offered, drawn [3]float64
	at             time.Time
	index          int
}

func newTraceWriter(s *Site, o TraceOptions) *traceWriter {
	t := &traceWriter{s: s, w: bufio.NewWriterSize(o.W, 1<<20), byConn: map[*conn]*written{}}
	for _, ch := range s.chargers {
		for _, c := range ch.conns {
			t.conns = append(t.conns, written{ch: ch, c: c, index: len(t.conns)})
		}
	}
	for i := range t.conns {
		t.byConn[t.conns[i].c] = &t.conns[i]
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

// instant writes what changed at now: the connectors the site marked
// dirty, those whose drawn move waited for the once a second limit, and
// all of them at the first and last instants or when a phase crosses what
// is available.
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
	look := t.held
	t.held = nil
	for _, c := range t.s.dirty {
		c.dirty = false
		look = append(look, t.byConn[c])
	}
	t.s.dirty = t.s.dirty[:0]
	// A phase going over what is available, or back under, by small
	// moves is written at once: the trace must not hide either.
	crossed := t.crosses(avail)
	if first || last || crossed {
		look = look[:0]
		for i := range t.conns {
			look = append(look, &t.conns[i])
		}
	}
	t.pendingAt = time.Time{}
	slices.SortFunc(look, func(a, b *written) int { return a.index - b.index }) // in site order
	look = slices.Compact(look)
	for _, w := range look {
		t.consider(w, now, first || last, crossed)
	}
	// The lines written may make a phase look over what is available, or
	// under it, when it is not: a small move not written yet on another
	// connector tips it. Then every connector is written as it is.
	if !crossed && t.crosses(avail) {
		for i := range t.conns {
			t.consider(&t.conns[i], now, false, true)
		}
	}
	return nil
}

// crosses reports whether the trace as written shows a phase on the
// other side of what is available than the site is.
func (t *traceWriter) crosses(avail [3]float64) bool {
	for p := range 3 {
		if (t.s.drawnAll[p] > avail[p]+1e-6) != (t.writtenDrawn[p] > avail[p]+1e-6) {
			return true
		}
	}
	return false
}

// consider writes a connector's line if it must be written now.
func (t *traceWriter) consider(w *written, now time.Time, all, crossed bool) {
	c := w.c
	offered, drawn := round3(c.offered), round3(c.drawn)
	arrival := -1.0
	if c.plugged {
		arrival = c.arrival
	}
	must := all || c.state != w.state || arrival != w.arrival || offered != w.offered || crossed && drawn != w.drawn
	if !must {
		moved := false
		for p := range 3 {
			moved = moved || math.Abs(drawn[p]-w.drawn[p]) >= 0.5
		}
		if !moved {
			return
		}
		if next := w.at.Add(time.Second); now.Before(next) {
			t.pendingAt = earliestNonZero(t.pendingAt, next)
			t.held = append(t.held, w)
			return
		}
	}
	for p := range 3 {
		t.writtenDrawn[p] += drawn[p] - w.drawn[p]
	}
	w.state, w.arrival, w.offered, w.drawn, w.at = c.state, arrival, offered, drawn, now
	t.connLine(now, w.index, w)
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
