package chargepoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/evse-dev/evse/internal/kv"
)

// Buckets of the transaction journal and of the state that must survive a
// crash.
const (
	bucketJournal = "journal" // seq, zero-padded → journalEntry
	bucketTxIDs   = "txids"   // local transaction id, zero-padded → the central system's id
	bucketOpenTx  = "opentx"  // connector, zero-padded → transaction
	bucketMeta    = "meta"    // counters
	bucketMeter   = "meter"   // connector, zero-padded → last known register, Wh
	bucketAvail   = "avail"   // connector, zero-padded → "Inoperative"
)

// journalEntry is a transaction message waiting for the central system's
// confirmation: written before it is first sent, removed when it is
// confirmed (or given up).
type journalEntry struct {
	Seq    uint64 `json:"seq"`
	Action string `json:"action"`
	// Tx is the charge point's own id of the transaction the message
	// belongs to; its transactionId is filled in at sending time from the
	// central system's id.
	Tx       int64           `json:"tx"`
	Payload  json.RawMessage `json:"payload"`
	Attempts int             `json:"attempts,omitempty"`
}

func pad(n int64) string { return fmt.Sprintf("%020d", n) }

// nextCounter increments and returns a counter of the meta bucket.
func nextCounter(tx kv.Tx, name string) (int64, error) {
	var n int64
	if raw := tx.Get(bucketMeta, name); raw != nil {
		var err error
		if n, err = strconv.ParseInt(string(raw), 10, 64); err != nil {
			return 0, fmt.Errorf("chargepoint: counter %s: %w", name, err)
		}
	}
	n++
	return n, tx.Put(bucketMeta, name, []byte(strconv.FormatInt(n, 10)))
}

// appendJournal adds a message to the journal inside tx and returns its
// sequence number.
func appendJournal(tx kv.Tx, action string, txLocal int64, payload any) (uint64, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return 0, err
	}
	seq, err := nextCounter(tx, "journalSeq")
	if err != nil {
		return 0, err
	}
	e, err := json.Marshal(journalEntry{Seq: uint64(seq), Action: action, Tx: txLocal, Payload: raw})
	if err != nil {
		return 0, err
	}
	return uint64(seq), tx.Put(bucketJournal, pad(seq), e)
}

// journalHead returns the oldest message of the journal and, read in the
// same view, the sequence of the newest message ever journaled.
func journalHead(store kv.Store) (journalEntry, bool, uint64, error) {
	var e journalEntry
	var last uint64
	found := false
	errStop := errors.New("stop")
	err := store.View(func(tx kv.Tx) error {
		if raw := tx.Get(bucketMeta, "journalSeq"); raw != nil {
			last, _ = strconv.ParseUint(string(raw), 10, 64)
		}
		return tx.ForEach(bucketJournal, func(_ string, v []byte) error {
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("chargepoint: journal entry: %w", err)
			}
			found = true
			return errStop
		})
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return e, found, last, err
}

// journalLen counts the messages waiting.
func journalLen(store kv.Store) int {
	n := 0
	store.View(func(tx kv.Tx) error {
		return tx.ForEach(bucketJournal, func(string, []byte) error { n++; return nil })
	})
	return n
}

// csmsTxID returns the central system's id of a local transaction.
func csmsTxID(tx kv.Tx, local int64) (int, bool) {
	raw := tx.Get(bucketTxIDs, pad(local))
	if raw == nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(raw))
	return n, err == nil
}

// withTransactionID returns the payload with its transactionId set.
func withTransactionID(payload json.RawMessage, id int) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, err
	}
	m["transactionId"] = json.RawMessage(strconv.Itoa(id))
	return json.Marshal(m)
}
