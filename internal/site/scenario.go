// Package site simulates a DLM site in virtual time: a master and its
// slaves running the real decisions of package dlm over an in-process
// network with latency, simulated EVs and an external meter, a day in
// seconds. It writes a trace of every connector (docs/site.md) and can
// draw it.
package site

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/evse-dev/evse/internal/hw/sim"
)

// Duration is a time.Duration written as "90s", "1h30m", or a number of
// seconds.
type Duration time.Duration

// UnmarshalJSON reads "1h30m" or seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration %s: want a string like \"90s\" or seconds", b)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Scenario is a site and what happens to it.
type Scenario struct {
	Duration Duration  `json:"duration"`
	Chargers []Charger `json:"chargers"`
	Events   []Event   `json:"events"`
	// Latency is the in-process network's delay each way. Default 50 ms.
	Latency Duration `json:"latency,omitempty"`
}

// Charger is one charger of the site.
type Charger struct {
	ID string `json:"id"`
	// Mode is DlmMode: 0 no DLM, 1 master with its own connectors, 2
	// standalone master, 3 and 4 slaves.
	Mode int `json:"mode"`
	// Connectors defaults to 1.
	Connectors int `json:"connectors,omitempty"`
	// PhaseRotation is the ConnectorPhaseRotation rotation of every
	// connector (RST when empty).
	PhaseRotation string `json:"phaseRotation,omitempty"`
	// Config sets keys as the installer would (FreeCharging is 1 unless
	// set here).
	Config map[string]string `json:"config,omitempty"`
}

// Event is one thing that happens at a time. Exactly one of Plug,
// Unplug, OtherLoad, Meter, Input, Link, Config and Power is set.
type Event struct {
	At        Duration          `json:"at"`
	Charger   string            `json:"charger,omitempty"`
	Connector int               `json:"connector,omitempty"`
	Plug      *sim.EV           `json:"plug,omitempty"`
	Unplug    bool              `json:"unplug,omitempty"`
	OtherLoad *[3]float64       `json:"otherLoad,omitempty"`
	Meter     string            `json:"meter,omitempty"` // "fail" or "ok"
	Input     int               `json:"input,omitempty"` // opto input 1 or 2 of the charger
	High      bool              `json:"high,omitempty"`
	Link      string            `json:"link,omitempty"`  // "down" or "up"
	Power     string            `json:"power,omitempty"` // "off" or "on": the charger dies or starts again
	Config    map[string]string `json:"config,omitempty"`
}

// Limits of a scenario.
const (
	MaxChargers   = 10000
	MaxConnectors = 10
	MaxDuration   = 31 * 24 * time.Hour
	MaxEvents     = 1_000_000
)

// Parse reads and checks a scenario.
func Parse(r io.Reader) (*Scenario, error) {
	dec := json.NewDecoder(io.LimitReader(r, 256<<20))
	dec.DisallowUnknownFields()
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if err := sc.check(); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	return &sc, nil
}

func (sc *Scenario) check() error {
	d := time.Duration(sc.Duration)
	switch {
	case d <= 0 || d > MaxDuration:
		return fmt.Errorf("duration %v: want above 0 and at most %v", d, MaxDuration)
	case len(sc.Chargers) == 0 || len(sc.Chargers) > MaxChargers:
		return fmt.Errorf("%d chargers: want 1 to %d", len(sc.Chargers), MaxChargers)
	case len(sc.Events) > MaxEvents:
		return fmt.Errorf("%d events: at most %d", len(sc.Events), MaxEvents)
	case sc.Latency < 0 || time.Duration(sc.Latency) > 10*time.Second:
		return errors.New("latency must be 0 to 10s")
	}
	if sc.Latency == 0 {
		sc.Latency = Duration(50 * time.Millisecond)
	}
	byID := map[string]*Charger{}
	masters, slaves := 0, 0
	for i := range sc.Chargers {
		c := &sc.Chargers[i]
		if c.Connectors == 0 {
			c.Connectors = 1
		}
		if c.PhaseRotation == "" {
			c.PhaseRotation = "RST"
		}
		switch {
		case c.ID == "" || len(c.ID) > 48:
			return fmt.Errorf("charger %d: id must be 1 to 48 characters", i+1)
		case byID[c.ID] != nil:
			return fmt.Errorf("charger %q twice", c.ID)
		case c.Mode < 0 || c.Mode > 4:
			return fmt.Errorf("charger %q: mode %d: want 0 to 4 (DlmMode)", c.ID, c.Mode)
		case c.Connectors < 1 || c.Connectors > MaxConnectors:
			return fmt.Errorf("charger %q: %d connectors: want 1 to %d", c.ID, c.Connectors, MaxConnectors)
		case len(c.PhaseRotation) != 3 || !validRotation(c.PhaseRotation):
			return fmt.Errorf("charger %q: phaseRotation %q: want RST, RTS, SRT, STR, TRS or TSR", c.ID, c.PhaseRotation)
		}
		byID[c.ID] = c
		switch c.Mode {
		case 1, 2:
			masters++
		case 3, 4:
			slaves++
		}
	}
	if masters > 1 {
		return fmt.Errorf("%d masters: a site has one", masters)
	}
	if slaves > 0 && masters == 0 {
		return errors.New("slaves without a master")
	}
	for i := range sc.Events {
		e := &sc.Events[i]
		if err := e.check(d, byID); err != nil {
			return fmt.Errorf("event %d (at %v): %w", i+1, time.Duration(e.At), err)
		}
	}
	slices.SortStableFunc(sc.Events, func(a, b Event) int { return int(a.At - b.At) })
	return nil
}

func validRotation(r string) bool {
	return r == "RST" || r == "RTS" || r == "SRT" || r == "STR" || r == "TRS" || r == "TSR"
}

func (e *Event) check(d time.Duration, byID map[string]*Charger) error {
	if e.At < 0 || time.Duration(e.At) > d {
		return errors.New("outside the scenario's duration")
	}
	kinds := 0
	for _, set := range []bool{e.Plug != nil, e.Unplug, e.OtherLoad != nil, e.Meter != "", e.Input != 0, e.Link != "", e.Config != nil, e.Power != ""} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return errors.New("want exactly one of plug, unplug, otherLoad, meter, input, link, config, power")
	}
	if e.OtherLoad != nil || e.Meter != "" {
		if e.Charger != "" {
			return errors.New("otherLoad and meter are the site's, not a charger's")
		}
		if e.Meter != "" && e.Meter != "fail" && e.Meter != "ok" {
			return fmt.Errorf("meter %q: want fail or ok", e.Meter)
		}
		if e.OtherLoad != nil {
			for _, a := range e.OtherLoad {
				if a < 0 || a > 10000 {
					return fmt.Errorf("otherLoad %v: want 0 to 10000 A", *e.OtherLoad)
				}
			}
		}
		return nil
	}
	c := byID[e.Charger]
	if c == nil {
		return fmt.Errorf("no charger %q", e.Charger)
	}
	switch {
	case e.Plug != nil || e.Unplug:
		if e.Connector < 1 || e.Connector > c.Connectors {
			return fmt.Errorf("charger %q has no connector %d", c.ID, e.Connector)
		}
		if e.Plug != nil {
			if err := e.Plug.Validate(); err != nil {
				return fmt.Errorf("plug: %w", err)
			}
		}
	case e.Input != 0:
		if e.Input != 1 && e.Input != 2 {
			return fmt.Errorf("input %d: want 1 or 2", e.Input)
		}
	case e.Power != "":
		if e.Power != "off" && e.Power != "on" {
			return fmt.Errorf("power %q: want off or on", e.Power)
		}
	case e.Link != "":
		if e.Link != "down" && e.Link != "up" {
			return fmt.Errorf("link %q: want down or up", e.Link)
		}
		if c.Mode != 3 && c.Mode != 4 {
			return fmt.Errorf("charger %q is not a slave: it has no link to cut", c.ID)
		}
	}
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }
