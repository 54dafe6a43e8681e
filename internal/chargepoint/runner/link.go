package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/kv"
)

// Link sends the core's CALLs to the central system in one protocol: a
// protocol adapter implements it.
type Link interface {
	// Send sends one CALL (a message of the core; a TxMessage comes as a
	// TxCall with its event) and returns the answer (one of the core's
	// *Answer types, or nil for those that carry nothing), or how it
	// failed: Refused for a CALLERROR or an answer breaking the schema,
	// Unanswered for a timeout while the connection stayed up, Lost
	// otherwise.
	Send(ctx context.Context, msg any) (answer any, failure chargepoint.Failure, err error)
}

// TxCall is a journaled transaction event as it is sent.
type TxCall struct {
	chargepoint.TxMessage
	Event chargepoint.TxEvent
}

// sender sends a unit's CALLs one at a time, in order, and posts their
// outcomes back to the core. A halt queued after them is told once they
// are done. Its goroutine runs only while it has something to send: an
// idle charge point (of thousands in a fleet) holds none.
type sender struct {
	u       *Unit
	ctx     context.Context
	jobs    *sync.WaitGroup
	mu      sync.Mutex
	queue   []outMsg
	running bool // a goroutine is sending; guarded by mu
}

func newSender(u *Unit, ctx context.Context, jobs *sync.WaitGroup) *sender {
	return &sender{u: u, ctx: ctx, jobs: jobs}
}

func (s *sender) add(m outMsg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, m)
	if s.running || s.ctx.Err() != nil {
		return
	}
	s.running = true
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		s.run()
	}()
}

// clear forgets what waits to be sent (the software restarts).
func (s *sender) clear() {
	s.mu.Lock()
	s.queue = nil
	s.mu.Unlock()
}

// run sends until the queue is empty or the I/O ends.
func (s *sender) run() {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 || s.ctx.Err() != nil {
			s.running = false
			s.mu.Unlock()
			return
		}
		var m outMsg
		m, s.queue = s.queue[0], s.queue[1:]
		s.mu.Unlock()
		if m.halt != nil {
			s.u.halt(*m.halt, m.gen)
			continue
		}
		a := s.send(s.ctx, m.msg)
		if s.ctx.Err() != nil {
			s.mu.Lock()
			s.running = false
			s.mu.Unlock()
			return
		}
		s.u.enqueue(item{ev: a, gen: m.gen})
	}
}

// send sends one CALL within CallTimeout.
func (s *sender) send(ctx context.Context, m chargepoint.Message) chargepoint.Answered {
	body := m.Body
	if tm, ok := body.(chargepoint.TxMessage); ok {
		ev, err := readEvent(s.u.store, tm.Entry.Seq)
		if err != nil {
			// Not sent: tried again soon, as a message whose connection
			// dropped (a passing read error does not cost an attempt; one
			// that persists does, every MaxLost times).
			return chargepoint.Answered{Call: m.Call, Failure: chargepoint.Lost, Err: err}
		}
		body = TxCall{TxMessage: tm, Event: ev}
	}
	cctx, cancel := context.WithTimeout(ctx, s.u.opts.CallTimeout)
	defer cancel()
	answer, failure, err := s.u.opts.Link.Send(cctx, body)
	return chargepoint.Answered{Call: m.Call, Answer: answer, Failure: failure, Err: err}
}

// readEvent reads a journal entry's event.
func readEvent(store kv.Store, seq uint64) (chargepoint.TxEvent, error) {
	var jr journalRecord
	err := store.View(func(tx kv.Tx) error {
		raw := tx.Get(bucketJournal, pad(int64(seq)))
		if raw == nil {
			return fmt.Errorf("journal entry %d is not in the store", seq)
		}
		return json.Unmarshal(raw, &jr)
	})
	if err != nil {
		return chargepoint.TxEvent{}, fmt.Errorf("runner: %w", err)
	}
	return jr.Event, nil
}
