package chargepoint

import (
	"context"
	"sync"
	"time"

	"github.com/evse-dev/evse/internal/ocpp16"
)

// reporter sends StatusNotification. It is told every status the core
// derives, and sends the latest status of each connector once it has
// lasted MinimumStatusDuration; statuses are not queued while offline:
// after a (re)connection the current status of every connector is sent.
type reporter struct {
	cp   *ChargePoint
	wake chan struct{} // buffered 1

	mu        sync.Mutex
	current   map[int]connStatus // as the core sees it now
	sent      map[int]connStatus // as the central system was told
	forced    map[int]uint64     // triggered (by trigger number): sent even if unchanged
	triggers  uint64             // numbers the triggers
	delivered uint64             // journal messages up to this sequence are delivered (or given up)
}

type connStatus struct {
	status ocpp16.ChargePointStatus
	code   ocpp16.ChargePointErrorCode
	since  time.Time // when it took this status
	// holdFor is a journal sequence that must be delivered before this
	// status is reported.
	holdFor uint64
	// trigger is the number of the TriggerMessage it answers, 0: none.
	trigger uint64
}

func (a connStatus) same(b connStatus) bool { return a.status == b.status && a.code == b.code }

func newReporter(cp *ChargePoint) *reporter {
	return &reporter{cp: cp, wake: make(chan struct{}, 1),
		current: map[int]connStatus{}, sent: map[int]connStatus{}, forced: map[int]uint64{}}
}

func (r *reporter) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// set records the status a connector (0: the charge point) has now, to be
// reported once journal message holdFor is delivered.
func (r *reporter) set(id int, status ocpp16.ChargePointStatus, code ocpp16.ChargePointErrorCode, now time.Time, holdFor uint64) {
	r.mu.Lock()
	cur, ok := r.current[id]
	if !ok || cur.status != status || cur.code != code {
		cur = connStatus{status: status, code: code, since: now}
	}
	cur.holdFor = holdFor
	r.current[id] = cur
	r.mu.Unlock()
	r.poke()
}

// deliveredUpTo notes that the journal is delivered up to seq.
func (r *reporter) deliveredUpTo(seq uint64) {
	r.mu.Lock()
	r.delivered = max(r.delivered, seq)
	r.mu.Unlock()
	r.poke()
}

// status returns what a connector's status is now.
func (r *reporter) status(id int) (ocpp16.ChargePointStatus, ocpp16.ChargePointErrorCode) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.current[id]
	return s.status, s.code
}

// resendAll forgets what the central system was told: every status goes
// out again.
func (r *reporter) resendAll() {
	r.mu.Lock()
	r.sent = map[int]connStatus{}
	r.mu.Unlock()
	r.poke()
}

// force sends a connector's status (all with -1) even if unchanged.
func (r *reporter) force(id int) {
	r.mu.Lock()
	r.triggers++
	if id < 0 {
		for c := range r.current {
			r.forced[c] = r.triggers
		}
	} else {
		r.forced[id] = r.triggers
	}
	r.mu.Unlock()
	r.poke()
}

// due returns the next connector whose status should go out now, and
// when the next one that is not due yet will be.
func (r *reporter) due(now time.Time, min time.Duration) (int, connStatus, bool, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var later time.Time
	for id := 0; id <= len(r.current); id++ {
		cur, ok := r.current[id]
		if !ok {
			continue
		}
		if r.forced[id] != 0 {
			cur.trigger = r.forced[id]
			return id, cur, true, later
		}
		if sent, ok := r.sent[id]; ok && sent.same(cur) {
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

// done notes what the central system was told; if the status moved on
// meanwhile, the new one is due next.
func (r *reporter) done(id int, s connStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// A trigger that came while this one was out is still due.
	if r.forced[id] == s.trigger {
		delete(r.forced, id)
	}
	s.trigger = 0
	r.sent[id] = s
}

// silent reports whether no status may be sent now.
func (r *reporter) silent() bool {
	cp := r.cp
	if cp.Registration() != ocpp16.RegistrationStatusAccepted || !cp.caller().Connected() {
		return true
	}
	return cp.freeMode() == 0
}

// run sends statuses until ctx ends.
func (r *reporter) run(ctx context.Context) {
	cp := r.cp
	timer := cp.clock.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var later time.Time
		if !r.silent() {
			min := time.Duration(cp.settings.Int("MinimumStatusDuration")) * time.Second
			id, s, ok, next := r.due(cp.clock.Now(), min)
			if ok {
				req := ocpp16.StatusNotificationRequest{ConnectorId: id, ErrorCode: s.code, Status: s.status,
					Timestamp: &ocpp16.DateTime{Time: s.since}}
				if err := cp.call(ctx, "StatusNotification", &req, &ocpp16.StatusNotificationResponse{}); err != nil {
					if ctx.Err() != nil {
						return
					}
					cp.log.Warn("StatusNotification failed", "connector", id, "err", err)
					later = cp.clock.Now().Add(5 * time.Second) // not lost: tried again
				} else {
					r.done(id, s)
					continue
				}
			}
			if later.IsZero() {
				later = next
			}
		}
		timer.Stop()
		var tick <-chan time.Time
		if !later.IsZero() {
			timer.Reset(later.Sub(cp.clock.Now()))
			tick = timer.C()
		}
		select {
		case <-r.wake:
		case <-tick:
		case <-ctx.Done():
			return
		}
	}
}
