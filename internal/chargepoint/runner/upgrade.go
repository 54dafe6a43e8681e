package runner

import (
	"encoding/json"
	"fmt"

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
// nothing to one of this layout.
func upgrade(tx kv.Tx, legacy Legacy) error {
	if string(tx.Get(bucketMeta, metaSchema)) == schema {
		return nil
	}
	var journal, open, profiles map[string][]byte
	collect := func(bucket string) (map[string][]byte, error) {
		m := map[string][]byte{}
		err := tx.ForEach(bucket, func(k string, v []byte) error {
			m[k] = append([]byte(nil), v...)
			return nil
		})
		return m, err
	}
	var err error
	if journal, err = collect(bucketJournal); err != nil {
		return err
	}
	if open, err = collect(bucketOpenTx); err != nil {
		return err
	}
	if profiles, err = collect(bucketProfiles); err != nil {
		return err
	}
	if len(journal)+len(open)+len(profiles) > 0 && legacy == nil {
		return fmt.Errorf("the store was written by an earlier version and nothing here can convert it")
	}
	for k, v := range journal {
		var old struct {
			Seq      uint64          `json:"seq"`
			Action   string          `json:"action"`
			Tx       int64           `json:"tx"`
			Payload  json.RawMessage `json:"payload"`
			Attempts int             `json:"attempts"`
		}
		if err := json.Unmarshal(v, &old); err != nil {
			return fmt.Errorf("journal entry %s: %w", k, err)
		}
		kind, ev, err := legacy.JournalEvent(old.Action, old.Payload)
		if err != nil {
			return fmt.Errorf("journal entry %s: %w", k, err)
		}
		e := chargepoint.JournalEntry{Seq: old.Seq, Kind: kind, Tx: old.Tx, Attempts: old.Attempts, IDTag: ev.IDTag}
		if err := apply(tx, chargepoint.Journaled{Entry: e, Event: ev}); err != nil {
			return err
		}
	}
	for k, v := range open {
		var old struct {
			chargepoint.Transaction
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(v, &old); err != nil {
			return fmt.Errorf("open transaction %s: %w", k, err)
		}
		t := old.Transaction
		if len(old.Data) > 0 {
			if t.Data, err = legacy.Samples(old.Data); err != nil {
				return fmt.Errorf("open transaction %s: %w", k, err)
			}
		}
		if err := apply(tx, chargepoint.TxOpened{Tx: t}); err != nil {
			return err
		}
	}
	for k, v := range profiles {
		var old struct {
			Connector int             `json:"connector"`
			Profile   json.RawMessage `json:"profile"`
		}
		if err := json.Unmarshal(v, &old); err != nil {
			return fmt.Errorf("charging profile %s: %w", k, err)
		}
		p, err := legacy.Profile(old.Profile)
		if err != nil {
			return fmt.Errorf("charging profile %s: %w", k, err)
		}
		if err := apply(tx, chargepoint.ProfileKept{Profile: chargepoint.InstalledProfile{Connector: old.Connector, Profile: p}}); err != nil {
			return err
		}
	}
	// The cache and the local list hold the same fields as before.
	return tx.Put(bucketMeta, metaSchema, []byte(schema))
}
