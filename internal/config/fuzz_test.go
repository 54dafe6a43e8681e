package config

import (
	"errors"
	"testing"
)

// FuzzKeyValidation checks, for any key name and value, that validation
// never panics, that an accepted value reads back in a form that is itself
// accepted unchanged, and that a rejected value changes nothing.
func FuzzKeyValidation(f *testing.F) {
	cat, err := NewCatalogue(nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, k := range cat.Keys() {
		good, bad := k.Examples()
		for _, v := range append(good, bad...) {
			f.Add(k.Name, v)
		}
	}
	f.Add("NoSuchKey", "1")
	f.Add("heartbeatinterval", "+0010")
	f.Fuzz(func(t *testing.T, name, value string) {
		s, err := Open(cat, &MemStorage{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		before := s.All()
		_, err = s.Set(name, value, ActorInstaller)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrNotStored) {
				t.Fatalf("Set(%q, %q): unexpected error %v", name, value, err)
			}
			after := s.All()
			for i := range before {
				if before[i].Value != after[i].Value || before[i].IsSet != after[i].IsSet {
					t.Fatalf("rejected Set(%q, %q) changed %s", name, value, before[i].Key.Name)
				}
			}
			return
		}
		got, err := s.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		k, _ := cat.Lookup(name)
		again, err := k.Parse(got.Value)
		if err != nil || again != got.Value {
			t.Fatalf("%s: read-back %q does not parse to itself (%q, %v)", k.Name, got.Value, again, err)
		}
	})
}
