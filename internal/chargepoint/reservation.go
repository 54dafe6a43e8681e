package chargepoint

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// bucketReservations holds the reservations, by reservationId.
const bucketReservations = "reservations"

// reservation is a ReserveNow the charge point accepted: a connector (0:
// any one) kept for an idTag, or any idTag of its parent, until Expiry.
type reservation struct {
	ID        int       `json:"id"`
	Connector int       `json:"connector"`
	IDTag     string    `json:"idTag"`
	Parent    string    `json:"parent,omitempty"`
	Expiry    time.Time `json:"expiry"`
}

// matches reports whether a grant (its idTag and parent) may use the
// reservation.
func (r *reservation) matches(idTag, parent string) bool {
	return r.IDTag == idTag || (r.Parent != "" && r.Parent == parent)
}

// loadReservations reads the reservations that have not expired.
func (c *core) loadReservations(tx kv.Tx, now time.Time) error {
	c.res = map[int]*reservation{}
	var gone []string
	err := tx.ForEach(bucketReservations, func(k string, v []byte) error {
		var r reservation
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("chargepoint: reservation: %w", err)
		}
		if !now.Before(r.Expiry) || c.conn(r.Connector) == nil && r.Connector != 0 {
			gone = append(gone, k)
			return nil
		}
		c.res[r.ID] = &r
		return nil
	})
	for _, k := range gone {
		if err == nil {
			err = tx.Delete(bucketReservations, k)
		}
	}
	return err
}

// reservationOn is the reservation of connector cn itself, if any.
func (c *core) reservationOn(cn *connector) *reservation {
	for _, r := range c.res {
		if r.Connector == cn.id {
			return r
		}
	}
	return nil
}

// free reports whether a connector could take a new session: operative,
// not faulted, no session on it or on its way, not reserved itself. An EV
// plugged in without a session does not take it.
func (c *core) free(cn *connector) bool {
	return cn.tx == nil && cn.auth == nil && cn.authorizing == "" &&
		!cn.inoperative && !c.inoperative && cn.fault == "" && c.reservationOn(cn) == nil
}

// heldForAny reports whether the free connectors are all held by
// reservations of connector 0 (each keeps one connector free for its tag).
func (c *core) heldForAny() (held bool, zero []*reservation) {
	for _, r := range c.res {
		if r.Connector == 0 {
			zero = append(zero, r)
		}
	}
	if len(zero) == 0 {
		return false, nil
	}
	return c.freeCount() <= len(zero), zero
}

// freeCount is how many connectors are free.
func (c *core) freeCount() int {
	n := 0
	for _, cn := range c.conns {
		if c.free(cn) {
			n++
		}
	}
	return n
}

// claim decides whether a grant may start on connector cn as far as
// reservations go, and returns the reservation it uses (nil: none).
func (c *core) claim(cn *connector, g grant) (use *reservation, ok bool) {
	if r := c.reservationOn(cn); r != nil {
		return r, r.matches(g.idTag, g.parent)
	}
	held, zero := c.heldForAny()
	for _, r := range zero {
		if r.matches(g.idTag, g.parent) {
			return r, true
		}
	}
	// A connector kept free for a connector-0 reservation is not for
	// others.
	return nil, !held || !c.free(cn)
}

// consume ends a reservation that a session used.
func (c *core) consume(r *reservation) {
	delete(c.res, r.ID)
	c.saveReservations()
	c.markReserved()
}

// saveReservations writes the reservations.
func (c *core) saveReservations() {
	err := c.cp.store.Update(func(tx kv.Tx) error {
		if err := tx.DeleteBucket(bucketReservations); err != nil {
			return err
		}
		for _, r := range c.res {
			raw, _ := json.Marshal(r)
			if err := tx.Put(bucketReservations, pad(int64(r.ID)), raw); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		c.cp.log.Error("reservations not stored", "err", err)
	}
}

// markReserved sets each connector's Reserved flag: its own reservation,
// or a connector-0 reservation holding it free (an EV plugged in shows
// Preparing all the same).
func (c *core) markReserved() {
	held, _ := c.heldForAny()
	for _, cn := range c.conns {
		cn.reserved = c.reservationOn(cn) != nil || (held && c.free(cn))
	}
}

// expireReservations drops the reservations past their expiry.
func (c *core) expireReservations(now time.Time) {
	changed := false
	for id, r := range c.res {
		if !now.Before(r.Expiry) {
			c.cp.log.Info("reservation expired", "reservation", id, "connector", r.Connector, "id_tag", r.IDTag)
			delete(c.res, id)
			changed = true
		}
	}
	if changed {
		c.saveReservations()
		c.markReserved()
	}
}

// nextExpiry is the earliest expiry of a reservation, zero when none.
func (c *core) nextExpiry() time.Time {
	var next time.Time
	for _, r := range c.res {
		if next.IsZero() || r.Expiry.Before(next) {
			next = r.Expiry
		}
	}
	return next
}

// reserveNow answers ReserveNow.
func (cp *ChargePoint) reserveNow(ctx context.Context, req *ocpp16.ReserveNowRequest) (*ocpp16.ReserveNowResponse, error) {
	status := ocpp16.ReservationStatusRejected
	err := cp.exec(ctx, func(c *core) { status = c.reserve(req) })
	if err != nil {
		return nil, err
	}
	cp.log.Info("ReserveNow", "reservation", req.ReservationId, "connector", req.ConnectorId, "id_tag", req.IdTag, "status", status)
	return &ocpp16.ReserveNowResponse{Status: status}, nil
}

// reserve decides a ReserveNow: Rejected for a connector that does not
// exist (or connector 0 without ReserveConnectorZeroSupported) or an
// expiry in the past; Faulted, Unavailable, Occupied as the connector is;
// a reservation with the same id is replaced.
func (c *core) reserve(req *ocpp16.ReserveNowRequest) ocpp16.ReservationStatus {
	now := c.now()
	n := req.ConnectorId
	switch m := c.freeMode(); {
	case n < 0 || n > len(c.conns), n == 0 && !c.cp.settings.Bool("ReserveConnectorZeroSupported"),
		!now.Before(req.ExpiryDate.Time):
		return ocpp16.ReservationStatusRejected
	case m == 0 || m == 1 || m == 4:
		return ocpp16.ReservationStatusRejected // free charging without tags: nobody to keep it for
	}
	// The reservation it replaces does not stand in its way.
	old := c.res[req.ReservationId]
	delete(c.res, req.ReservationId)
	restore := func(s ocpp16.ReservationStatus) ocpp16.ReservationStatus {
		if old != nil {
			c.res[old.ID] = old
		}
		return s
	}
	if n == 0 {
		if c.inoperative {
			return restore(ocpp16.ReservationStatusUnavailable)
		}
		// Every free connector is held already (none when there are
		// no reservations of connector 0).
		if _, zero := c.heldForAny(); c.freeCount() <= len(zero) {
			return restore(ocpp16.ReservationStatusOccupied)
		}
	} else {
		cn := c.conn(n)
		switch {
		case cn.fault != "":
			return restore(ocpp16.ReservationStatusFaulted)
		case cn.inoperative || c.inoperative:
			return restore(ocpp16.ReservationStatusUnavailable)
		case c.reservationOn(cn) != nil, cn.tx != nil, cn.auth != nil, cn.authorizing != "", cn.pilot.Plugged():
			return restore(ocpp16.ReservationStatusOccupied)
		}
	}
	c.res[req.ReservationId] = &reservation{ID: req.ReservationId, Connector: n, IDTag: req.IdTag,
		Parent: req.ParentIdTag, Expiry: req.ExpiryDate.Time}
	c.saveReservations()
	c.markReserved()
	return ocpp16.ReservationStatusAccepted
}

// cancelReservation answers CancelReservation.
func (cp *ChargePoint) cancelReservation(ctx context.Context, req *ocpp16.CancelReservationRequest) (*ocpp16.CancelReservationResponse, error) {
	status := ocpp16.CancelReservationStatusRejected
	err := cp.exec(ctx, func(c *core) {
		if _, ok := c.res[req.ReservationId]; ok {
			delete(c.res, req.ReservationId)
			c.saveReservations()
			c.markReserved()
			status = ocpp16.CancelReservationStatusAccepted
		}
	})
	if err != nil {
		return nil, err
	}
	cp.log.Info("CancelReservation", "reservation", req.ReservationId, "status", status)
	return &ocpp16.CancelReservationResponse{Status: status}, nil
}
