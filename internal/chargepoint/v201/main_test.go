package v201

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint/station"
	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/leakcheck"
	"github.com/evse-dev/evse/internal/ocpp201"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// fakeCSMS is a 2.0.1 CSMS in the test's process: it records the
// station's CALLs, checks each against the 2.0.1 schemas, and answers
// with answers checked too.
type fakeCSMS struct {
	t       *testing.T
	offline atomic.Bool
	mu      sync.Mutex
	start   time.Time
	answers map[string]func(json.RawMessage) (json.RawMessage, error)
	calls   []sentCall
}

type sentCall struct {
	at      time.Duration
	action  string
	payload json.RawMessage
}

func newFakeCSMS(t *testing.T) *fakeCSMS {
	f := &fakeCSMS{t: t, start: time.Now(), answers: map[string]func(json.RawMessage) (json.RawMessage, error){}}
	f.answer("BootNotification", `{"status":"Accepted","currentTime":"2026-01-01T00:00:00Z","interval":240}`)
	f.answer("Heartbeat", `{"currentTime":"2026-01-01T00:00:00Z"}`)
	f.answer("Authorize", `{"idTokenInfo":{"status":"Accepted"}}`)
	for _, a := range []string{"StatusNotification", "MeterValues", "NotifyReport", "SecurityEventNotification",
		"ReportChargingProfiles", "NotifyChargingLimit", "ClearedChargingLimit", "ReservationStatusUpdate",
		"LogStatusNotification", "NotifyEvent", "NotifyMonitoringReport", "NotifyCustomerInformation"} {
		f.answer(a, `{}`)
	}
	f.answers["TransactionEvent"] = func(p json.RawMessage) (json.RawMessage, error) {
		var r ocpp201.TransactionEventRequest
		json.Unmarshal(p, &r)
		if r.IdToken != nil {
			return json.RawMessage(`{"idTokenInfo":{"status":"Accepted"}}`), nil
		}
		return json.RawMessage(`{}`), nil
	}
	return f
}

func (f *fakeCSMS) answer(action, payload string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[action] = func(json.RawMessage) (json.RawMessage, error) { return json.RawMessage(payload), nil }
}

func (f *fakeCSMS) Call(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	if f.offline.Load() {
		return nil, errors.New("fake: connection lost")
	}
	if err := ocpp201.ValidateRequest(action, payload); err != nil {
		f.t.Errorf("the station sent an invalid %s: %v\n%s", action, err, payload)
	}
	f.mu.Lock()
	f.calls = append(f.calls, sentCall{at: time.Since(f.start), action: action, payload: payload})
	fn := f.answers[action]
	f.mu.Unlock()
	if fn == nil {
		return nil, rpc.Errorf(rpc.NotImplemented, "%s", action)
	}
	out, err := fn(payload)
	if err == nil {
		if verr := ocpp201.ValidateResponse(action, out); verr != nil {
			f.t.Fatalf("the test's answer to %s is invalid: %v", action, verr)
		}
	}
	return out, err
}

func (f *fakeCSMS) Connected() bool { return !f.offline.Load() }

// sent returns the CALLs of one action, or all for "".
func (f *fakeCSMS) sent(action string) []sentCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sentCall
	for _, c := range f.calls {
		if action == "" || c.action == action {
			out = append(out, c)
		}
	}
	return out
}

// decode reads a sent CALL's payload.
func decode[T any](t *testing.T, c sentCall) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(c.payload, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// rig is a running 2.0.1 station with its simulated hardware and store.
type rig struct {
	cp       *ChargePoint
	settings *config.Settings
	board    *sim.Board
	store    *kv.Mem
	stop     func()
	done     chan struct{}
	runErr   error
}

// startRig starts a station with these defaults on top of the
// catalogue's, with the options each of with changes.
func startRig(t *testing.T, csms *fakeCSMS, defaults map[string]string, store *kv.Mem, with ...func(*station.Options)) *rig {
	t.Helper()
	cat, err := config.NewCatalogue(defaults)
	if err != nil {
		t.Fatal(err)
	}
	settings, err := config.Open(cat, &config.MemStorage{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	board := sim.New(sim.Options{Connectors: settings.Snapshot().NumberOfConnectors})
	opts := station.Options{Settings: settings, Board: board, Store: store, Clock: clock.Real{},
		ReconnectSpread: time.Second, ID: "CS-1"}
	for _, w := range with {
		w(&opts)
	}
	cp, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{cp: cp, settings: settings, board: board, store: store, done: make(chan struct{})}
	go func() {
		r.runErr = cp.Run(ctx, csms)
		close(r.done)
	}()
	go board.Run(ctx)
	r.stop = func() { cancel(); <-r.done }
	return r
}

// call sends the station a CALL of the CSMS, checked against the 2.0.1
// schemas both ways.
func call(t *testing.T, cp *ChargePoint, action, payload string) (string, error) {
	t.Helper()
	if err := ocpp201.ValidateRequest(action, json.RawMessage(payload)); err != nil {
		t.Fatalf("the test's %s is invalid: %v", action, err)
	}
	out, err := cp.HandleCall(context.Background(), action, json.RawMessage(payload))
	if err == nil {
		if verr := ocpp201.ValidateResponse(action, out); verr != nil {
			t.Errorf("the station's answer to %s is invalid: %v\n%s", action, verr, out)
		}
	}
	return string(out), err
}

// mustCall is call, failing on an error, and the answer decoded.
func mustCall(t *testing.T, cp *ChargePoint, action, payload string) map[string]any {
	t.Helper()
	out, err := call(t, cp, action, payload)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func status(m map[string]any) string { return fmt.Sprint(m["status"]) }
