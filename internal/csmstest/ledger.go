package csmstest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// Ledger is a central system's account of what charge points sent:
// every charge point's transaction messages in the order they came (1.6's
// StartTransaction, MeterValues and StopTransaction, 2.0.1's
// TransactionEvent), its BootNotifications, and the times of the
// connection attempts. Check verifies it.
//
// It is safe for concurrent use.
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
	tx     int // 1.6: the transaction it is of (StartTransaction: the id given)
	raw    string
	wh     float64 // meterStart, meterStop, or the last register sampled
	reason string
	at     time.Time // the last sample's time (MeterValues, TransactionEvent Updated)

	// 2.0.1's TransactionEvent: the transactionId, the eventType, the
	// seqNo, and whether it carries a register reading (wh).
	id    string
	event string
	seq   int
	hasWh bool
}

// NewLedger starts a central system on loopback (Forget: frames are not
// kept) that keeps a ledger of OCPP 1.6 charge points, and returns it
// with its URL. The caller closes the server.
func NewLedger() (*Ledger, *Server, string, error) {
	csms := New(Options{Forget: true, HeartbeatInterval: 3600})
	l := NewLedgerOn(csms)
	url, err := csms.Listen("127.0.0.1:0")
	if err != nil {
		return nil, nil, "", err
	}
	return l, csms, url, nil
}

// NewLedgerOn has s keep a ledger, whichever versions it speaks: it
// answers BootNotification (Accepted, interval 3600 s), 1.6's
// StartTransaction (with ids of its own from 1), StopTransaction and
// MeterValues, and 2.0.1's TransactionEvent (as by default), noting what
// they tell, and it counts the connection attempts. Call it before
// charge points connect.
func NewLedgerOn(s *Server) *Ledger {
	l := &Ledger{tx: map[string][]txMsg{}, boots: map[string]int{}, conns: map[string]int{}}
	s.Respond("BootNotification", func(cp string, _ json.RawMessage) (json.RawMessage, *rpc.Error) {
		l.mu.Lock()
		l.boots[cp]++
		l.mu.Unlock()
		return json.RawMessage(fmt.Sprintf(`{"status":"Accepted","currentTime":%q,"interval":3600}`, time.Now().UTC().Format(time.RFC3339))), nil
	})
	s.RespondVersion(OCPP16, "StartTransaction", func(cp string, p json.RawMessage) (json.RawMessage, *rpc.Error) {
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
	s.RespondVersion(OCPP16, "StopTransaction", func(cp string, p json.RawMessage) (json.RawMessage, *rpc.Error) {
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
	s.RespondVersion(OCPP16, "MeterValues", func(cp string, p json.RawMessage) (json.RawMessage, *rpc.Error) {
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
	s.RespondVersion(OCPP201, "TransactionEvent", func(cp string, p json.RawMessage) (json.RawMessage, *rpc.Error) {
		m := readTransactionEvent(p)
		l.mu.Lock()
		l.tx[cp] = append(l.tx[cp], m)
		l.mu.Unlock()
		return transactionEvent201(cp, p)
	})
	s.mu.Lock()
	s.onAttempt = func(cp string) {
		l.mu.Lock()
		l.attempts = append(l.attempts, time.Now())
		l.conns[cp]++
		l.mu.Unlock()
	}
	s.mu.Unlock()
	return l
}

// readTransactionEvent notes a 2.0.1 TransactionEvent (valid: the server
// checked it against the schema): its register is the last total
// Energy.Active.Import.Register it carries, of any context; its sample
// time, for an Updated event, is its last meter value's.
func readTransactionEvent(p json.RawMessage) txMsg {
	var req struct {
		EventType       string `json:"eventType"`
		SeqNo           int    `json:"seqNo"`
		TransactionInfo struct {
			TransactionID string `json:"transactionId"`
			StoppedReason string `json:"stoppedReason"`
		} `json:"transactionInfo"`
		MeterValue []struct {
			Timestamp    time.Time `json:"timestamp"`
			SampledValue []struct {
				Value     float64 `json:"value"`
				Measurand string  `json:"measurand"`
				Phase     string  `json:"phase"`
			} `json:"sampledValue"`
		} `json:"meterValue"`
	}
	json.Unmarshal(p, &req)
	m := txMsg{action: "TransactionEvent", raw: string(p), id: req.TransactionInfo.TransactionID, event: req.EventType,
		seq: req.SeqNo, reason: req.TransactionInfo.StoppedReason}
	for _, mv := range req.MeterValue {
		if req.EventType == "Updated" {
			m.at = mv.Timestamp
		}
		for _, sv := range mv.SampledValue {
			if (sv.Measurand == "" || sv.Measurand == "Energy.Active.Import.Register") && sv.Phase == "" {
				m.wh, m.hasWh = sv.Value, true
			}
		}
	}
	return m
}

// CheckOptions say what a Check allows.
type CheckOptions struct {
	// Open: transactions may still be open (a check while a fleet runs).
	Open bool
	// MaxSampleGap, when set, is the longest time allowed between a
	// transaction's consecutive sampled MeterValues (2.0.1: Updated
	// events): a longer one means samples were lost.
	MaxSampleGap time.Duration
}

// Check verifies every charge point's transactions, whichever version
// it spoke:
//   - each started one is stopped exactly once, after its start (unless
//     opts.Open): 1.6's StopTransaction of the id StartTransaction got;
//     2.0.1's TransactionEvents of a transactionId are one Started first,
//     one Ended last (with a stoppedReason) and Updated between, their
//     seqNo 0, 1, 2, ... in the order they came, none missing, none
//     twice with other content;
//   - its meter never goes back (2.0.1: along seqNo, so that Ended's
//     register is at least Started's);
//   - no sampled MeterValues (2.0.1: Updated events) are missing
//     (opts.MaxSampleGap);
//   - nothing is repeated but a message sent again right after itself,
//     byte for byte, at most once for each time the charge point
//     connected again (its answer lost with the link: OCPP's
//     at-least-once delivery). A StartTransaction sent again that way
//     gets a second id, which replaces the first; a TransactionEvent sent
//     again that way is the same event, seqNo and all.
//
// It returns the number of sessions, the stop reasons counted, and what
// is wrong.
func (l *Ledger) Check(opts CheckOptions) (sessions int, reasons map[string]int, problems []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	reasons = map[string]int{}
	for cp, msgs := range l.tx {
		c := txCheck{cp: cp, opts: opts, txs: map[string]*txState{}, reasons: reasons}
		allowed := max(l.conns[cp]-1, 0)
		seen := map[string]bool{}
		for i, m := range msgs {
			if seen[m.raw] {
				if i == 0 || msgs[i-1].raw != m.raw {
					c.problemf("%s repeated, not right after itself: %s", m.action, m.raw)
					continue
				}
				if allowed == 0 {
					c.problemf("%s came twice in a row, more often than the charge point reconnected: %s", m.action, m.raw)
					continue
				}
				allowed--
				if m.action != "StartTransaction" {
					continue
				}
				// The second id is the one in use.
				delete(c.txs, strconv.Itoa(msgs[i-1].tx))
				c.sessions--
			}
			seen[m.raw] = true
			switch m.action {
			case "StartTransaction", "MeterValues", "StopTransaction":
				c.step16(m)
			case "TransactionEvent":
				c.step201(m)
			}
		}
		if !opts.Open {
			for _, key := range slices.Sorted(maps.Keys(c.txs)) {
				if !c.txs[key].stopped {
					c.problemf("transaction %s never stopped", key)
				}
			}
		}
		sessions += c.sessions
		problems = append(problems, c.problems...)
	}
	return sessions, reasons, problems
}

// txCheck checks the transactions of one charge point, message by
// message, repetitions taken out.
type txCheck struct {
	cp       string
	opts     CheckOptions
	txs      map[string]*txState // by 1.6 id (in decimal) or 2.0.1 transactionId
	sessions int
	reasons  map[string]int
	problems []string
}

// txState is what a check knows of one transaction.
type txState struct {
	wh         float64   // the highest register reading so far
	hasWh      bool      // 2.0.1: a reading came (1.6: meterStart always)
	lastSample time.Time // its last sample's time
	nextSeq    int       // 2.0.1: the seqNo due
	stopped    bool
}

func (c *txCheck) problemf(format string, args ...any) {
	c.problems = append(c.problems, c.cp+": "+fmt.Sprintf(format, args...))
}

// step16 checks a 1.6 transaction message.
func (c *txCheck) step16(m txMsg) {
	key := strconv.Itoa(m.tx)
	if m.action == "StartTransaction" {
		c.txs[key] = &txState{wh: m.wh, hasWh: true}
		c.sessions++
		return
	}
	st := c.txs[key]
	switch {
	case st != nil && st.stopped:
		c.problemf("%s of transaction %s after its stop", m.action, key)
		return
	case st == nil:
		c.problemf("%s of transaction %s, never started here", m.action, key)
		st = &txState{}
		c.txs[key] = st
	}
	c.reading(key, st, m)
	if m.action == "StopTransaction" {
		st.stopped = true
		c.reasons[m.reason]++
	}
}

// step201 checks a 2.0.1 TransactionEvent.
func (c *txCheck) step201(m txMsg) {
	key := m.id
	st := c.txs[key]
	switch {
	case st == nil:
		st = &txState{}
		c.txs[key] = st
		if m.event == "Started" {
			c.sessions++
		} else {
			c.problemf("transaction %s begins with %s (seqNo %d), not Started", key, m.event, m.seq)
		}
	case st.stopped:
		c.problemf("%s (seqNo %d) of transaction %s after its Ended", m.event, m.seq, key)
		return
	case m.event == "Started":
		c.problemf("transaction %s started again (seqNo %d)", key, m.seq)
	}
	switch {
	case m.seq > st.nextSeq:
		c.problemf("transaction %s's seqNo %d came where %d was due: missing", key, m.seq, st.nextSeq)
	case m.seq < st.nextSeq:
		c.problemf("transaction %s's seqNo %d came again where %d was due, with other content or out of order", key, m.seq, st.nextSeq)
	}
	st.nextSeq = max(st.nextSeq, m.seq+1)
	c.reading(key, st, m)
	if m.event == "Ended" {
		st.stopped = true
		c.reasons[m.reason]++
		if m.reason == "" {
			c.problemf("transaction %s ended without a stoppedReason", key)
		}
	}
}

// reading checks a message's register reading and sample time against
// the transaction's before: the meter never goes back, and samples come
// at most opts.MaxSampleGap apart.
func (c *txCheck) reading(key string, st *txState, m txMsg) {
	if m.hasWh || m.action != "TransactionEvent" {
		if st.hasWh && m.wh < st.wh {
			c.problemf("transaction %s's meter went back from %g to %g Wh", key, st.wh, m.wh)
		}
		st.wh, st.hasWh = max(st.wh, m.wh), true
	}
	if m.at.IsZero() {
		return
	}
	if !st.lastSample.IsZero() && c.opts.MaxSampleGap > 0 && m.at.Sub(st.lastSample) > c.opts.MaxSampleGap {
		c.problemf("transaction %s has no samples for %s after %s: lost", key, m.at.Sub(st.lastSample), st.lastSample.Format(time.TimeOnly))
	}
	st.lastSample = m.at
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
