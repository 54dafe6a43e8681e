package chargepoint_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/model"
)

// settings returns the default settings of a unit with n connectors.
func settings(tb testing.TB, n int, set map[string]string) *config.Snapshot {
	tb.Helper()
	defaults := model.Default().ConfigDefaults()
	defaults["NumberOfConnectors"] = string(rune('0' + n))
	for k, v := range set {
		defaults[k] = v
	}
	cat, err := config.NewCatalogue(defaults)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := config.Open(cat, &config.MemStorage{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return s.Snapshot()
}

func newCore(tb testing.TB, s *config.Snapshot) *chargepoint.Core {
	tb.Helper()
	c, err := chargepoint.New(chargepoint.Config{Connectors: s.NumberOfConnectors, MaxCurrent: 32}, s, chargepoint.Restored{})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// answerAll answers every CALL of rd as an accepting central system would.
func answerAll(c *chargepoint.Core, now time.Time, rd chargepoint.Ready) {
	// Ready's slices are only valid until the next Step: copy the calls.
	var calls []chargepoint.Message
	for _, m := range rd.Messages {
		if m.Call != 0 {
			calls = append(calls, m)
		}
	}
	for _, m := range calls {
		var answer any
		switch m.Body.(type) {
		case chargepoint.BootNotification:
			answer = chargepoint.BootAnswer{Status: chargepoint.Accepted, Interval: time.Hour}
		case chargepoint.TxMessage:
			answer = chargepoint.StartAnswer{TransactionID: 7, Info: chargepoint.AuthInfo{Status: chargepoint.AuthAccepted}}
		case chargepoint.Authorize:
			answer = chargepoint.AuthorizeAnswer{Info: chargepoint.AuthInfo{Status: chargepoint.AuthAccepted}}
		}
		c.Step(now, nil, chargepoint.Answered{Call: m.Call, Answer: answer})
		answerAll(c, now, c.Ready())
	}
}

// BenchmarkCoreStep: one second of a charge point with two connectors
// both charging, online, sampling every 10 s: a Tick with the meters'
// readings, the Ready that follows, and the central system's answers to
// what it sent. Figures: the cost of a step of the charging core alone.
func BenchmarkCoreStep(b *testing.B) {
	s := settings(b, 2, map[string]string{"MeterValueSampleInterval": "10"})
	c := newCore(b, s)
	now := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	meters := []hw.Reading{{}, {}}
	step := func(ev chargepoint.Event) {
		c.Step(now, meters, ev)
		answerAll(c, now, c.Ready())
	}
	step(chargepoint.Started{Sensed: []chargepoint.Sensed{{Connector: 1, Pilot: hw.PilotA}, {Connector: 2, Pilot: hw.PilotA}}})
	step(chargepoint.LinkUp{})
	for id := 1; id <= 2; id++ {
		step(chargepoint.TagPresented{Connector: id, IDTag: "TAG" + string(rune('0'+id))})
		step(chargepoint.Sensed{Connector: id, Pilot: hw.PilotC})
	}
	charging := 0
	for _, st := range c.ConnectorStates() {
		if st.Status == chargepoint.Charging || st.Status == chargepoint.SuspendedEV {
			charging++
		}
	}
	if charging != 2 {
		b.Fatalf("connectors %+v, want both in a session", c.ConnectorStates())
	}
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		for i := range meters {
			meters[i].EnergyWh += 3
			meters[i].Current = [3]float64{16, 16, 16}
			meters[i].PowerW = 11000
		}
		step(chargepoint.Tick{})
	}
}

// BenchmarkIdleCoreMemory builds many idle cores with two connectors
// each, no link, started and settled, and reports the heap one keeps
// (aim: under 8 KB). The settings snapshot is shared, as a runner shares
// one per charge point with its settings.
func BenchmarkIdleCoreMemory(b *testing.B) {
	const n = 1000
	s := settings(b, 2, nil)
	now := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	var perCore float64
	for b.Loop() {
		before := heapInUse()
		cores := make([]*chargepoint.Core, n)
		for i := range cores {
			c := newCore(b, s)
			c.Step(now, nil, chargepoint.Started{Sensed: []chargepoint.Sensed{{Connector: 1, Pilot: hw.PilotA}, {Connector: 2, Pilot: hw.PilotA}}})
			c.Ready()
			c.Step(now.Add(time.Minute), nil, chargepoint.Tick{})
			c.Ready()
			cores[i] = c
		}
		perCore = float64(heapInUse()-before) / n
		runtime.KeepAlive(cores)
	}
	b.ReportMetric(perCore, "B/core")
}

func heapInUse() int64 {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
