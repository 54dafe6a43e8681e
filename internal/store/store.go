// Package store is the embedded persistence of one charge point: a bbolt
// file holding its configuration values (and, as the charge point grows,
// its local list, authorization cache, charging profiles, reservations and
// transaction journal).
//
// # Basics
//
// [Open] takes the file's lock: one process at a time. Every write is a
// bbolt transaction that is on disk (fsync) when the call returns, so a
// value the charge point has acknowledged survives a power cut.
//
// # Caveats
//
// A second process opening the same file waits up to Options.LockTimeout
// and then fails with [ErrLocked]; evse config uses that to tell the
// installer to stop the running charge point first.
package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/evse-dev/evse/internal/kv"
)

// FileName is the database file inside the data directory.
const FileName = "evse.db"

// ErrLocked: another process holds the database.
var ErrLocked = errors.New("store: database is in use by another process")

var bucketConfig = []byte("config")

// Options configure [Open]. The zero value works.
type Options struct {
	// LockTimeout bounds the wait for the file lock. Default 1 s.
	LockTimeout time.Duration
	// MustExist refuses to create a store that is not there yet
	// ([ErrNoStore]).
	MustExist bool
	// ReadOnly opens an existing store for reading only: nothing is
	// written, not even what opening for writing would (evse config get).
	ReadOnly bool
}

// ErrNoStore: Options.MustExist and there is no store in the directory.
var ErrNoStore = errors.New("store: no store here")

// DB is an open store. It is safe for concurrent use.
type DB struct {
	bolt     *bolt.DB
	path     string
	readOnly bool
}

// Open opens (creating it if needed) the store in directory dir. An
// existing file is checked first (see ErrDamaged): a store that is empty,
// cut short, has a damaged meta page, inconsistent pages or a value of
// impossible length is refused, never read as defaults.
func Open(dir string, opts Options) (*DB, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	path := filepath.Join(dir, FileName)
	_, statErr := os.Stat(path)
	exists := statErr == nil
	if !exists && (opts.MustExist || opts.ReadOnly) {
		return nil, fmt.Errorf("%w: %s", ErrNoStore, path)
	}
	if exists {
		// Read the file's structure before bbolt maps it (a damaged page
		// would fault the process) or writes to it (it would make the
		// damage permanent). A failure of a store another process is
		// writing is that process's business: it is in use.
		if err := walk(path); err != nil {
			if locked(path, opts.LockTimeout) {
				return nil, fmt.Errorf("%w: %s", ErrLocked, path)
			}
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var b *bolt.DB
	err := guard(path, func() error {
		var err error
		b, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout, ReadOnly: opts.ReadOnly})
		return err
	})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		if errors.Is(err, ErrDamaged) {
			return nil, err
		}
		if exists {
			return nil, damaged(path, "bbolt cannot open it: %v", err)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if exists {
		// The configuration is checked before anything is written.
		err := guard(path, func() error {
			return b.View(func(tx *bolt.Tx) error {
				values := map[string]string{}
				if cfg := tx.Bucket(bucketConfig); cfg != nil {
					cfg.ForEach(func(k, v []byte) error {
						values[string(k)] = string(v)
						return nil
					})
				}
				return verifyDigest(path, tx, values)
			})
		})
		if err != nil {
			b.Close()
			return nil, err
		}
	}
	db := &DB{bolt: b, path: path, readOnly: opts.ReadOnly}
	if opts.ReadOnly {
		return db, nil
	}
	ready := false
	b.View(func(tx *bolt.Tx) error {
		d := tx.Bucket(bucketDigest)
		ready = tx.Bucket(bucketConfig) != nil && d != nil && d.Get(digestConfig) != nil
		return nil
	})
	if ready {
		return db, nil // nothing to write: opening changes nothing
	}
	// A new store, or one made before digests.
	err = b.Update(writeDigest)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("store: init %s: %w", path, err)
	}
	return db, nil
}

// locked reports whether another process holds the store's lock.
func locked(path string, timeout time.Duration) bool {
	var b *bolt.DB
	err := guard(path, func() error {
		var err error
		b, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: min(timeout, 200*time.Millisecond), ReadOnly: true})
		return err
	})
	if b != nil {
		b.Close()
	}
	return errors.Is(err, bolterrors.ErrTimeout)
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Close releases the file.
func (db *DB) Close() error { return db.bolt.Close() }

// LoadConfig returns every stored configuration value, checked against
// their digest.
func (db *DB) LoadConfig() (map[string]string, error) {
	values := map[string]string{}
	err := guard(db.path, func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketConfig)
			if b == nil {
				return nil // a read-only store made before it had one
			}
			err := b.ForEach(func(k, v []byte) error {
				if len(v) > maxConfigValue || len(k) > maxConfigValue {
					return damaged(db.path, "a configuration value of %d bytes", len(v))
				}
				values[string(k)] = string(v)
				return nil
			})
			if err != nil {
				return err
			}
			return verifyDigest(db.path, tx, values)
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: load config: %w", err)
	}
	return values, nil
}

// SaveConfig stores values in one durable transaction, with the digest
// of the whole configuration.
func (db *DB) SaveConfig(values map[string]string) error {
	if db.readOnly {
		return fmt.Errorf("store: save config: %w", kv.ErrReadOnly)
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketConfig)
		if err != nil {
			return err
		}
		for k, v := range values {
			if err := b.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return writeDigest(tx)
	})
	if err != nil {
		return fmt.Errorf("store: save config: %w", err)
	}
	return nil
}
