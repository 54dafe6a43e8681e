package sim

import (
	"errors"
	"math"
	"time"

	"github.com/evse-dev/evse/internal/hw"
)

// Connector is a simulated connector with its EV, if any. Its state is
// guarded by its board's mutex and is as at its board's last sync.
//
// The physics are exact and event-driven: between two changes the
// current drawn is constant (in steps of 0.1 A, as a meter shows it), so
// energy and state of charge move linearly, and the next change is known
// in advance: an offer followed after the EV's response delay, a step of
// the taper above 80 %, the battery full. The state moves only at those
// changes and when the connector is driven (an offer, a plug): reading it
// in between computes without changing it, so when and how often it is
// read changes nothing (not even the rounding).
type Connector struct {
	b *Board
	n int

	offered   float64 // A per phase; under hw.MinCurrent means none
	contactor bool
	locked    bool
	fault     string
	register  float64 // Wh

	ev *EV // nil when nothing is plugged; SoCPercent moves as it charges
	// cable: a cable is in the socket (a socket connector only), rated
	// cableMax.
	cable    bool
	cableMax float64
	pilot    hw.PilotState
	drawn    float64 // A per phase now, a multiple of 0.1
	response Response
	oneOnly  bool      // switched to one phase (hw.PhaseSwitcher)
	at       time.Time // the state is as at this instant, its last change
}

var (
	_ hw.Connector     = (*Connector)(nil)
	_ hw.PhaseSwitcher = (*Connector)(nil)
)

// SetPhases switches the connector to 1 phase or back to 3.
func (c *Connector) SetPhases(n int) {
	c.b.change(func() {
		c.integrate(c.b.now)
		c.oneOnly = n == 1
		c.settle()
	})
}

// Pilot returns the pilot state.
func (c *Connector) Pilot() hw.PilotState {
	var p hw.PilotState
	c.b.read(func() { p = c.pilot })
	return p
}

// Offer sets the offered current. An EV that wants energy answers a PWM
// offer at once by asking for it (pilot C); the current follows after the
// response delay.
func (c *Connector) Offer(amps float64) {
	c.b.change(func() {
		if amps < hw.MinCurrent {
			amps = 0
		}
		c.integrate(c.b.now)
		c.offered = amps
		c.follow()
	})
}

// SetContactor closes or opens the contactor; opened, no current flows.
func (c *Connector) SetContactor(closed bool) {
	c.b.change(func() {
		c.integrate(c.b.now)
		c.contactor = closed
		c.follow()
	})
}

// ErrLockFailure: the cable lock is faulty (fault ConnectorLockFailure).
var ErrLockFailure = errors.New("sim: cable lock failed")

// SetLock locks or unlocks the cable; it fails while the connector has the
// fault ConnectorLockFailure.
func (c *Connector) SetLock(locked bool) error {
	var err error
	c.b.change(func() {
		if c.fault == "ConnectorLockFailure" {
			err = ErrLockFailure
			return
		}
		c.locked = locked
	})
	return err
}

// Meter reads the meter.
func (c *Connector) Meter() hw.Reading {
	var r hw.Reading
	c.b.read(func() { r = c.reading() })
	return r
}

func (c *Connector) reading() hw.Reading {
	r := hw.Reading{EnergyWh: c.register + c.energySince(c.b.now)}
	if c.drawn > 0 && c.ev != nil {
		phases := c.phases()
		r.PowerW = c.b.opts.Voltage * c.drawn * float64(phases)
		for i := range phases {
			r.Current[i] = c.drawn
		}
	}
	return r
}

// Fault returns the fault.
func (c *Connector) Fault() string {
	var f string
	c.b.read(func() { f = c.fault })
	return f
}

// CableMax returns the plugged cable's rating, 0 for none.
func (c *Connector) CableMax() float64 {
	var a float64
	c.b.read(func() {
		switch {
		case c.ev != nil:
			a = c.ev.CableMaxCurrent
		case c.cable:
			a = c.cableMax // left in the socket
		}
	})
	return a
}

// Cable reports whether a cable is in the socket (always false on a
// tethered connector).
func (c *Connector) Cable() bool {
	var in bool
	c.b.read(func() { in = c.cable })
	return in
}

// phases is the number of phases current flows on.
func (c *Connector) phases() int {
	if c.ev == nil {
		return 0
	}
	if c.oneOnly {
		return 1
	}
	return min(c.ev.Phases, c.b.opts.Phases)
}

// usable is the offer the EV may follow: none while the contactor is
// open or a fault stands.
func (c *Connector) usable() float64 {
	if c.ev == nil || !c.contactor || c.fault != "" {
		return 0
	}
	return c.offered
}

// delay is how long the EV takes to follow a change of its offer.
func (c *Connector) delay() time.Duration {
	if c.ev != nil && c.ev.ResponseDelayMs > 0 {
		return time.Duration(c.ev.ResponseDelayMs) * time.Millisecond
	}
	return c.b.opts.ResponseDelay
}

// follow takes a change of what the EV may use: an open contactor or a
// fault cuts the current at once; an offer is followed after the delay.
func (c *Connector) follow() {
	if c.usable() == 0 && (!c.contactor || c.fault != "") {
		c.response = Response{}
	} else {
		c.response.Set(c.usable(), c.delay(), c.at)
	}
	c.settle()
}

// settle works out what the EV draws and shows at c.at, and reports
// whether its pilot changed.
func (c *Connector) settle() bool {
	c.drawn = 0
	if c.ev == nil {
		return false
	}
	if followed := c.response.At(c.at); c.contactor && c.fault == "" {
		// Meters and EVs move in steps of 0.1 A.
		c.drawn = math.Floor(c.ev.Draws(followed)*10) / 10
	}
	// It asks for energy while PWM is offered and it is not full.
	pilot := hw.PilotB
	if c.offered >= hw.MinCurrent && c.ev.SoCPercent < 100 {
		pilot = hw.PilotC
	}
	changed := pilot != c.pilot
	c.pilot = pilot
	return changed
}

// energySince is the energy drawn from c.at to t, in Wh.
func (c *Connector) energySince(t time.Time) float64 {
	if c.drawn <= 0 || c.ev == nil || !t.After(c.at) {
		return 0
	}
	return c.b.opts.Voltage * c.drawn * float64(c.phases()) * t.Sub(c.at).Hours()
}

// soc is the EV's state of charge at t.
func (c *Connector) soc(t time.Time) float64 {
	return min(100, c.ev.SoCPercent+100*c.energySince(t)/c.ev.CapacityWh)
}

// integrate moves the state from c.at to t at the current drawn: before a
// change only.
func (c *Connector) integrate(t time.Time) {
	if c.ev != nil && t.After(c.at) {
		c.ev.SoCPercent = c.soc(t)
		c.register += c.energySince(t)
	}
	if t.After(c.at) {
		c.at = t
	}
}

// advance takes the connector through every change up to t, and reports
// whether its pilot changed; it leaves the state at the last change.
func (c *Connector) advance(t time.Time) bool {
	changed := false
	for range 100000 { // bounded: changes come at least a millisecond apart
		n := c.next()
		if n.IsZero() || n.After(t) {
			break
		}
		c.integrate(n)
		if c.settle() {
			changed = true
		}
	}
	return changed
}

// next is when what the EV draws next changes by itself, zero if never:
// an offer followed, a step of the taper, the battery full.
func (c *Connector) next() time.Time {
	if c.ev == nil {
		return time.Time{}
	}
	next := c.response.Next()
	if c.drawn > 0 && c.ev.SoCPercent < 100 {
		soc := c.ev.SoCPercent
		perHour := 100 * c.b.opts.Voltage * c.drawn * float64(c.phases()) / c.ev.CapacityWh // % of charge
		target := 100.0
		// The taper (EV.Draws) lowers the draw below c.drawn once the
		// charge passes 100 - 20*drawn/max, unless its floors hold it.
		if m := c.ev.MaxCurrent; c.drawn > max(m*0.1, hw.MinCurrent) {
			target = min(target, max(80, 100-20*c.drawn/m))
		}
		// At the threshold already (rounding kept the draw): a moment on.
		hours := max(target-soc, 0) / perHour
		t := c.at.Add(time.Duration(hours*float64(time.Hour)) + time.Millisecond)
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if !next.IsZero() && !next.After(c.at) {
		next = c.at.Add(time.Millisecond)
	}
	return next
}

// Response is how an EV follows its offer: it draws under the offer as
// it was its response delay ago (a pure delay: a series of changes is
// followed change by change, each one delay later).
type Response struct {
	followed float64
	changes  []change // offers not yet followed, oldest first
}

type change struct {
	at    time.Time // when the EV follows it
	offer float64
}

// maxChanges bounds the changes an EV remembers; beyond them the oldest
// is followed early (it changed so often that the details do not matter).
const maxChanges = 64

// Set notes the offer at now, followed delay later.
func (r *Response) Set(offer float64, delay time.Duration, now time.Time) {
	last := r.followed
	if n := len(r.changes); n > 0 {
		last = r.changes[n-1].offer
	}
	if offer == last {
		return
	}
	if len(r.changes) == maxChanges {
		r.followed, r.changes = r.changes[0].offer, r.changes[1:]
	}
	r.changes = append(r.changes, change{now.Add(delay), offer})
}

// At returns the offer the EV follows at now.
func (r *Response) At(now time.Time) float64 {
	for len(r.changes) > 0 && !now.Before(r.changes[0].at) {
		r.followed, r.changes = r.changes[0].offer, r.changes[1:]
	}
	return r.followed
}

// Next is when the next change is followed, zero if none is pending.
func (r *Response) Next() time.Time {
	if len(r.changes) == 0 {
		return time.Time{}
	}
	return r.changes[0].at
}
