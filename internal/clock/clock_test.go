package clock

import (
	"testing"
	"time"
)

func TestVirtualTimersFireInDeadlineOrderAndOnlyWhenDue(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v := NewVirtual(start)
	late := v.NewTimer(10 * time.Second)
	early := v.NewTimer(5 * time.Second)

	v.Advance(4 * time.Second)
	select {
	case <-early.C():
		t.Fatal("timer fired before its deadline")
	default:
	}
	v.Advance(time.Second)
	if got := <-early.C(); !got.Equal(start.Add(5 * time.Second)) {
		t.Fatalf("early fired at %v, want +5s", got.Sub(start))
	}
	if late.Stop() != true {
		t.Fatal("Stop of a pending timer reported false")
	}
	v.Advance(time.Hour)
	select {
	case <-late.C():
		t.Fatal("stopped timer fired")
	default:
	}
	if got := v.Now().Sub(start); got != time.Hour+5*time.Second {
		t.Fatalf("Now advanced by %v, want 1h0m5s", got)
	}
	if _, ok := v.Next(); ok {
		t.Fatal("Next reports a timer after all fired or stopped")
	}
}

func TestVirtualResetDiscardsStaleFiring(t *testing.T) {
	v := NewVirtual(time.Unix(0, 0))
	tm := v.NewTimer(time.Second)
	v.Advance(time.Second) // fires, value unread
	tm.Reset(3 * time.Second)
	v.Advance(2 * time.Second)
	select {
	case <-tm.C():
		t.Fatal("stale firing delivered after Reset")
	default:
	}
	v.Advance(time.Second)
	select {
	case got := <-tm.C():
		if got != time.Unix(4, 0) {
			t.Fatalf("fired at %v, want 4s", got)
		}
	default:
		t.Fatal("reset timer did not fire at its new deadline")
	}
}
