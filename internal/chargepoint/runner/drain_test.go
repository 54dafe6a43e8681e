package runner

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/model"
	"github.com/evse-dev/evse/internal/store"
)

// answeringLink is a central system that answers every CALL at once,
// checking that the journal comes in order, each entry once.
type answeringLink struct {
	mu        sync.Mutex
	lastSeq   uint64
	delivered atomic.Int64
	err       error
	done      chan struct{}
	want      int64
}

func (l *answeringLink) Send(_ context.Context, msg any) (any, chargepoint.Failure, error) {
	switch m := msg.(type) {
	case chargepoint.BootNotification:
		return chargepoint.BootAnswer{Status: chargepoint.Accepted, Interval: time.Hour}, chargepoint.Delivered, nil
	case TxCall:
		l.mu.Lock()
		if m.Entry.Seq <= l.lastSeq && l.err == nil {
			l.err = fmt.Errorf("entry %d after %d: out of order or repeated", m.Entry.Seq, l.lastSeq)
		}
		l.lastSeq = m.Entry.Seq
		l.mu.Unlock()
		if l.delivered.Add(1) == l.want {
			close(l.done)
		}
	}
	return nil, chargepoint.Delivered, nil
}

// drainJournal starts a charge point whose bbolt store holds n journaled
// meter values of a transaction the central system knows, and returns how
// long the central system took to get them all.
func drainJournal(tb testing.TB, n int, pacing time.Duration) time.Duration {
	db, err := store.Open(tb.TempDir(), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx kv.Tx) error {
		if err := tx.Put(bucketMeta, metaSchema, []byte(schema)); err != nil {
			return err
		}
		if err := apply(tx, chargepoint.CSMSIDKept{Local: 1, ID: 77}); err != nil {
			return err
		}
		sample := []chargepoint.Sample{{At: time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC), Context: chargepoint.ContextPeriodic,
			Values: []chargepoint.Value{{Measurand: chargepoint.EnergyImport, Value: 1234}}}}
		for i := 1; i <= n; i++ {
			e := chargepoint.JournalEntry{Seq: uint64(i), Kind: chargepoint.TxUpdated, Tx: 1}
			if err := apply(tx, chargepoint.Journaled{Entry: e, Event: chargepoint.TxEvent{Connector: 1, Samples: sample}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	defaults := model.Default().ConfigDefaults()
	defaults["NumberOfConnectors"] = "1"
	cat, err := config.NewCatalogue(defaults)
	if err != nil {
		tb.Fatal(err)
	}
	settings, err := config.Open(cat, &config.MemStorage{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	link := &answeringLink{done: make(chan struct{}), want: int64(n)}
	r := New(Options{Store: db, Rand: func(time.Duration) time.Duration { return 0 }})
	u, err := r.Add(UnitOptions{Core: chargepoint.Config{Connectors: 1, MaxCurrent: 32, Rules: chargepoint.Rules{Pacing: pacing}},
		Settings: settings, Board: sim.New(sim.Options{}), Link: link})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	stopped := false
	defer func() {
		if !stopped {
			cancel()
			<-done
		}
	}()
	began := time.Now()
	u.LinkUp()
	select {
	case <-link.done:
	case <-time.After(5 * time.Minute):
		tb.Fatalf("%d of %d delivered in 5 minutes", link.delivered.Load(), n)
	}
	took := time.Since(began)
	if link.err != nil {
		tb.Error(link.err)
	}
	// Once answered, each entry leaves the journal: the core says so,
	// and none is left in the store once the charge point has stopped.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		st, err := u.Do(ctx, chargepoint.Query{})
		if err != nil {
			tb.Fatal(err)
		}
		if st.(chargepoint.Status).Journal == 0 {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d entries still in the journal a minute after the last was answered", st.(chargepoint.Status).Journal)
		}
	}
	cancel()
	<-done
	stopped = true
	left := 0
	db.View(func(tx kv.Tx) error {
		return tx.ForEach(bucketJournal, func(string, []byte) error { left++; return nil })
	})
	if left != 0 {
		tb.Errorf("%d entries left in the journal after all were answered", left)
	}
	return took
}

// TestABacklogIsDeliveredAsFastAsItIsAnswered: 1,000 journaled messages
// reach a central system that answers at once in order, each once, and
// the journal is empty after.
func TestABacklogIsDeliveredAsFastAsItIsAnswered(t *testing.T) {
	took := drainJournal(t, 1000, 0)
	t.Logf("1,000 journaled messages delivered in %v", took.Round(time.Millisecond))
}

// BenchmarkDrain10000 delivers a backlog of 10,000 journaled messages to
// a central system that answers at once, from a bbolt store (aim: under
// 30 s); a second figure with the 200 ms pacing fleets may choose is not
// run (it takes 2,000 s by construction).
func BenchmarkDrain10000(b *testing.B) {
	var took time.Duration
	for b.Loop() {
		took = drainJournal(b, 10000, 0)
	}
	b.ReportMetric(took.Seconds(), "s/10k")
	b.ReportMetric(10000/took.Seconds(), "msgs/s")
}
