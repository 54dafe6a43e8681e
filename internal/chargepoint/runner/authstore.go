package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/kv"
)

// AuthStore is the local authorization list and the authorization cache
// of one charge point, in its store. It is safe for concurrent use.
type AuthStore struct {
	store kv.Store
}

// NewAuthStore returns the list and cache kept in store.
func NewAuthStore(store kv.Store) *AuthStore { return &AuthStore{store: store} }

// Lookup returns what the list and the cache hold of an idTag read by
// the RFID reader.
func (a *AuthStore) Lookup(idTag string) (chargepoint.Known, error) {
	return a.LookupToken(idTag, "")
}

// LookupToken returns what the list and the cache hold of an idTag
// presented as a token of type tokenType ("": the RFID reader's): a list
// entry for another type of token is not this token's
// (chargepoint.TokenMatches).
func (a *AuthStore) LookupToken(idTag, tokenType string) (chargepoint.Known, error) {
	var k chargepoint.Known
	err := a.store.View(func(tx kv.Tx) error {
		k.List = readInfo(tx, bucketLocalList, chargepoint.TagKey(idTag))
		k.Cache = readInfo(tx, bucketCache, chargepoint.TagKey(idTag))
		return nil
	})
	if k.List != nil && !chargepoint.TokenMatches(k.List.TokenType, tokenType) {
		k.List = nil
	}
	return k, err
}

func readInfo(tx kv.Tx, bucket, idTag string) *chargepoint.AuthInfo {
	raw := tx.Get(bucket, idTag)
	if raw == nil {
		return nil
	}
	var e chargepoint.AuthInfo
	if json.Unmarshal(raw, &e) != nil {
		return nil
	}
	return &e
}

// ClearCache empties the authorization cache.
func (a *AuthStore) ClearCache() error {
	return a.store.Update(func(tx kv.Tx) error { return tx.DeleteBucket(bucketCache) })
}

// ListEntry is an entry of a list update: an idTag with what it may do,
// or without (Info nil) to remove it.
type ListEntry struct {
	IDTag string
	Info  *chargepoint.AuthInfo
}

// ListUpdate is a local list update.
type ListUpdate struct {
	Full    bool
	Version int
	Entries []ListEntry
	// MaxLength is LocalAuthListMaxLength.
	MaxLength int
}

// UpdateResult is the outcome of a list update.
type UpdateResult string

// Outcomes of a list update.
const (
	UpdateAccepted        UpdateResult = "Accepted"
	UpdateFailed          UpdateResult = "Failed"
	UpdateVersionMismatch UpdateResult = "VersionMismatch"
)

var errTooLong = errors.New("runner: the local list would exceed LocalAuthListMaxLength")

// UpdateList applies a list update in one durable write: a crash leaves
// the old list or the new one. Failed: a tag listed twice, a Full entry
// without information, a negative version, a list that would outgrow
// MaxLength (the caller checks the update's own length). VersionMismatch:
// a Differential update not above the current version.
func (a *AuthStore) UpdateList(u ListUpdate) (UpdateResult, error) {
	if u.Version < 0 {
		return UpdateFailed, nil
	}
	seen := make(map[string]bool, len(u.Entries))
	for _, e := range u.Entries {
		key := chargepoint.TagKey(e.IDTag)
		if seen[key] || (u.Full && e.Info == nil) {
			return UpdateFailed, nil // listed twice, in any case
		}
		seen[key] = true
	}
	result := UpdateAccepted
	err := a.store.Update(func(tx kv.Tx) error {
		current := 0
		if raw := tx.Get(bucketMeta, metaListVersion); raw != nil {
			current, _ = strconv.Atoi(string(raw))
		}
		if !u.Full && u.Version <= current {
			result = UpdateVersionMismatch
			return nil
		}
		size := 0
		if u.Full {
			if err := tx.DeleteBucket(bucketLocalList); err != nil {
				return err
			}
		} else {
			size = listSize(tx)
		}
		for _, e := range u.Entries {
			key := chargepoint.TagKey(e.IDTag)
			had := !u.Full && tx.Get(bucketLocalList, key) != nil
			if e.Info == nil {
				if had {
					size--
				}
				if err := tx.Delete(bucketLocalList, key); err != nil {
					return err
				}
				continue
			}
			if !had {
				size++
			}
			raw, err := json.Marshal(e.Info)
			if err != nil {
				return err
			}
			if err := tx.Put(bucketLocalList, key, raw); err != nil {
				return err
			}
		}
		if size > u.MaxLength {
			result = UpdateFailed
			return errTooLong // rolls the whole update back
		}
		if err := tx.Put(bucketMeta, metaListSize, []byte(strconv.Itoa(size))); err != nil {
			return err
		}
		return tx.Put(bucketMeta, metaListVersion, []byte(strconv.Itoa(u.Version)))
	})
	if errors.Is(err, errTooLong) {
		err = nil
	}
	if err != nil {
		return UpdateFailed, fmt.Errorf("runner: local list: %w", err)
	}
	return result, nil
}

// listSize is the number of entries of the local list: kept in the meta
// bucket, so that a Differential update of a list of a million entries
// does not count them; counted once for a store written before.
func listSize(tx kv.Tx) int {
	if raw := tx.Get(bucketMeta, metaListSize); raw != nil {
		if n, err := strconv.Atoi(string(raw)); err == nil {
			return n
		}
	}
	n := 0
	tx.ForEach(bucketLocalList, func(string, []byte) error { n++; return nil })
	return n
}

// ListInfo tells the local list's version and size.
func (a *AuthStore) ListInfo() (version, size int, err error) {
	err = a.store.View(func(tx kv.Tx) error {
		if raw := tx.Get(bucketMeta, metaListVersion); raw != nil {
			version, _ = strconv.Atoi(string(raw))
		}
		size = listSize(tx)
		return nil
	})
	return version, size, err
}

// ListEntryOf returns an idTag's entry in the local list; ok false when
// not listed.
func (a *AuthStore) ListEntryOf(idTag string) (info chargepoint.AuthInfo, ok bool, err error) {
	err = a.store.View(func(tx kv.Tx) error {
		if e := readInfo(tx, bucketLocalList, chargepoint.TagKey(idTag)); e != nil {
			info, ok = *e, true
		}
		return nil
	})
	return info, ok, err
}

// ForgetCached removes an idTag from the authorization cache (a
// customer's data cleared); false when the cache held nothing of it.
func (a *AuthStore) ForgetCached(idTag string) (bool, error) {
	found := false
	err := a.store.Update(func(tx kv.Tx) error {
		key := chargepoint.TagKey(idTag)
		if tx.Get(bucketCache, key) == nil {
			return nil
		}
		found = true
		return tx.Delete(bucketCache, key)
	})
	return found, err
}
