package csmstest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTheLedgerFindsWhatIsWrong: each broken history is reported, and a
// sound one is not.
func TestTheLedgerFindsWhatIsWrong(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	start := txMsg{action: "StartTransaction", tx: 1, raw: "s1", wh: 100}
	restart := txMsg{action: "StartTransaction", tx: 2, raw: "s1", wh: 100} // the same frame again: a new id
	mv := func(raw string, wh float64, s int) txMsg {
		return txMsg{action: "MeterValues", tx: 1, raw: raw, wh: wh, at: t0.Add(time.Duration(s) * time.Second)}
	}
	stop := txMsg{action: "StopTransaction", tx: 1, raw: "e1", wh: 300, reason: "Local"}
	for _, tc := range []struct {
		name  string
		msgs  []txMsg
		conns int
		opts  CheckOptions
		want  string // in a problem; "" for none
	}{
		{"sound", []txMsg{start, mv("m1", 150, 1), mv("m2", 200, 2), stop}, 1, CheckOptions{MaxSampleGap: 3 * time.Second}, ""},
		{"never stopped", []txMsg{start, mv("m1", 150, 1)}, 1, CheckOptions{}, "never stopped"},
		{"open allowed", []txMsg{start, mv("m1", 150, 1)}, 1, CheckOptions{Open: true}, ""},
		{"stopped twice", []txMsg{start, stop, {action: "StopTransaction", tx: 1, raw: "e1b", wh: 300}}, 1, CheckOptions{}, "after its stop"},
		{"stop resent without a reconnection", []txMsg{start, stop, stop}, 1, CheckOptions{}, "more often than the charge point reconnected"},
		{"stop resent after a reconnection", []txMsg{start, stop, stop}, 2, CheckOptions{}, ""},
		{"meter goes back", []txMsg{start, mv("m1", 150, 1), mv("m2", 120, 2), stop}, 1, CheckOptions{}, "went back"},
		{"unknown transaction", []txMsg{{action: "StopTransaction", tx: 9, raw: "e9"}}, 1, CheckOptions{}, "never started"},
		{"repeated later", []txMsg{start, mv("m1", 150, 1), mv("m2", 200, 2), mv("m1", 150, 1), stop}, 5, CheckOptions{}, "not right after itself"},
		{"a sample lost", []txMsg{start, mv("m1", 150, 1), mv("m3", 250, 3), stop}, 1, CheckOptions{MaxSampleGap: 1500 * time.Millisecond}, "no samples for 2s"},
		{"a start resent after a reconnection", []txMsg{start, restart, {action: "StopTransaction", tx: 2, raw: "e2", wh: 300}}, 2, CheckOptions{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &Ledger{tx: map[string][]txMsg{"CP": tc.msgs}, conns: map[string]int{"CP": tc.conns}}
			_, _, problems := l.Check(tc.opts)
			got := strings.Join(problems, "; ")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("problems %q, want %q", got, tc.want)
			}
		})
	}
}

// event is a 2.0.1 TransactionEvent of transaction EVSE-1 as the ledger
// notes it: Started carries the register with context Transaction.Begin,
// Updated a periodic sample taken s seconds after noon, Ended the
// register with context Transaction.End and reason as stoppedReason;
// each also a voltage and, after the total, one phase's register (lower:
// not the one to check).
func event(eventType string, seq int, wh float64, s int, reason string) txMsg {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := t0.Add(time.Duration(s) * time.Second).Format(time.RFC3339)
	info := `{"transactionId":"EVSE-1"}`
	if reason != "" {
		info = fmt.Sprintf(`{"transactionId":"EVSE-1","stoppedReason":%q}`, reason)
	}
	sample := map[string]string{"Started": "Transaction.Begin", "Updated": "Sample.Periodic", "Ended": "Transaction.End"}[eventType]
	return readTransactionEvent(json.RawMessage(fmt.Sprintf(`{"eventType":%q,"timestamp":%q,"triggerReason":"MeterValuePeriodic",`+
		`"seqNo":%d,"transactionInfo":%s,"meterValue":[{"timestamp":%q,"sampledValue":[`+
		`{"value":230,"measurand":"Voltage","phase":"L1"},{"value":%g,"context":%q,"measurand":"Energy.Active.Import.Register"},`+
		`{"value":%g,"measurand":"Energy.Active.Import.Register","phase":"L1"}]}]}`,
		eventType, at, seq, info, at, wh, sample, wh/3)))
}

// TestTheLedgerChecks201Transactions: each broken sequence of 2.0.1
// TransactionEvents is reported, and a sound one, with a resend after a
// reconnection, is not.
func TestTheLedgerChecks201Transactions(t *testing.T) {
	started := event("Started", 0, 100, 0, "")
	up1, up2 := event("Updated", 1, 150, 1, ""), event("Updated", 2, 200, 2, "")
	ended := event("Ended", 3, 300, 3, "Local")
	for _, tc := range []struct {
		name  string
		msgs  []txMsg
		conns int
		opts  CheckOptions
		want  string // in a problem; "" for none
	}{
		{"sound", []txMsg{started, up1, up2, ended}, 1, CheckOptions{MaxSampleGap: 3 * time.Second}, ""},
		{"started and ended only", []txMsg{started, event("Ended", 1, 100, 1, "EVDisconnected")}, 1, CheckOptions{}, ""},
		{"resent after a reconnection", []txMsg{started, up1, up1, up2, ended, ended}, 3, CheckOptions{}, ""},
		{"resent without a reconnection", []txMsg{started, up1, up1, up2, ended}, 1, CheckOptions{}, "more often than the charge point reconnected"},
		{"resent later", []txMsg{started, up1, up2, up1, ended}, 5, CheckOptions{}, "not right after itself"},
		{"a gap", []txMsg{started, up1, ended}, 1, CheckOptions{}, "seqNo 3 came where 2 was due: missing"},
		{"a seqNo twice with other content", []txMsg{started, up1, event("Updated", 1, 160, 1, ""), up2, ended}, 5, CheckOptions{}, "seqNo 1 came again where 2 was due"},
		{"out of order", []txMsg{started, up2, up1, ended}, 1, CheckOptions{}, "seqNo 1 came again where 3 was due"},
		{"no Started", []txMsg{up1, up2, ended}, 1, CheckOptions{}, "begins with Updated (seqNo 1), not Started"},
		{"Started not at seqNo 0", []txMsg{event("Started", 1, 100, 0, ""), up2, ended}, 1, CheckOptions{}, "seqNo 1 came where 0 was due"},
		{"Started twice", []txMsg{started, up1, event("Started", 2, 150, 2, ""), ended}, 1, CheckOptions{}, "started again"},
		{"no Ended", []txMsg{started, up1, up2}, 1, CheckOptions{}, "EVSE-1 never stopped"},
		{"no Ended, open allowed", []txMsg{started, up1, up2}, 1, CheckOptions{Open: true}, ""},
		{"an event after Ended", []txMsg{started, up1, up2, ended, event("Updated", 4, 300, 4, "")}, 1, CheckOptions{}, "after its Ended"},
		{"ended twice", []txMsg{started, up1, up2, ended, event("Ended", 4, 300, 4, "Local")}, 1, CheckOptions{}, "after its Ended"},
		{"register goes back", []txMsg{started, up1, event("Updated", 2, 120, 2, ""), ended}, 1, CheckOptions{}, "went back from 150 to 120"},
		{"Ended below Started", []txMsg{started, event("Ended", 1, 90, 1, "Local")}, 1, CheckOptions{}, "went back from 100 to 90"},
		{"no stoppedReason", []txMsg{started, up1, up2, event("Ended", 3, 300, 3, "")}, 1, CheckOptions{}, "without a stoppedReason"},
		{"a sample lost", []txMsg{started, up1, event("Updated", 2, 250, 3, ""), event("Ended", 3, 300, 3, "Local")}, 1, CheckOptions{MaxSampleGap: 1500 * time.Millisecond}, "no samples for 2s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &Ledger{tx: map[string][]txMsg{"CS": tc.msgs}, conns: map[string]int{"CS": tc.conns}}
			sessions, reasons, problems := l.Check(tc.opts)
			got := strings.Join(problems, "; ")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("problems %q, want %q", got, tc.want)
			}
			if tc.want == "" && (sessions != 1 || !tc.opts.Open && len(reasons) != 1) {
				t.Errorf("%d sessions, reasons %v", sessions, reasons)
			}
		})
	}
}

// TestALedgerOnA201Server: a ledger kept by a server speaking 2.0.1 only
// notes the TransactionEvents of a station on loopback, answers them
// validly, and counts its connection.
func TestALedgerOnA201Server(t *testing.T) {
	s := New(Options{Subprotocols: []string{OCPP201}})
	l := NewLedgerOn(s)
	c := dial(t, s, serve(t, s), "CS1", nil, OCPP201)
	if _, err := c.Call(ctxFor(t), "BootNotification", json.RawMessage(boot201)); err != nil {
		t.Fatal(err)
	}
	for _, m := range []txMsg{event("Started", 0, 100, 0, ""), event("Updated", 1, 150, 1, ""), event("Ended", 2, 300, 2, "Local")} {
		if _, err := c.Call(ctxFor(t), "TransactionEvent", json.RawMessage(m.raw)); err != nil {
			t.Fatalf("%s: %v", m.raw, err)
		}
	}
	if v := violations(s, "CS1"); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
	sessions, reasons, problems := l.Check(CheckOptions{MaxSampleGap: 2 * time.Second})
	if sessions != 1 || reasons["Local"] != 1 || len(problems) > 0 || l.Boots()["CS1"] != 1 || len(l.Raw("CS1")) != 3 {
		t.Errorf("%d sessions, reasons %v, problems %q, boots %v, raw %q", sessions, reasons, problems, l.Boots(), l.Raw("CS1"))
	}
}
