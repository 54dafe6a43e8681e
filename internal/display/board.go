package display

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/evse-dev/evse/internal/kv"
)

// bucket holds a station's messages in its store, by id.
const bucket = "display"

// Board is the display messages of one station, kept in its store: the
// one owner of them. It is safe for concurrent use.
type Board struct {
	store kv.Store
	caps  Capabilities

	mu   sync.Mutex
	msgs []Message // by id
	seq  uint64    // the highest Seq given
}

// Open reads the messages a store keeps for a display of caps.
func Open(store kv.Store, caps Capabilities) (*Board, error) {
	b := &Board{store: store, caps: caps.Filled()}
	err := store.View(func(tx kv.Tx) error {
		return tx.ForEach(bucket, func(key string, value []byte) error {
			var m Message
			if err := json.Unmarshal(value, &m); err != nil {
				return fmt.Errorf("message %s: %w", key, err)
			}
			b.msgs = append(b.msgs, m)
			b.seq = max(b.seq, m.Seq)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("display: read the kept messages: %w", err)
	}
	slices.SortFunc(b.msgs, byID)
	return b, nil
}

func byID(a, c Message) int { return cmp.Compare(a.ID, c.ID) }

// Capabilities are the display's, defaults filled in.
func (b *Board) Capabilities() Capabilities { return b.caps }

// Set sets m (replacing the message of its id) if Check accepts it at
// now, and keeps it durably; the outcome and a reason code of a
// rejection. Stale messages are removed first. An error (the store)
// changes nothing.
func (b *Board) Set(m Message, now time.Time, ongoing Ongoing) (Outcome, string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.prune(now, ongoing); err != nil {
		return "", "", err
	}
	out, reason := Check(m, b.caps, b.msgs, now, ongoing)
	if out != Accepted {
		return out, reason, nil
	}
	m.Seq = b.seq + 1
	raw, err := json.Marshal(m)
	if err != nil {
		return "", "", fmt.Errorf("display: encode message %d: %w", m.ID, err)
	}
	if err := b.store.Update(func(tx kv.Tx) error { return tx.Put(bucket, key(m.ID), raw) }); err != nil {
		return "", "", fmt.Errorf("display: keep message %d: %w", m.ID, err)
	}
	b.seq = m.Seq
	i, found := slices.BinarySearchFunc(b.msgs, m, byID)
	if found {
		b.msgs[i] = m
	} else {
		b.msgs = slices.Insert(b.msgs, i, m)
	}
	return Accepted, "", nil
}

// Clear removes the message of id; false when there is none.
func (b *Board) Clear(id int) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, found := slices.BinarySearchFunc(b.msgs, Message{ID: id}, byID)
	if !found {
		return false, nil
	}
	if err := b.store.Update(func(tx kv.Tx) error { return tx.Delete(bucket, key(id)) }); err != nil {
		return false, fmt.Errorf("display: clear message %d: %w", id, err)
	}
	b.msgs = slices.Delete(b.msgs, i, i+1)
	return true, nil
}

// List returns the messages held at now, by id, stale ones removed.
func (b *Board) List(now time.Time, ongoing Ongoing) ([]Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.prune(now, ongoing); err != nil {
		return nil, err
	}
	return slices.Clone(b.msgs), nil
}

// prune removes the stale messages, in the store first.
func (b *Board) prune(now time.Time, ongoing Ongoing) error {
	var stale []int
	for _, m := range b.msgs {
		if Stale(m, now, ongoing) {
			stale = append(stale, m.ID)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	err := b.store.Update(func(tx kv.Tx) error {
		for _, id := range stale {
			if err := tx.Delete(bucket, key(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("display: remove %d stale message(s): %w", len(stale), err)
	}
	b.msgs = slices.DeleteFunc(b.msgs, func(m Message) bool { return slices.Contains(stale, m.ID) })
	return nil
}

func key(id int) string { return strconv.Itoa(id) }
