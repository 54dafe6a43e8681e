package store

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestAFreelistCountThatOverflowsIsDamageNotACrash: a freelist page whose
// 64-bit count makes count×8 wrap around must be reported as damage, not
// read past its page (a panic, outside bbolt's recovery).
func TestAFreelistCountThatOverflowsIsDamageNotACrash(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1", "2"} {
		if err := db.SaveConfig(map[string]string{"A": v}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	m0, ok0 := readMeta(f, 0)
	m1, ok1 := readMeta(f, int64(m0.pageSize))
	if !ok0 || !ok1 {
		t.Fatal("the metas of a good store do not read")
	}
	m := m0
	if m1.txid > m0.txid {
		m = m1
	}
	off := int64(m.freelist) * int64(m.pageSize)
	b := make([]byte, m.pageSize)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	for i := 24; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], 2)
	}
	binary.LittleEndian.PutUint16(b[10:], 0xFFFF)
	binary.LittleEndian.PutUint64(b[16:], 0x2000000000000000) // ×8 wraps to 0
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	f.Close()
	err = walk(path)
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("walk = %v, want damage", err)
	}
}
