package csmstest

import (
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
