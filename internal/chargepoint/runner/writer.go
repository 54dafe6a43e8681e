package runner

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/kv"
)

// batch is the records of one Ready of one unit, and the settings it
// stores.
type batch struct {
	seq      uint64
	store    kv.Store // the unit's view of the store
	records  []chargepoint.Record
	settings []setting
}

type setting struct {
	apply func() error
	what  string
}

// writer makes batches durable in order, off the runner's goroutine:
// the batches queued while a write is under way go together in the next
// (group commit: one fsync for many charge points' records). A write that
// fails is tried again, with a growing wait, until it succeeds: what
// follows it waits, and nothing is acknowledged meanwhile.
type writer struct {
	store kv.Store
	clock clock.Clock
	log   *slog.Logger
	// durable is called with the sequence of the last batch written.
	durable func(seq uint64)
	// trouble is called when writes start failing (err) and when they
	// succeed again (nil).
	trouble func(err error)
	failing bool // owned by run
	// troubledFlag mirrors failing for other goroutines.
	troubledFlag atomic.Bool

	// synchronous: add writes at once (a simulation's runner).
	synchronous bool

	mu      sync.Mutex
	queue   []batch
	lastSeq uint64 // the last batch queued
	wake    chan struct{}
	done    chan struct{} // closed when run returns
}

func newWriter(store kv.Store, c clock.Clock, log *slog.Logger, durable func(uint64), trouble func(error)) *writer {
	return &writer{store: store, clock: c, log: log, durable: durable, trouble: trouble, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// add queues records and settings and returns the batch's sequence; with
// none, it returns the last one queued: what depends on this Ready waits
// for everything before it.
func (w *writer) add(store kv.Store, records []chargepoint.Record, settings []setting) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(records) == 0 && len(settings) == 0 {
		return w.lastSeq
	}
	w.lastSeq++
	b := batch{seq: w.lastSeq, store: store, records: records, settings: settings}
	if w.synchronous {
		if err := w.write([]batch{b}); err != nil {
			w.log.Error("records not written", "err", err)
		}
		w.durable(b.seq)
		return b.seq
	}
	w.queue = append(w.queue, b)
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return w.lastSeq
}

// troubled reports whether writes are failing now.
func (w *writer) troubled() bool { return w.troubledFlag.Load() }

// run writes until ctx ends and the queue is empty.
func (w *writer) run(ctx context.Context) {
	defer close(w.done)
	wait := time.Duration(0)
	for {
		w.mu.Lock()
		todo := w.queue
		w.mu.Unlock()
		if len(todo) == 0 {
			select {
			case <-w.wake:
				continue
			case <-ctx.Done():
				w.mu.Lock()
				empty := len(w.queue) == 0
				w.mu.Unlock()
				if empty {
					return
				}
				continue // the last batches came with the end: written too
			}
		}
		if err := w.write(todo); err != nil {
			wait = min(max(2*wait, 100*time.Millisecond), 30*time.Second)
			w.log.Error("the store failed; writing again", "in", wait, "err", err)
			if !w.failing {
				w.failing = true
				w.troubledFlag.Store(true)
				w.trouble(err)
			}
			t := w.clock.NewTimer(wait)
			select {
			case <-t.C():
			case <-ctx.Done():
				// Going down: one last try, then whatever is left is
				// as after a crash.
				t.Stop()
				if err := w.write(todo); err != nil {
					w.log.Error("records not written at shutdown", "err", err)
					return
				}
			}
			continue
		}
		wait = 0
		w.mu.Lock()
		w.queue = w.queue[len(todo):]
		w.mu.Unlock()
		w.durable(todo[len(todo)-1].seq)
		if w.failing {
			w.failing = false
			w.troubledFlag.Store(false)
			w.trouble(nil)
		}
	}
}

// write makes batches durable: their records in one transaction, then
// their settings.
func (w *writer) write(todo []batch) error {
	records := false
	for _, b := range todo {
		records = records || len(b.records) > 0
	}
	if records {
		err := w.store.Update(func(tx kv.Tx) error {
			for _, b := range todo {
				if len(b.records) == 0 {
					continue
				}
				btx := tx
				if p, ok := b.store.(*prefixed); ok {
					btx = prefixedTx{tx, p.prefix}
				}
				for _, r := range b.records {
					if err := apply(btx, r); err != nil {
						return fmt.Errorf("%T: %w", r, err)
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for i := range todo {
		for j, s := range todo[i].settings {
			if s.apply == nil {
				continue
			}
			if err := s.apply(); err != nil {
				w.log.Error("setting not stored", "setting", s.what, "err", err)
			}
			todo[i].settings[j].apply = nil // once, even if the records are written again
		}
	}
	return nil
}

// prefixed is one charge point's part of a store many share: its
// buckets' names begin with prefix.
type prefixed struct {
	kv.Store
	prefix string
}

// Prefixed returns the part of store whose buckets begin with prefix.
func Prefixed(store kv.Store, prefix string) kv.Store {
	if prefix == "" {
		return store
	}
	return &prefixed{Store: store, prefix: prefix}
}

func (p *prefixed) View(fn func(tx kv.Tx) error) error {
	return p.Store.View(func(tx kv.Tx) error { return fn(prefixedTx{tx, p.prefix}) })
}

func (p *prefixed) Update(fn func(tx kv.Tx) error) error {
	return p.Store.Update(func(tx kv.Tx) error { return fn(prefixedTx{tx, p.prefix}) })
}

type prefixedTx struct {
	kv.Tx
	prefix string
}

func (t prefixedTx) Get(bucket, key string) []byte { return t.Tx.Get(t.prefix+bucket, key) }
func (t prefixedTx) Put(bucket, key string, value []byte) error {
	return t.Tx.Put(t.prefix+bucket, key, value)
}
func (t prefixedTx) Delete(bucket, key string) error { return t.Tx.Delete(t.prefix+bucket, key) }
func (t prefixedTx) ForEach(bucket string, fn func(string, []byte) error) error {
	return t.Tx.ForEach(t.prefix+bucket, fn)
}
func (t prefixedTx) DeleteBucket(bucket string) error { return t.Tx.DeleteBucket(t.prefix + bucket) }
