package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/config"
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

// TestLoggedStringsAreCutAndTheRingIsBounded: 40 records carrying a 15 MiB
// string each (a central system's UpdateFirmware location, say) leave
// lines of at most a few hundred bytes on the console and in the ring,
// which never holds more than ringBytes whatever is logged.
func TestLoggedStringsAreCutAndTheRingIsBounded(t *testing.T) {
	ring := newLogRing()
	var console bytes.Buffer
	log := slog.New(newCapHandler(newRingHandler(slog.NewTextHandler(&console, nil), ring)))
	huge := strings.Repeat("x", 15<<20)
	for i := range 40 {
		log.Warn("firmware location "+huge, "location", huge, "n", i, "err", errors.New(huge),
			slog.Group("g", "inner", huge))
	}
	records, size := ring.size()
	if records != 40 || size > 40*4*(maxLogged+64)+40*400 {
		t.Errorf("ring holds %d records, %d bytes", records, size)
	}
	for _, line := range strings.Split(strings.TrimSpace(console.String()), "\n") {
		if len(line) > 6*(maxLogged+64) {
			t.Fatalf("a console line of %d bytes", len(line))
		}
	}
	if !strings.Contains(console.String(), fmt.Sprintf("…(%d bytes)", len(huge))) {
		t.Error("a cut string does not say how long it was")
	}
	// Many records of the largest size: the ring stays within its bytes.
	for range 20000 {
		log.Info(huge[:maxLogged], "a", huge, "b", huge, "c", huge)
	}
	if _, size := ring.size(); size > ringBytes {
		t.Errorf("ring holds %d bytes, more than %d", size, ringBytes)
	}
	// A secret still logs as one.
	console.Reset()
	log.Info("key", "value", config.Secret("0011223344"))
	if strings.Contains(console.String(), "0011223344") {
		t.Errorf("a secret reached the log: %s", console.String())
	}
}
