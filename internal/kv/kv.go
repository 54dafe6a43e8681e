// Package kv is the small storage contract of the charge point's domain: a
// key-value store of named buckets with atomic, durable transactions, and an
// in-memory implementation for tests and simulations. internal/store
// implements it on bbolt.
package kv

import (
	"errors"
	"slices"
	"sync"
)

// Store runs transactions. Update's changes are all applied, and durable,
// when it returns nil, or none of them are.
type Store interface {
	View(fn func(tx Tx) error) error
	Update(fn func(tx Tx) error) error
}

// Tx reads and writes inside one transaction. Keys and values handed out
// are valid only inside the transaction; copy what you keep. A bucket is
// created by the first Put into it.
type Tx interface {
	Get(bucket, key string) []byte
	Put(bucket, key string, value []byte) error
	Delete(bucket, key string) error
	// ForEach calls fn for every key of the bucket in byte order; fn must
	// not write to that bucket.
	ForEach(bucket string, fn func(key string, value []byte) error) error
	// DeleteBucket removes a bucket and everything in it.
	DeleteBucket(bucket string) error
}

// ErrReadOnly: a write inside View.
var ErrReadOnly = errors.New("kv: write in a read-only transaction")

// Mem is a Store in memory. It is safe for concurrent use; the zero value
// is empty and ready.
type Mem struct {
	mu      sync.RWMutex
	buckets map[string]map[string][]byte
	fail    error // see SetFail; guarded by mu
}

// SetFail makes every Update fail with err after running fn (nothing is
// applied), or, with nil, succeed again.
func (m *Mem) SetFail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

var _ Store = (*Mem)(nil)

// View runs fn read-only.
func (m *Mem) View(fn func(tx Tx) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return fn(&memTx{m: m, readOnly: true})
}

// Update runs fn; its writes apply only if it returns nil.
func (m *Mem) Update(fn func(tx Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := &memTx{m: m, writes: map[string]map[string][]byte{}, dropped: map[string]bool{}}
	if err := fn(tx); err != nil {
		return err
	}
	if m.fail != nil {
		return m.fail
	}
	if m.buckets == nil {
		m.buckets = map[string]map[string][]byte{}
	}
	for b := range tx.dropped {
		delete(m.buckets, b)
	}
	for b, kvs := range tx.writes {
		if m.buckets[b] == nil {
			m.buckets[b] = map[string][]byte{}
		}
		for k, v := range kvs {
			if v == nil {
				delete(m.buckets[b], k)
			} else {
				m.buckets[b][k] = v
			}
		}
	}
	return nil
}

type memTx struct {
	m        *Mem
	readOnly bool
	writes   map[string]map[string][]byte // nil value: deleted
	dropped  map[string]bool
}

func (t *memTx) Get(bucket, key string) []byte {
	if w, ok := t.writes[bucket]; ok {
		if v, ok := w[key]; ok {
			return v
		}
	}
	if t.dropped[bucket] {
		return nil
	}
	return t.m.buckets[bucket][key]
}

func (t *memTx) Put(bucket, key string, value []byte) error {
	if t.readOnly {
		return ErrReadOnly
	}
	if t.writes[bucket] == nil {
		t.writes[bucket] = map[string][]byte{}
	}
	t.writes[bucket][key] = append([]byte{}, value...) // non-nil even when empty
	return nil
}

func (t *memTx) Delete(bucket, key string) error {
	if t.readOnly {
		return ErrReadOnly
	}
	if t.writes[bucket] == nil {
		t.writes[bucket] = map[string][]byte{}
	}
	t.writes[bucket][key] = nil
	return nil
}

func (t *memTx) DeleteBucket(bucket string) error {
	if t.readOnly {
		return ErrReadOnly
	}
	t.dropped[bucket] = true
	delete(t.writes, bucket)
	return nil
}

func (t *memTx) ForEach(bucket string, fn func(string, []byte) error) error {
	merged := map[string][]byte{}
	if !t.dropped[bucket] {
		for k, v := range t.m.buckets[bucket] {
			merged[k] = v
		}
	}
	for k, v := range t.writes[bucket] {
		if v == nil {
			delete(merged, k)
		} else {
			merged[k] = v
		}
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn(k, merged[k]); err != nil {
			return err
		}
	}
	return nil
}
