package chargepoint

import (
	"slices"
)

// reservationOn is the reservation of connector cn itself, if any.
func (c *Core) reservationOn(cn *connector) *Reservation {
	for i := range c.res {
		if c.res[i].Connector == cn.id {
			return &c.res[i]
		}
	}
	return nil
}

// isFree reports whether a connector could take a new session: operative,
// not faulted, no session on it or on its way, not reserved itself. An EV
// plugged in without a session does not take it.
func (c *Core) isFree(cn *connector) bool {
	return !cn.busyStarting() && !cn.inoperative && !c.inoperative && cn.fault == "" && c.reservationOn(cn) == nil
}

// heldForAny reports whether the free connectors are all held by
// reservations of connector 0 (each keeps one connector free for its tag).
func (c *Core) heldForAny() (held bool, zero []*Reservation) {
	for i := range c.res {
		if c.res[i].Connector == 0 {
			zero = append(zero, &c.res[i])
		}
	}
	if len(zero) == 0 {
		return false, nil
	}
	return c.freeCount() <= len(zero), zero
}

// freeCount is how many connectors are free.
func (c *Core) freeCount() int {
	n := 0
	for _, cn := range c.conns {
		if c.isFree(cn) {
			n++
		}
	}
	return n
}

// claim decides whether a grant may start on connector cn as far as
// reservations go, and returns the reservation it uses (nil: none).
func (c *Core) claim(cn *connector, g grant) (use *Reservation, ok bool) {
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
	return nil, !held || !c.isFree(cn)
}

// consume ends a reservation that a session used.
func (c *Core) consume(id int) {
	c.res = slices.DeleteFunc(c.res, func(r Reservation) bool { return r.ID == id })
	c.saveReservations()
	c.markReserved()
}

// saveReservations keeps the reservations.
func (c *Core) saveReservations() {
	c.record(ReservationsKept{All: slices.Clone(c.res)})
}

// markReserved sets each connector's Reserved flag: its own reservation,
// or a connector-0 reservation holding it free (an EV plugged in shows
// Preparing all the same).
func (c *Core) markReserved() {
	held, _ := c.heldForAny()
	for _, cn := range c.conns {
		cn.reserved = c.reservationOn(cn) != nil || (held && c.isFree(cn))
	}
}

// expireReservations drops the reservations past their expiry.
func (c *Core) expireReservations() {
	n := len(c.res)
	c.res = slices.DeleteFunc(c.res, func(r Reservation) bool {
		if c.now.Before(r.Expiry) {
			return false
		}
		c.log.Info("reservation expired", "reservation", r.ID, "connector", r.Connector, "id_tag", r.IDTag)
		if c.online() {
			c.call(ReservationExpired{ID: r.ID}, pendingCall{kind: callOther})
		}
		return true
	})
	if len(c.res) != n {
		c.saveReservations()
		c.markReserved()
	}
}

// reserve decides a ReserveNow: Rejected for a connector that does not
// exist (or connector 0 without ReserveConnectorZeroSupported) or an
// expiry in the past; Faulted, Unavailable, Occupied as the connector is;
// a reservation with the same id is replaced.
func (c *Core) reserve(req Reservation) ReserveResult {
	n := req.Connector
	switch {
	case n < 0 || n > len(c.conns), n == 0 && !c.s.ReserveConnectorZeroSupported, !c.now.Before(req.Expiry):
		return ReserveRejected
	case !c.free.TakesTags():
		return ReserveRejected // free charging without tags: nobody to keep it for
	}
	// The reservation it replaces does not stand in its way.
	kept := c.res
	c.res = slices.DeleteFunc(slices.Clone(c.res), func(r Reservation) bool { return r.ID == req.ID })
	refuse := func(r ReserveResult) ReserveResult {
		c.res = kept
		return r
	}
	if n == 0 {
		if c.inoperative {
			return refuse(ReserveUnavailable)
		}
		// Every free connector is held already (none when there are
		// no reservations of connector 0).
		if _, zero := c.heldForAny(); c.freeCount() <= len(zero) {
			return refuse(ReserveOccupied)
		}
	} else {
		cn := c.conn(n)
		switch {
		case cn.fault != "":
			return refuse(ReserveFaulted)
		case cn.inoperative || c.inoperative:
			return refuse(ReserveUnavailable)
		case c.reservationOn(cn) != nil, cn.busyStarting(), cn.pilot.Plugged():
			return refuse(ReserveOccupied)
		}
	}
	c.res = append(c.res, req)
	slices.SortFunc(c.res, func(a, b Reservation) int { return a.ID - b.ID })
	c.saveReservations()
	c.markReserved()
	return ReserveAccepted
}

// cancelReservation drops a reservation; false when there is none.
func (c *Core) cancelReservation(id int) bool {
	n := len(c.res)
	c.res = slices.DeleteFunc(c.res, func(r Reservation) bool { return r.ID == id })
	if len(c.res) == n {
		return false
	}
	c.saveReservations()
	c.markReserved()
	return true
}
