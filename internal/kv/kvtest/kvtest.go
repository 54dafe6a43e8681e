// Package kvtest checks that a kv.Store keeps the contract: tests of every
// implementation call Run.
package kvtest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/evse-dev/evse/internal/kv"
)

// Run checks the store newStore returns (a fresh, empty one per call).
func Run(t *testing.T, newStore func(t *testing.T) kv.Store) {
	t.Run("PutGetDelete", func(t *testing.T) {
		s := newStore(t)
		err := s.Update(func(tx kv.Tx) error {
			if err := tx.Put("b", "k1", []byte("v1")); err != nil {
				return err
			}
			if got := string(tx.Get("b", "k1")); got != "v1" {
				return fmt.Errorf("own write reads %q", got)
			}
			return tx.Put("b", "empty", nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		s.View(func(tx kv.Tx) error {
			if got := string(tx.Get("b", "k1")); got != "v1" {
				t.Errorf("committed write reads %q", got)
			}
			if v := tx.Get("b", "empty"); v == nil || len(v) != 0 {
				t.Errorf("an empty value reads %v, want empty and present", v)
			}
			if v := tx.Get("nobucket", "k"); v != nil {
				t.Errorf("missing bucket reads %q", v)
			}
			if err := tx.Put("b", "k2", []byte("x")); err == nil {
				t.Error("a write in View succeeded")
			}
			return nil
		})
		s.Update(func(tx kv.Tx) error { return tx.Delete("b", "k1") })
		s.View(func(tx kv.Tx) error {
			if v := tx.Get("b", "k1"); v != nil {
				t.Errorf("deleted key reads %q", v)
			}
			return nil
		})
	})
	t.Run("FailedUpdateAppliesNothing", func(t *testing.T) {
		s := newStore(t)
		s.Update(func(tx kv.Tx) error { return tx.Put("b", "keep", []byte("1")) })
		boom := errors.New("boom")
		err := s.Update(func(tx kv.Tx) error {
			tx.Put("b", "new", []byte("x"))
			tx.Delete("b", "keep")
			tx.Put("c", "k", []byte("y"))
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update returned %v", err)
		}
		s.View(func(tx kv.Tx) error {
			if tx.Get("b", "new") != nil || tx.Get("c", "k") != nil || string(tx.Get("b", "keep")) != "1" {
				t.Error("a failed Update left changes")
			}
			return nil
		})
	})
	t.Run("ForEachInKeyOrder", func(t *testing.T) {
		s := newStore(t)
		s.Update(func(tx kv.Tx) error {
			for _, k := range []string{"b", "c", "a"} {
				tx.Put("x", k, []byte(k))
			}
			return nil
		})
		var seen string
		s.Update(func(tx kv.Tx) error {
			tx.Put("x", "d", []byte("d"))
			tx.Delete("x", "a")
			return tx.ForEach("x", func(k string, v []byte) error {
				seen += k + "=" + string(v) + " "
				return nil
			})
		})
		if seen != "b=b c=c d=d " {
			t.Errorf("ForEach saw %q", seen)
		}
		var none int
		s.View(func(tx kv.Tx) error { return tx.ForEach("missing", func(string, []byte) error { none++; return nil }) })
		if none != 0 {
			t.Error("ForEach over a missing bucket called fn")
		}
	})
	t.Run("DeleteBucket", func(t *testing.T) {
		s := newStore(t)
		s.Update(func(tx kv.Tx) error { return tx.Put("gone", "k", []byte("v")) })
		s.Update(func(tx kv.Tx) error {
			if err := tx.DeleteBucket("gone"); err != nil {
				return err
			}
			return tx.Put("gone", "new", []byte("n"))
		})
		s.View(func(tx kv.Tx) error {
			if tx.Get("gone", "k") != nil || string(tx.Get("gone", "new")) != "n" {
				t.Error("DeleteBucket then Put")
			}
			return nil
		})
		if err := s.Update(func(tx kv.Tx) error { return tx.DeleteBucket("never") }); err != nil {
			t.Errorf("deleting a missing bucket: %v", err)
		}
	})
}
