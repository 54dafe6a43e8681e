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
}

// ErrNoStore: Options.MustExist and there is no store in the directory.
var ErrNoStore = errors.New("store: no store here")

// DB is an open store. It is safe for concurrent use.
type DB struct {
	bolt *bolt.DB
	path string
}

// Open opens (creating it if needed) the store in directory dir.
func Open(dir string, opts Options) (*DB, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	path := filepath.Join(dir, FileName)
	if opts.MustExist {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNoStore, path)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketConfig)
		return err
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("store: init %s: %w", path, err)
	}
	return &DB{bolt: b, path: path}, nil
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Close releases the file.
func (db *DB) Close() error { return db.bolt.Close() }

// LoadConfig returns every stored configuration value.
func (db *DB) LoadConfig() (map[string]string, error) {
	values := map[string]string{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketConfig).ForEach(func(k, v []byte) error {
			values[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: load config: %w", err)
	}
	return values, nil
}

// SaveConfig stores values in one durable transaction.
func (db *DB) SaveConfig(values map[string]string) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConfig)
		for k, v := range values {
			if err := b.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: save config: %w", err)
	}
	return nil
}
