package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// ErrDamaged: the store file is damaged. The error says how, and what the
// installer can do (evse store check, evse store salvage).
var ErrDamaged = errors.New("store: the data file is damaged")

// damaged wraps ErrDamaged with what was found.
func damaged(path, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s (evse store check --data %s says more; evse store salvage --data %s keeps what is readable and the damaged file)",
		ErrDamaged, path, fmt.Sprintf(format, args...), dirOf(path), dirOf(path))
}

// Bounds of what is read from the file: a value longer than its bound is
// damage (a flipped length), not something to copy into memory.
const (
	maxValue       = 16 << 20 // any value
	maxConfigValue = 64 << 10 // a configuration value
)

// The layout of bbolt's meta pages (go.etcd.io/bbolt/internal/common): a
// 16-byte page header, then magic, version, page size, flags (4 bytes
// each), the root bucket (root page, sequence), the freelist page, the
// page count (high-water mark), the transaction id and the checksum (8
// bytes each); the checksum is FNV-64a of the 56 bytes before it.
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	pageHeaderSize = 16
	metaSumEnd     = 56
)

type meta struct {
	pageSize uint32
	root     uint64 // the root bucket's page
	freelist uint64
	pages    uint64 // the high-water mark
	txid     uint64
}

// readMeta reads the meta page at offset off; ok is false when it is not
// a valid one.
func readMeta(f *os.File, off int64) (m meta, ok bool) {
	b := make([]byte, pageHeaderSize+metaSumEnd+8)
	if _, err := f.ReadAt(b, off); err != nil {
		return meta{}, false
	}
	le := binary.LittleEndian
	body := b[pageHeaderSize:]
	h := fnv.New64a()
	h.Write(body[:metaSumEnd])
	if le.Uint32(body[0:]) != boltMagic || le.Uint32(body[4:]) != boltVersion || le.Uint64(body[metaSumEnd:]) != h.Sum64() {
		return meta{}, false
	}
	return meta{pageSize: le.Uint32(body[8:]), root: le.Uint64(body[16:]), freelist: le.Uint64(body[32:]),
		pages: le.Uint64(body[40:]), txid: le.Uint64(body[48:])}, true
}

// guard runs fn, turning a panic or a memory fault (a damaged page read
// through bbolt's map) into an error.
func guard(path string, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			err = damaged(path, "reading it failed (%v)", r)
		}
	}()
	return fn()
}

// configDigest is the digest of the configuration values, kept beside them
// so that a flipped bit in a value or a key is found, not read as a
// default.
func configDigest(values map[string]string) []byte {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		io.WriteString(h, k)
		h.Write([]byte{0})
		io.WriteString(h, values[k])
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

var (
	bucketDigest = []byte("digest")
	digestConfig = []byte("config")
)

// writeDigest makes the configuration bucket if needed and keeps the
// digest of its values.
func writeDigest(tx *bolt.Tx) error {
	cfg, err := tx.CreateBucketIfNotExists(bucketConfig)
	if err != nil {
		return err
	}
	all := map[string]string{}
	cfg.ForEach(func(k, v []byte) error {
		all[string(k)] = string(v)
		return nil
	})
	d, err := tx.CreateBucketIfNotExists(bucketDigest)
	if err != nil {
		return err
	}
	return d.Put(digestConfig, configDigest(all))
}

// verifyDigest compares the configuration values with their kept digest
// (a store written before digests has none: nothing to compare).
func verifyDigest(path string, tx *bolt.Tx, values map[string]string) error {
	b := tx.Bucket(bucketDigest)
	if b == nil {
		return nil
	}
	kept := b.Get(digestConfig)
	if kept == nil {
		return nil
	}
	if !bytes.Equal(kept, configDigest(values)) {
		return damaged(path, "its configuration values do not match their checksum: one was changed on disk")
	}
	return nil
}

func dirOf(path string) string { return filepath.Dir(path) }
