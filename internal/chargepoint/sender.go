package chargepoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// sendJournal delivers the journal to the central system, oldest first,
// one message at a time, until ctx ends. A message leaves the journal only
// when the central system confirmed it, or when it failed to process it
// TransactionMessageAttempts times. A StartTransaction's answer gives the
// transaction its central-system id, which the messages after it carry.
func (cp *ChargePoint) sendJournal(ctx context.Context) {
	var lastSent time.Time
	replayedFor := int64(0) // connection count the journal was last replayed on
	lost := 0               // times the head entry was out when the connection dropped
	for {
		if !cp.sendReady() {
			if !cp.waitSender(ctx, 0) {
				return
			}
			continue
		}
		e, ok, last, err := journalHead(cp.store)
		if err != nil {
			cp.log.Error("journal unreadable", "err", err)
			if !cp.waitSender(ctx, 5*time.Second) {
				return
			}
			continue
		}
		if !ok {
			cp.reporter.deliveredUpTo(last)
			replayedFor = cp.connectionCount()
			if !cp.waitSender(ctx, 0) {
				return
			}
			continue
		}
		// After a (re)connection, a backlog waits a random spread first:
		// a site coming back from a power cut does not all send at once.
		if conn := cp.connectionCount(); conn != replayedFor {
			replayedFor = conn
			if spread := cp.opts.ReconnectSpread; spread > 0 {
				wait := rand.N(spread)
				cp.log.Info("replaying the journal after a reconnect", "messages", journalLen(cp.store), "in", wait.Round(time.Millisecond))
				if !cp.sleep(ctx, wait) {
					return
				}
				continue
			}
		}
		if gap := cp.opts.Pacing - cp.clock.Now().Sub(lastSent); gap > 0 {
			if !cp.sleep(ctx, gap) {
				return
			}
		}
		lastSent = cp.clock.Now()
		lost = cp.deliver(ctx, e, lost)
	}
}

// maxLost is how often a message may be out when the connection drops
// before that counts as a failed attempt: a message the central system
// cannot take (one over its frame limit) must not hold the journal up for
// ever, and a few outages must not cost a message an attempt.
const maxLost = 5

// sendReady reports whether journaled messages may go out now.
func (cp *ChargePoint) sendReady() bool {
	return cp.Registration() == ocpp16.RegistrationStatusAccepted && cp.caller().Connected()
}

// waitSender waits for a nudge, or d (0: no limit); false when ctx ended.
func (cp *ChargePoint) waitSender(ctx context.Context, d time.Duration) bool {
	var tick <-chan time.Time
	if d > 0 {
		t := cp.clock.NewTimer(d)
		defer t.Stop()
		tick = t.C()
	}
	select {
	case <-cp.senderWake:
		return true
	case <-tick:
		return true
	case <-ctx.Done():
		return false
	}
}

func (cp *ChargePoint) sleep(ctx context.Context, d time.Duration) bool {
	t := cp.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	}
}

// deliver sends one journal entry and acts on the outcome. lost is how
// often the entry was out when the connection dropped; it returns the new
// count.
func (cp *ChargePoint) deliver(ctx context.Context, e journalEntry, lost int) int {
	payload := e.Payload
	if e.Action != "StartTransaction" {
		var id int
		var known bool
		cp.store.View(func(tx kv.Tx) error { id, known = csmsTxID(tx, e.Tx); return nil })
		if !known {
			// Its StartTransaction was given up: nothing can carry it.
			cp.log.Error("dropping a message of a transaction the central system never confirmed", "action", e.Action, "tx", e.Tx)
			cp.drop(e)
			return 0
		}
		var err error
		if payload, err = withTransactionID(payload, id); err != nil {
			cp.log.Error("dropping a malformed journal entry", "seq", e.Seq, "err", err)
			cp.drop(e)
			return 0
		}
	}
	cctx, cancel := context.WithTimeout(ctx, cp.opts.CallTimeout)
	raw, err := cp.caller().Call(cctx, e.Action, payload)
	cancel()
	if err == nil {
		err = ocpp16.ValidateResponse(e.Action, raw)
	}
	var callErr *rpc.Error
	switch {
	case err == nil:
		cp.confirmed(e, raw)
		return 0
	case ctx.Err() != nil:
		return lost
	case errors.As(err, &callErr), // a CALLERROR, or an answer that breaks the schema
		(errors.Is(err, rpc.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)) && cp.caller().Connected(): // connected, never answered
		cp.failedAttempt(ctx, e, err)
		return 0
	case lost+1 >= maxLost:
		cp.failedAttempt(ctx, e, fmt.Errorf("out %d times when the connection dropped: %w", maxLost, err))
		return 0
	default:
		// Not delivered (lost connection): it stays first in line for
		// when the link is back.
		cp.log.Warn("transaction message not delivered; kept", "action", e.Action, "err", err)
		cp.sleep(ctx, time.Second)
		return lost + 1
	}
}

// failedAttempt counts a failed attempt to deliver e: it is tried again
// after TransactionMessageRetryInterval times the attempt number, or
// given up after TransactionMessageAttempts.
func (cp *ChargePoint) failedAttempt(ctx context.Context, e journalEntry, err error) {
	e.Attempts++
	if e.Attempts >= cp.settings.Int("TransactionMessageAttempts") {
		cp.log.Error("giving up a transaction message", "action", e.Action, "tx", e.Tx, "attempts", e.Attempts, "err", err)
		cp.drop(e)
		if e.Action == "StartTransaction" {
			cp.post(func(c *core) { c.startGivenUp(e.Tx) })
		}
		return
	}
	raw, _ := json.Marshal(e)
	if err := cp.store.Update(func(tx kv.Tx) error { return tx.Put(bucketJournal, pad(int64(e.Seq)), raw) }); err != nil {
		cp.log.Error("journal not updated", "err", err)
	}
	wait := time.Duration(cp.settings.Int("TransactionMessageRetryInterval")*e.Attempts) * time.Second
	cp.log.Warn("transaction message failed; retrying", "action", e.Action, "attempt", e.Attempts, "in", wait, "err", err)
	cp.sleep(ctx, wait)
}

// confirmed removes a delivered entry; for StartTransaction it keeps the
// central system's transaction id in the same write and tells the core.
func (cp *ChargePoint) confirmed(e journalEntry, raw json.RawMessage) {
	var start ocpp16.StartTransactionResponse
	var stop ocpp16.StopTransactionResponse
	switch e.Action {
	case "StartTransaction":
		json.Unmarshal(raw, &start)
	case "StopTransaction":
		json.Unmarshal(raw, &stop)
	}
	err := cp.store.Update(func(tx kv.Tx) error {
		switch e.Action {
		case "StartTransaction":
			if err := tx.Put(bucketTxIDs, pad(e.Tx), []byte(strconv.Itoa(start.TransactionId))); err != nil {
				return err
			}
		case "StopTransaction":
			// Nothing of the transaction follows its stop.
			if err := tx.Delete(bucketTxIDs, pad(e.Tx)); err != nil {
				return err
			}
		}
		return tx.Delete(bucketJournal, pad(int64(e.Seq)))
	})
	if err != nil {
		cp.log.Error("journal not updated after delivery", "err", err)
		return
	}
	cp.reporter.deliveredUpTo(e.Seq)
	var req struct {
		IdTag string `json:"idTag"`
	}
	json.Unmarshal(e.Payload, &req)
	switch e.Action {
	case "StartTransaction":
		cp.post(func(c *core) { c.startConfirmed(e.Tx, start.TransactionId, req.IdTag, start.IdTagInfo) })
	case "StopTransaction":
		if stop.IdTagInfo != nil && req.IdTag != "" {
			cp.post(func(c *core) { remember(c.cp.store, c.keys(), req.IdTag, *stop.IdTagInfo) })
		}
	}
}

// drop removes an entry the central system will never get.
func (cp *ChargePoint) drop(e journalEntry) {
	if err := cp.store.Update(func(tx kv.Tx) error { return tx.Delete(bucketJournal, pad(int64(e.Seq))) }); err != nil {
		cp.log.Error("journal not updated", "err", err)
	}
	cp.reporter.deliveredUpTo(e.Seq)
}

// flushJournal gives the journal up to d to be delivered (before a reset).
func (cp *ChargePoint) flushJournal(ctx context.Context, d time.Duration) {
	deadline := cp.clock.Now().Add(d)
	for journalLen(cp.store) > 0 && cp.sendReady() && cp.clock.Now().Before(deadline) {
		if !cp.sleep(ctx, 50*time.Millisecond) {
			return
		}
	}
}
