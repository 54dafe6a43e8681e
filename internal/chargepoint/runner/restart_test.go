package runner

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/model"
)

// TestAResetIsToldOnceAndRestartsOnce: the halt of a reset is told by the
// sender once the messages before it are out, and by a timer after
// ResetFlush if they never are; whichever comes second, and a halt of a
// run the software has left, is not told again (a fleet restarts on each
// one). In virtual time.
func TestAResetIsToldOnceAndRestartsOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cat, err := config.NewCatalogue(model.Default().ConfigDefaults())
		if err != nil {
			t.Fatal(err)
		}
		settings, err := config.Open(cat, &config.MemStorage{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		link := &recordingLink{}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		b := sim.New(sim.Options{})
		wg.Go(func() { b.Run(ctx) })
		r := New(Options{Store: &kv.Mem{}, Rand: func(time.Duration) time.Duration { return 0 }, StopGrace: time.Second})
		var halts atomic.Int32
		var u *Unit
		u, err = r.Add(UnitOptions{Core: chargepoint.Config{Connectors: 1, MaxCurrent: 32, Rules: chargepoint.Rules{ResetFlush: 300 * time.Millisecond}},
			Settings: settings, Board: b, Link: link, OnHalt: func(chargepoint.Halt) { halts.Add(1); u.Restart(chargepoint.BootRemoteReset) }})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { r.Run(ctx) })
		u.LinkUp()
		time.Sleep(time.Second)
		for range 2 {
			if _, err := u.Do(ctx, chargepoint.Reset{}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Second) // virtual: past every ResetFlush
		}
		if n := halts.Load(); n != 2 {
			t.Errorf("two resets told %d halts", n)
		}
		boots := 0
		link.mu.Lock()
		for _, m := range link.msgs {
			if _, ok := m.(chargepoint.BootNotification); ok {
				boots++
			}
		}
		link.mu.Unlock()
		if boots != 3 {
			t.Errorf("%d BootNotifications for a start and two resets, want 3", boots)
		}
		cancel()
		wg.Wait()
	})
}
