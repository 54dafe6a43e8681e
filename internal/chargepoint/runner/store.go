package runner

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/kv"
)

// The buckets of a charge point's durable state.
const (
	bucketJournal      = "journal"      // seq, zero-padded → journalRecord
	bucketTxIDs        = "txids"        // local transaction id, zero-padded → the central system's id
	bucketOpenTx       = "opentx"       // connector, zero-padded → chargepoint.Transaction
	bucketMeta         = "meta"         // counters, versions, flags
	bucketMeter        = "meter"        // connector, zero-padded → last known register, Wh
	bucketAvail        = "avail"        // connector, zero-padded → "Inoperative"
	bucketReservations = "reservations" // reservation id, zero-padded → chargepoint.Reservation
	bucketProfiles     = "profiles"     // chargingProfileId, zero-padded → chargepoint.InstalledProfile
	bucketCache        = "authcache"    // chargepoint.TagKey(idTag) → chargepoint.AuthInfo
	bucketLocalList    = "locallist"    // chargepoint.TagKey(idTag) → chargepoint.AuthInfo
	bucketSecurityLog  = "securitylog"  // slot (seq modulo SecurityLogSize), zero-padded → chargepoint.SecurityLogEntry
)

// SecurityLogSize is how many events the security log keeps: a ring, the
// oldest overwritten (the whitepaper's "rolling format").
const SecurityLogSize = 1000

// Keys of the meta bucket.
const (
	metaSchema            = "schema"            // the layout's version: "3"
	metaTx                = "tx"                // the last local transaction id
	metaJournalSeq        = "journalSeq"        // the last journal sequence
	metaFirmwareVersion   = "firmwareVersion"   // the version installed last
	metaFirmwareInstalled = "firmwareInstalled" // set: Installed is due after boot; "1", or "signed <requestId>"
	metaListVersion       = "localListVersion"
	metaListSize          = "localListSize"
	metaSecurityLogSeq    = "securityLogSeq" // the last sequence of the security log
)

// schema is the version of the layout this package writes. Version 1
// (before the core spoke domain terms) kept OCPP 1.6 payloads in the
// journal and open transactions; version 2 kept the local list and the
// cache by idTag as received, not case-folded. Both are converted when
// the store is opened (see upgrade).
const schema = "3"

func pad(n int64) string { return fmt.Sprintf("%020d", n) }

// journalRecord is a journal entry as stored: the entry and its event.
type journalRecord struct {
	chargepoint.JournalEntry
	Event chargepoint.TxEvent `json:"event"`
}

// apply writes one record inside tx.
func apply(tx kv.Tx, r chargepoint.Record) error {
	put := func(bucket, key string, v any) error {
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return tx.Put(bucket, key, raw)
	}
	switch r := r.(type) {
	case chargepoint.TxOpened:
		if err := put(bucketOpenTx, pad(int64(r.Tx.Connector)), r.Tx); err != nil {
			return err
		}
		return keepMax(tx, metaTx, uint64(r.Tx.Local))
	case chargepoint.TxClosed:
		return tx.Delete(bucketOpenTx, pad(int64(r.Connector)))
	case chargepoint.RegisterKept:
		if raw := tx.Get(bucketMeter, pad(int64(r.Connector))); raw != nil {
			if old, err := strconv.ParseFloat(string(raw), 64); err == nil && old > r.Wh {
				return nil
			}
		}
		// Rounded down to the mWh: rounded up, a register of 103.9996
		// would come back as 104 after a restart while the stop it
		// ended with says 103, and the next start would begin above it.
		kept := math.Floor(r.Wh*1000) / 1000
		return tx.Put(bucketMeter, pad(int64(r.Connector)), []byte(strconv.FormatFloat(kept, 'f', 3, 64)))
	case chargepoint.Journaled:
		if err := put(bucketJournal, pad(int64(r.Entry.Seq)), journalRecord{r.Entry, r.Event}); err != nil {
			return err
		}
		return keepMax(tx, metaJournalSeq, r.Entry.Seq)
	case chargepoint.JournalUpdated:
		raw := tx.Get(bucketJournal, pad(int64(r.Entry.Seq)))
		if raw == nil {
			return nil
		}
		var jr journalRecord
		if err := json.Unmarshal(raw, &jr); err != nil {
			return fmt.Errorf("journal entry %d: %w", r.Entry.Seq, err)
		}
		jr.JournalEntry = r.Entry
		return put(bucketJournal, pad(int64(r.Entry.Seq)), jr)
	case chargepoint.JournalRemoved:
		return tx.Delete(bucketJournal, pad(int64(r.Seq)))
	case chargepoint.CSMSIDKept:
		return tx.Put(bucketTxIDs, pad(r.Local), []byte(strconv.Itoa(r.ID)))
	case chargepoint.CSMSIDForgotten:
		return tx.Delete(bucketTxIDs, pad(r.Local))
	case chargepoint.AvailabilityKept:
		if r.Operative {
			return tx.Delete(bucketAvail, pad(int64(r.Connector)))
		}
		return tx.Put(bucketAvail, pad(int64(r.Connector)), []byte("Inoperative"))
	case chargepoint.ReservationsKept:
		if err := tx.DeleteBucket(bucketReservations); err != nil {
			return err
		}
		for _, res := range r.All {
			if err := put(bucketReservations, pad(int64(res.ID)), res); err != nil {
				return err
			}
		}
		return nil
	case chargepoint.ProfileKept:
		return put(bucketProfiles, pad(int64(r.Profile.Profile.ID)), r.Profile)
	case chargepoint.ProfileRemoved:
		return tx.Delete(bucketProfiles, pad(int64(r.ID)))
	case chargepoint.Remembered:
		key := chargepoint.TagKey(r.IDTag)
		if r.UnlessListed && tx.Get(bucketLocalList, key) != nil {
			return nil
		}
		return put(bucketCache, key, r.Info)
	case chargepoint.FirmwareKept:
		if err := tx.Put(bucketMeta, metaFirmwareVersion, []byte(r.Version)); err != nil {
			return err
		}
		installed := "1" // an update of UpdateFirmware
		if r.Signed {
			installed = "signed " + strconv.Itoa(r.RequestID)
		}
		return tx.Put(bucketMeta, metaFirmwareInstalled, []byte(installed))
	case chargepoint.FirmwareReported:
		return tx.Delete(bucketMeta, metaFirmwareInstalled)
	case chargepoint.SecurityLogged:
		if err := put(bucketSecurityLog, pad(int64(r.Entry.Seq%SecurityLogSize)), r.Entry); err != nil {
			return err
		}
		return keepMax(tx, metaSecurityLogSeq, r.Entry.Seq)
	}
	return fmt.Errorf("runner: unknown record %T", r)
}

// keepMax raises a counter of the meta bucket to n.
func keepMax(tx kv.Tx, name string, n uint64) error {
	if raw := tx.Get(bucketMeta, name); raw != nil {
		if old, err := strconv.ParseUint(string(raw), 10, 64); err == nil && old >= n {
			return nil
		}
	}
	return tx.Put(bucketMeta, name, []byte(strconv.FormatUint(n, 10)))
}

func counter(tx kv.Tx, name string) uint64 {
	raw := tx.Get(bucketMeta, name)
	if raw == nil {
		return 0
	}
	n, _ := strconv.ParseUint(string(raw), 10, 64)
	return n
}

// errStop ends a ForEach early.
var errStop = errors.New("stop")

// restore reads what a core starts from, converting a schema-1 store
// with legacy (nil: such a store is refused).
func restore(store kv.Store, connectors int, legacy Legacy) (chargepoint.Restored, error) {
	var r chargepoint.Restored
	// Most stores are of this layout: read them without a write (a
	// fleet restores thousands of charge points, a write each would cost
	// an fsync each).
	current := false
	if err := store.View(func(tx kv.Tx) error {
		current = string(tx.Get(bucketMeta, metaSchema)) == schema
		return nil
	}); err != nil {
		return r, err
	}
	if !current {
		if err := store.Update(func(tx kv.Tx) error { return upgrade(tx, legacy) }); err != nil {
			return r, err
		}
	}
	err := store.View(func(tx kv.Tx) error {
		r = chargepoint.Restored{CSMSIDs: map[int64]int{}, Inoperative: map[int]bool{},
			LastTx: int64(counter(tx, metaTx)), LastSeq: counter(tx, metaJournalSeq)}
		for n := 0; n <= connectors; n++ {
			if tx.Get(bucketAvail, pad(int64(n))) != nil {
				r.Inoperative[n] = true
			}
		}
		var err error
		if r.Open, err = all[chargepoint.Transaction](tx, bucketOpenTx); err != nil {
			return err
		}
		journal, err := all[journalRecord](tx, bucketJournal)
		if err != nil {
			return err
		}
		for _, jr := range journal {
			r.Journal = append(r.Journal, jr.JournalEntry)
		}
		err = tx.ForEach(bucketTxIDs, func(k string, v []byte) error {
			local, err1 := strconv.ParseInt(k, 10, 64)
			id, err2 := strconv.Atoi(string(v))
			if err1 == nil && err2 == nil {
				r.CSMSIDs[local] = id
			}
			return nil
		})
		if err != nil {
			return err
		}
		if r.Reservations, err = all[chargepoint.Reservation](tx, bucketReservations); err != nil {
			return err
		}
		if r.Profiles, err = all[chargepoint.InstalledProfile](tx, bucketProfiles); err != nil {
			return err
		}
		if raw := tx.Get(bucketMeta, metaFirmwareVersion); raw != nil {
			r.FirmwareVersion = string(raw)
		}
		if raw := tx.Get(bucketMeta, metaFirmwareInstalled); raw != nil {
			r.FirmwareInstalled = true
			if id, ok := strings.CutPrefix(string(raw), "signed "); ok {
				r.FirmwareSigned = true
				r.FirmwareRequestID, _ = strconv.Atoi(id)
			}
		}
		r.SecurityLogSeq = counter(tx, metaSecurityLogSeq)
		return nil
	})
	if err != nil {
		return chargepoint.Restored{}, fmt.Errorf("runner: restore: %w", err)
	}
	return r, nil
}

// all reads every value of a bucket, in key order.
func all[T any](tx kv.Tx, bucket string) ([]T, error) {
	var out []T
	err := tx.ForEach(bucket, func(k string, v []byte) error {
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return fmt.Errorf("%s %s: %w", bucket, k, err)
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

// LastRegisters returns the last meter register the store knows of each
// connector (index 0: connector 1), for simulated meters to start from
// after a restart.
func LastRegisters(store kv.Store, connectors int) ([]float64, error) {
	out := make([]float64, connectors)
	err := store.View(func(tx kv.Tx) error {
		for i := range out {
			if raw := tx.Get(bucketMeter, pad(int64(i+1))); raw != nil {
				v, err := strconv.ParseFloat(string(raw), 64)
				if err != nil {
					return err
				}
				out[i] = v
			}
			if raw := tx.Get(bucketOpenTx, pad(int64(i+1))); raw != nil {
				var t chargepoint.Transaction
				if json.Unmarshal(raw, &t) == nil {
					out[i] = max(out[i], t.LastWh)
				}
			}
		}
		return nil
	})
	return out, err
}

// PrepareParts brings the parts of a store many charge points share (see
// Prefixed) to this layout, all in one write: restoring them then takes
// no write each.
func PrepareParts(store kv.Store, prefixes []string) error {
	return store.Update(func(tx kv.Tx) error {
		for _, p := range prefixes {
			if err := upgrade(prefixedTx{tx, p}, nil); err != nil {
				return fmt.Errorf("runner: %s: %w", p, err)
			}
		}
		return nil
	})
}

// SecurityLog returns the security log's events from from to to (zero:
// no bound), oldest first.
func SecurityLog(store kv.Store, from, to time.Time) ([]chargepoint.SecurityLogEntry, error) {
	var out []chargepoint.SecurityLogEntry
	err := store.View(func(tx kv.Tx) error {
		kept, err := all[chargepoint.SecurityLogEntry](tx, bucketSecurityLog)
		for _, e := range kept {
			if (from.IsZero() || !e.At.Before(from)) && (to.IsZero() || !e.At.After(to)) {
				out = append(out, e)
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("runner: the security log: %w", err)
	}
	slices.SortFunc(out, func(a, b chargepoint.SecurityLogEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}
