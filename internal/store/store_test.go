package store

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/kv/kvtest"
)

var _ config.Storage = (*DB)(nil)

func TestConfigSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SaveConfig(map[string]string{"HeartbeatInterval": "30", "FreeCharging": "1"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveConfig(map[string]string{"HeartbeatInterval": "60"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["HeartbeatInterval"] != "60" || got["FreeCharging"] != "1" {
		t.Fatalf("after reopen: %v", got)
	}
}

func TestSecondOpenFailsWithErrLocked(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = Open(dir, Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

func TestMustExistDoesNotCreate(t *testing.T) {
	dir := t.TempDir() + "/typo"
	if _, err := Open(dir, Options{MustExist: true}); !errors.Is(err, ErrNoStore) {
		t.Fatalf("open of a missing store: %v, want ErrNoStore", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("MustExist created %s", dir)
	}
}

func TestKVContract(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store {
		db, err := Open(t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
