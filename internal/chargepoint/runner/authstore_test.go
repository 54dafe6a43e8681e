package runner

import (
	"strings"
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

// TestAStoreOfLayout2IsKeyedByCaseFoldedTags: opening a store of layout 2
// (the local list and the cache by idTag as received) keys both by
// chargepoint.TagKey; of two entries that differ only in case, one stays
// and the list's size follows. A store of a later layout is refused and
// left as it was.
func TestAStoreOfLayout2IsKeyedByCaseFoldedTags(t *testing.T) {
	m := &kv.Mem{}
	m.Update(func(tx kv.Tx) error {
		tx.Put(bucketMeta, metaSchema, []byte("2"))
		tx.Put(bucketMeta, metaListSize, []byte("3"))
		tx.Put(bucketLocalList, "abc", []byte(`{"status":"Accepted"}`))
		tx.Put(bucketLocalList, "ABC", []byte(`{"status":"Blocked"}`))
		tx.Put(bucketLocalList, "x-1", []byte(`{"status":"Accepted"}`))
		tx.Put(bucketCache, "Tag", []byte(`{"status":"Accepted"}`))
		return nil
	})
	if err := m.Update(func(tx kv.Tx) error { return upgrade(tx, nil) }); err != nil {
		t.Fatal(err)
	}
	a := NewAuthStore(m)
	for tag, want := range map[string]string{"abc": "Blocked", "Abc": "Blocked", "X-1": "Accepted"} {
		if info, ok, err := a.ListEntryOf(tag); err != nil || !ok || string(info.Status) != want {
			t.Errorf("list entry of %q: %+v %v %v, want %s", tag, info, ok, err, want)
		}
	}
	if k, _ := a.Lookup("TAG"); k.Cache == nil {
		t.Error("the cached Tag is not found as TAG")
	}
	if _, size, _ := a.ListInfo(); size != 2 {
		t.Errorf("list size %d, want 2", size)
	}
	var keys []string
	m.View(func(tx kv.Tx) error {
		if s := string(tx.Get(bucketMeta, metaSchema)); s != schema {
			t.Errorf("layout %q after the upgrade, want %s", s, schema)
		}
		return tx.ForEach(bucketLocalList, func(k string, _ []byte) error { keys = append(keys, k); return nil })
	})
	if strings.Join(keys, " ") != "ABC X-1" {
		t.Errorf("list keys %v, want [ABC X-1]", keys)
	}

	newer := &kv.Mem{}
	newer.Update(func(tx kv.Tx) error { return tx.Put(bucketMeta, metaSchema, []byte("9")) })
	err := newer.Update(func(tx kv.Tx) error { return upgrade(tx, nil) })
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("a store of layout 9: %v, want refused as newer", err)
	}
}
