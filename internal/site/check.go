package site

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Line is the whole site at one instant of a trace.
type Line struct {
	T          float64      `json:"t"`
	Available  [3]float64   `json:"available"`
	Meter      string       `json:"meter"`
	Connectors []TraceEntry `json:"connectors"`
}

// TraceEntry is one connector in a trace line.
type TraceEntry struct {
	Charger   string     `json:"charger"`
	Connector int        `json:"connector"`
	State     string     `json:"state"`
	Arrival   *float64   `json:"arrival"`
	Offered   [3]float64 `json:"offered"`
	Drawn     [3]float64 `json:"drawn"`
}

// record is one line of a trace as written (docs/site.md): the header,
// a site line, or a connector line; version 1 traces hold whole Lines.
type record struct {
	Trace      string       `json:"trace"`
	Version    int          `json:"version"`
	T          *float64     `json:"t"`
	Available  *[3]float64  `json:"available"`
	Meter      string       `json:"meter"`
	C          *int         `json:"c"`
	State      string       `json:"state"`
	Arrival    *float64     `json:"arrival"`
	Offered    [3]float64   `json:"offered"`
	Drawn      [3]float64   `json:"drawn"`
	Connectors []TraceEntry `json:"connectors"`
}

// ReadTrace calls f with the whole site at each instant of a trace. The
// Line and its connectors are valid until f returns: copy what you keep.
func ReadTrace(r io.Reader, f func(Line) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var (
		cur     Line
		pending bool // cur holds changes not yet given to f
		header  bool
		n       int
	)
	flush := func() error {
		if !pending {
			return nil
		}
		pending = false
		return f(cur)
	}
	for sc.Scan() {
		n++
		var rec record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return fmt.Errorf("trace line %d: %w", n, err)
		}
		switch {
		case rec.Trace != "":
			if rec.Version != traceVersion || n != 1 {
				return fmt.Errorf("trace line %d: a header of version %d", n, rec.Version)
			}
			header = true
			cur.Connectors = rec.Connectors
			continue
		case rec.T == nil:
			return fmt.Errorf("trace line %d: no time", n)
		case !header: // version 1: every line is the whole site
			cur = Line{T: *rec.T, Meter: rec.Meter, Connectors: rec.Connectors}
			if rec.Available != nil {
				cur.Available = *rec.Available
			}
			pending = true
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		if *rec.T != cur.T {
			if err := flush(); err != nil {
				return err
			}
			cur.T = *rec.T
		}
		pending = true
		if rec.C == nil {
			if rec.Available != nil {
				cur.Available = *rec.Available
			}
			cur.Meter = rec.Meter
			continue
		}
		if *rec.C < 0 || *rec.C >= len(cur.Connectors) {
			return fmt.Errorf("trace line %d: no connector %d", n, *rec.C)
		}
		e := &cur.Connectors[*rec.C]
		e.State, e.Arrival, e.Offered, e.Drawn = rec.State, rec.Arrival, rec.Offered, rec.Drawn
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return flush()
}

// Violation is a time a phase carried more than was available for
// longer than allowed.
type Violation struct {
	Phase     int // 1 to 3
	From, To  float64
	What      string // "offered" or "drawn"
	Over      float64
	Allowance time.Duration
}

func (v Violation) String() string {
	return fmt.Sprintf("L%d %s over what is available by up to %.1f A from t=%gs to t=%gs (allowed: %v)",
		v.Phase, v.What, v.Over, v.From, v.To, v.Allowance)
}

// CheckTrace reads a trace and returns the times the offers on a phase
// exceeded what was available for longer than offerGrace (the time an
// offer takes to reach a slave), or the drawn current for longer than
// drawnGrace (that plus the slowest EV's response). Each drop of what is
// available starts a new transition with its own allowance.
func CheckTrace(r io.Reader, offerGrace, drawnGrace time.Duration) ([]Violation, error) {
	var out []Violation
	type run struct {
		from, max float64
		on        bool
	}
	var runs [2][3]run
	grace := [2]time.Duration{offerGrace, drawnGrace}
	what := [2]string{"offered", "drawn"}
	closeRun := func(k, p int, t float64) {
		r := &runs[k][p]
		if r.on && time.Duration((t-r.from)*float64(time.Second)) > grace[k] {
			out = append(out, Violation{Phase: p + 1, From: r.from, To: t, What: what[k], Over: r.max, Allowance: grace[k]})
		}
		*r = run{}
	}
	last := 0.0
	var prevAvail [3]float64
	err := ReadTrace(r, func(l Line) error {
		last = l.T
		var sums [2][3]float64
		for _, c := range l.Connectors {
			for p := range 3 {
				sums[0][p] += c.Offered[p]
				sums[1][p] += c.Drawn[p]
			}
		}
		for k := range 2 {
			for p := range 3 {
				over := sums[k][p] - l.Available[p]
				if over <= 1e-6 {
					closeRun(k, p, l.T)
					continue
				}
				if l.Available[p] < prevAvail[p] {
					// Less available again: a new transition, with its
					// own allowance (the one before is judged up to here).
					closeRun(k, p, l.T)
				}
				r := &runs[k][p]
				if !r.on {
					r.on, r.from = true, l.T
				}
				r.max = max(r.max, over)
			}
		}
		prevAvail = l.Available
		return nil
	})
	for k := range 2 {
		for p := range 3 {
			closeRun(k, p, last)
		}
	}
	return out, err
}

// Graces are the transition times CheckTrace allows a scenario: an offer
// reaches a slave within 1 s (the network's latency, the master's
// deadline for a slave to apply a lowered offer, a tick); the drawn
// current follows within that plus the slowest EV's response delay.
func Graces(sc *Scenario) (offer, drawn time.Duration) {
	slowest := responseDefault
	for _, e := range sc.Events {
		if e.Plug != nil {
			slowest = max(slowest, time.Duration(e.Plug.ResponseDelayMs)*time.Millisecond)
		}
	}
	return time.Second, time.Second + slowest
}

// responseDefault is the simulated EVs' response delay when a scenario
// gives none (sim.Options' default).
const responseDefault = 2 * time.Second
