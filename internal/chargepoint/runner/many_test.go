package runner_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/chargepoint/runner"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/model"
	"github.com/evse-dev/evse/internal/store"
)

// countingStore counts the writes (each one fsync on bbolt).
type countingStore struct {
	kv.Store
	updates atomic.Int64
}

func (s *countingStore) Update(fn func(kv.Tx) error) error {
	s.updates.Add(1)
	return s.Store.Update(fn)
}

// TestManyChargePointsShareOneStoreAndItsWrites runs 100 charge points in
// one runner, in real time, on one bbolt store: cars arrive at all of
// them at once; every charge point's transaction is kept in its own part
// of the store, and the records of the 100 sessions take far fewer writes
// (fsyncs) than there are charge points (group commit).
func TestManyChargePointsShareOneStoreAndItsWrites(t *testing.T) {
	const n = 100
	db, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := &countingStore{Store: db}
	r := runner.New(runner.Options{Store: st})
	defaults := model.Default().ConfigDefaults()
	defaults["NumberOfConnectors"] = "1"
	defaults["FreeCharging"] = "1"
	defaults["FreeChargingMode"] = "4" // transactions in the fixed tag's name, no authorization
	cat, err := config.NewCatalogue(defaults)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	var boards []*sim.Board
	for i := range n {
		settings, err := config.Open(cat, &config.MemStorage{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		b := sim.New(sim.Options{})
		wg.Go(func() { b.Run(ctx) })
		_, err = r.Add(runner.UnitOptions{ID: fmt.Sprint("CP", i), Core: chargepoint.Config{Connectors: 1, MaxCurrent: 32},
			Settings: settings, Board: b, Store: runner.Prefixed(st, fmt.Sprintf("CP%03d/", i))})
		if err != nil {
			t.Fatal(err)
		}
		boards = append(boards, b)
	}
	wg.Go(func() { r.Run(ctx) })
	before := st.updates.Load()
	for _, b := range boards {
		if err := b.Plug(1, sim.EV{}); err != nil {
			t.Fatal(err)
		}
	}
	// Every charge point keeps its open transaction in its part.
	open := func() int {
		count := 0
		for i := range n {
			runner.Prefixed(st, fmt.Sprintf("CP%03d/", i)).View(func(tx kv.Tx) error {
				return tx.ForEach("opentx", func(string, []byte) error { count++; return nil })
			})
		}
		return count
	}
	deadline := time.Now().Add(20 * time.Second)
	for open() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d transactions kept after 20 s", open(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	writes := st.updates.Load() - before
	t.Logf("%d sessions started with %d writes", n, writes)
	if writes >= n/2 {
		t.Errorf("%d sessions took %d writes: no group commit", n, writes)
	}
}
