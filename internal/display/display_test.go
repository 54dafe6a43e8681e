package display

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/kv"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func running(ids ...int64) Ongoing {
	return func(local int64) bool { return slices.Contains(ids, local) }
}

func TestSelect(t *testing.T) {
	msg := func(id int, p Priority, seq uint64, f func(*Message)) Message {
		m := Message{ID: id, Priority: p, Format: UTF8, Content: "m", Seq: seq}
		if f != nil {
			f(&m)
		}
		return m
	}
	idle, charging := StateSet{Idle: true}, StateSet{Charging: true}
	tests := []struct {
		name    string
		msgs    []Message
		now     time.Time
		states  StateSet
		ongoing Ongoing
		want    []int
	}{
		{"none", nil, t0, idle, nil, nil},
		{"normal cycle in the order set", []Message{msg(1, NormalCycle, 3, nil), msg(2, NormalCycle, 1, nil)}, t0, idle, nil, []int{2, 1}},
		{"in front hides the normal cycle", []Message{msg(1, NormalCycle, 1, nil), msg(2, InFront, 3, nil), msg(3, InFront, 2, nil)}, t0, idle, nil, []int{3, 2}},
		{"the newest always-front alone", []Message{msg(1, AlwaysFront, 1, nil), msg(2, InFront, 2, nil), msg(3, AlwaysFront, 3, nil)}, t0, idle, nil, []int{3}},
		{"not before its start", []Message{msg(1, AlwaysFront, 2, func(m *Message) { m.Start = t0.Add(time.Minute) }), msg(2, NormalCycle, 1, nil)}, t0, idle, nil, []int{2}},
		{"from its start", []Message{msg(1, NormalCycle, 1, func(m *Message) { m.Start = t0 })}, t0, idle, nil, []int{1}},
		{"not from its end", []Message{msg(1, NormalCycle, 1, func(m *Message) { m.End = t0 })}, t0, idle, nil, nil},
		{"until its end", []Message{msg(1, NormalCycle, 1, func(m *Message) { m.End = t0.Add(time.Second) })}, t0, idle, nil, []int{1}},
		{"in its state only", []Message{msg(1, NormalCycle, 1, func(m *Message) { m.State = Charging }), msg(2, NormalCycle, 2, func(m *Message) { m.State = Idle })}, t0, charging, nil, []int{1}},
		{"an always-front of another state hides nothing", []Message{msg(1, AlwaysFront, 2, func(m *Message) { m.State = Faulted }), msg(2, NormalCycle, 1, nil)}, t0, idle, nil, []int{2}},
		{"during its transaction", []Message{msg(1, InFront, 1, func(m *Message) { m.Transaction = 7 })}, t0, charging, running(7), []int{1}},
		{"not after its transaction", []Message{msg(1, InFront, 1, func(m *Message) { m.Transaction = 7 }), msg(2, NormalCycle, 2, nil)}, t0, charging, running(8), []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for _, m := range Select(tt.msgs, tt.now, tt.states, tt.ongoing) {
				got = append(got, m.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("shown %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	ok := Message{ID: 1, Priority: NormalCycle, Format: UTF8, Content: "Grüß dich"}
	with := func(f func(*Message)) Message { m := ok; f(&m); return m }
	narrow := Capabilities{Formats: []Format{ASCII}, Priorities: []Priority{NormalCycle}, States: []State{Idle}, Max: 2}
	held := []Message{{ID: 1}, {ID: 2}}
	tests := []struct {
		name   string
		m      Message
		caps   Capabilities
		held   []Message
		want   Outcome
		reason string
	}{
		{"accepted", ok, Capabilities{}, nil, Accepted, ""},
		{"format", ok, narrow, nil, NotSupportedMessageFormat, ""},
		{"priority", with(func(m *Message) { m.Format, m.Content, m.Priority = ASCII, "a", InFront }), narrow, nil, NotSupportedPriority, ""},
		{"state", with(func(m *Message) { m.Format, m.Content, m.State = ASCII, "a", Charging }), narrow, nil, NotSupportedState, ""},
		{"a transaction not running", with(func(m *Message) { m.Transaction = 9 }), Capabilities{}, nil, UnknownTransaction, ""},
		{"a running transaction", with(func(m *Message) { m.Transaction = 7 }), Capabilities{}, nil, Accepted, ""},
		{"ASCII with other characters", with(func(m *Message) { m.Format = ASCII }), Capabilities{}, nil, Rejected, ReasonInvalidValue},
		{"a URI that is none", with(func(m *Message) { m.Format, m.Content = URI, "no uri" }), Capabilities{}, nil, Rejected, ReasonInvalidValue},
		{"a URI", with(func(m *Message) { m.Format, m.Content = URI, "https://example.com/tariff" }), Capabilities{}, nil, Accepted, ""},
		{"empty", with(func(m *Message) { m.Content = "" }), Capabilities{}, nil, Rejected, ReasonInvalidValue},
		{"ends before it starts", with(func(m *Message) { m.Start, m.End = t0.Add(time.Hour), t0.Add(time.Minute) }), Capabilities{}, nil, Rejected, ReasonInvalidValue},
		{"ended", with(func(m *Message) { m.End = t0 }), Capabilities{}, nil, Rejected, ReasonExpired},
		{"full", with(func(m *Message) { m.ID, m.Format, m.Content = 3, ASCII, "a" }), narrow, held, Rejected, ReasonFull},
		{"a replacement when full", with(func(m *Message) { m.ID, m.Format, m.Content = 2, ASCII, "a" }), narrow, held, Accepted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := Check(tt.m, tt.caps, tt.held, t0, running(7))
			if got != tt.want || reason != tt.reason {
				t.Errorf("Check = %s %q, want %s %q", got, reason, tt.want, tt.reason)
			}
		})
	}
}

func TestStatesOf(t *testing.T) {
	conn := func(id int, s chargepoint.ConnectorState, tx bool) chargepoint.ConnectorStatus {
		c := chargepoint.ConnectorStatus{ID: id, Status: s}
		if tx {
			c.Transaction = &chargepoint.TxStatus{LocalID: 1}
		}
		return c
	}
	tests := []struct {
		name string
		st   []chargepoint.ConnectorStatus
		want StateSet
	}{
		{"idle", []chargepoint.ConnectorStatus{conn(0, chargepoint.Available, false), conn(1, chargepoint.Available, false)}, StateSet{Idle: true}},
		{"charging and idle", []chargepoint.ConnectorStatus{conn(0, chargepoint.Available, false), conn(1, chargepoint.Charging, true), conn(2, chargepoint.Preparing, false)}, StateSet{Charging: true, Idle: true}},
		{"a faulted connector", []chargepoint.ConnectorStatus{conn(0, chargepoint.Available, false), conn(1, chargepoint.Faulted, false)}, StateSet{Faulted: true}},
		{"an unavailable station", []chargepoint.ConnectorStatus{conn(0, chargepoint.Unavailable, false), conn(1, chargepoint.Charging, true)}, StateSet{Unavailable: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := StatesOf(chargepoint.Status{Connectors: tt.st})
			if len(got) != len(tt.want) {
				t.Fatalf("states %v, want %v", got, tt.want)
			}
			for s := range tt.want {
				if !got[s] {
					t.Errorf("states %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestQueryMatches(t *testing.T) {
	m := Message{ID: 4, Priority: InFront, State: Idle}
	for _, tt := range []struct {
		q    Query
		want bool
	}{
		{Query{}, true},
		{Query{IDs: []int{1, 4}}, true},
		{Query{IDs: []int{1}}, false},
		{Query{IDs: []int{4}, Priority: InFront, State: Idle}, true},
		{Query{IDs: []int{4}, Priority: NormalCycle}, false},
		{Query{State: Charging}, false},
	} {
		if got := tt.q.Matches(m); got != tt.want {
			t.Errorf("%+v matches %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestBoardKeepsMessagesAcrossAReopen(t *testing.T) {
	store := &kv.Mem{}
	b, err := Open(store, Capabilities{Max: 2})
	if err != nil {
		t.Fatal(err)
	}
	set := func(b *Board, m Message) Outcome {
		t.Helper()
		out, _, err := b.Set(m, t0, running(7))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	set(b, Message{ID: 1, Priority: NormalCycle, Format: UTF8, Content: "one"})
	set(b, Message{ID: 2, Priority: InFront, Format: UTF8, Content: "two", Transaction: 7})
	if out := set(b, Message{ID: 3, Priority: InFront, Format: UTF8, Content: "three"}); out != Rejected {
		t.Errorf("a third message on a display of two: %s", out)
	}
	set(b, Message{ID: 1, Priority: NormalCycle, Format: UTF8, Content: "one again"})

	b, err = Open(store, Capabilities{Max: 2})
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.List(t0, running(7))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Content != "one again" || got[1].Transaction != 7 || got[0].Seq <= got[1].Seq {
		t.Fatalf("after a reopen: %+v", got)
	}
	// Transaction 7 ended: its message goes, durably.
	if got, _ := b.List(t0, running()); len(got) != 1 || got[0].ID != 1 {
		t.Fatalf("after the transaction: %+v", got)
	}
	if ok, _ := b.Clear(2); ok {
		t.Error("cleared the message of an ended transaction again")
	}
	if ok, err := b.Clear(1); !ok || err != nil {
		t.Errorf("Clear(1) = %v, %v", ok, err)
	}
	b, _ = Open(store, Capabilities{})
	if got, _ := b.List(t0, running(7)); len(got) != 0 {
		t.Errorf("left after clearing: %+v", got)
	}
}

func TestBoardChangesNothingWhenTheStoreFails(t *testing.T) {
	store := &kv.Mem{}
	b, _ := Open(store, Capabilities{})
	store.SetFail(errors.New("disk full"))
	if _, _, err := b.Set(Message{ID: 1, Priority: NormalCycle, Format: UTF8, Content: "x"}, t0, nil); err == nil {
		t.Fatal("Set succeeded on a failing store")
	}
	store.SetFail(nil)
	if got, _ := b.List(t0, nil); len(got) != 0 {
		t.Errorf("held after a failed Set: %+v", got)
	}
}
