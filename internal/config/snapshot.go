package config

import (
	"log/slog"
	"strconv"
	"strings"
)

// Snapshot returns every stored key's value, typed (see [Snapshot]). It
// never blocks and never allocates: the snapshot is rebuilt once per
// committed change, so hot paths read it instead of parsing strings. The
// returned value must not be modified.
func (s *Settings) Snapshot() *Snapshot { return s.snap.Load() }

// rebuildSnapshot makes the snapshot of the values now. It is called
// with mu held for writing, or before the settings are shared.
func (s *Settings) rebuildSnapshot() {
	get := func(name string) string {
		v, _ := s.peekLocked(s.cat.byName[name])
		return v.Value
	}
	s.snap.Store(newSnapshot(get))
}

// OfflineTx is the value of AllowOfflineTxForUnknownId.
type OfflineTx int

// Values of AllowOfflineTxForUnknownId.
const (
	OfflineTxOff OfflineTx = iota
	OfflineTxOn
	OfflineTxImmediatelyWhenPlugged
)

func (o OfflineTx) String() string {
	switch o {
	case OfflineTxOn:
		return "true"
	case OfflineTxImmediatelyWhenPlugged:
		return "ImmediatelyWhenPlugged"
	}
	return "false"
}

// Secret is the value of a write-only key. It prints and logs as
// "[secret]"; string(s) is the value.
type Secret string

func (Secret) String() string { return "[secret]" }

// LogValue keeps the value out of logs.
func (Secret) LogValue() slog.Value { return slog.StringValue("[secret]") }

var _ slog.LogValuer = Secret("")

// The conversions of the generated snapshot; values are in read-back form
// already, so they cannot fail.

func snapInt(v string) int {
	n, _ := strconv.Atoi(v)
	return n
}

func snapBool(v string) bool { return v == "true" }

func snapOfflineTx(v string) OfflineTx {
	switch v {
	case "true":
		return OfflineTxOn
	case "ImmediatelyWhenPlugged":
		return OfflineTxImmediatelyWhenPlugged
	}
	return OfflineTxOff
}

func snapList(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}
