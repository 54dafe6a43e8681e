package csmstest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// Ledger is a central system's account of what charge points sent:
// every charge point's transaction messages in the order they came, its
// BootNotifications, and the times of the connection attempts. Check
// verifies it.
type Ledger struct {
	mu       sync.Mutex
	nextTx   int
	tx       map[string][]txMsg // by charge point
	boots    map[string]int
	conns    map[string]int // connection attempts by charge point
	attempts []time.Time
}

// txMsg is a transaction message as the central system got it.
type txMsg struct {
	action string
	tx     int // the transaction it is of (StartTransaction: the id given)
	raw    string
	wh     float64 // meterStart, meterStop, or the last register sampled
	reason string
	at     time.Time // the sample's time (MeterValues)
}

// NewLedger starts a central system on loopback (Forget: frames are not
// kept) that keeps a ledger, and returns it with its URL. The caller
// closes the server.
func NewLedger() (*Ledger, *Server, string, error) {
	l := &Ledger{tx: map[string][]txMsg{}, boots: map[string]int{}, conns: map[string]int{}}
	csms := New(Options{Forget: true, HeartbeatInterval: 3600})
	csms.Respond("BootNotification", func(cp string, _ json.RawMessage) (json.RawMessage, *rpc.Error) {
		l.mu.Lock()
		l.boots[cp]++
		l.mu.Unlock()
		return json.RawMessage(fmt.Sprintf(`{"status":"Accepted","currentTime":%q,"interval":3600}`, time.Now().UTC().Format(time.RFC3339))), nil
	})
	csms.Respond("StartTransaction", func(cp string, p json.RawMessage) (json.RawMessage, *rpc.Error) {
		var req struct {
			MeterStart float64 `json:"meterStart"`
		}
		json.Unmarshal(p, &req)
		l.mu.Lock()
		l.nextTx++
		id := l.nextTx
		l.tx[cp] = append(l.tx[cp], txMsg{action: "StartTransaction", tx: id, raw: string(p), wh: req.MeterStart})
		l.mu.Unlock()
		return json.RawMessage(fmt.Sprintf(`{"transactionId":%d,"idTagInfo":{"status":"Accepted"}}`, id)), nil
	})
	csms.Respond("StopTransaction", func(cp string, p json.RawMessage) (json.RawMessage, *rpc.Error) {
		var req struct {
			TransactionID int     `json:"transactionId"`
			MeterStop     float64 `json:"meterStop"`
			Reason        string  `json:"reason"`
		}
		json.Unmarshal(p, &req)
		l.mu.Lock()
		l.tx[cp] = append(l.tx[cp], txMsg{action: "StopTransaction", tx: req.TransactionID, raw: string(p), wh: req.MeterStop, reason: req.Reason})
		l.mu.Unlock()
		return json.RawMessage(`{"idTagInfo":{"status":"Accepted"}}`), nil
	})
	csms.Respond("MeterValues", func(cp string, p json.RawMessage) (json.RawMessage, *rpc.Error) {
		var req struct {
			TransactionID int `json:"transactionId"`
			MeterValue    []struct {
				Timestamp    time.Time `json:"timestamp"`
				SampledValue []struct {
					Value     string `json:"value"`
					Measurand string `json:"measurand"`
				} `json:"sampledValue"`
			} `json:"meterValue"`
		}
		json.Unmarshal(p, &req)
		if req.TransactionID == 0 {
			return json.RawMessage(`{}`), nil
		}
		wh := 0.0
		var at time.Time
		for _, mv := range req.MeterValue {
			at = mv.Timestamp
			for _, sv := range mv.SampledValue {
				if sv.Measurand == "" || sv.Measurand == "Energy.Active.Import.Register" {
					fmt.Sscan(sv.Value, &wh)
				}
			}
		}
		l.mu.Lock()
		l.tx[cp] = append(l.tx[cp], txMsg{action: "MeterValues", tx: req.TransactionID, raw: string(p), wh: wh, at: at})
		l.mu.Unlock()
		return json.RawMessage(`{}`), nil
	})
	csms.onAttempt = func(cp string) {
		l.mu.Lock()
		l.attempts = append(l.attempts, time.Now())
		l.conns[cp]++
		l.mu.Unlock()
	}
	url, err := csms.Listen("127.0.0.1:0")
	if err != nil {
		return nil, nil, "", err
	}
	return l, csms, url, nil
}

// CheckOptions say what a Check allows.
type CheckOptions struct {
	// Open: transactions may still be open (a check while a fleet runs).
	Open bool
	// MaxSampleGap, when set, is the longest time allowed between a
	// transaction's consecutive sampled MeterValues: a longer one means
	// samples were lost.
	MaxSampleGap time.Duration
}

// Check verifies every charge point's transactions:
//   - each started one is stopped exactly once, after its start (unless
//     opts.Open);
//   - its meter never goes back;
//   - no sampled MeterValues are missing (opts.MaxSampleGap);
//   - nothing is repeated but a message sent again right after itself, at
//     most once for each time the charge point connected again (its
//     answer lost with the link: OCPP's at-least-once delivery). A
//     StartTransaction sent again that way gets a second id, which
//     replaces the first.
//
// It returns the number of sessions, the stop reasons counted, and what
// is wrong.
func (l *Ledger) Check(opts CheckOptions) (sessions int, reasons map[string]int, problems []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	reasons = map[string]int{}
	for cp, msgs := range l.tx {
		allowed := max(l.conns[cp]-1, 0)
		open := map[int]float64{}         // tx → last meter reading
		lastSample := map[int]time.Time{} // tx → its last sample's time
		stopped := map[int]bool{}
		seen := map[string]bool{}
		for i, m := range msgs {
			if seen[m.raw] {
				if i == 0 || msgs[i-1].raw != m.raw {
					problems = append(problems, fmt.Sprintf("%s: %s repeated, not right after itself: %s", cp, m.action, m.raw))
					continue
				}
				if allowed == 0 {
					problems = append(problems, fmt.Sprintf("%s: %s came twice in a row, more often than the charge point reconnected: %s", cp, m.action, m.raw))
					continue
				}
				allowed--
				if m.action == "StartTransaction" { // the second id is the one in use
					delete(open, msgs[i-1].tx)
					sessions--
				} else {
					continue
				}
			}
			seen[m.raw] = true
			switch m.action {
			case "StartTransaction":
				open[m.tx] = m.wh
				sessions++
			case "MeterValues", "StopTransaction":
				last, ok := open[m.tx]
				switch {
				case stopped[m.tx]:
					problems = append(problems, fmt.Sprintf("%s: %s of transaction %d after its stop", cp, m.action, m.tx))
				case !ok:
					problems = append(problems, fmt.Sprintf("%s: %s of transaction %d, never started here", cp, m.action, m.tx))
				case m.wh < last:
					problems = append(problems, fmt.Sprintf("%s: transaction %d's meter went back from %g to %g Wh", cp, m.tx, last, m.wh))
				}
				open[m.tx] = max(last, m.wh)
				if m.action == "MeterValues" && !m.at.IsZero() {
					if prev, ok := lastSample[m.tx]; ok && opts.MaxSampleGap > 0 && m.at.Sub(prev) > opts.MaxSampleGap {
						problems = append(problems, fmt.Sprintf("%s: transaction %d has no samples for %s after %s: lost", cp, m.tx, m.at.Sub(prev), prev.Format(time.TimeOnly)))
					}
					lastSample[m.tx] = m.at
				}
				if m.action == "StopTransaction" {
					stopped[m.tx] = true
					delete(open, m.tx)
					reasons[m.reason]++
				}
			}
		}
		if !opts.Open {
			for tx := range open {
				problems = append(problems, fmt.Sprintf("%s: transaction %d never stopped", cp, tx))
			}
		}
	}
	return sessions, reasons, problems
}

// MaxPerSecond is the most connection attempts any second from from
// saw.
func (l *Ledger) MaxPerSecond(from time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ts []time.Time
	for _, a := range l.attempts {
		if !a.Before(from) {
			ts = append(ts, a)
		}
	}
	return MostInASecond(ts)
}

// MostInASecond is the most of the instants ts that any one second holds.
func MostInASecond(ts []time.Time) int {
	ts = slices.Clone(ts)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	most := 0
	for i, j := 0, 0; j < len(ts); j++ {
		for ts[j].Sub(ts[i]) >= time.Second {
			i++
		}
		most = max(most, j-i+1)
	}
	return most
}

// Boots is how many BootNotifications each charge point sent.
func (l *Ledger) Boots() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.boots)
}

// Raw returns the transaction messages of a charge point as it sent them.
func (l *Ledger) Raw(cp string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, m := range l.tx[cp] {
		out = append(out, m.raw)
	}
	return out
}
