package ocppj

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestWatchdog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var fired atomic.Int32
		var at, start time.Time
		w := newWatchdog(func() {
			fired.Add(1)
			at = time.Now()
		})

		// Disarmed in time: nothing.
		w.arm(time.Second)
		time.Sleep(900 * time.Millisecond)
		w.disarm()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if fired.Load() != 0 {
			t.Fatalf("fired %d times after a disarm", fired.Load())
		}

		// Re-armed before the deadline: the later deadline counts.
		start = time.Now()
		w.arm(time.Second)
		time.Sleep(500 * time.Millisecond)
		w.arm(time.Second)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if fired.Load() != 1 || at.Sub(start) != 1500*time.Millisecond {
			t.Fatalf("fired %d times, %v after the first arm; want once after 1.5s", fired.Load(), at.Sub(start))
		}

		// A shorter deadline after a longer one fires on time.
		start = time.Now()
		w.arm(time.Hour)
		w.arm(time.Second)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if fired.Load() != 2 || at.Sub(start) != time.Second {
			t.Fatalf("fired %d times, %v after arm; want twice, after 1s", fired.Load(), at.Sub(start))
		}

		// Many arms, each disarmed in time: it never fires.
		for range 1000 {
			w.arm(time.Second)
			time.Sleep(time.Millisecond)
			w.disarm()
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if fired.Load() != 2 {
			t.Fatalf("fired %d times", fired.Load())
		}

		w.arm(time.Second)
		w.stop()
		w.arm(time.Second)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if fired.Load() != 2 {
			t.Fatalf("fired after stop")
		}
	})
}
