package runner

import (
	"context"
	"errors"
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

// failingStore fails every write while fail is set, as a full disk does.
type failingStore struct {
	kv.Store
	fail atomic.Bool
}

func (s *failingStore) Update(fn func(kv.Tx) error) error {
	if s.fail.Load() {
		return errors.New("no space left on device")
	}
	return s.Store.Update(fn)
}

// recordingLink accepts everything and keeps what it was sent.
type recordingLink struct {
	mu   sync.Mutex
	msgs []any
}

func (l *recordingLink) Send(_ context.Context, msg any) (any, chargepoint.Failure, error) {
	l.mu.Lock()
	l.msgs = append(l.msgs, msg)
	l.mu.Unlock()
	switch m := msg.(type) {
	case TxCall:
		if m.Entry.Kind == chargepoint.TxStarted {
			return chargepoint.StartAnswer{TransactionID: 7, Info: chargepoint.AuthInfo{Status: chargepoint.AuthAccepted}}, chargepoint.Delivered, nil
		}
	case chargepoint.BootNotification:
		return chargepoint.BootAnswer{Status: chargepoint.Accepted, Interval: time.Hour}, chargepoint.Delivered, nil
	}
	return nil, chargepoint.Delivered, nil
}

func (l *recordingLink) has(match func(any) bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if match(m) {
			return true
		}
	}
	return false
}

// TestFaultedIsToldWhenTheFailedWriteCarriedNoMessage: the write that
// fails holds only records (a session's checkpoint), so the Faulted
// status that follows heads the outbox with that failed batch's number.
// It must still reach the central system while the store cannot write.
func TestFaultedIsToldWhenTheFailedWriteCarriedNoMessage(t *testing.T) {
	db, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := &failingStore{Store: db}
	defaults := model.Default().ConfigDefaults()
	defaults["FreeCharging"] = "1"
	defaults["FreeChargingMode"] = "4"
	defaults["MeterValueSampleInterval"] = "0"
	cat, err := config.NewCatalogue(defaults)
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
	defer wg.Wait()
	defer cancel()
	b := sim.New(sim.Options{})
	wg.Go(func() { b.Run(ctx) })
	r := New(Options{Store: st, Rand: func(time.Duration) time.Duration { return 0 }, StopGrace: time.Second})
	u, err := r.Add(UnitOptions{Core: chargepoint.Config{Connectors: 1, MaxCurrent: 32, Rules: chargepoint.Rules{Checkpoint: 300 * time.Millisecond}},
		Settings: settings, Board: b, Link: link})
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() { r.Run(ctx) })
	u.LinkUp()
	if err := b.Plug(1, sim.EV{}); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, match func(any) bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !link.has(match); {
			if time.Now().After(deadline) {
				t.Fatalf("no %s within 10 s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("StartTransaction", func(m any) bool { c, ok := m.(TxCall); return ok && c.Entry.Kind == chargepoint.TxStarted })
	st.fail.Store(true)
	waitFor("Faulted status of connector 0", func(m any) bool {
		s, ok := m.(chargepoint.StatusNotification)
		return ok && s.Connector == 0 && s.State == chargepoint.Faulted
	})
	st.fail.Store(false)
}

// Connected: the link is always up (a restarted core is told so).
func (l *recordingLink) Connected() bool { return true }
