// Package hw is the hardware of a charge point as the charge point sees it:
// per connector the IEC 61851 control pilot, the offered current (PWM),
// the contactor, the cable lock and an energy meter; an RFID reader; two
// digital inputs (GPI 1 and 2). hw/sim is the simulated hardware; real
// drivers implement the same interfaces.
package hw

import "fmt"

// PilotState is the IEC 61851 control pilot state.
type PilotState byte

// The pilot states.
const (
	// PilotA: no EV connected.
	PilotA PilotState = 'A'
	// PilotB: EV connected, not asking for energy.
	PilotB PilotState = 'B'
	// PilotC: EV connected and asking for energy.
	PilotC PilotState = 'C'
	// PilotD: as C, with ventilation required.
	PilotD PilotState = 'D'
	// PilotE: no power on the pilot (short circuit or EVSE off).
	PilotE PilotState = 'E'
	// PilotF: EVSE not available (fault).
	PilotF PilotState = 'F'
)

func (p PilotState) String() string {
	if p >= 'A' && p <= 'F' {
		return string(rune(p))
	}
	return fmt.Sprintf("PilotState(%d)", byte(p))
}

// Plugged reports whether an EV is connected.
func (p PilotState) Plugged() bool { return p == PilotB || p == PilotC || p == PilotD }

// Charging reports whether the EV asks for energy.
func (p PilotState) Charging() bool { return p == PilotC || p == PilotD }

// MinCurrent is the lowest current a PWM offer may carry (duty cycle 10 %),
// in A; an offer below it is no offer.
const MinCurrent = 6

// Reading is what a connector's meter shows.
type Reading struct {
	// EnergyWh is the import register (Energy.Active.Import.Register), in Wh.
	EnergyWh float64
	// PowerW is the active power drawn (Power.Active.Import), in W.
	PowerW float64
	// Current is the current drawn on each of the connector's phases
	// L1, L2, L3 (Current.Import), in A.
	Current [3]float64
}

// Connector is the hardware of one connector. Implementations are safe for
// concurrent use.
type Connector interface {
	// Pilot returns the control pilot state.
	Pilot() PilotState
	// Offer sets the current the EV may draw on each phase, in A, through
	// the PWM duty cycle; 0 (or anything under MinCurrent) offers nothing.
	Offer(amps float64)
	// SetContactor closes or opens the power contactor.
	SetContactor(closed bool)
	// SetLock locks or unlocks the cable. An error means the lock did not
	// move (OCPP: ConnectorLockFailure, UnlockStatus UnlockFailed).
	SetLock(locked bool) error
	// Meter reads the energy meter.
	Meter() Reading
	// Fault returns the hardware fault as an OCPP ChargePointErrorCode
	// (GroundFailure, OverCurrentFailure, ...), or "" when there is none.
	Fault() string
	// CableMax returns what the plugged cable is rated for, read from its
	// proximity pilot, in A; 0 when it sets no limit (a tethered cable,
	// or none plugged).
	CableMax() float64
	// Cable reports whether a cable is in the connector's socket (its
	// proximity pilot sees one), with or without an EV at its other end;
	// always false on a tethered connector.
	Cable() bool
}

// PhaseSwitcher is a connector that can switch a session between three
// phases and one (ConnectorSwitch3to1PhaseSupported). The charge point
// switches only while it offers nothing.
type PhaseSwitcher interface {
	// SetPhases connects the EV to 1 phase (the connector's L1) or 3.
	SetPhases(n int)
}

// EventKind says what an [Event] is about.
type EventKind int

// Kinds of event.
const (
	// ConnectorChanged: a connector's pilot state or fault may have
	// changed; read them again.
	ConnectorChanged EventKind = iota
	// TagPresented: an RFID tag was held to the reader.
	TagPresented
	// InputChanged: a digital input may have changed; read it again.
	InputChanged
)

// Event is a change the charge point must look at.
type Event struct {
	Kind EventKind
	// Connector is the connector (1-based) of a ConnectorChanged event,
	// and of a TagPresented event where the reader belongs to one
	// connector or the tag was meant for one (0: the charge point decides).
	Connector int
	// IDTag is the tag of a TagPresented event.
	IDTag string
	// Input is the input (1 or 2) of an InputChanged event.
	Input int
	// Pilot is the pilot state a ConnectorChanged event changed to, or 0
	// when the pilot did not change. The charge point goes through the
	// events' pilot states in order, so that an unplug and a plug in
	// quick succession are both seen.
	Pilot PilotState
}

// Board is the hardware of one charge point.
type Board interface {
	// Connectors returns the connectors; Connectors()[0] is connector 1.
	Connectors() []Connector
	// Input reads digital input 1 or 2 (high: true).
	Input(n int) bool
	// Events delivers the changes to look at, in order.
	Events() <-chan Event
}
