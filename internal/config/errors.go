package config

import (
	"errors"
	"fmt"
)

// Errors of [Settings.Set] and [Settings.Get]. A rejected value is a
// [*ValueError], which matches ErrInvalid.
var (
	// ErrUnknownKey: no key of that name (OCPP: NotSupported / unknownKey).
	ErrUnknownKey = errors.New("unknown configuration key")
	// ErrReadOnly: the key is read-only for this actor (OCPP: Rejected).
	ErrReadOnly = errors.New("configuration key is read-only")
	// ErrNotStored: the key's value is computed at run time and cannot be set.
	ErrNotStored = errors.New("configuration key is computed, not stored")
	// ErrInvalid: the value is not valid for the key (OCPP: Rejected).
	ErrInvalid = errors.New("invalid value")
)

// ValueError says why a value was rejected.
type ValueError struct {
	Key    string
	Value  string
	Reason string
	// Secret hides Value from Error (a write-only key's value).
	Secret bool
}

func (e *ValueError) Error() string {
	if e.Secret {
		return fmt.Sprintf("%s: invalid value (hidden): %s", e.Key, e.Reason)
	}
	return fmt.Sprintf("%s: invalid value %q: %s", e.Key, e.Value, e.Reason)
}

// Is makes a *ValueError match ErrInvalid.
func (e *ValueError) Is(target error) bool { return target == ErrInvalid }
