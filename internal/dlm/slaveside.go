package dlm

import (
	"maps"
	"math"
	"time"
)

// SlaveSide is a slave charger's side of load management, without I/O:
// from the master's offers, the time it was last heard and the charger's
// reports, it says what the connectors may offer, how many phases they
// may use, and when to report. node.Slave runs it on a real network; the
// site simulator in virtual time. It is not safe for concurrent use.
type SlaveSide struct {
	ds        *Slave
	limits    map[int]float64 // as last applied
	phases    map[int]int     // as last applied
	wasReady  map[int]bool
	lastDrawn map[int]Phases // as last reported
	reportAt  time.Time      // the next report if nothing changes
	lost      bool           // the master was lost at the last update
}

// Apply is what a slave charger does after an update.
type Apply struct {
	// Limits and Phases are the connectors' new limits and phases; nil
	// when unchanged.
	Limits map[int]float64
	Phases map[int]int
	// Report: send the reports to the master (if linked).
	Report bool
}

// NewSlaveSide returns a slave side started at now: its connectors offer
// nothing until the master is heard, disconnected once it is lost.
func NewSlaveSide(disconnected float64, now time.Time) *SlaveSide {
	return &SlaveSide{ds: NewSlave(disconnected, now), limits: map[int]float64{}, phases: map[int]int{},
		wasReady: map[int]bool{}, lastDrawn: map[int]Phases{}}
}

// Slave is the slave's decisions (its limits while linked and lost).
func (s *SlaveSide) Slave() *Slave { return s.ds }

// Heard takes the master's answer: every connector's offer and those
// switched to one phase.
func (s *SlaveSide) Heard(offers map[int]float64, onePhase map[int]bool, now time.Time) {
	s.ds.Heard(offers, onePhase, now)
}

// Update looks at the charger's reports at now. report asks for a report
// whatever changed (a new link, a change of the charger's loads);
// otherwise one goes when the limits change, when a connector's drawn
// current moved by DrawnReport since it was last reported, and every
// ReportInterval. linked says whether a report would reach the master.
func (s *SlaveSide) Update(reports map[int]ConnectorReport, disconnected float64, now time.Time, report, linked bool) Apply {
	s.ds.SetDisconnected(disconnected)
	s.lost = s.ds.Lost(now)
	var a Apply
	a.Report = report || !now.Before(s.reportAt) || s.drawnMoved(reports)
	for n, r := range reports {
		if s.wasReady[n] && !r.Ready {
			s.ds.Ended(n) // the next EV does not inherit the offer
		}
		s.wasReady[n] = r.Ready
	}
	limits, phases := make(map[int]float64, len(reports)), make(map[int]int, len(reports))
	for n := range reports {
		limits[n], phases[n] = s.ds.Limit(n, now), s.ds.Phases(n)
	}
	if !maps.Equal(phases, s.phases) {
		a.Phases, s.phases = phases, phases
	}
	if !maps.Equal(limits, s.limits) {
		a.Limits, s.limits, a.Report = limits, limits, true
	}
	if a.Report {
		if linked {
			for n, r := range reports {
				s.lastDrawn[n] = r.Drawn
			}
		}
		s.reportAt = now.Add(ReportInterval)
	}
	return a
}

// drawnMoved reports whether a connector's drawn current moved by
// DrawnReport since it was last reported.
func (s *SlaveSide) drawnMoved(reports map[int]ConnectorReport) bool {
	for n, r := range reports {
		for p := range 3 {
			if math.Abs(r.Drawn[p]-s.lastDrawn[n][p]) >= DrawnReport {
				return true
			}
		}
	}
	return false
}

// Limits are the connectors' limits as last applied.
func (s *SlaveSide) Limits() map[int]float64 { return s.limits }

// Next is when Update must run again if nothing happens: the next report,
// or the master lost.
func (s *SlaveSide) Next() time.Time {
	next := s.reportAt
	if lost := s.ds.Next(); !s.lost && (next.IsZero() || lost.Before(next)) {
		next = lost
	}
	return next
}

// Repeated tells that a report repeating the last one went at sent (a
// simulation that does not send each of them): the next is due a
// ReportInterval after it.
func (s *SlaveSide) Repeated(sent time.Time) {
	if sent.After(s.reportAt.Add(-ReportInterval)) {
		s.reportAt = sent.Add(ReportInterval)
	}
}

// Alive tells that the master's answer to such a report came at t, with
// the offers it sent last.
func (s *SlaveSide) Alive(t time.Time) {
	if t.After(s.ds.heard) {
		s.ds.heard = t
	}
	s.ds.everHeard = true
}
