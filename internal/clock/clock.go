// Package clock is the time source of evse: the real clock, or a virtual one
// that a simulation or a test moves forward by hand.
//
// Every timer of the charge point (heartbeat, meter values, timeouts,
// retries, DLM recalculation) reads time from a [Clock], so that a site or a
// fleet can run a day in seconds. Tests that only need fake time inside one
// goroutine tree may instead use testing/synctest with [Real].
package clock

import (
	"sort"
	"sync"
	"time"
)

// Clock tells the time and makes timers.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once, d from now.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer, like time.Timer.
type Timer interface {
	// C delivers the time when the timer fires.
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it did.
	Stop() bool
	// Reset makes the timer fire d from now, whether or not it fired.
	Reset(d time.Duration)
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// NewTimer returns a time.Timer.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time   { return r.t.C }
func (r realTimer) Stop() bool            { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) { r.t.Reset(d) }

// Virtual is a clock that moves only when Advance is called. It is safe for
// concurrent use.
type Virtual struct {
	mu     sync.Mutex
	now    time.Time
	timers []*virtualTimer
}

// NewVirtual returns a virtual clock reading start.
func NewVirtual(start time.Time) *Virtual { return &Virtual{now: start} }

// Now returns the virtual time.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now
}

// NewTimer returns a timer that fires when the virtual time reaches now+d.
func (v *Virtual) NewTimer(d time.Duration) Timer {
	t := &virtualTimer{v: v, c: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

// Next returns when the earliest pending timer fires, and whether there is one.
func (v *Virtual) Next() (time.Time, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.timers) == 0 {
		return time.Time{}, false
	}
	return v.timers[0].when, true
}

// Advance moves the clock forward by d, firing every timer that falls due,
// in order of their deadlines. A timer's channel holds one value: a timer
// that fires while an earlier firing is still unread is dropped, as with
// time.Timer.
func (v *Virtual) Advance(d time.Duration) {
	v.mu.Lock()
	end := v.now.Add(d)
	for len(v.timers) > 0 && !v.timers[0].when.After(end) {
		t := v.timers[0]
		v.timers = v.timers[1:]
		t.armed = false
		v.now = t.when
		select {
		case t.c <- t.when:
		default:
		}
	}
	v.now = end
	v.mu.Unlock()
}

type virtualTimer struct {
	v     *Virtual
	c     chan time.Time
	when  time.Time
	armed bool
}

func (t *virtualTimer) C() <-chan time.Time { return t.c }

func (t *virtualTimer) Stop() bool {
	t.v.mu.Lock()
	defer t.v.mu.Unlock()
	return t.unlink()
}

// unlink removes t from the pending timers; v.mu must be held.
func (t *virtualTimer) unlink() bool {
	if !t.armed {
		return false
	}
	for i, o := range t.v.timers {
		if o == t {
			t.v.timers = append(t.v.timers[:i], t.v.timers[i+1:]...)
			break
		}
	}
	t.armed = false
	return true
}

func (t *virtualTimer) Reset(d time.Duration) {
	v := t.v
	v.mu.Lock()
	defer v.mu.Unlock()
	t.unlink()
	select { // a stale firing must not be read as the new one
	case <-t.c:
	default:
	}
	t.when = v.now.Add(d)
	t.armed = true
	i := sort.Search(len(v.timers), func(i int) bool { return v.timers[i].when.After(t.when) })
	v.timers = append(v.timers, nil)
	copy(v.timers[i+1:], v.timers[i:])
	v.timers[i] = t
}
