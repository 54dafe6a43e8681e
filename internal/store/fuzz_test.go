package store

import (
	"github.com/evse-dev/evse/internal/kv"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpenADamagedFile: whatever the bytes of a data file, opening it and
// reading its configuration returns a store or an error; it never crashes
// the process (a fault in bbolt's map is fatal), never allocates without
// bound, and never writes to the file.
func FuzzOpenADamagedFile(f *testing.F) {
	dir := f.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		f.Fatal(err)
	}
	db.SaveConfig(map[string]string{"HeartbeatInterval": "123", "RfidTagFreeCharging": "TAG-1"})
	db.Update(func(tx kv.Tx) error {
		for i := range 300 {
			tx.Put("locallist", string(rune('A'+i%26))+string(rune('a'+i/26)), []byte(`{"status":"Accepted"}`))
		}
		return nil
	})
	db.Close()
	good, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:8192])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, FileName)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := Open(dir, Options{ReadOnly: true})
		if err != nil {
			return
		}
		db.LoadConfig()
		db.View(func(tx kv.Tx) error {
			return tx.ForEach("locallist", func(string, []byte) error { return nil })
		})
		db.Close()
		if after, _ := os.ReadFile(path); string(after) != string(b) {
			t.Fatal("a read-only open changed the file")
		}
	})
}
