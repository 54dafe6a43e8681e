package site

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestTheReportKeepsPeaksAndDipsOfRealInstants thins a trace of 8,001
// instants with one short dip of what was available and one short peak
// of the draw: both survive, every kept instant is one of the trace, and
// a day without labelled events still has a list of them (empty).
func TestTheReportKeepsPeaksAndDipsOfRealInstants(t *testing.T) {
	var tr bytes.Buffer
	fmt.Fprintln(&tr, `{"trace":"evse site","version":2,"connectors":[{"charger":"A","connector":1}]}`)
	for i := 0; i <= 8000; i++ {
		avail, drawn := 32.0, 10.0
		if i == 4321 {
			avail = 10 // a dip
		}
		if i == 1234 {
			drawn = 30 // a peak
		}
		fmt.Fprintf(&tr, `{"t":%d,"available":[%g,%g,%g],"meter":"ok"}`+"\n", i, avail, avail, avail)
		fmt.Fprintf(&tr, `{"t":%d,"c":0,"state":"charging","arrival":0,"offered":[16,16,16],"drawn":[%g,%g,%g]}`+"\n", i, drawn, drawn, drawn)
	}
	d, err := Report(strings.NewReader(tr.String()), PlotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(d.T); n > 2*reportPoints || n < reportPoints/2 {
		t.Errorf("%d instants kept", n)
	}
	minAvail, maxDrawn := 99.0, 0.0
	for i, at := range d.T {
		if at != float64(int(at)) || at < 0 || at > 8000 {
			t.Fatalf("instant %g is not one of the trace", at)
		}
		minAvail = min(minAvail, d.Available[0][i])
		maxDrawn = max(maxDrawn, d.Drawn[0][0][i])
	}
	if minAvail != 10 || maxDrawn != 30 {
		t.Errorf("the report keeps a least available of %g A (the dip: 10) and a most drawn of %g A (the peak: 30)", minAvail, maxDrawn)
	}
	raw, _ := json.Marshal(d)
	if !strings.Contains(string(raw), `"events":[]`) {
		t.Errorf("a day without events has no event list: %.200s", raw)
	}
}
