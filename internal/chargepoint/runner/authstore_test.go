package runner

import (
	"testing"

	"github.com/evse-dev/evse/internal/kv"
)

// TestTheListSizeIsKeptAndCountedOnceForAnOlderStore: the size lives in
// the meta bucket; a store written before it did is counted once.
func TestTheListSizeIsKeptAndCountedOnceForAnOlderStore(t *testing.T) {
	store := &kv.Mem{}
	store.Update(func(tx kv.Tx) error {
		tx.Put(bucketLocalList, "A", []byte(`{"status":"Accepted"}`))
		return tx.Put(bucketLocalList, "B", []byte(`{"status":"Accepted"}`))
	})
	store.View(func(tx kv.Tx) error {
		if n := listSize(tx); n != 2 {
			t.Errorf("counted %d, want 2", n)
		}
		return nil
	})
	store.Update(func(tx kv.Tx) error { return tx.Put(bucketMeta, metaListSize, []byte("7")) })
	store.View(func(tx kv.Tx) error {
		if n := listSize(tx); n != 7 {
			t.Errorf("kept size %d, want 7", n)
		}
		return nil
	})
}
