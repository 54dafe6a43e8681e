package daemon

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/model"
	"github.com/evse-dev/evse/internal/store"
)

// A data directory belongs to one charge point: its journal, its open
// transactions and its configuration are that charge point's. The store
// keeps the identity it first ran as and the model it was made for.
const (
	bucketUnit = "unit"
	unitID     = "id"
	unitModel  = "model"
)

// ErrNotThisUnit: the data directory belongs to another charge point or
// another model.
var ErrNotThisUnit = errors.New("the data directory belongs to another unit")

// keptUnit reads the identity and model a store was made for (zero: none
// kept yet).
func keptUnit(db kv.Store) (id string, m *model.Model, err error) {
	err = db.View(func(tx kv.Tx) error {
		id = string(tx.Get(bucketUnit, unitID))
		if raw := tx.Get(bucketUnit, unitModel); raw != nil {
			var km model.Model
			if err := json.Unmarshal(raw, &km); err != nil {
				return fmt.Errorf("the kept model: %w", err)
			}
			m = &km
		}
		return nil
	})
	return id, m, err
}

// resolveModel is the model a store is opened with: the one given
// (non-zero) if the store keeps none or the same, else the kept one, else
// the neutral one. A given model that differs from the kept one is
// refused unless adopt.
func resolveModel(dataDir string, given model.Model, kept *model.Model, adopt bool) (model.Model, error) {
	switch {
	case given.Vendor == "" && kept != nil:
		return *kept, nil
	case given.Vendor == "":
		return model.Default(), nil
	case kept != nil && !sameModel(given, *kept) && !adopt:
		return model.Model{}, fmt.Errorf("%w: %s was made for the model %s %s (%d connectors), and --model names %s %s (%d connectors): "+
			"leave --model out to use the kept one, or --adopt to change it", ErrNotThisUnit, dataDir,
			kept.Vendor, kept.Model, kept.Connectors, given.Vendor, given.Model, given.Connectors)
	}
	return given, nil
}

// sameModel compares two models as they are kept.
func sameModel(a, b model.Model) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// bindUnit ties a store to a charge point: it keeps id and m if the store
// has none, refuses a store of another charge point unless adopt, and
// with adopt keeps the new ones.
func bindUnit(db *store.DB, dataDir, id string, given model.Model, adopt bool) (model.Model, error) {
	keptID, keptModel, err := keptUnit(db)
	if err != nil {
		return model.Model{}, fmt.Errorf("%s: %w", dataDir, err)
	}
	if keptID != "" && keptID != id && !adopt {
		return model.Model{}, fmt.Errorf("%w: %s holds the data of charge point %q (its transactions, journal and configuration); "+
			"run it with --id %s, give %q its own --data directory, or --adopt to take this one over as %q",
			ErrNotThisUnit, dataDir, keptID, keptID, id, id)
	}
	m, err := resolveModel(dataDir, given, keptModel, adopt)
	if err != nil {
		return model.Model{}, err
	}
	return m, keepUnit(db, id, m)
}

// keepUnit writes the identity (none: left as it is) and the model.
func keepUnit(db kv.Store, id string, m model.Model) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return db.Update(func(tx kv.Tx) error {
		if id != "" && string(tx.Get(bucketUnit, unitID)) != id {
			if err := tx.Put(bucketUnit, unitID, []byte(id)); err != nil {
				return err
			}
		}
		if string(tx.Get(bucketUnit, unitModel)) == string(raw) {
			return nil
		}
		return tx.Put(bucketUnit, unitModel, raw)
	})
}

// bindDataDir ties opts.DataDir to opts.ID and resolves opts.Model (zero:
// the kept one, else the neutral one).
func bindDataDir(opts *Options) error {
	db, err := store.Open(opts.DataDir, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := bindUnit(db, opts.DataDir, opts.ID, opts.Model, opts.Adopt)
	if err != nil {
		return err
	}
	opts.Model = m
	return nil
}

// KeptID is the charge point id a store was made for, "" if none yet.
func KeptID(db kv.Store) (string, error) {
	id, _, err := keptUnit(db)
	return id, err
}
