package fleet

import (
	"fmt"
	"io"
	"math"
	"time"
)

// Report is what a fleet did, for people (Write) and for CI jobs (as
// JSON: `evse fleet --report FILE`).
type Report struct {
	Chargers int       `json:"chargers"`
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"`
	// States counts the charge points by state at the end.
	States             map[State]int `json:"states"`
	ConnectionAttempts int64         `json:"connectionAttempts"`
	Connects           int64         `json:"connects"`
	Disconnects        int64         `json:"disconnects"`
	// Actions are the messages by action and direction, with the
	// central system's answer times.
	Actions []ActionReport `json:"actions"`
	// CallErrors and Timeouts of the charge points' CALLs, all actions.
	CallErrors int64 `json:"callErrors"`
	Timeouts   int64 `json:"timeouts"`
	// Cars that came; those turned away (the connector taken, no power).
	Cars           int64 `json:"cars"`
	CarsTurnedAway int64 `json:"carsTurnedAway"`
	// RemoteStartWaits are the drivers who waited for the central system
	// to start them (behaviour.authorize.remoteStart).
	RemoteStartWaits int64 `json:"remoteStartWaits"`
	// Sessions the central system accepted (StartTransaction in 1.6,
	// TransactionEvent Started in 2.0.1).
	Sessions  int64         `json:"sessions"`
	EnergyKWh float64       `json:"energyKWh"`
	Faults    []FaultRecord `json:"faults,omitempty"`
}

// Report sums up the fleet now.
func (f *Fleet) Report() Report {
	p := f.Progress()
	r := Report{Chargers: p.Chargers, Started: f.started, Seconds: math.Round(time.Since(f.started).Seconds()*10) / 10,
		States: p.States, ConnectionAttempts: f.stats.attempts.Load(), Connects: f.stats.connects.Load(),
		Disconnects: f.stats.disconnects.Load(), Actions: f.stats.actionReports(), Cars: f.stats.cars.Load(),
		CarsTurnedAway: f.stats.carsTurnedAway.Load(), RemoteStartWaits: f.stats.remoteStarts.Load(), Sessions: f.stats.sessions.Load()}
	for _, a := range r.Actions {
		if a.Direction == toCSMS {
			r.CallErrors += a.CallErrors
			r.Timeouts += a.Timeouts
		}
	}
	energy := 0.0
	for _, c := range f.chargers {
		energy += c.energyWh()
	}
	r.EnergyKWh = math.Round((energy-f.energyAtStart)/10) / 100
	f.faultMu.Lock()
	r.Faults = append(r.Faults, f.faults...)
	f.faultMu.Unlock()
	return r
}

// Write prints the report as text.
func (r Report) Write(w io.Writer) {
	fmt.Fprintf(w, "evse fleet: %d charge points, %.1f s\n", r.Chargers, r.Seconds)
	var states []string
	for _, s := range States {
		if n := r.States[s]; n > 0 {
			states = append(states, fmt.Sprintf("%s %d", s, n))
		}
	}
	fmt.Fprintf(w, "  at the end: %v\n", states)
	fmt.Fprintf(w, "  connections: %d attempts, %d made, %d ended\n", r.ConnectionAttempts, r.Connects, r.Disconnects)
	fmt.Fprintf(w, "  cars %d (%d turned away, %d waiting for a remote start), sessions %d, %.2f kWh\n", r.Cars, r.CarsTurnedAway, r.RemoteStartWaits, r.Sessions, r.EnergyKWh)
	fmt.Fprintf(w, "  CALLERRORs from the central system %d, CALLs it left unanswered %d\n", r.CallErrors, r.Timeouts)
	fmt.Fprintf(w, "  %-9s %-6s %-28s %8s %8s %8s %9s %9s %9s\n", "direction", "ocpp", "action", "calls", "errors", "timeouts", "p50 ms", "p95 ms", "p99 ms")
	for _, a := range r.Actions { // to_csms first (actionReports)
		if a.Direction == toCSMS {
			fmt.Fprintf(w, "  %-9s %-6s %-28s %8d %8d %8d %9.2f %9.2f %9.2f\n", "CP→CSMS", a.OCPP, a.Action, a.Calls, a.CallErrors, a.Timeouts, a.P50ms, a.P95ms, a.P99ms)
		} else {
			fmt.Fprintf(w, "  %-9s %-6s %-28s %8d %8d\n", "CSMS→CP", a.OCPP, a.Action, a.Calls, a.CallErrors)
		}
	}
	for _, ft := range r.Faults {
		fmt.Fprintf(w, "  fault %s at %s on %d charge points\n", ft.Kind, ft.At.Format(time.TimeOnly), ft.Chargers)
	}
}
