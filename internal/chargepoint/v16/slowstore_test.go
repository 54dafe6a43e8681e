package v16

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// gatedStore is a kv.Mem whose writes can be held, as on a disk whose
// fsync takes long: while it is shut, every Update waits until it is
// opened again. Reads pass. It is safe for concurrent use.
type gatedStore struct {
	*kv.Mem
	mu                sync.Mutex
	gate              chan struct{} // nil: open
	entered, returned atomic.Int64  // Updates begun, Updates ended
}

var _ kv.Store = (*gatedStore)(nil)

func (s *gatedStore) Update(fn func(kv.Tx) error) error {
	s.entered.Add(1)
	defer s.returned.Add(1)
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return s.Mem.Update(fn)
}

func (s *gatedStore) shut() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate == nil {
		s.gate = make(chan struct{})
	}
}

func (s *gatedStore) open() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate != nil {
		close(s.gate)
		s.gate = nil
	}
}

// held is the number of Updates under way.
func (s *gatedStore) held() int64 { return s.entered.Load() - s.returned.Load() }

// openTxStored reports whether the store holds connector 1's open
// transaction.
func openTxStored(m *kv.Mem) bool {
	found := false
	m.View(func(tx kv.Tx) error {
		found = tx.Get("opentx", key(1)) != nil
		return nil
	})
	return found
}

// TestCurrentIsCutBeforeTheSlowWriteReturns: with a write to the store
// held (a slow disk), a fault, an emergency stop, an unplug and a lowered
// load management share each reach the hardware at once: the offer drops
// and, for a stop, the contactor opens, while the store still shows the
// transaction open and nothing of it went to the central system. Once
// the write returns, nothing is lost: the held sample and the stop are
// written and sent, in order, and the emergency stop is acknowledged.
func TestCurrentIsCutBeforeTheSlowWriteReturns(t *testing.T) {
	for _, tc := range []struct {
		name    string
		managed bool
		// cause returns a channel closed when the cause is acknowledged,
		// or nil for causes that are not.
		cause     func(t *testing.T, r *rig) <-chan struct{}
		offer     float64
		contactor bool
		// reason is the StopTransaction's; "": the transaction goes on.
		reason ocpp16.Reason
	}{
		{name: "fault", cause: func(t *testing.T, r *rig) <-chan struct{} {
			r.board.SetFault(1, "GroundFailure")
			return nil
		}, reason: ocpp16.ReasonOther},
		{name: "emergency stop", cause: func(t *testing.T, r *rig) <-chan struct{} {
			done := make(chan struct{})
			go func() {
				defer close(done)
				if err := r.cp.EmergencyStop(context.Background()); err != nil {
					t.Errorf("EmergencyStop: %v", err)
				}
			}()
			return done
		}, reason: ocpp16.ReasonEmergencyStop},
		{name: "unplug", cause: func(t *testing.T, r *rig) <-chan struct{} {
			r.board.Unplug(1)
			return nil
		}, reason: ocpp16.ReasonEVDisconnected},
		{name: "lowered share", managed: true, cause: func(t *testing.T, r *rig) <-chan struct{} {
			r.cp.SetLimits(map[int]float64{1: 10})
			return nil
		}, offer: 10, contactor: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				csms := newFakeCSMS()
				store := &gatedStore{Mem: &kv.Mem{}}
				r := startRig(t, csms, nil, store.Mem, func(o *Options) {
					o.Store = store
					o.Managed = tc.managed
				})
				defer r.stop()
				defer store.open() // a failed test must not leave Run waiting for the writer
				synctest.Wait()
				if tc.managed {
					r.cp.SetLimits(map[int]float64{1: 16})
				}
				r.board.Plug(1, sim.EV{CapacityWh: 100000})
				r.board.Present("TAG1", 0)
				time.Sleep(5 * time.Second)
				if s, _ := r.board.Snapshot(1); s.Offered == 0 || !s.Contactor || !openTxStored(store.Mem) {
					t.Fatalf("not charging before the cause: %+v, transaction stored %v", s, openTxStored(store.Mem))
				}

				// Hold the next write: the transaction's sample, due a
				// minute after its start.
				store.shut()
				returned := store.returned.Load()
				for i := 0; store.held() == 0; i++ {
					if i == 120 {
						t.Fatal("no write in two minutes")
					}
					time.Sleep(time.Second)
				}
				ack := tc.cause(t, r)
				synctest.Wait() // everything has run that can before the write returns

				s, _ := r.board.Snapshot(1)
				if s.Offered != tc.offer || s.Contactor != tc.contactor {
					t.Errorf("while the write is held the hardware shows offer %v A, contactor closed %v; want %v A, %v",
						s.Offered, s.Contactor, tc.offer, tc.contactor)
				}
				if store.held() == 0 || store.returned.Load() != returned {
					t.Fatalf("the write was not held: %d Updates under way, %d returned since the gate shut",
						store.held(), store.returned.Load()-returned)
				}
				if tc.reason != "" && !openTxStored(store.Mem) {
					t.Error("the stop is durable already: the write was not the slow one")
				}
				if got := strings.Join(actions(csms), " "); got != "Authorize StartTransaction" {
					t.Errorf("sent %q before the records were durable", got)
				}
				if ack != nil {
					select {
					case <-ack:
						t.Error("acknowledged before its records were durable")
					default:
					}
				}

				store.open()
				time.Sleep(5 * time.Second)
				if store.held() != 0 || store.returned.Load() == returned {
					t.Errorf("%d Updates still under way after the gate opened", store.held())
				}
				if ack != nil {
					select {
					case <-ack:
					default:
						t.Error("not acknowledged once its records were durable")
					}
				}
				want := "Authorize StartTransaction MeterValues"
				if tc.reason != "" {
					want += " StopTransaction"
				}
				if got := strings.Join(actions(csms), " "); got != want {
					t.Fatalf("sent %q after the write, want %q", got, want)
				}
				if tc.reason != "" {
					stop := decode[ocpp16.StopTransactionRequest](t, csms.sent("StopTransaction")[0])
					if stop.Reason != tc.reason || stop.TransactionId != 101 {
						t.Errorf("StopTransaction %+v, want transaction 101 stopped for %s", stop, tc.reason)
					}
					if openTxStored(store.Mem) {
						t.Error("the stopped transaction is still open in the store")
					}
				}
				if s, _ := r.board.Snapshot(1); s.Offered != tc.offer || s.Contactor != tc.contactor {
					t.Errorf("after the write the hardware shows offer %v A, contactor closed %v", s.Offered, s.Contactor)
				}
			})
		})
	}
}
