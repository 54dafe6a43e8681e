// Package sim is simulated charge point hardware: connectors with an energy
// meter, a cable lock and a contactor; EVs that plug in, follow the offered
// current after a response delay, draw less as their battery fills and stop
// when it is full; an RFID reader; two digital inputs. Time comes from a
// clock.Clock, so a simulation can run in virtual time.
package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/hw"
)

// EV describes a simulated vehicle. The zero value of each field takes
// the default.
type EV struct {
	// Phases the EV charges on: 1 or 3. Default 3.
	Phases int `json:"phases,omitempty"`
	// MaxCurrent is the most the EV draws per phase, in A. Default 32.
	MaxCurrent float64 `json:"maxCurrent,omitempty"`
	// CapacityWh is the battery's capacity. Default 60000.
	CapacityWh float64 `json:"capacityWh,omitempty"`
	// SoCPercent is the state of charge when plugged in. Default 20.
	SoCPercent float64 `json:"socPercent,omitempty"`
	// ResponseDelayMs is how long the EV takes to follow a change of the
	// offered current, in ms. Default: the board's ResponseDelay (2 s).
	ResponseDelayMs int `json:"responseDelayMs,omitempty"`
	// CableMaxCurrent is the rating of the cable it is plugged in with
	// (the proximity pilot of a socket outlet: 13, 20, 32 or 63 A), in
	// A; 0: no limit (a tethered cable).
	CableMaxCurrent float64 `json:"cableMaxCurrent,omitempty"`
}

// Draws is the current per phase the EV draws under an offer, once it
// has followed it: the offer (none under hw.MinCurrent), its own maximum,
// less as the battery fills past 80 %, nothing when full.
func (ev EV) Draws(offer float64) float64 {
	if ev.SoCPercent >= 100 || offer < hw.MinCurrent {
		return 0
	}
	l := min(offer, ev.MaxCurrent)
	if ev.SoCPercent > 80 {
		taper := max((100-ev.SoCPercent)/20, 0.1)
		l = min(l, max(ev.MaxCurrent*taper, hw.MinCurrent))
	}
	return l
}

// WithDefaults returns the EV with the defaults of its zero fields.
func (ev EV) WithDefaults() EV { return ev.withDefaults() }

func (ev EV) withDefaults() EV {
	if ev.Phases == 0 {
		ev.Phases = 3
	}
	if ev.MaxCurrent == 0 {
		ev.MaxCurrent = 32
	}
	if ev.CapacityWh == 0 {
		ev.CapacityWh = 60000
	}
	if ev.SoCPercent == 0 {
		ev.SoCPercent = 20
	}
	return ev
}

// Validate checks an EV after defaults.
func (ev EV) Validate() error {
	ev = ev.withDefaults()
	for _, f := range []float64{ev.MaxCurrent, ev.CapacityWh, ev.SoCPercent, ev.CableMaxCurrent} {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return errors.New("every number must be finite")
		}
	}
	switch {
	case ev.Phases != 1 && ev.Phases != 3:
		return errors.New("phases must be 1 or 3")
	case ev.MaxCurrent < hw.MinCurrent || ev.MaxCurrent > 1000:
		return fmt.Errorf("maxCurrent must be %d to 1000 A", hw.MinCurrent)
	case ev.CapacityWh <= 0 || ev.CapacityWh > 1e6:
		return errors.New("capacityWh must be above 0 and at most 1000000")
	case ev.SoCPercent < 0 || ev.SoCPercent > 100:
		return errors.New("socPercent must be 0 to 100")
	case ev.ResponseDelayMs < 0 || ev.ResponseDelayMs > 60000:
		return errors.New("responseDelayMs must be 0 to 60000")
	case ev.CableMaxCurrent != 0 && (ev.CableMaxCurrent < hw.MinCurrent || ev.CableMaxCurrent > 1000):
		return fmt.Errorf("cableMaxCurrent must be 0 (none) or %d to 1000 A", hw.MinCurrent)
	}
	return nil
}

// Options configure a [Board]. The zero value of each field takes the
// default.
type Options struct {
	Clock clock.Clock
	// Connectors is the number of connectors. Default 1.
	Connectors int
	// Phases wired to each connector: 1 or 3. Default 3.
	Phases int
	// Voltage of each phase, in V. Default 230.
	Voltage float64
	// ResponseDelay is how long an EV takes to follow a change of the
	// offered current (IEC 61851 allows up to 5 s). Default 2 s.
	ResponseDelay time.Duration
	// Registers are the energy registers the meters start from, in Wh, by
	// connector (index 0: connector 1); missing ones start at 0.
	Registers []float64
	// Socket: the connectors are sockets, the cable the driver's: it
	// stays in the socket when the EV is unplugged at its end, until
	// RemoveCable. Default: tethered cables.
	Socket bool
	// EventBuffer is the room of the events channel; more wait in order
	// behind it. Default 1024 (a fleet of thousands takes less).
	EventBuffer int
}

// Board is a simulated charge point. It is safe for concurrent use.
type Board struct {
	opts   Options
	events chan hw.Event

	// overflow holds events the channel had no room for, oldest first;
	// emit never blocks (the charge point emits from its own goroutine
	// through Offer, and it is the one reading the channel).
	omu      sync.Mutex
	overflow []hw.Event
	notify   func() // see Notify; guarded by omu

	mu      sync.Mutex
	conns   []*Connector
	inputs  [2]bool
	pending []hw.Event // to emit once mu is released
	now     time.Time  // of the update under way
	// wake tells Run that the next change may have moved.
	wake chan struct{}
}

var _ hw.Board = (*Board)(nil)

// New returns a board; Run moves its time.
func New(opts Options) *Board {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Connectors <= 0 {
		opts.Connectors = 1
	}
	if opts.Phases != 1 {
		opts.Phases = 3
	}
	if opts.Voltage <= 0 {
		opts.Voltage = 230
	}
	if opts.ResponseDelay <= 0 {
		opts.ResponseDelay = 2 * time.Second
	}
	if opts.EventBuffer <= 0 {
		opts.EventBuffer = 1024
	}
	b := &Board{opts: opts, events: make(chan hw.Event, opts.EventBuffer), wake: make(chan struct{}, 1)}
	now := opts.Clock.Now()
	for i := range opts.Connectors {
		c := &Connector{b: b, n: i + 1, pilot: hw.PilotA, at: now}
		if i < len(opts.Registers) {
			c.register = opts.Registers[i]
		}
		b.conns = append(b.conns, c)
	}
	return b
}

// Connectors returns the connectors.
func (b *Board) Connectors() []hw.Connector {
	out := make([]hw.Connector, len(b.conns))
	for i, c := range b.conns {
		out[i] = c
	}
	return out
}

// Input reads digital input 1 or 2.
func (b *Board) Input(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n < 1 || n > 2 {
		return false
	}
	return b.inputs[n-1]
}

// Events delivers the changes.
func (b *Board) Events() <-chan hw.Event { return b.events }

// emit queues an event without blocking, in order.
func (b *Board) emit(e hw.Event) {
	b.omu.Lock()
	b.overflow = append(b.overflow, e)
	b.flushLocked()
	notify := b.notify
	b.omu.Unlock()
	if notify != nil {
		notify()
	}
}

// Notify makes the board call f (which must not block) after each event
// it emits: the reader of Events needs no goroutine of its own watching
// the channel (a fleet runs thousands of boards).
func (b *Board) Notify(f func()) {
	b.omu.Lock()
	b.notify = f
	b.omu.Unlock()
}

// Flush moves the events waiting for room into the events channel.
func (b *Board) Flush() {
	b.omu.Lock()
	b.flushLocked()
	b.omu.Unlock()
}

// flushLocked moves what it can from the overflow to the channel; omu is
// held.
func (b *Board) flushLocked() {
	for len(b.overflow) > 0 {
		select {
		case b.events <- b.overflow[0]:
			b.overflow[0] = hw.Event{}
			b.overflow = b.overflow[1:]
		default:
			return
		}
	}
}

// ErrNoConnector: the connector number is out of range.
var ErrNoConnector = errors.New("sim: no such connector")

func (b *Board) conn(n int) (*Connector, error) {
	if n < 1 || n > len(b.conns) {
		return nil, fmt.Errorf("%w: %d", ErrNoConnector, n)
	}
	return b.conns[n-1], nil
}

// Plug connects an EV to connector n.
func (b *Board) Plug(n int, ev EV) error {
	c, err := b.conn(n)
	if err != nil {
		return err
	}
	if err := ev.Validate(); err != nil {
		return err
	}
	ev = ev.withDefaults()
	err = fmt.Errorf("sim: connector %d already has an EV", n)
	b.change(func() {
		if c.ev != nil {
			return
		}
		err = nil
		c.integrate(b.now)
		if b.opts.Socket {
			// The cable goes into the socket with the car (or is there).
			if ev.CableMaxCurrent == 0 {
				ev.CableMaxCurrent = socketCable
			}
			c.cable, c.cableMax = true, ev.CableMaxCurrent
		}
		c.ev, c.response, c.pilot = &ev, Response{}, hw.PilotB
		b.queue(hw.Event{Kind: hw.ConnectorChanged, Connector: n, Pilot: hw.PilotB})
		c.follow() // an offer standing already is answered at once
	})
	return err
}

// socketCable is the rating of a socket connector's cable when the EV
// names none.
const socketCable = 32

// RemoveCable takes the cable out of connector n's socket (and so the EV
// off it, if one is still at its other end).
func (b *Board) RemoveCable(n int) error {
	c, err := b.conn(n)
	if err != nil {
		return err
	}
	err = fmt.Errorf("sim: no cable in connector %d's socket", n)
	b.change(func() {
		if !c.cable {
			return
		}
		err = nil
		c.integrate(b.now)
		c.cable, c.cableMax = false, 0
		if c.ev != nil {
			c.ev, c.drawn, c.response = nil, 0, Response{}
		}
		c.pilot = hw.PilotA
		b.queue(hw.Event{Kind: hw.ConnectorChanged, Connector: n, Pilot: hw.PilotA})
	})
	return err
}

// Unplug disconnects the EV of connector n (at the EV side); on a socket
// connector the cable stays in the socket.
func (b *Board) Unplug(n int) error {
	c, err := b.conn(n)
	if err != nil {
		return err
	}
	err = fmt.Errorf("sim: no EV on connector %d", n)
	b.change(func() {
		if c.ev == nil {
			return
		}
		err = nil
		c.integrate(b.now)
		c.ev = nil
		c.pilot = hw.PilotA
		c.drawn, c.response = 0, Response{}
		b.queue(hw.Event{Kind: hw.ConnectorChanged, Connector: n, Pilot: hw.PilotA})
	})
	return err
}

// Present holds an RFID tag to the reader, for connector n or, with 0,
// for the charge point to place.
func (b *Board) Present(idTag string, n int) error {
	if n != 0 {
		if _, err := b.conn(n); err != nil {
			return err
		}
	}
	b.change(func() { b.queue(hw.Event{Kind: hw.TagPresented, IDTag: idTag, Connector: n}) })
	return nil
}

// SetInput drives digital input 1 or 2.
func (b *Board) SetInput(n int, high bool) error {
	if n < 1 || n > 2 {
		return fmt.Errorf("sim: no input %d", n)
	}
	b.change(func() {
		b.inputs[n-1] = high
		b.queue(hw.Event{Kind: hw.InputChanged, Input: n})
	})
	return nil
}

// SetFault sets a hardware fault (an OCPP ChargePointErrorCode) on
// connector n; "" clears it. A fault cuts the current at once.
func (b *Board) SetFault(n int, code string) error {
	c, err := b.conn(n)
	if err != nil {
		return err
	}
	b.change(func() {
		c.integrate(b.now)
		c.fault = code
		c.follow()
		b.queue(hw.Event{Kind: hw.ConnectorChanged, Connector: n})
	})
	return nil
}

// Run moves the simulation forward in real time until ctx ends: it wakes
// at each change the EVs make by themselves (a battery full, a step of
// the taper) and tells the events.
func (b *Board) Run(ctx context.Context) error {
	t := b.opts.Clock.NewTimer(time.Hour)
	defer t.Stop()
	for {
		b.Sync()
		t.Stop()
		var tick <-chan time.Time
		if next := b.Next(); !next.IsZero() {
			t.Reset(max(next.Sub(b.opts.Clock.Now()), 0))
			tick = t.C()
		}
		b.omu.Lock()
		waiting := len(b.overflow) > 0
		b.omu.Unlock()
		if waiting { // room in the channel, soon
			t.Stop()
			t.Reset(10 * time.Millisecond)
			tick = t.C()
		}
		select {
		case <-tick:
			b.omu.Lock()
			b.flushLocked()
			b.omu.Unlock()
		case <-b.wake:
		case <-ctx.Done():
			return nil
		}
	}
}

// Tick does, once, what Run does when it wakes: for a host that moves
// many boards from one goroutine instead of running each (call it at
// Next, and soon again while Waiting).
func (b *Board) Tick() {
	b.Sync()
	b.omu.Lock()
	b.flushLocked()
	b.omu.Unlock()
}

// Waiting reports whether events wait for room in the channel.
func (b *Board) Waiting() bool {
	b.omu.Lock()
	defer b.omu.Unlock()
	return len(b.overflow) > 0
}

// Sync brings every connector to the clock's time, telling the events of
// the changes on the way. A simulation in virtual time calls it at each
// instant it stops at; Run calls it in real time.
func (b *Board) Sync() { b.update(nil, false) }

// Next is when an EV next changes what it draws or shows by itself, zero
// if none will.
func (b *Board) Next() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	var next time.Time
	for _, c := range b.conns {
		if n := c.next(); !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	return next
}

// read runs f on the state as it is now.
func (b *Board) read(f func()) { b.update(f, false) }

// change runs f, a change of the state as it is now.
func (b *Board) change(f func()) { b.update(f, true) }

// update brings the connectors to now, runs f (if any), and emits the
// events that came of both; wake tells Run that the next change may have
// moved.
func (b *Board) update(f func(), wake bool) {
	b.mu.Lock()
	now := b.opts.Clock.Now()
	b.now = now
	for _, c := range b.conns {
		if c.advance(now) {
			b.queue(hw.Event{Kind: hw.ConnectorChanged, Connector: c.n, Pilot: c.pilot})
		}
	}
	pilots := make([]hw.PilotState, len(b.conns))
	for i, c := range b.conns {
		pilots[i] = c.pilot
	}
	if f != nil {
		f()
	}
	for i, c := range b.conns {
		if c.pilot != pilots[i] && !b.queued(c.n, c.pilot) {
			b.queue(hw.Event{Kind: hw.ConnectorChanged, Connector: c.n, Pilot: c.pilot})
		}
	}
	out := b.pending
	b.pending = nil
	b.mu.Unlock()
	for _, e := range out {
		b.emit(e)
	}
	if wake {
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
}

// queue notes an event to emit once b.mu is released.
func (b *Board) queue(e hw.Event) { b.pending = append(b.pending, e) }

// queued reports whether the last event queued for connector n is its
// change to pilot p.
func (b *Board) queued(n int, p hw.PilotState) bool {
	for i := len(b.pending) - 1; i >= 0; i-- {
		if e := b.pending[i]; e.Connector == n && e.Kind == hw.ConnectorChanged {
			return e.Pilot == p
		}
	}
	return false
}

// Snapshot is the full state of a simulated connector, for the local API.
type Snapshot struct {
	Connector int           `json:"connector"`
	Pilot     hw.PilotState `json:"-"`
	Offered   float64       `json:"offeredA"`
	Contactor bool          `json:"contactorClosed"`
	Locked    bool          `json:"locked"`
	Fault     string        `json:"fault,omitempty"`
	Meter     hw.Reading    `json:"-"`
	// OnePhase: the connector is switched to one phase.
	OnePhase bool `json:"onePhase,omitempty"`
	// Cable: a cable is in the socket (a socket connector).
	Cable bool `json:"cable,omitempty"`
	// EV is the plugged EV, with its state of charge now, or nil.
	EV *EV `json:"ev,omitempty"`
}

// Snapshot returns the state of connector n.
func (b *Board) Snapshot(n int) (Snapshot, error) {
	c, err := b.conn(n)
	if err != nil {
		return Snapshot{}, err
	}
	var s Snapshot
	b.read(func() {
		s = Snapshot{Connector: n, Pilot: c.pilot, Offered: c.offered, Contactor: c.contactor,
			Locked: c.locked, Fault: c.fault, Meter: c.reading(), OnePhase: c.oneOnly, Cable: c.cable}
		if c.ev != nil {
			ev := *c.ev
			ev.SoCPercent = c.soc(b.now)
			s.EV = &ev
		}
	})
	return s, nil
}
