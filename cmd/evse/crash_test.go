package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/ocppj"
)

// crashKills is how many times each crash test kills the charge point:
// a handful in go test ./..., more with EVSE_CRASH_KILLS.
func crashKills(t *testing.T) int {
	if s := os.Getenv("EVSE_CRASH_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("EVSE_CRASH_KILLS=%q", s)
		}
		return n
	}
	if testing.Short() {
		return 2
	}
	return 4 // each of the two versions' tests, in parallel
}

// TestCrashLosesNoTransaction runs real charging sessions through the real
// binary and kills it with SIGKILL at random moments, restarting it each
// time; then it checks, from the central system's records alone, that
// every transaction was started and stopped exactly once (identical
// retransmissions aside), in order, with meter values that never go back.
func TestCrashLosesNoTransaction(t *testing.T) {
	t.Parallel()
	crashSessions(t, "1.6")
}

// TestCrashLosesNoTransactionOver201 is TestCrashLosesNoTransaction with
// a station speaking OCPP 2.0.1 to a CSMS that offers only 2.0.1: every
// transaction's TransactionEvents arrive once (identical retransmissions
// aside), Started first, Ended last, numbered by seqNo without gaps
// across the kills, with registers that never go back.
func TestCrashLosesNoTransactionOver201(t *testing.T) {
	t.Parallel()
	crashSessions(t, "2.0.1")
}

// crashSessions is the crash test over one OCPP version: it checks with
// the central system's Ledger, and with what only the records tell.
func crashSessions(t *testing.T, version string) {
	kills := crashKills(t)
	opts, cp, extra := csmstest.Options{}, "CP-CRASH", []string(nil)
	if version == "2.0.1" {
		opts.Subprotocols, cp, extra = []string{csmstest.OCPP201}, "CS-CRASH-201", []string{"--ocpp", "2.0.1"}
	}
	s, url := newCSMS(t, opts)
	ledger := csmstest.NewLedgerOn(s)
	dir := t.TempDir()
	if _, errOut, code := runEVSE(t, "config", "set", "--data", dir, "MeterValueSampleInterval=1"); code != 0 {
		t.Fatal(errOut)
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("EVSE_CRASH_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("EVSE_CRASH_SEED=%q", v)
		}
		seed = n
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	t.Logf("OCPP %s: killing %d times; seed %d (EVSE_CRASH_SEED=%d repeats the kill times)", version, kills, seed, seed)

	start := func() (*process, string) {
		p := startEVSE(t, runArgs(url, cp, dir, extra...)...)
		base := p.apiURL(t) + "/api/v1"
		// Sessions start once the central system has accepted it: on a
		// busy machine a tag presented before would be decided offline.
		waitAPIStatus(t, base, 30*time.Second, "registered", func(st map[string]any) bool {
			return st["registration"] == "Accepted" && st["connected"] == true
		})
		return p, base
	}
	p, base := start()
	for i := range kills {
		// A session: plug, present a tag, charge a while, unplug; the kill
		// lands anywhere in it, or between sessions.
		// Sessions last 2.5 to 4 s, with an EV that follows the offer
		// within 100 ms so that it draws energy; the kill comes within 5 s.
		killAt := time.Now().Add(time.Duration(rng.IntN(5000)) * time.Millisecond)
		steps := []func(){
			func() { apiDo(t, "POST", base+"/connectors/1/plug", `{"capacityWh":100000,"responseDelayMs":100}`) },
			func() { apiDo(t, "POST", base+"/rfid", fmt.Sprintf(`{"idTag":"TAG-%d"}`, i)) },
			func() { time.Sleep(time.Duration(2500+rng.IntN(1500)) * time.Millisecond) },
			func() { apiDo(t, "POST", base+"/connectors/1/unplug", "") },
			func() { time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond) },
		}
		for _, step := range steps {
			if time.Now().After(killAt) {
				break
			}
			step()
		}
		if d := time.Until(killAt); d > 0 {
			time.Sleep(d)
		}
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		p, base = start()
	}
	// One clean session, then let the journal drain and stop cleanly.
	apiDo(t, "POST", base+"/connectors/1/plug", `{"responseDelayMs":100}`)
	apiDo(t, "POST", base+"/rfid", `{"idTag":"TAG-LAST"}`)
	time.Sleep(3 * time.Second)
	apiDo(t, "POST", base+"/connectors/1/unplug", "")
	waitAPIStatus(t, base, 30*time.Second, "the last session stopped and everything delivered", func(st map[string]any) bool {
		conns, _ := st["connectors"].([]any)
		return drained(st) && len(conns) == 2 && conns[1].(map[string]any)["transaction"] == nil
	})
	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sessions, reasons, problems := ledger.Check(csmstest.CheckOptions{})
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("the ledger: %d sessions, stopped for %v, %d boots", sessions, reasons, ledger.Boots()[cp])
	if version == "2.0.1" {
		checkTransactionEvents(t, s.Records(), cp)
	} else {
		checkTransactions(t, s.Records(), cp, true)
	}
}

type startMsg struct {
	ConnectorId int    `json:"connectorId"`
	IdTag       string `json:"idTag"`
	MeterStart  int    `json:"meterStart"`
	Timestamp   string `json:"timestamp"`
}

type stopMsg struct {
	TransactionId int    `json:"transactionId"`
	MeterStop     int    `json:"meterStop"`
	Timestamp     string `json:"timestamp"`
	Reason        string `json:"reason"`
}

// checkTransactions proves from a central system's records that every
// transaction of cp was started and stopped exactly once, in order, with
// consistent meter values. A message sent again after a crash with the
// same content (the charge point died between the answer and its own
// note of it) is counted as a retransmission, not a second transaction.
func checkTransactions(t *testing.T, recs []csmstest.Record, cp string, wantEnergy bool) {
	t.Helper()
	answers := map[string]csmstest.Record{} // CALL id → the CSMS's answer
	for _, r := range recs {
		if r.ChargePoint == cp && r.Dir == csmstest.ToChargePoint && r.Frame.Type == ocppj.CallResult {
			answers[r.Frame.ID] = r
		}
	}
	type session struct {
		start    startMsg
		ids      map[int]bool // transactionIds the central system gave it
		firstSeq int
		stops    []stopMsg
	}
	byContent := map[string]*session{}
	byID := map[int]*session{}
	var sessions []*session
	var startDupes, stopDupes int
	seenStops := map[string]bool{}
	var stops []csmstest.Record
	for _, r := range recs {
		if !csmstest.IsCall(cp, "StartTransaction")(r) && !csmstest.IsCall(cp, "StopTransaction")(r) && !csmstest.IsCall(cp, "MeterValues")(r) {
			continue
		}
		if r.Invalid != "" {
			t.Errorf("invalid %s: %s", r.Frame.Action, r.Invalid)
		}
		switch r.Frame.Action {
		case "StartTransaction":
			var m startMsg
			json.Unmarshal(r.Frame.Payload, &m)
			key := string(r.Frame.Payload)
			sn := byContent[key]
			if sn == nil {
				sn = &session{start: m, ids: map[int]bool{}, firstSeq: r.Seq}
				byContent[key] = sn
				sessions = append(sessions, sn)
			} else {
				startDupes++
			}
			if a, ok := answers[r.Frame.ID]; ok {
				var conf struct {
					TransactionId int `json:"transactionId"`
				}
				json.Unmarshal(a.Frame.Payload, &conf)
				sn.ids[conf.TransactionId] = true
				byID[conf.TransactionId] = sn
			}
		case "StopTransaction":
			stops = append(stops, r)
		case "MeterValues":
			var mv struct {
				TransactionId *int `json:"transactionId"`
			}
			json.Unmarshal(r.Frame.Payload, &mv)
			if mv.TransactionId != nil && byID[*mv.TransactionId] == nil {
				t.Errorf("MeterValues of transaction %d before its StartTransaction was answered", *mv.TransactionId)
			}
		}
	}
	for _, r := range stops {
		if seenStops[string(r.Frame.Payload)] {
			stopDupes++
			continue
		}
		seenStops[string(r.Frame.Payload)] = true
		var m stopMsg
		json.Unmarshal(r.Frame.Payload, &m)
		sn := byID[m.TransactionId]
		if sn == nil {
			t.Errorf("StopTransaction of unknown transaction %d: %s", m.TransactionId, r.Frame.Payload)
			continue
		}
		if r.Seq < sn.firstSeq {
			t.Errorf("StopTransaction before its StartTransaction: %s", r.Frame.Payload)
		}
		sn.stops = append(sn.stops, m)
	}
	var powerLoss, energy int
	for _, sn := range sessions {
		if len(sn.stops) != 1 {
			t.Errorf("transaction started %+v was stopped %d times: %+v", sn.start, len(sn.stops), sn.stops)
			continue
		}
		if sn.stops[0].MeterStop < sn.start.MeterStart {
			t.Errorf("meter went back within a transaction: start %d, stop %d", sn.start.MeterStart, sn.stops[0].MeterStop)
		}
		if sn.stops[0].Reason == "PowerLoss" {
			powerLoss++
		}
		energy += sn.stops[0].MeterStop - sn.start.MeterStart
	}
	// Transactions of a connector follow each other: the meter never goes
	// back, and no energy flows between them (the contactor is open), so
	// each starts where the one before stopped.
	sort.Slice(sessions, func(i, j int) bool { return sessions[i].start.Timestamp < sessions[j].start.Timestamp })
	for i := 1; i < len(sessions); i++ {
		prev, cur := sessions[i-1], sessions[i]
		if prev.start.ConnectorId != cur.start.ConnectorId || len(prev.stops) != 1 {
			continue
		}
		if cur.start.MeterStart != prev.stops[0].MeterStop {
			t.Errorf("transaction started at %d Wh after the one before stopped at %d Wh", cur.start.MeterStart, prev.stops[0].MeterStop)
		}
		if cur.start.Timestamp < prev.stops[0].Timestamp {
			t.Errorf("transaction started at %s before the one before stopped at %s", cur.start.Timestamp, prev.stops[0].Timestamp)
		}
	}
	t.Logf("%d transactions, %d Wh in all, %d stopped with PowerLoss, %d StartTransaction and %d StopTransaction retransmissions",
		len(sessions), energy, powerLoss, startDupes, stopDupes)
	if len(sessions) == 0 || (wantEnergy && energy == 0) {
		t.Error("no transaction, or no energy at all: the test checks nothing")
	}
}

// checkTransactionEvents adds to the Ledger's check of a 2.0.1 station
// what only the records tell: every TransactionEvent was valid, the
// transactions of an EVSE follow each other (each begins at the register
// the one before ended at, and not before it ended), and energy flowed.
// It logs what it counted.
func checkTransactionEvents(t *testing.T, recs []csmstest.Record, cp string) {
	t.Helper()
	type transaction struct {
		evse               int
		begin, end         float64
		startedAt, endedAt time.Time
		hasBegin, hasEnd   bool
		reason             string
	}
	byID := map[string]*transaction{}
	var txs []*transaction
	var events, resends int
	last := ""
	for _, r := range recs {
		if !csmstest.IsCall(cp, "TransactionEvent")(r) {
			continue
		}
		if r.Invalid != "" {
			t.Errorf("invalid TransactionEvent: %s", r.Invalid)
		}
		events++
		if string(r.Frame.Payload) == last {
			resends++
			continue
		}
		last = string(r.Frame.Payload)
		var ev struct {
			EventType       string    `json:"eventType"`
			Timestamp       time.Time `json:"timestamp"`
			TransactionInfo struct {
				TransactionID string `json:"transactionId"`
				StoppedReason string `json:"stoppedReason"`
			} `json:"transactionInfo"`
			EVSE struct {
				ID int `json:"id"`
			} `json:"evse"`
			MeterValue []struct {
				SampledValue []struct {
					Value   float64 `json:"value"`
					Context string  `json:"context"`
				} `json:"sampledValue"`
			} `json:"meterValue"`
		}
		json.Unmarshal(r.Frame.Payload, &ev)
		tx := byID[ev.TransactionInfo.TransactionID]
		if tx == nil {
			tx = &transaction{}
			byID[ev.TransactionInfo.TransactionID] = tx
			txs = append(txs, tx)
		}
		// The register at the begin as Started tells it, at the end as
		// Ended does (the last value of its context: Ended may carry
		// samples at the begin too).
		for _, mv := range ev.MeterValue {
			for _, sv := range mv.SampledValue {
				switch {
				case ev.EventType == "Started" && sv.Context == "Transaction.Begin":
					tx.begin, tx.hasBegin = sv.Value, true
				case ev.EventType == "Ended" && sv.Context == "Transaction.End":
					tx.end, tx.hasEnd = sv.Value, true
				}
			}
		}
		switch ev.EventType {
		case "Started":
			tx.evse, tx.startedAt = ev.EVSE.ID, ev.Timestamp
			if !tx.hasBegin {
				t.Errorf("Started without the register at Transaction.Begin: %s", r.Frame.Payload)
			}
		case "Ended":
			tx.endedAt, tx.reason = ev.Timestamp, ev.TransactionInfo.StoppedReason
			if !tx.hasEnd {
				t.Errorf("Ended without the register at Transaction.End: %s", r.Frame.Payload)
			}
		}
	}
	var energy float64
	var powerLoss int
	for _, tx := range txs {
		energy += tx.end - tx.begin
		if tx.reason == "PowerLoss" {
			powerLoss++
		}
	}
	sort.Slice(txs, func(i, j int) bool { return txs[i].startedAt.Before(txs[j].startedAt) })
	for i := 1; i < len(txs); i++ {
		prev, cur := txs[i-1], txs[i]
		if prev.evse != cur.evse || !prev.hasEnd {
			continue
		}
		if cur.begin != prev.end {
			t.Errorf("transaction began at %g Wh after the one before ended at %g Wh", cur.begin, prev.end)
		}
		if cur.startedAt.Before(prev.endedAt) {
			t.Errorf("transaction started at %s before the one before ended at %s", cur.startedAt, prev.endedAt)
		}
	}
	t.Logf("%d transactions, %g Wh in all, %d ended with PowerLoss; %d TransactionEvents, %d of them retransmissions",
		len(txs), energy, powerLoss, events, resends)
	if len(txs) == 0 || energy == 0 {
		t.Error("no transaction, or no energy at all: the test checks nothing")
	}
}
