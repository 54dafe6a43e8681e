package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Check opens the store in dir for reading only, as Open would for
// writing, and reads its configuration: nil for a sound store, else what
// is wrong (ErrDamaged, ErrNoStore, ErrLocked).
func Check(dir string) error {
	db, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.LoadConfig()
	return err
}

// SalvageReport says what Salvage kept and left.
type SalvageReport struct {
	// Damaged is where the damaged file now is ("" if there was none).
	Damaged string
	// Kept and Lost count the values copied and those that could not be
	// read, by bucket.
	Kept, Lost map[string]int
	// Unreadable: the damaged file could not be opened at all; the new
	// store is empty.
	Unreadable error
}

// Salvage copies what can be read of the store in dir into a new one in
// its place, and keeps the damaged file beside it (evse.db.damaged-<time>).
// Its last sound commit is what is read: a damaged newest meta page is
// passed over. Nothing runs on the store meanwhile (its lock is taken).
func Salvage(dir string, now time.Time) (SalvageReport, error) {
	path := filepath.Join(dir, FileName)
	rep := SalvageReport{Kept: map[string]int{}, Lost: map[string]int{}}
	info, err := os.Stat(path)
	if err != nil {
		return rep, fmt.Errorf("%w: %s", ErrNoStore, path)
	}
	tmp := path + ".salvage"
	os.Remove(tmp)
	var dst *bolt.DB
	dst, err = bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return rep, fmt.Errorf("store: salvage: %w", err)
	}
	defer os.Remove(tmp) // gone once renamed
	var src *bolt.DB
	openErr := errors.New("the file is empty")
	if info.Size() > 0 {
		openErr = guard(path, func() error {
			var err error
			src, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
			return err
		})
	}
	if errors.Is(openErr, bolterrors.ErrTimeout) {
		dst.Close()
		return rep, fmt.Errorf("%w: %s", ErrLocked, path)
	}
	if openErr != nil {
		rep.Unreadable = openErr
	} else {
		copyReadable(path, src, dst, &rep)
		src.Close()
	}
	// The new store's configuration digest covers what was kept.
	err = dst.Update(writeDigest) // over what was kept
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return rep, fmt.Errorf("store: salvage: %w", err)
	}
	rep.Damaged = path + ".damaged-" + now.UTC().Format("20060102T150405Z")
	if err := os.Rename(path, rep.Damaged); err != nil {
		return rep, fmt.Errorf("store: salvage: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return rep, fmt.Errorf("store: salvage: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return rep, nil
}

// copyReadable copies every bucket's values it can read, each bucket in
// its own guard: a damaged page loses what is under it, not the rest.
func copyReadable(path string, src, dst *bolt.DB, rep *SalvageReport) {
	var names []string
	guard(path, func() error {
		return src.View(func(tx *bolt.Tx) error {
			return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
				names = append(names, string(name))
				return nil
			})
		})
	})
	for _, name := range names {
		type kv struct{ k, v []byte }
		var got []kv
		err := guard(path, func() error {
			return src.View(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte(name))
				if b == nil {
					return nil
				}
				return b.ForEach(func(k, v []byte) error {
					if v == nil {
						return nil // a nested bucket: evse keeps none
					}
					if len(v) > maxValue || len(k) > maxValue {
						rep.Lost[name]++
						return nil
					}
					got = append(got, kv{append([]byte(nil), k...), append([]byte(nil), v...)})
					return nil
				})
			})
		})
		if err != nil {
			rep.Lost[name]++ // at least one: the rest of the bucket
		}
		dst.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte(name))
			if err != nil {
				return err
			}
			for _, e := range got {
				if err := b.Put(e.k, e.v); err != nil {
					return err
				}
				rep.Kept[name]++
			}
			return nil
		})
	}
}
