package leakcheck

import (
	"strings"
	"testing"
	"time"
)

func parkForever(stop chan struct{}) { <-stop }

func TestLeakedFindsAParkedGoroutineAndForgetsItWhenItEnds(t *testing.T) {
	stop := make(chan struct{})
	go parkForever(stop)
	time.Sleep(10 * time.Millisecond)
	found := false
	for _, g := range Leaked() {
		if strings.Contains(g, "leakcheck.parkForever") {
			found = true
		}
	}
	if !found {
		t.Fatal("a goroutine parked in this package was not reported")
	}
	close(stop)
	for _, g := range Wait(2 * time.Second) {
		if strings.Contains(g, "leakcheck.parkForever") {
			t.Fatal("an ended goroutine is still reported")
		}
	}
}
