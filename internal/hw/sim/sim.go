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
	// Tick is the step of the simulation. Default 1 s.
	Tick time.Duration
	// Registers are the energy registers the meters start from, in Wh, by
	// connector (index 0: connector 1); missing ones start at 0.
	Registers []float64
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

	mu     sync.Mutex
	conns  []*Connector
	inputs [2]bool
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
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	b := &Board{opts: opts, events: make(chan hw.Event, 1024)}
	for i := range opts.Connectors {
		c := &Connector{b: b, n: i + 1, pilot: hw.PilotA}
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
	defer b.omu.Unlock()
	b.overflow = append(b.overflow, e)
	b.flushLocked()
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
	b.mu.Lock()
	if c.ev != nil {
		b.mu.Unlock()
		return fmt.Errorf("sim: connector %d already has an EV", n)
	}
	c.ev = &ev
	c.pilot = hw.PilotB
	b.mu.Unlock()
	b.emit(hw.Event{Kind: hw.ConnectorChanged, Connector: n, Pilot: hw.PilotB})
	return nil
}

// Unplug disconnects the EV of connector n (at the EV side).
func (b *Board) Unplug(n int) error {
	c, err := b.conn(n)
	if err != nil {
		return err
	}
	b.mu.Lock()
	if c.ev == nil {
		b.mu.Unlock()
		return fmt.Errorf("sim: no EV on connector %d", n)
	}
	c.ev = nil
	c.pilot = hw.PilotA
	c.drawn, c.response = 0, Response{}
	b.mu.Unlock()
	b.emit(hw.Event{Kind: hw.ConnectorChanged, Connector: n, Pilot: hw.PilotA})
	return nil
}

// Present holds an RFID tag to the reader, for connector n or, with 0,
// for the charge point to place.
func (b *Board) Present(idTag string, n int) error {
	if n != 0 {
		if _, err := b.conn(n); err != nil {
			return err
		}
	}
	b.emit(hw.Event{Kind: hw.TagPresented, IDTag: idTag, Connector: n})
	return nil
}

// SetInput drives digital input 1 or 2.
func (b *Board) SetInput(n int, high bool) error {
	if n < 1 || n > 2 {
		return fmt.Errorf("sim: no input %d", n)
	}
	b.mu.Lock()
	b.inputs[n-1] = high
	b.mu.Unlock()
	b.emit(hw.Event{Kind: hw.InputChanged, Input: n})
	return nil
}

// SetFault sets a hardware fault (an OCPP ChargePointErrorCode) on
// connector n; "" clears it. A fault cuts the current at once.
func (b *Board) SetFault(n int, code string) error {
	c, err := b.conn(n)
	if err != nil {
		return err
	}
	b.mu.Lock()
	c.fault = code
	if code != "" {
		c.drawn, c.response = 0, Response{}
	}
	b.mu.Unlock()
	b.emit(hw.Event{Kind: hw.ConnectorChanged, Connector: n})
	return nil
}

// Run moves the simulation forward every Tick until ctx ends.
func (b *Board) Run(ctx context.Context) error {
	t := b.opts.Clock.NewTimer(b.opts.Tick)
	defer t.Stop()
	for {
		select {
		case <-t.C():
			b.omu.Lock()
			b.flushLocked()
			b.omu.Unlock()
			b.step(b.opts.Tick)
			t.Reset(b.opts.Tick)
		case <-ctx.Done():
			return nil
		}
	}
}

// step advances every connector by dt.
func (b *Board) step(dt time.Duration) {
	now := b.opts.Clock.Now()
	var changed []hw.Event
	b.mu.Lock()
	for _, c := range b.conns {
		if c.advance(now, dt) {
			changed = append(changed, hw.Event{Kind: hw.ConnectorChanged, Connector: c.n, Pilot: c.pilot})
		}
	}
	b.mu.Unlock()
	for _, e := range changed {
		b.emit(e)
	}
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
	// EV is the plugged EV, with its state of charge now, or nil.
	EV *EV `json:"ev,omitempty"`
}

// Snapshot returns the state of connector n.
func (b *Board) Snapshot(n int) (Snapshot, error) {
	c, err := b.conn(n)
	if err != nil {
		return Snapshot{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := Snapshot{Connector: n, Pilot: c.pilot, Offered: c.offered, Contactor: c.contactor,
		Locked: c.locked, Fault: c.fault, Meter: c.readingLocked()}
	if c.ev != nil {
		ev := *c.ev
		s.EV = &ev
	}
	return s, nil
}
