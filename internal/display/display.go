// Package display is the charging station's display messages, OCPP
// 2.0.1's functional block O: the messages a central system sets
// (SetDisplayMessage), asks for (GetDisplayMessages) and clears
// (ClearDisplayMessage), the rules a new message must pass, and which of
// them the display shows at a moment.
//
// # Basics
//
// A [Message] is protocol-neutral: a 2.0.1 transactionId is kept as the
// station's local id of the transaction. [Check] decides whether a
// message can be set, [Select] what the display shows now, [StatesOf]
// the states (Charging, Faulted, Idle, Unavailable) a station's status
// puts the display in; they are pure. A [Board] holds the messages of one
// station in its store, so that they survive a restart as a real
// display's configuration does: it is their one owner.
//
// # Caveats
//
// A message of a transaction is removed when the transaction is no
// longer running, and a message past its end when its end has come: at
// the first look after (Set, List, or what the display shows), not by a
// timer. The station has one display; the display component a message
// names is kept and reported back, not used to choose a screen.
package display

import (
	"cmp"
	"net/url"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/evse-dev/evse/internal/chargepoint"
)

// Priority is how a message competes with the others for the screen.
type Priority string

// Priorities, the highest first.
const (
	// AlwaysFront: shown alone while it applies; the newest wins.
	AlwaysFront Priority = "AlwaysFront"
	// InFront: shown before the normal cycle; several cycle among
	// themselves.
	InFront Priority = "InFront"
	// NormalCycle: shown in the cycle of messages.
	NormalCycle Priority = "NormalCycle"
)

// State is a state of the station a message is shown in.
type State string

// States.
const (
	Charging    State = "Charging"
	Faulted     State = "Faulted"
	Idle        State = "Idle"
	Unavailable State = "Unavailable"
)

// Format is how a message's content is written.
type Format string

// Formats.
const (
	ASCII Format = "ASCII"
	HTML  Format = "HTML"
	URI   Format = "URI"
	UTF8  Format = "UTF8"
)

// Component is the display component a message names, kept as given.
type Component struct {
	Name     string `json:"name"`
	Instance string `json:"instance,omitempty"`
	// EVSE and Connector are 0 when not given.
	EVSE      int `json:"evse,omitempty"`
	Connector int `json:"connector,omitempty"`
}

// Message is one display message.
type Message struct {
	ID       int      `json:"id"`
	Priority Priority `json:"priority"`
	// State is the state it is shown in; "": any.
	State State `json:"state,omitempty"`
	// Start and End bound when it is shown; zero: unbounded.
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
	// Transaction is the local id of the station's transaction the
	// message belongs to (shown during it, removed after it); 0: none.
	Transaction int64  `json:"transaction,omitempty"`
	Format      Format `json:"format"`
	Language    string `json:"language,omitempty"`
	Content     string `json:"content"`
	// Display is the display component named; nil: none.
	Display *Component `json:"display,omitempty"`
	// Seq orders messages by when they were set: the newest is highest.
	Seq uint64 `json:"seq"`
}

// DefaultMax is how many messages a display holds unless its
// Capabilities say otherwise (DisplayMessageCtrlr's
// NumberOfDisplayMessages maxLimit).
const DefaultMax = 50

// Capabilities are what a display can show. The zero value is a display
// of every format, priority and state, holding DefaultMax messages.
type Capabilities struct {
	// Formats, Priorities and States supported; nil: all.
	Formats    []Format
	Priorities []Priority
	States     []State
	// Max is how many messages it holds; 0: DefaultMax.
	Max int
}

// AllFormats, AllPriorities and AllStates are every value, in the order
// 2.0.1 lists them.
var (
	AllFormats    = []Format{ASCII, HTML, URI, UTF8}
	AllPriorities = []Priority{AlwaysFront, InFront, NormalCycle}
	AllStates     = []State{Charging, Faulted, Idle, Unavailable}
)

// Filled returns c with its defaults filled in.
func (c Capabilities) Filled() Capabilities {
	if c.Formats == nil {
		c.Formats = AllFormats
	}
	if c.Priorities == nil {
		c.Priorities = AllPriorities
	}
	if c.States == nil {
		c.States = AllStates
	}
	if c.Max <= 0 {
		c.Max = DefaultMax
	}
	return c
}

// Outcome is what setting a message comes to, with 2.0.1's names
// (DisplayMessageStatusEnumType).
type Outcome string

// Outcomes.
const (
	Accepted                  Outcome = "Accepted"
	NotSupportedMessageFormat Outcome = "NotSupportedMessageFormat"
	NotSupportedPriority      Outcome = "NotSupportedPriority"
	NotSupportedState         Outcome = "NotSupportedState"
	UnknownTransaction        Outcome = "UnknownTransaction"
	Rejected                  Outcome = "Rejected"
)

// Reason codes of a Rejected message.
const (
	ReasonInvalidValue = "InvalidValue" // content not of its format, empty, or End not after Start
	ReasonExpired      = "Expired"      // End has passed
	ReasonFull         = "TooManyElements"
)

// Ongoing tells whether the station's transaction of a local id runs.
type Ongoing func(local int64) bool

// Check decides whether m can be set on a display of caps that holds
// held, at now: the first rule it breaks, in the order format,
// priority, state, transaction, content and time, room. A message with
// the id of a held one replaces it and takes no more room.
func Check(m Message, caps Capabilities, held []Message, now time.Time, ongoing Ongoing) (Outcome, string) {
	caps = caps.Filled()
	switch {
	case !slices.Contains(caps.Formats, m.Format):
		return NotSupportedMessageFormat, ""
	case !slices.Contains(caps.Priorities, m.Priority):
		return NotSupportedPriority, ""
	case m.State != "" && !slices.Contains(caps.States, m.State):
		return NotSupportedState, ""
	case m.Transaction != 0 && (ongoing == nil || !ongoing(m.Transaction)):
		return UnknownTransaction, ""
	case !validContent(m.Format, m.Content):
		return Rejected, ReasonInvalidValue
	case !m.Start.IsZero() && !m.End.IsZero() && !m.End.After(m.Start):
		return Rejected, ReasonInvalidValue
	case !m.End.IsZero() && !now.Before(m.End):
		return Rejected, ReasonExpired
	}
	others := 0
	for _, h := range held {
		if h.ID != m.ID {
			others++
		}
	}
	if others >= caps.Max {
		return Rejected, ReasonFull
	}
	return Accepted, ""
}

// validContent reports whether content is written in format: not
// empty; ASCII only 7-bit characters; a URI absolute; UTF8 and HTML
// valid UTF-8.
func validContent(f Format, content string) bool {
	if content == "" || !utf8.ValidString(content) {
		return false
	}
	switch f {
	case ASCII:
		for i := 0; i < len(content); i++ {
			if content[i] >= 0x80 {
				return false
			}
		}
	case URI:
		u, err := url.Parse(content)
		return err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque != "")
	}
	return true
}

// StateSet is the states a station is in at once, one per EVSE.
type StateSet map[State]bool

// StatesOf is the states a station in status st puts its display in:
// Faulted or Unavailable when the station itself (connector 0) is; else
// each connector's: Faulted, Unavailable, Charging while it has a
// transaction, else Idle.
func StatesOf(st chargepoint.Status) StateSet {
	set := StateSet{}
	if len(st.Connectors) > 0 {
		switch st.Connectors[0].Status {
		case chargepoint.Faulted:
			set[Faulted] = true
			return set
		case chargepoint.Unavailable:
			set[Unavailable] = true
			return set
		}
	}
	for _, c := range st.Connectors[min(1, len(st.Connectors)):] {
		switch {
		case c.Status == chargepoint.Faulted:
			set[Faulted] = true
		case c.Status == chargepoint.Unavailable:
			set[Unavailable] = true
		case c.Transaction != nil:
			set[Charging] = true
		default:
			set[Idle] = true
		}
	}
	return set
}

// OngoingIn tells whether a transaction of st runs, by local id.
func OngoingIn(st chargepoint.Status) Ongoing {
	return func(local int64) bool {
		for _, c := range st.Connectors {
			if c.Transaction != nil && c.Transaction.LocalID == local {
				return true
			}
		}
		return false
	}
}

// Stale reports whether m is to be removed at now: its end has come, or
// its transaction no longer runs.
func Stale(m Message, now time.Time, ongoing Ongoing) bool {
	return !m.End.IsZero() && !now.Before(m.End) || m.Transaction != 0 && (ongoing == nil || !ongoing(m.Transaction))
}

// applies reports whether m is to be shown at now in states.
func applies(m Message, now time.Time, states StateSet, ongoing Ongoing) bool {
	return (m.Start.IsZero() || !now.Before(m.Start)) && !Stale(m, now, ongoing) && (m.State == "" || states[m.State])
}

// Select is what the display shows at now, in states: the newest
// AlwaysFront message that applies, alone; else the InFront ones that
// apply; else the NormalCycle ones; the ones of a cycle in the order
// they were set.
func Select(msgs []Message, now time.Time, states StateSet, ongoing Ongoing) []Message {
	var front, in, normal []Message
	for _, m := range msgs {
		if !applies(m, now, states, ongoing) {
			continue
		}
		switch m.Priority {
		case AlwaysFront:
			front = append(front, m)
		case InFront:
			in = append(in, m)
		default:
			normal = append(normal, m)
		}
	}
	bySeq := func(a, b Message) int { return cmp.Compare(a.Seq, b.Seq) }
	switch {
	case len(front) > 0:
		return []Message{slices.MaxFunc(front, bySeq)}
	case len(in) > 0:
		slices.SortFunc(in, bySeq)
		return in
	}
	slices.SortFunc(normal, bySeq)
	return normal
}

// Query is what GetDisplayMessages asks for: every criterion given must
// hold (zero values: any).
type Query struct {
	IDs      []int
	Priority Priority
	State    State
}

// Matches reports whether m meets q.
func (q Query) Matches(m Message) bool {
	return (len(q.IDs) == 0 || slices.Contains(q.IDs, m.ID)) &&
		(q.Priority == "" || m.Priority == q.Priority) && (q.State == "" || m.State == q.State)
}
