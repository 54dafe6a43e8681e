package chargepoint

import (
	"time"
)

// reporter is what the central system was told of each connector's state
// (0: the charge point): the latest state of each connector goes out once
// it has lasted MinimumStatusDuration, one at a time; states are not
// queued while offline: after a (re)connection every connector's state is
// sent again.
type reporter struct {
	current []connStatus // as the core sees it now, by connector
	sent    []connStatus // as the central system was told
	told    []bool       // sent[i] is valid
	// forced are triggered connectors (by trigger number): sent even if
	// unchanged.
	forced   []uint64
	triggers uint64
	// delivered: journal entries up to this sequence are delivered (or
	// given up).
	delivered uint64
	out       bool      // a StatusNotification is out
	retryAt   time.Time // after a failure
}

type connStatus struct {
	state ConnectorState
	code  string
	info  string    // free text for the central system
	since time.Time // when it took this state
	// plugged: an EV (or cable) is in the connector, when it took this
	// state (OCPP 2.0.1 tells a Preparing without one as Available).
	plugged bool
	// holdFor is a journal sequence that must be delivered before this
	// state is told.
	holdFor uint64
	// trigger is the number of the Trigger it answers, 0: none.
	trigger uint64
}

func (a connStatus) same(b connStatus) bool { return a.state == b.state && a.code == b.code }

func (r *reporter) init(connectors int) {
	r.current = make([]connStatus, connectors+1)
	r.sent = make([]connStatus, connectors+1)
	r.told = make([]bool, connectors+1)
	r.forced = make([]uint64, connectors+1)
}

// set records the state a connector has now.
func (r *reporter) set(id int, state ConnectorState, code string, plugged bool, now time.Time, holdFor uint64) {
	cur := &r.current[id]
	if cur.state != state || cur.code != code {
		*cur = connStatus{state: state, code: code, since: now, plugged: plugged}
	}
	cur.holdFor = holdFor
}

// resendAll forgets what the central system was told: every state goes
// out again.
func (r *reporter) resendAll() {
	clear(r.told)
	r.retryAt = time.Time{} // a new connection: no wait left from the last
}

// force sends a connector's state (all with -1) even if unchanged.
func (r *reporter) force(id int) {
	r.triggers++
	if id < 0 {
		for i := range r.forced {
			r.forced[i] = r.triggers
		}
		return
	}
	r.forced[id] = r.triggers
}

// silent reports whether no state may be sent now.
func (c *Core) statusSilent() bool { return !c.online() || c.free.Silent() }

// due returns the next connector whose state should go out now, and when
// the next one that is not due yet will be.
func (r *reporter) due(now time.Time, min time.Duration) (int, connStatus, bool, time.Time) {
	var later time.Time
	for id := range r.current {
		cur := r.current[id]
		if cur.state == "" {
			continue
		}
		if r.forced[id] != 0 {
			cur.trigger = r.forced[id]
			return id, cur, true, later
		}
		if r.told[id] && r.sent[id].same(cur) {
			continue
		}
		if cur.holdFor > r.delivered {
			continue // the transaction message goes first
		}
		if at := cur.since.Add(min); now.Before(at) {
			if later.IsZero() || at.Before(later) {
				later = at
			}
			continue
		}
		return id, cur, true, later
	}
	return 0, connStatus{}, false, later
}

// next is when the reporter has something to do.
func (r *reporter) next(c *Core) time.Time {
	if r.out || c.statusSilent() {
		return time.Time{}
	}
	if !r.retryAt.IsZero() {
		return r.retryAt
	}
	_, _, ok, later := r.due(c.now, c.minStatus())
	if ok {
		return c.now
	}
	return later
}

func (c *Core) minStatus() time.Duration {
	return time.Duration(c.s.MinimumStatusDuration) * time.Second
}

// publish derives every connector's state.
func (c *Core) publish() {
	cp0, code, info := Available, NoError, ""
	switch {
	case c.storeTrouble != "":
		cp0, code, info = Faulted, InternalError, StoreTroubleInfo
	case c.inoperative:
		cp0 = Unavailable
	}
	c.rep.set(0, cp0, code, false, c.now, 0)
	c.rep.current[0].info = info
	for _, cn := range c.conns {
		state, code := cn.state()
		if c.inoperative && cn.tx == nil && state != Faulted {
			state = Unavailable
		}
		c.rep.set(cn.id, state, code, cn.pilot.Plugged(), c.now, cn.holdFor)
	}
}

// sendStatus sends the next state due.
func (c *Core) sendStatus() {
	r := &c.rep
	if r.out || c.statusSilent() {
		return
	}
	if !r.retryAt.IsZero() {
		if c.now.Before(r.retryAt) {
			return
		}
		r.retryAt = time.Time{}
	}
	id, s, ok, _ := r.due(c.now, c.minStatus())
	if !ok {
		return
	}
	r.out = true
	c.call(StatusNotification{Connector: id, State: s.state, Error: s.code, Info: s.info, Since: s.since, Plugged: s.plugged},
		pendingCall{kind: callStatus, conn: id, status: s, connection: c.connections})
}

// statusAnswered notes what the central system was told; if the state
// moved on meanwhile, the new one is due next.
func (c *Core) statusAnswered(p pendingCall, e Answered) {
	r := &c.rep
	r.out = false
	if e.Failure != Delivered {
		c.log.Warn("StatusNotification failed", "connector", p.conn, "err", e.Err)
		if p.connection == c.connections {
			r.retryAt = c.now.Add(c.rules.StatusRetry) // not lost: tried again
		} // else a connection came since, which tells every state at once
		return
	}
	// A trigger that came while this one was out is still due.
	if r.forced[p.conn] == p.status.trigger {
		r.forced[p.conn] = 0
	}
	p.status.trigger = 0
	r.sent[p.conn], r.told[p.conn] = p.status, true
}

// ConnectorStates returns what each connector's state is now (index 0:
// the charge point), as last derived.
func (c *Core) ConnectorStates() []ConnectorStatus {
	out := make([]ConnectorStatus, len(c.rep.current))
	for i, s := range c.rep.current {
		out[i] = ConnectorStatus{ID: i, Status: s.state, ErrorCode: s.code}
	}
	return out
}
