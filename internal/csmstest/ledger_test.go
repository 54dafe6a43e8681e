package csmstest

import (
	"strings"
	"testing"
)

// TestTheLedgerFindsWhatIsWrong: each broken history is reported, and a
// sound one is not.
func TestTheLedgerFindsWhatIsWrong(t *testing.T) {
	start := txMsg{action: "StartTransaction", tx: 1, raw: "s1", wh: 100}
	mv := func(raw string, wh float64) txMsg { return txMsg{action: "MeterValues", tx: 1, raw: raw, wh: wh} }
	stop := txMsg{action: "StopTransaction", tx: 1, raw: "e1", wh: 300, reason: "Local"}
	for _, tc := range []struct {
		name    string
		msgs    []txMsg
		dropped int
		want    string // in a problem; "" for none
	}{
		{"sound", []txMsg{start, mv("m1", 150), mv("m2", 200), stop}, 0, ""},
		{"never stopped", []txMsg{start, mv("m1", 150)}, 0, "never stopped"},
		{"stopped twice", []txMsg{start, stop, {action: "StopTransaction", tx: 1, raw: "e1b", wh: 300}}, 0, "after its stop"},
		{"meter goes back", []txMsg{start, mv("m1", 150), mv("m2", 120), stop}, 0, "went back"},
		{"unknown transaction", []txMsg{{action: "StopTransaction", tx: 9, raw: "e9"}}, 0, "never started"},
		{"repeated later", []txMsg{start, mv("m1", 150), mv("m2", 200), mv("m1", 150), stop}, 5, "not right after itself"},
		{"repeated at once, a link dropped", []txMsg{start, mv("m1", 150), mv("m1", 150), stop}, 1, ""},
		{"repeated at once, no link dropped", []txMsg{start, mv("m1", 150), mv("m1", 150), stop}, 0, "twice in a row"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &Ledger{tx: map[string][]txMsg{"CP": tc.msgs}}
			_, _, problems := l.Check(tc.dropped)
			got := strings.Join(problems, "; ")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("problems %q, want %q", got, tc.want)
			}
		})
	}
}
