package chargepoint

import (
	"errors"
	"time"
)

// journal is the core's view of the journal: the transactions' events
// and the security events (SecurityNote) waiting for the central system,
// oldest first, and the one out. They go
// one at a time, Pacing apart; an entry leaves the journal when the
// central system confirmed it, or when it failed to process it
// TransactionMessageAttempts times. A start's answer gives the
// transaction its central-system id, which the entries after it carry.
type journal struct {
	entries []JournalEntry
	csmsIDs map[int64]int
	lastSeq uint64
	out     bool
	// lastSent paces the entries; retryAt holds the head back after a
	// failure.
	lastSent, retryAt time.Time
	// lost is how often the head was out when the connection dropped.
	lost int
	// replayedFor is the connection the journal was last replayed on;
	// replayAt holds a backlog back after a (re)connection.
	replayedFor int
	replayAt    time.Time
	replayDelay time.Duration
}

func (j *journal) restore(r Restored) {
	j.entries = append(j.entries, r.Journal...)
	j.csmsIDs = map[int64]int{}
	for k, v := range r.CSMSIDs {
		j.csmsIDs[k] = v
	}
	j.lastSeq = r.LastSeq
	for _, e := range r.Journal {
		j.lastSeq = max(j.lastSeq, e.Seq)
	}
}

// append journals a transaction event and returns its sequence.
func (j *journal) append(c *Core, tx int64, kind TxEventKind, ev TxEvent) uint64 {
	ev.Offline = !c.connected
	j.lastSeq++
	e := JournalEntry{Seq: j.lastSeq, Kind: kind, Tx: tx, IDTag: ev.IDTag}
	j.entries = append(j.entries, e)
	c.record(Journaled{Entry: e, Event: ev})
	return e.Seq
}

// Journal is the number of journaled events (of transactions, and
// security events) waiting for the central system.
func (c *Core) Journal() int { return len(c.journal.entries) }

// transactions reports whether the journal holds a transaction's message.
func (j *journal) transactions() bool {
	for _, e := range j.entries {
		if e.Kind != SecurityNote {
			return true
		}
	}
	return false
}

// next is when the journal has something to do.
func (j *journal) next(c *Core) time.Time {
	if j.out || !c.online() || len(j.entries) == 0 {
		return time.Time{}
	}
	at := j.lastSent.Add(c.rules.Pacing)
	for _, t := range []time.Time{j.retryAt, j.replayAt} {
		if t.After(at) {
			at = t
		}
	}
	return at
}

// sendJournal sends the head of the journal when it may go.
func (c *Core) sendJournal() {
	j := &c.journal
	for !j.out && c.online() {
		if len(j.entries) == 0 {
			c.rep.delivered = j.lastSeq
			j.replayedFor = c.connections
			return
		}
		// After a (re)connection, a backlog waits a random spread first:
		// a site coming back from a power cut does not all send at once.
		if j.replayedFor != c.connections {
			j.replayedFor = c.connections
			if j.replayDelay > 0 {
				j.replayAt = c.now.Add(j.replayDelay)
				c.log.Info("replaying the journal after a reconnect", "messages", len(j.entries), "in", j.replayDelay)
			}
		}
		if c.now.Before(j.replayAt) || c.now.Before(j.retryAt) || c.now.Before(j.lastSent.Add(c.rules.Pacing)) {
			return
		}
		e := j.entries[0]
		id, known := j.csmsIDs[e.Tx]
		if e.Kind != TxStarted && e.Kind != SecurityNote && !known {
			// Its start was given up: nothing can carry it.
			c.log.Error("dropping a message of a transaction the central system never confirmed", "kind", e.Kind, "tx", e.Tx)
			c.dropHead()
			continue
		}
		j.out, j.lastSent = true, c.now
		c.call(TxMessage{Entry: e, CSMSID: id}, pendingCall{kind: callJournal, entry: e})
	}
}

// dropHead removes the head of the journal.
func (c *Core) dropHead() {
	j := &c.journal
	e := j.entries[0]
	j.entries = j.entries[1:]
	c.record(JournalRemoved{Seq: e.Seq})
	if e.Kind == TxStopped {
		// Nothing of the transaction follows its stop.
		if _, ok := j.csmsIDs[e.Tx]; ok {
			delete(j.csmsIDs, e.Tx)
			c.record(CSMSIDForgotten{Local: e.Tx})
		}
	}
	c.rep.delivered = max(c.rep.delivered, e.Seq)
	j.lost = 0
}

// journalAnswered acts on the outcome of the head's delivery.
func (c *Core) journalAnswered(p pendingCall, e Answered) {
	j := &c.journal
	j.out = false
	if len(j.entries) == 0 || j.entries[0].Seq != p.entry.Seq {
		return
	}
	switch {
	case e.Failure == Delivered:
		c.confirmed(p.entry, e.Answer)
	case e.Failure == Refused && p.entry.Kind == SecurityNote && errors.Is(e.Err, ErrUnsupported):
		// A central system without the security extension refuses it
		// with NotImplemented or NotSupported, and will again: it must
		// not hold up the transactions behind it. Another CALLERROR is
		// a failed attempt, as for a transaction's message.
		c.log.Warn("SecurityEventNotification refused; not sent again", "seq", p.entry.Seq, "err", e.Err)
		c.dropHead()
	case e.Failure == Refused, e.Failure == Unanswered && c.connected:
		c.failedAttempt(e)
	case j.lost+1 >= c.rules.MaxLost:
		c.log.Warn("transaction message out when the connection dropped too often", "times", c.rules.MaxLost)
		c.failedAttempt(e)
	default:
		// Not delivered (lost connection): it stays first in line for
		// when the link is back.
		c.log.Warn("transaction message not delivered; kept", "kind", p.entry.Kind, "err", e.Err)
		j.lost++
		j.retryAt = c.now.Add(c.rules.LostRetry)
	}
}

// failedAttempt counts a failed attempt to deliver the head: it is tried
// again after TransactionMessageRetryInterval times the attempt number,
// or given up after TransactionMessageAttempts.
func (c *Core) failedAttempt(e Answered) {
	j := &c.journal
	head := &j.entries[0]
	head.Attempts++
	j.lost = 0
	if head.Attempts >= c.s.TransactionMessageAttempts {
		c.log.Error("giving up a transaction message", "kind", head.Kind, "tx", head.Tx, "attempts", head.Attempts, "err", e.Err)
		given := *head
		c.dropHead()
		switch {
		case given.Kind == TxStarted && c.cfg.NamesTransactions:
			// The charge point named the transaction: the messages after
			// its start still identify it, and go.
			j.csmsIDs[given.Tx] = int(given.Tx)
			c.record(CSMSIDKept{Local: given.Tx, ID: int(given.Tx)})
			for _, cn := range c.conns {
				if cn.tx != nil && cn.tx.Local == given.Tx {
					cn.tx.CSMSID = int(given.Tx)
				}
			}
		case given.Kind == TxStarted:
			c.startGivenUp(given.Tx)
		}
		return
	}
	c.record(JournalUpdated{Entry: *head})
	wait := time.Duration(c.s.TransactionMessageRetryInterval*head.Attempts) * time.Second
	c.log.Warn("transaction message failed; retrying", "kind", head.Kind, "attempt", head.Attempts, "in", wait, "err", e.Err)
	j.retryAt = c.now.Add(wait)
}

// confirmed removes a delivered entry; a start's answer gives the
// transaction its central-system id, kept in the same records.
func (c *Core) confirmed(e JournalEntry, answer any) {
	j := &c.journal
	j.entries = j.entries[1:]
	j.lost = 0
	switch e.Kind {
	case TxStarted:
		a, _ := answer.(StartAnswer)
		j.csmsIDs[e.Tx] = a.TransactionID
		c.record(CSMSIDKept{Local: e.Tx, ID: a.TransactionID})
		c.record(JournalRemoved{Seq: e.Seq})
		c.rep.delivered = max(c.rep.delivered, e.Seq)
		c.remember(e.IDTag, a.Info)
		c.startConfirmed(e.Tx, a)
	case TxStopped:
		c.record(JournalRemoved{Seq: e.Seq})
		delete(j.csmsIDs, e.Tx)
		c.record(CSMSIDForgotten{Local: e.Tx})
		c.rep.delivered = max(c.rep.delivered, e.Seq)
		if a, ok := answer.(StopAnswer); ok && a.Info != nil {
			c.remember(e.IDTag, *a.Info)
		}
	default:
		c.record(JournalRemoved{Seq: e.Seq})
		c.rep.delivered = max(c.rep.delivered, e.Seq)
		if a, ok := answer.(UpdateAnswer); ok && e.IDTag != "" {
			c.remember(e.IDTag, a.Info)
			c.tokenConfirmed(e.Tx, a.Info)
		}
	}
}

// startGivenUp ends a transaction the central system never confirmed (its
// start was given up): nothing can report it, so it stops without a stop
// message rather than charge unseen.
func (c *Core) startGivenUp(local int64) {
	for _, cn := range c.conns {
		if t := cn.tx; t != nil && t.Local == local {
			c.log.Error("stopping a transaction the central system never confirmed", "connector", cn.id, "tx", local)
			t.Silent = true
			c.stop(cn, ReasonOther, "")
		}
	}
}

// startConfirmed takes the central system's answer to a start: the
// transaction's id, and what it says of the idTag.
func (c *Core) startConfirmed(local int64, a StartAnswer) {
	for _, cn := range c.conns {
		t := cn.tx
		if t == nil || t.Local != local {
			continue
		}
		t.CSMSID = a.TransactionID
		c.schedDirty = true // a Tx profile may name it
		c.tokenConfirmed(local, a.Info)
		return
	}
}

// tokenConfirmed takes what the central system said of a running
// transaction's idTag, in the answer to its start or to the update that
// told it: a refused idTag ends the authorization (or, with
// StopTransactionOnInvalidId off, only the energy).
func (c *Core) tokenConfirmed(local int64, info AuthInfo) {
	for _, cn := range c.conns {
		t := cn.tx
		if t == nil || t.Local != local || t.Unauthorized {
			continue
		}
		if info.Parent != "" && t.ParentIDTag == "" {
			t.ParentIDTag = info.Parent
		}
		if info.Status == AuthAccepted {
			return
		}
		c.log.Warn("central system refused the idTag of a running transaction", "connector", cn.id, "status", info.Status)
		if c.s.StopTransactionOnInvalidId {
			c.endAuthorization(cn, ReasonDeAuthorized, "")
			return
		}
		t.Deauthorized = true
		c.keepReading(cn, c.now, Sample{}, false)
		return
	}
}
