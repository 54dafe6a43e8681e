package daemon

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestTheLogRingKeepsTheLastRecordsAndCutsAWindow(t *testing.T) {
	r := newLogRing()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range ringSize + 10 {
		r.add(t0.Add(time.Duration(i)*time.Second), []byte(fmt.Sprintf("line %d\n", i)))
	}
	all := strings.Split(strings.TrimSpace(string(r.Logs(time.Time{}, time.Time{}))), "\n")
	if len(all) != ringSize || all[0] != "line 10" || all[len(all)-1] != fmt.Sprintf("line %d", ringSize+9) {
		t.Fatalf("%d lines, first %q, last %q", len(all), all[0], all[len(all)-1])
	}
	window := strings.Split(strings.TrimSpace(string(r.Logs(t0.Add(100*time.Second), t0.Add(102*time.Second)))), "\n")
	if strings.Join(window, ",") != "line 100,line 101,line 102" {
		t.Fatalf("window %v", window)
	}
}
