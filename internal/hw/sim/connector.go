package sim

import (
	"errors"
	"time"

	"github.com/evse-dev/evse/internal/hw"
)

// Connector is a simulated connector with its EV, if any. Its state is
// guarded by its board's mutex.
type Connector struct {
	b *Board
	n int

	offered   float64 // A per phase; under hw.MinCurrent means none
	contactor bool
	locked    bool
	fault     string
	register  float64 // Wh

	ev       *EV // nil when nothing is plugged; SoCPercent moves as it charges
	pilot    hw.PilotState
	drawn    float64 // A per phase now
	response Response
	oneOnly  bool // switched to one phase (hw.PhaseSwitcher)
}

var _ hw.PhaseSwitcher = (*Connector)(nil)

// SetPhases switches the connector to 1 phase or back to 3.
func (c *Connector) SetPhases(n int) {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	c.oneOnly = n == 1
}

var _ hw.Connector = (*Connector)(nil)

// Pilot returns the pilot state.
func (c *Connector) Pilot() hw.PilotState {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	return c.pilot
}

// Offer sets the offered current. An EV that wants energy answers a PWM
// offer at once by asking for it (pilot C); the current follows after the
// response delay.
func (c *Connector) Offer(amps float64) {
	c.b.mu.Lock()
	if amps < hw.MinCurrent {
		amps = 0
	}
	c.offered = amps
	changed, pilot := c.updatePilot(), c.pilot
	c.b.mu.Unlock()
	if changed {
		c.b.emit(hw.Event{Kind: hw.ConnectorChanged, Connector: c.n, Pilot: pilot})
	}
}

// updatePilot sets the pilot an EV shows for the offer, and reports
// whether it changed. b.mu is held.
func (c *Connector) updatePilot() bool {
	if c.ev == nil {
		return false
	}
	pilot := hw.PilotB
	if c.offered >= hw.MinCurrent && c.ev.SoCPercent < 100 {
		pilot = hw.PilotC
	}
	if pilot == c.pilot {
		return false
	}
	c.pilot = pilot
	return true
}

// SetContactor closes or opens the contactor; opened, no current flows.
func (c *Connector) SetContactor(closed bool) {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	c.contactor = closed
	if !closed {
		c.drawn, c.response = 0, Response{}
	}
}

// ErrLockFailure: the cable lock is faulty (fault ConnectorLockFailure).
var ErrLockFailure = errors.New("sim: cable lock failed")

// SetLock locks or unlocks the cable; it fails while the connector has the
// fault ConnectorLockFailure.
func (c *Connector) SetLock(locked bool) error {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	if c.fault == "ConnectorLockFailure" {
		return ErrLockFailure
	}
	c.locked = locked
	return nil
}

// Meter reads the meter.
func (c *Connector) Meter() hw.Reading {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	return c.readingLocked()
}

func (c *Connector) readingLocked() hw.Reading {
	r := hw.Reading{EnergyWh: c.register}
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
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	return c.fault
}

// CableMax returns the plugged cable's rating, 0 for none.
func (c *Connector) CableMax() float64 {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	if c.ev == nil {
		return 0
	}
	return c.ev.CableMaxCurrent
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

// Step takes the offer at now and returns the offer the EV follows.
func (r *Response) Step(offer float64, delay time.Duration, now time.Time) float64 {
	last := r.followed
	if n := len(r.changes); n > 0 {
		last = r.changes[n-1].offer
	}
	if offer != last {
		if len(r.changes) == maxChanges {
			r.followed, r.changes = r.changes[0].offer, r.changes[1:]
		}
		r.changes = append(r.changes, change{now.Add(delay), offer})
	}
	for len(r.changes) > 0 && !now.Before(r.changes[0].at) {
		r.followed, r.changes = r.changes[0].offer, r.changes[1:]
	}
	return r.followed
}

// advance moves the connector dt forward and reports whether its pilot
// changed. b.mu is held.
func (c *Connector) advance(now time.Time, dt time.Duration) bool {
	if c.ev == nil {
		return false
	}
	// Energy over the step at the current that flowed.
	if c.drawn > 0 {
		wh := c.b.opts.Voltage * c.drawn * float64(c.phases()) * dt.Hours()
		c.register += wh
		c.ev.SoCPercent = min(100, c.ev.SoCPercent+100*wh/c.ev.CapacityWh)
	}
	// The EV follows the offer after its response delay; its own limits
	// (taper, full) apply at once.
	delay := c.b.opts.ResponseDelay
	if c.ev.ResponseDelayMs > 0 {
		delay = time.Duration(c.ev.ResponseDelayMs) * time.Millisecond
	}
	c.drawn = 0
	if followed := c.response.Step(c.usable(), delay, now); c.contactor && c.fault == "" {
		c.drawn = c.ev.Draws(followed)
	}
	// It asks for energy while PWM is offered and it is not full.
	return c.updatePilot()
}
