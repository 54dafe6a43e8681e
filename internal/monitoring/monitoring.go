// Package monitoring is OCPP 2.0.1's variable monitoring (functional
// block N) as plain code over values: the monitors a charging station
// holds, the rules that install, replace and clear them, the monitoring
// base and level, and the decision when a monitor trips. It reads no
// clock and does no I/O: the caller gives it the variables' values and
// the time, and sends the events it returns.
//
// A [Set] is not safe for concurrent use; its owner serializes calls.
package monitoring

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// Type is a monitor's type (2.0.1's MonitorEnumType).
type Type string

// Monitor types.
const (
	UpperThreshold       Type = "UpperThreshold"
	LowerThreshold       Type = "LowerThreshold"
	Delta                Type = "Delta"
	Periodic             Type = "Periodic"
	PeriodicClockAligned Type = "PeriodicClockAligned"
)

// Kind says who made a monitor (2.0.1's EventNotificationEnumType).
type Kind string

// Monitor kinds.
const (
	// HardWired monitors are the maker's and cannot be changed or
	// cleared.
	HardWired Kind = "HardWiredMonitor"
	// Preconfigured monitors are the maker's; the central system may
	// replace or clear them, SetBase(FactoryDefault) restores them.
	Preconfigured Kind = "PreconfiguredMonitor"
	// Custom monitors are the central system's.
	Custom Kind = "CustomMonitor"
)

// Base is a monitoring base (2.0.1's MonitoringBaseEnumType).
type Base string

// Monitoring bases.
const (
	// All: every monitor is active.
	All Base = "All"
	// FactoryDefault: the preconfigured monitors as the maker set them,
	// and the custom ones.
	FactoryDefault Base = "FactoryDefault"
	// HardWiredOnly: the custom monitors are cleared and the
	// preconfigured ones disabled.
	HardWiredOnly Base = "HardWiredOnly"
)

// Trigger is why an event is told (2.0.1's EventTriggerEnumType).
type Trigger string

// Event triggers.
const (
	Alerting     Trigger = "Alerting"
	DeltaTrigger Trigger = "Delta"
	PeriodicTrig Trigger = "Periodic"
)

// Status is the outcome of installing a monitor (2.0.1's
// SetMonitoringStatusEnumType, less the component and variable checks,
// which are the caller's).
type Status string

// Install outcomes.
const (
	Accepted               Status = "Accepted"
	Rejected               Status = "Rejected"
	Duplicate              Status = "Duplicate"
	UnsupportedMonitorType Status = "UnsupportedMonitorType"
	NotFound               Status = "NotFound"
)

// MaxCustom is the most custom monitors a station holds: one more is
// Rejected.
const MaxCustom = 100

// MaxSeverity is the least severe severity (Debug); 0 is Danger.
const MaxSeverity = 9

// MaxPeriod is the longest period of a periodic monitor, in seconds (a
// year): 2.0.1 sets none, and one of billions of seconds does not fit
// a time.Duration.
const MaxPeriod = 365 * 24 * 3600

// Target names a monitored variable: its component (name, instance, EVSE
// and connector, 0 for none) and the variable (name, instance).
type Target struct {
	Component         string `json:"component"`
	ComponentInstance string `json:"componentInstance,omitempty"`
	EVSE              int    `json:"evse,omitempty"`
	Connector         int    `json:"connector,omitempty"`
	Variable          string `json:"variable"`
	Instance          string `json:"instance,omitempty"`
}

// Monitor is one monitor on a variable. Value is the threshold, the delta,
// or the period in seconds.
type Monitor struct {
	ID          int     `json:"id"`
	Target      Target  `json:"target"`
	Type        Type    `json:"type"`
	Value       float64 `json:"value"`
	Severity    int     `json:"severity"`
	Transaction bool    `json:"transaction,omitempty"`
	Kind        Kind    `json:"kind"`
}

// Threshold reports whether the monitor is a threshold monitor.
func (m Monitor) Threshold() bool { return m.Type == UpperThreshold || m.Type == LowerThreshold }

// Periodical reports whether the monitor is a periodic one.
func (m Monitor) Periodical() bool { return m.Type == Periodic || m.Type == PeriodicClockAligned }

// Event is a monitor that tripped: a threshold crossed (Cleared when the
// value came back), a delta exceeded, a period come round.
type Event struct {
	Monitor Monitor
	Trigger Trigger
	// Value is the variable's value, as read.
	Value   string
	Cleared bool
	At      time.Time
	// TransactionID is the transaction a transaction monitor tripped in.
	TransactionID string
}

// Saved is what of a Set is durable: the monitors, the base, the level
// and the next id. The trip states are not: they are found again from
// the values after a restart.
type Saved struct {
	Monitors []Monitor `json:"monitors"`
	Base     Base      `json:"base"`
	Level    int       `json:"level"`
	NextID   int       `json:"nextId"`
}

// Set is a station's monitors.
type Set struct {
	factory  []Monitor
	monitors []Monitor // by id
	base     Base
	level    int
	nextID   int
	state    map[int]*trip
}

// trip is what a monitor remembers of the values it saw.
type trip struct {
	seen    bool
	tripped bool      // threshold: beyond it
	ref     string    // delta: the value last told (or first seen)
	next    time.Time // periodic: when it is due
}

// New returns the Set of a station whose maker installed presets
// (HardWired and Preconfigured monitors, their ids unique), restored from
// saved (nil: a new station: the presets, base All, level MaxSeverity).
// The Set keeps presets, unchanged: stations may share them.
func New(presets []Monitor, saved *Saved) *Set {
	s := &Set{factory: presets, base: All, level: MaxSeverity, state: map[int]*trip{}}
	for _, m := range presets {
		s.nextID = max(s.nextID, m.ID+1)
	}
	if saved == nil {
		s.monitors = slices.Clone(presets)
		return s
	}
	s.base, s.level = saved.Base, saved.Level
	if s.base == "" {
		s.base = All
	}
	s.nextID = max(s.nextID, saved.NextID)
	// The hardwired monitors are the maker's of this software, whatever
	// was saved.
	for _, m := range presets {
		if m.Kind == HardWired {
			s.monitors = append(s.monitors, m)
		}
	}
	for _, m := range saved.Monitors {
		if m.Kind != HardWired {
			s.monitors = append(s.monitors, m)
		}
	}
	s.sort()
	return s
}

func (s *Set) sort() { slices.SortFunc(s.monitors, func(a, b Monitor) int { return a.ID - b.ID }) }

// Saved returns what to keep durably.
func (s *Set) Saved() Saved {
	return Saved{Monitors: slices.Clone(s.monitors), Base: s.base, Level: s.level, NextID: s.nextID}
}

// Base is the active monitoring base.
func (s *Set) Base() Base { return s.base }

// Level is the monitoring level: events of monitors of a higher severity
// number are not told.
func (s *Set) Level() int { return s.level }

// Active returns the monitors in force under the base, by id.
func (s *Set) Active() []Monitor {
	var out []Monitor
	for _, m := range s.monitors {
		if s.active(m) {
			out = append(out, m)
		}
	}
	return out
}

func (s *Set) active(m Monitor) bool { return m.Kind != Preconfigured || s.base != HardWiredOnly }

// Put installs a monitor, or replaces the one with its id when m.ID is
// not 0; numeric says whether the variable has a number for its value.
// It returns the monitor's id and the outcome: UnsupportedMonitorType for
// a threshold on a variable that is not a number; Rejected for a severity
// out of 0–9, a negative delta, a period under a second or over
// MaxPeriod, an id it has
// not, a hardwired monitor, another variable's id, or one custom monitor
// too many; Duplicate when the variable has a monitor of that type and
// severity already. On anything but Accepted nothing changes.
func (s *Set) Put(m Monitor, numeric bool) (int, Status) {
	switch {
	case m.Threshold() && !numeric:
		return 0, UnsupportedMonitorType
	case m.Type != UpperThreshold && m.Type != LowerThreshold && m.Type != Delta && !m.Periodical():
		return 0, UnsupportedMonitorType
	case m.Severity < 0 || m.Severity > MaxSeverity, math.IsNaN(m.Value) || math.IsInf(m.Value, 0),
		m.Type == Delta && m.Value < 0, m.Periodical() && (m.Value < 1 || m.Value > MaxPeriod):
		return 0, Rejected
	}
	at := -1
	if m.ID != 0 {
		at = s.index(m.ID)
		if at < 0 || s.monitors[at].Kind == HardWired || s.monitors[at].Target != m.Target {
			return 0, Rejected
		}
		m.Kind = s.monitors[at].Kind
	} else {
		m.Kind = Custom
	}
	for i, o := range s.monitors {
		if i != at && s.active(o) && o.Target == m.Target && o.Type == m.Type && o.Severity == m.Severity {
			return 0, Duplicate
		}
	}
	if at >= 0 {
		s.monitors[at] = m
		delete(s.state, m.ID)
		return m.ID, Accepted
	}
	if s.custom() >= MaxCustom {
		return 0, Rejected
	}
	m.ID = s.nextID
	s.nextID++
	s.monitors = append(s.monitors, m)
	return m.ID, Accepted
}

func (s *Set) custom() int {
	n := 0
	for _, m := range s.monitors {
		if m.Kind == Custom {
			n++
		}
	}
	return n
}

func (s *Set) index(id int) int {
	for i, m := range s.monitors {
		if m.ID == id {
			return i
		}
	}
	return -1
}

// Clear removes a monitor: NotFound for an id it has not, Rejected for a
// hardwired one.
func (s *Set) Clear(id int) Status {
	i := s.index(id)
	switch {
	case i < 0:
		return NotFound
	case s.monitors[i].Kind == HardWired:
		return Rejected
	}
	s.monitors = slices.Delete(s.monitors, i, i+1)
	delete(s.state, id)
	return Accepted
}

// SetBase sets the monitoring base: All keeps every monitor;
// FactoryDefault restores the preconfigured monitors as the maker set
// them and keeps the custom ones; HardWiredOnly clears the custom
// monitors and disables the preconfigured ones (until another base).
func (s *Set) SetBase(b Base) {
	s.base = b
	switch b {
	case FactoryDefault:
		s.monitors = slices.DeleteFunc(s.monitors, func(m Monitor) bool { return m.Kind != Custom })
		s.monitors = append(s.monitors, s.factory...)
		s.sort()
		s.state = map[int]*trip{}
	case HardWiredOnly:
		s.monitors = slices.DeleteFunc(s.monitors, func(m Monitor) bool { return m.Kind == Custom })
	}
}

// SetLevel sets the monitoring level; false for one out of 0–9.
func (s *Set) SetLevel(severity int) bool {
	if severity < 0 || severity > MaxSeverity {
		return false
	}
	s.level = severity
	return true
}

// Watched reports whether an active monitor watches the target.
func (s *Set) Watched(t Target) bool {
	for _, m := range s.monitors {
		if m.Target == t && s.active(m) {
			return true
		}
	}
	return false
}

// Observe takes a target's value now (numeric: the variable has a number
// for its value) and returns the events of the monitors it trips, those
// within the level: a threshold crossed, or crossed back (Cleared); a
// delta beyond the value last told (any change of a value that is not a
// number). A monitor's first value sets where it stands: a threshold
// already crossed is told then. tx names the transaction under way on an
// EVSE (0: on any), without which a transaction monitor stays quiet.
func (s *Set) Observe(t Target, value string, numeric bool, tx func(evse int) string, now time.Time) []Event {
	var out []Event
	for _, m := range s.monitors {
		if m.Target != t || !s.active(m) || m.Periodical() {
			continue
		}
		st := s.trip(m.ID)
		txID := ""
		if m.Transaction {
			txID = tx(t.EVSE)
		}
		tell := func(e Event) {
			if m.Severity <= s.level && (!m.Transaction || txID != "") {
				e.Monitor, e.Value, e.At, e.TransactionID = m, value, now, txID
				out = append(out, e)
			}
		}
		first := !st.seen
		st.seen = true
		if m.Type == Delta {
			if first {
				st.ref = value
				continue
			}
			if changed(st.ref, value, m.Value, numeric) {
				st.ref = value
				tell(Event{Trigger: DeltaTrigger})
			}
			continue
		}
		x, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		beyond := x > m.Value
		if m.Type == LowerThreshold {
			beyond = x < m.Value
		}
		if beyond == st.tripped && !(first && beyond) {
			continue
		}
		st.tripped = beyond
		tell(Event{Trigger: Alerting, Cleared: !beyond})
	}
	return out
}

// changed reports whether a delta monitor of delta trips from ref to v:
// a number that moved by more than delta (by any amount for 0), or a
// value that is not a number and changed.
func changed(ref, v string, delta float64, numeric bool) bool {
	if numeric {
		a, errA := strconv.ParseFloat(ref, 64)
		b, errB := strconv.ParseFloat(v, 64)
		if errA == nil && errB == nil {
			d := math.Abs(b - a)
			return d > delta || delta == 0 && d > 0
		}
	}
	return ref != v
}

func (s *Set) trip(id int) *trip {
	st := s.state[id]
	if st == nil {
		st = &trip{}
		s.state[id] = st
	}
	return st
}

// Due returns the periodic monitors whose period came round by now (those
// within the level, and transaction monitors only in a transaction), and
// schedules their next: Periodic every Value seconds from the first call
// that saw it, PeriodicClockAligned at the multiples of Value seconds
// from midnight UTC.
func (s *Set) Due(now time.Time, tx func(evse int) string) []Event {
	var out []Event
	for _, m := range s.monitors {
		if !m.Periodical() || !s.active(m) {
			continue
		}
		st := s.trip(m.ID)
		period := time.Duration(m.Value * float64(time.Second))
		if st.next.IsZero() {
			st.next = nextPoint(m.Type, period, now)
			continue
		}
		if now.Before(st.next) {
			continue
		}
		// The next instant after now, in one step however long it was.
		if m.Type == PeriodicClockAligned {
			st.next = nextPoint(m.Type, period, now)
		} else {
			st.next = st.next.Add((now.Sub(st.next)/period + 1) * period)
		}
		txID := ""
		if m.Transaction {
			if txID = tx(m.Target.EVSE); txID == "" {
				continue
			}
		}
		if m.Severity <= s.level {
			out = append(out, Event{Monitor: m, Trigger: PeriodicTrig, At: now, TransactionID: txID})
		}
	}
	return out
}

// nextPoint is a periodic monitor's next instant after t.
func nextPoint(typ Type, period time.Duration, t time.Time) time.Time {
	if typ != PeriodicClockAligned {
		return t.Add(period)
	}
	day := t.UTC().Truncate(24 * time.Hour)
	n := t.Sub(day)/period + 1
	return day.Add(n * period)
}
