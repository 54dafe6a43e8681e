package dlm

import "time"

// MasterLost: a slave that has heard nothing from its master for this long
// falls back to its DlmDisconnectedLimit. A master answers every report,
// and slaves report every ReportInterval, so a live link is never this
// quiet.
const MasterLost = 10 * time.Second

// ReportInterval is how often a slave reports when nothing changes; the
// report is its sign of life.
const ReportInterval = 2 * time.Second

// DrawnReport: a slave reports at once when a connector's drawn current
// has moved this much since its last report (the master's view of the
// Including meter's other load depends on it).
const DrawnReport = 1.0

// DrawnPoll is how often a slave looks at the drawn currents between
// reports.
const DrawnPoll = 250 * time.Millisecond

// Slave is a DLM slave's decision logic, without I/O: what its connectors
// may offer, from the master's offers and how long ago the master was
// last heard. It is not safe for concurrent use: one goroutine owns it.
type Slave struct {
	disconnected float64
	offers       map[int]float64
	onePhase     map[int]bool
	heard        time.Time
	everHeard    bool
}

// NewSlave returns a slave started at now. Until its master is heard, its
// connectors offer nothing; once MasterLost has passed without a word,
// they offer disconnected (DlmDisconnectedLimit).
func NewSlave(disconnected float64, now time.Time) *Slave {
	return &Slave{disconnected: disconnected, offers: map[int]float64{}, onePhase: map[int]bool{}, heard: now}
}

// SetDisconnected changes DlmDisconnectedLimit.
func (s *Slave) SetDisconnected(amps float64) { s.disconnected = amps }

// Heard takes the offers of an answer from the master: every connector's,
// as the master sees them, and those it switched to one phase.
// Connectors it does not name offer nothing.
func (s *Slave) Heard(offers map[int]float64, onePhase map[int]bool, now time.Time) {
	clear(s.offers)
	for n, a := range offers {
		s.offers[n] = a
	}
	clear(s.onePhase)
	for n, one := range onePhase {
		s.onePhase[n] = one
	}
	s.heard, s.everHeard = now, true
}

// Phases is how many phases connector n's session may use: 1 when the
// master switched it to one phase, else 3. It stays as the master last
// said while the master is lost: nothing switches without it.
func (s *Slave) Phases(n int) int {
	if s.onePhase[n] {
		return 1
	}
	return 3
}

// Ended tells that connector n's session ended (its EV left): its offer
// is 0 until the master sends a new one, so that the next EV, perhaps on
// other phases, does not inherit it.
func (s *Slave) Ended(n int) { s.offers[n] = 0 }

// Lost reports whether the master has been silent for MasterLost.
func (s *Slave) Lost(now time.Time) bool { return now.Sub(s.heard) >= MasterLost }

// Connected reports whether the master has been heard and is not lost.
func (s *Slave) Connected(now time.Time) bool { return s.everHeard && !s.Lost(now) }

// Limit is what connector n may offer at now.
func (s *Slave) Limit(n int, now time.Time) float64 {
	if s.Lost(now) {
		return s.disconnected
	}
	return s.offers[n]
}

// Next is when the limits change if the master stays silent.
func (s *Slave) Next() time.Time { return s.heard.Add(MasterLost) }
