package ocppj

import (
	"sync"
	"time"
)

// watchdog calls a function when a deadline set with arm passes before it
// is disarmed. Arming it once per frame is cheap: the timer behind it is
// reset only when it has to fire earlier than it will, not at every arm
// (resetting a runtime timer can wake the network poller, which costs as
// much as a round trip on loopback). It is safe for concurrent use.
type watchdog struct {
	fn func()

	mu      sync.Mutex
	t       *time.Timer
	when    time.Time // the deadline; zero when disarmed
	firesAt time.Time // when t fires; zero when it is not running
	stopped bool
}

func newWatchdog(fn func()) *watchdog {
	w := &watchdog{fn: fn}
	w.t = time.AfterFunc(time.Hour, w.fire)
	w.t.Stop()
	return w
}

// arm sets the deadline d from now.
func (w *watchdog) arm(d time.Duration) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	w.when = now.Add(d)
	if w.firesAt.IsZero() || w.firesAt.After(w.when) {
		w.firesAt = w.when
		w.t.Reset(d)
	}
}

// disarm clears the deadline; the timer, if running, fires for nothing.
func (w *watchdog) disarm() {
	w.mu.Lock()
	w.when = time.Time{}
	w.mu.Unlock()
}

// stop disarms w for good.
func (w *watchdog) stop() {
	w.mu.Lock()
	w.stopped = true
	w.when = time.Time{}
	w.t.Stop()
	w.mu.Unlock()
}

func (w *watchdog) fire() {
	now := time.Now()
	w.mu.Lock()
	w.firesAt = time.Time{}
	if w.when.IsZero() || w.stopped {
		w.mu.Unlock()
		return
	}
	if now.Before(w.when) { // re-armed since the timer was set
		w.firesAt = w.when
		w.t.Reset(w.when.Sub(now))
		w.mu.Unlock()
		return
	}
	w.when = time.Time{}
	w.mu.Unlock()
	w.fn()
}
