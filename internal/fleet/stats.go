package fleet

import (
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats counts what the fleet did and heard, for the progress line, the
// metrics and the report. Safe for concurrent use.
type Stats struct {
	attempts, connects, disconnects atomic.Int64
	cars, carsTurnedAway            atomic.Int64
	remoteStarts                    atomic.Int64
	sessions                        atomic.Int64 // transactions accepted (see startedSession)

	mu      sync.Mutex
	actions map[actionKey]*actionStats

	// Prometheus.
	reg        *prometheus.Registry
	messages   *prometheus.CounterVec
	callErrors *prometheus.CounterVec
	answerTime *prometheus.HistogramVec
	attemptsC  prometheus.Counter
	reconnects prometheus.Counter
	sessionsC  prometheus.Counter
}

// Directions of a CALL.
const (
	toCSMS   = "to_csms"   // the charge point's CALL
	fromCSMS = "from_csms" // the central system's CALL
)

// actionKey names an action in a direction and an OCPP version ("1.6",
// "2.0.1"): the same name may be two messages in a mixed fleet.
type actionKey struct{ action, dir, ocpp string }

// actionStats are the numbers of one action in one direction.
type actionStats struct {
	calls, errors, timeouts int64
	// times holds the central system's answer times (to_csms only) in
	// log buckets: bucket i counts times in [b^i, b^(i+1)) µs.
	times [timeBuckets]int64
}

// Answer times are kept in buckets growing by 10 % from 1 µs: a
// quantile is told within 5 %, in bounded memory.
const (
	timeBuckets = 260 // 1 µs · 1.1^260 ≈ 6 × 10^10 µs: over 16 h
	timeBase    = 1.1
)

func newStats() *Stats {
	s := &Stats{actions: map[actionKey]*actionStats{}, reg: prometheus.NewRegistry()}
	s.messages = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "evse_fleet_messages_total",
		Help: "OCPP CALLs by action, direction (to_csms: the charge points', from_csms: the central system's) and OCPP version."}, []string{"action", "direction", "ocpp"})
	s.callErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "evse_fleet_callerrors_total",
		Help: "CALLERRORs by action, direction and OCPP version: to_csms, those the central system answered; from_csms, those the charge points answered."}, []string{"action", "direction", "ocpp"})
	s.answerTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "evse_fleet_csms_answer_seconds",
		Help:    "How long the central system took to answer the charge points' CALLs, by action and OCPP version.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"action", "ocpp"})
	s.attemptsC = prometheus.NewCounter(prometheus.CounterOpts{Name: "evse_fleet_connection_attempts_total", Help: "WebSocket connection attempts."})
	s.reconnects = prometheus.NewCounter(prometheus.CounterOpts{Name: "evse_fleet_reconnects_total", Help: "Connections that ended and were made again."})
	s.sessionsC = prometheus.NewCounter(prometheus.CounterOpts{Name: "evse_fleet_sessions_total", Help: "Transactions the central system accepted (StartTransaction in 1.6, TransactionEvent Started in 2.0.1)."})
	s.reg.MustRegister(s.messages, s.callErrors, s.answerTime, s.attemptsC, s.reconnects, s.sessionsC)
	return s
}

// maxActions bounds the actions counted apart: a central system may send
// any action name, and each would be a label of the metrics too.
const maxActions = 200

// entry returns an action's numbers and the name it is counted under:
// its own, or "(other)" once maxActions are known.
func (s *Stats) entry(action, dir, ocpp string) (*actionStats, string) {
	k := actionKey{action, dir, ocpp}
	a := s.actions[k]
	if a == nil {
		if len(s.actions) >= maxActions {
			k = actionKey{"(other)", dir, ocpp} // bounded, whatever comes
			if a = s.actions[k]; a != nil {
				return a, k.action
			}
		}
		a = &actionStats{}
		s.actions[k] = a
	}
	return a, k.action
}

// sent notes one of the charge points' CALLs in an OCPP version and its
// outcome: answered after took, a CALLERROR (refused), or no answer
// (timeout).
func (s *Stats) sent(action, ocpp string, took time.Duration, refused, timeout bool) {
	s.mu.Lock()
	a, action := s.entry(action, toCSMS, ocpp)
	a.calls++
	switch {
	case timeout:
		a.timeouts++
	case refused:
		a.errors++
	}
	if !timeout {
		a.times[bucketOf(took)]++
	}
	s.mu.Unlock()
	s.messages.WithLabelValues(action, toCSMS, ocpp).Inc()
	if refused {
		s.callErrors.WithLabelValues(action, toCSMS, ocpp).Inc()
	}
	if !timeout {
		s.answerTime.WithLabelValues(action, ocpp).Observe(took.Seconds())
	}
}

// received notes one of the central system's CALLs in an OCPP version
// and whether the charge point answered it with a CALLERROR.
func (s *Stats) received(action, ocpp string, callError bool) {
	s.mu.Lock()
	a, action := s.entry(action, fromCSMS, ocpp)
	a.calls++
	if callError {
		a.errors++
	}
	s.mu.Unlock()
	s.messages.WithLabelValues(action, fromCSMS, ocpp).Inc()
	if callError {
		s.callErrors.WithLabelValues(action, fromCSMS, ocpp).Inc()
	}
}

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us < 1 {
		return 0
	}
	return min(int(math.Log(us)/math.Log(timeBase)), timeBuckets-1)
}

// quantile returns the q-quantile of the counted times (the middle of
// its bucket), 0 when none.
func quantile(times *[timeBuckets]int64, q float64) time.Duration {
	var n int64
	for _, c := range times {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	var seen int64
	for i, c := range times {
		seen += c
		if seen >= max(rank, 1) {
			lo := math.Pow(timeBase, float64(i))
			return time.Duration(lo * (1 + timeBase) / 2 * float64(time.Microsecond))
		}
	}
	return 0
}

// ActionReport is one action's numbers in the report.
type ActionReport struct {
	Action    string `json:"action"`
	Direction string `json:"direction"`
	// OCPP is the version the action was spoken in: "1.6" or "2.0.1".
	OCPP  string `json:"ocpp"`
	Calls int64  `json:"calls"`
	// CallErrors: to_csms, answered with a CALLERROR by the central
	// system; from_csms, answered with one by the charge points.
	CallErrors int64 `json:"callErrors"`
	Timeouts   int64 `json:"timeouts,omitempty"`
	// The central system's answer times (to_csms), in ms.
	P50ms float64 `json:"p50ms,omitempty"`
	P95ms float64 `json:"p95ms,omitempty"`
	P99ms float64 `json:"p99ms,omitempty"`
}

func (s *Stats) actionReports() []ActionReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ActionReport
	for k, a := range s.actions {
		r := ActionReport{Action: k.action, Direction: k.dir, OCPP: k.ocpp, Calls: a.calls, CallErrors: a.errors, Timeouts: a.timeouts}
		if k.dir == toCSMS {
			ms := func(q float64) float64 { return math.Round(float64(quantile(&a.times, q))/1e3) / 1e3 }
			r.P50ms, r.P95ms, r.P99ms = ms(0.50), ms(0.95), ms(0.99)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Direction != out[j].Direction {
			return out[i].Direction > out[j].Direction // to_csms first
		}
		if out[i].Action != out[j].Action {
			return out[i].Action < out[j].Action
		}
		return out[i].OCPP < out[j].OCPP
	})
	return slices.Clip(out)
}
