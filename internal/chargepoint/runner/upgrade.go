package runner

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/smartcharging"
)

// Legacy converts what a schema-1 store kept in OCPP 1.6 terms (before
// the core spoke domain terms); the OCPP 1.6 adapter provides it.
type Legacy interface {
	// JournalEvent converts a journaled 1.6 message.
	JournalEvent(action string, payload json.RawMessage) (chargepoint.TxEventKind, chargepoint.TxEvent, error)
	// Samples converts the 1.6 meter values of an open transaction.
	Samples(meterValues json.RawMessage) ([]chargepoint.Sample, error)
	// Profile converts a 1.6 charging profile.
	Profile(raw json.RawMessage) (smartcharging.Profile, error)
}

// upgrade converts a store of an earlier layout, inside tx; it does
// nothing to one of this layout and refuses one of a later layout.
func upgrade(tx kv.Tx, legacy Legacy) error {
	switch v := string(tx.Get(bucketMeta, metaSchema)); v {
	case schema:
		return nil
	case "": // schema 1, or a new store
		if err := fromSchema1(tx, legacy); err != nil {
			return err
		}
	case "2":
	default:
		return fmt.Errorf("the store's layout %q is newer than this evse's (%s): use the evse that wrote it", v, schema)
	}
	if err := foldTagKeys(tx); err != nil {
		return err
	}
	return tx.Put(bucketMeta, metaSchema, []byte(schema))
}

// foldTagKeys keys the local list and the cache by chargepoint.TagKey.
// Of entries that differ only in case, the first in key order stays.
func foldTagKeys(tx kv.Tx) error {
	for _, bucket := range []string{bucketLocalList, bucketCache} {
		entries, err := collect(tx, bucket)
		if err != nil {
			return err
		}
		dropped := 0
		for _, e := range entries {
			key := chargepoint.TagKey(e.k)
			if key == e.k {
				continue
			}
			if err := tx.Delete(bucket, e.k); err != nil {
				return err
			}
			if tx.Get(bucket, key) != nil {
				dropped++ // the same tag in another case is kept
				continue
			}
			if err := tx.Put(bucket, key, e.v); err != nil {
				return err
			}
		}
		if bucket == bucketLocalList && dropped > 0 {
			if raw := tx.Get(bucketMeta, metaListSize); raw != nil {
				if n, err := strconv.Atoi(string(raw)); err == nil {
					if err := tx.Put(bucketMeta, metaListSize, []byte(strconv.Itoa(n-dropped))); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// fromSchema1 converts what a schema-1 store kept in OCPP 1.6 terms.
// Everything is read and converted before anything is written, in key
// order, so a store that cannot be converted names the same first bad
// entry every time and is left as it was.
func fromSchema1(tx kv.Tx, legacy Legacy) error {
	var journal, open, profiles []keyValue
	var err error
	if journal, err = collect(tx, bucketJournal); err != nil {
		return err
	}
	if open, err = collect(tx, bucketOpenTx); err != nil {
		return err
	}
	if profiles, err = collect(tx, bucketProfiles); err != nil {
		return err
	}
	if len(journal)+len(open)+len(profiles) == 0 {
		return nil
	}
	if legacy == nil {
		return fmt.Errorf("the store was written by an earlier version and nothing here can convert it")
	}
	var records []chargepoint.Record
	// connectorOf is each transaction's connector, from its open record or
	// its other events: a 1.6 StopTransaction does not name it.
	connectorOf := map[int64]int{}
	for _, kv := range open {
		var old struct {
			chargepoint.Transaction
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(kv.v, &old); err != nil {
			return fmt.Errorf("open transaction %s: %w", kv.k, err)
		}
		t := old.Transaction
		if len(old.Data) > 0 {
			if t.Data, err = legacy.Samples(old.Data); err != nil {
				return fmt.Errorf("open transaction %s: %w", kv.k, err)
			}
		}
		connectorOf[t.Local] = t.Connector
		records = append(records, chargepoint.TxOpened{Tx: t})
	}
	var entries []chargepoint.Journaled
	for _, kv := range journal {
		var old struct {
			Seq      uint64          `json:"seq"`
			Action   string          `json:"action"`
			Tx       int64           `json:"tx"`
			Payload  json.RawMessage `json:"payload"`
			Attempts int             `json:"attempts"`
		}
		if err := json.Unmarshal(kv.v, &old); err != nil {
			return fmt.Errorf("journal entry %s: %w", kv.k, err)
		}
		kind, ev, err := legacy.JournalEvent(old.Action, old.Payload)
		if err != nil {
			return fmt.Errorf("journal entry %s: %w", kv.k, err)
		}
		if ev.Connector != 0 {
			connectorOf[old.Tx] = ev.Connector
		}
		e := chargepoint.JournalEntry{Seq: old.Seq, Kind: kind, Tx: old.Tx, Attempts: old.Attempts, IDTag: ev.IDTag}
		entries = append(entries, chargepoint.Journaled{Entry: e, Event: ev})
	}
	for _, j := range entries {
		if j.Event.Connector == 0 {
			j.Event.Connector = connectorOf[j.Entry.Tx]
		}
		records = append(records, j)
	}
	for _, kv := range profiles {
		var old struct {
			Connector int             `json:"connector"`
			Profile   json.RawMessage `json:"profile"`
		}
		if err := json.Unmarshal(kv.v, &old); err != nil {
			return fmt.Errorf("charging profile %s: %w", kv.k, err)
		}
		p, err := legacy.Profile(old.Profile)
		if err != nil {
			return fmt.Errorf("charging profile %s: %w", kv.k, err)
		}
		records = append(records, chargepoint.ProfileKept{Profile: chargepoint.InstalledProfile{Connector: old.Connector, Profile: p}})
	}
	for _, r := range records {
		if err := apply(tx, r); err != nil {
			return err
		}
	}
	return nil // the cache and the local list hold the same fields as before
}

// keyValue is an entry of a bucket.
type keyValue struct {
	k string
	v []byte
}

// collect reads a bucket in key order.
func collect(tx kv.Tx, bucket string) ([]keyValue, error) {
	var out []keyValue
	err := tx.ForEach(bucket, func(k string, v []byte) error {
		out = append(out, keyValue{k, append([]byte(nil), v...)})
		return nil
	})
	slices.SortFunc(out, func(a, b keyValue) int { return strings.Compare(a.k, b.k) })
	return out, err
}
