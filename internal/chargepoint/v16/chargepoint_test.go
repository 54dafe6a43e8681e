package v16

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// fakeCSMS is a Caller that answers from functions and records every CALL
// with the (bubble) time it was made.
type fakeCSMS struct {
	offline atomic.Bool // calls fail and Connected is false
	txID    atomic.Int64
	mu      sync.Mutex
	start   time.Time
	answers map[string]func(payload json.RawMessage) (json.RawMessage, error)
	calls   []sentCall
}

type sentCall struct {
	at      time.Duration // since start
	action  string
	payload json.RawMessage
}

func newFakeCSMS() *fakeCSMS {
	f := &fakeCSMS{start: time.Now(), answers: map[string]func(json.RawMessage) (json.RawMessage, error){}}
	f.answer("BootNotification", `{"status":"Accepted","currentTime":"2026-01-01T00:00:00Z","interval":240}`)
	f.answer("Heartbeat", `{"currentTime":"2026-01-01T00:00:00Z"}`)
	for _, a := range []string{"StatusNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification", "MeterValues",
		"SecurityEventNotification"} {
		f.answer(a, `{}`)
	}
	f.answer("Authorize", `{"idTagInfo":{"status":"Accepted"}}`)
	f.answer("StopTransaction", `{"idTagInfo":{"status":"Accepted"}}`)
	f.answers["StartTransaction"] = func(json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(fmt.Sprintf(`{"transactionId":%d,"idTagInfo":{"status":"Accepted"}}`, 100+f.txID.Add(1))), nil
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
	f.mu.Lock()
	f.calls = append(f.calls, sentCall{at: time.Since(f.start), action: action, payload: payload})
	fn := f.answers[action]
	f.mu.Unlock()
	if fn == nil {
		return nil, rpc.Errorf(rpc.NotImplemented, "%s", action)
	}
	// Like a real transport, a call ends with its context.
	type result struct {
		raw json.RawMessage
		err error
	}
	done := make(chan result, 1)
	go func() {
		raw, err := fn(payload)
		done <- result{raw, err}
	}()
	select {
	case r := <-done:
		return r.raw, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *fakeCSMS) Connected() bool { return !f.offline.Load() }

// sent returns the times of the CALLs of one action, or of all when
// action is "".
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

func (f *fakeCSMS) times(action string) []time.Duration {
	var out []time.Duration
	for _, c := range f.sent(action) {
		out = append(out, c.at)
	}
	return out
}

// start runs a charge point with in-memory settings inside a synctest
// bubble; the returned stop ends it and waits for Run to return.
func start(t *testing.T, csms *fakeCSMS, defaults map[string]string) (*ChargePoint, *config.Settings, func()) {
	t.Helper()
	r := startRig(t, csms, defaults, &kv.Mem{})
	return r.cp, r.settings, r.stop
}

// rig is a running charge point with its simulated hardware and store.
type rig struct {
	cp       *ChargePoint
	settings *config.Settings
	board    *sim.Board
	store    *kv.Mem
	stop     func() // ends Run and waits for it
	runErr   error  // what Run returned, after stop or a reset
	done     chan struct{}
}

func startRig(t *testing.T, csms *fakeCSMS, defaults map[string]string, store *kv.Mem, options ...func(*Options)) *rig {
	t.Helper()
	cat, err := config.NewCatalogue(defaults)
	if err != nil {
		t.Fatal(err)
	}
	settings, err := config.Open(cat, &config.MemStorage{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	registers, _ := LastRegisters(store, settings.Snapshot().NumberOfConnectors)
	board := sim.New(sim.Options{Connectors: settings.Snapshot().NumberOfConnectors, Registers: registers})
	opts := Options{Settings: settings, Board: board, Store: store, Clock: clock.Real{}, ReconnectSpread: time.Second}
	for _, o := range options {
		o(&opts)
	}
	board = opts.Board.(*sim.Board) // an option may bring its own
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

func seconds(ds ...int) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = time.Duration(d) * time.Second
	}
	return out
}

func equalTimes(a, b []time.Duration) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func TestAcceptedBootTakesTheIntervalAndHeartbeats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		csms.answer("BootNotification", `{"status":"Accepted","currentTime":"2026-01-01T00:00:00Z","interval":60}`)
		_, settings, stop := start(t, csms, nil)
		time.Sleep(150 * time.Second)
		stop()
		if got := settings.Snapshot().HeartbeatInterval; got != 60 {
			t.Errorf("HeartbeatInterval = %d, want the boot interval 60", got)
		}
		if v, _ := settings.Get("HeartBeatInterval"); v.Value != "60" {
			t.Errorf("HeartBeatInterval = %q, want 60", v.Value)
		}
		if got := csms.times("Heartbeat"); !equalTimes(got, seconds(60, 120)) {
			t.Errorf("heartbeats at %v, want [1m0s 2m0s]", got)
		}
		// Boot, then the status of connector 0 and 1, before anything else.
		var order []string
		for _, c := range csms.sent("")[:3] {
			order = append(order, c.action)
		}
		if strings.Join(order, " ") != "BootNotification StatusNotification StatusNotification" {
			t.Errorf("first calls %v", order)
		}
		var boot ocpp16.BootNotificationRequest
		json.Unmarshal(csms.sent("BootNotification")[0].payload, &boot)
		if boot.ChargePointVendor != "evse" || boot.ChargePointModel != "evse-sim" {
			t.Errorf("boot identity %+v", boot)
		}
	})
}

func TestHeartbeatPeriodFollowsEitherKeyAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS() // boot interval 240
		_, settings, stop := start(t, csms, nil)
		time.Sleep(30 * time.Second)
		if _, err := settings.Set("HeartbeatInterval", "10", config.ActorOCPP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(25 * time.Second) // heartbeats at 40, 50
		if _, err := settings.Set("HeartBeatInterval", "20", config.ActorOCPP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(45 * time.Second) // at 75, 95
		stop()
		if got := csms.times("Heartbeat"); !equalTimes(got, seconds(40, 50, 75, 95)) {
			t.Errorf("heartbeats at %v, want [40s 50s 1m15s 1m35s]", got)
		}
	})
}

func TestBootIntervalOutOfRangeIsClamped(t *testing.T) {
	for _, c := range []struct{ interval, want int }{{1, 10}, {0, 240}, {86400, 3600}} {
		synctest.Test(t, func(t *testing.T) {
			csms := newFakeCSMS()
			csms.answer("BootNotification", fmt.Sprintf(`{"status":"Accepted","currentTime":"2026-01-01T00:00:00Z","interval":%d}`, c.interval))
			_, settings, stop := start(t, csms, nil)
			synctest.Wait()
			stop()
			if got := settings.Snapshot().HeartbeatInterval; got != c.want {
				t.Errorf("boot interval %d: HeartbeatInterval %d, want %d", c.interval, got, c.want)
			}
		})
	}
}

func TestPendingRetriesBootAndAnswersTheCentralSystem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		csms.answer("BootNotification", `{"status":"Pending","currentTime":"2026-01-01T00:00:00Z","interval":5}`)
		cp, _, stop := start(t, csms, nil)
		time.Sleep(12 * time.Second) // boots at 0, 5, 10
		synctest.Wait()
		if cp.Registration() != ocpp16.RegistrationStatusPending {
			t.Fatalf("registration %q", cp.Registration())
		}
		// The central system may configure a pending charge point.
		out, err := cp.HandleCall(context.Background(), "ChangeConfiguration", json.RawMessage(`{"key":"HeartbeatInterval","value":"30"}`))
		if err != nil || !strings.Contains(string(out), `"Accepted"`) {
			t.Fatalf("ChangeConfiguration while pending: %s %v", out, err)
		}
		// A triggered BootNotification goes out at once.
		out, err = cp.HandleCall(context.Background(), "TriggerMessage", json.RawMessage(`{"requestedMessage":"BootNotification"}`))
		if err != nil || !strings.Contains(string(out), `"Accepted"`) {
			t.Fatalf("TriggerMessage: %s %v", out, err)
		}
		synctest.Wait()
		csms.answer("BootNotification", `{"status":"Accepted","currentTime":"2026-01-01T00:00:00Z","interval":0}`)
		time.Sleep(20 * time.Second) // next boot at 17, accepted; heartbeat every 30 from there
		time.Sleep(31 * time.Second)
		stop()
		if got := csms.times("BootNotification"); !equalTimes(got, seconds(0, 5, 10, 12, 17)) {
			t.Errorf("boots at %v, want [0s 5s 10s 12s 17s]", got)
		}
		for _, c := range csms.sent("") {
			if c.action != "BootNotification" && c.at < 17*time.Second {
				t.Errorf("%s sent at %v, before the boot was accepted", c.action, c.at)
			}
		}
		if got := csms.times("Heartbeat"); !equalTimes(got, seconds(47)) {
			t.Errorf("heartbeats at %v, want [47s]", got)
		}
	})
}

func TestRejectedSendsNothingButBootNotification(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		csms.answer("BootNotification", `{"status":"Rejected","currentTime":"2026-01-01T00:00:00Z","interval":7}`)
		cp, _, stop := start(t, csms, nil)
		time.Sleep(time.Second)
		_, err := cp.HandleCall(context.Background(), "GetConfiguration", json.RawMessage(`{}`))
		if !errors.Is(err, rpc.ErrNoAnswer) {
			t.Errorf("GetConfiguration while rejected: %v, want no answer", err)
		}
		time.Sleep(20*time.Second + 500*time.Millisecond) // past the fourth boot, not at it
		stop()
		if got := csms.times(""); !equalTimes(got, seconds(0, 7, 14, 21)) {
			t.Errorf("calls at %v, want BootNotification at [0s 7s 14s 21s] and nothing else", got)
		}
		for _, c := range csms.sent("") {
			if c.action != "BootNotification" {
				t.Errorf("sent %s while rejected", c.action)
			}
		}
	})
}

func TestBootWithoutAnswerIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		csms.mu.Lock()
		csms.answers["BootNotification"] = func(json.RawMessage) (json.RawMessage, error) { return nil, errors.New("no answer") }
		csms.mu.Unlock()
		_, _, stop := start(t, csms, nil)
		time.Sleep(61 * time.Second)
		stop()
		if got := csms.times(""); !equalTimes(got, seconds(0, 30, 60)) {
			t.Errorf("calls at %v, want boots every 30 s", got)
		}
	})
}

func call(t *testing.T, cp *ChargePoint, action, payload string) (string, error) {
	t.Helper()
	out, err := cp.HandleCall(context.Background(), action, json.RawMessage(payload))
	return string(out), err
}

func TestGetConfiguration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		cp, settings, stop := start(t, csms, nil)
		defer stop()
		synctest.Wait()
		settings.Set("AuthorizationKey", "00112233445566778899aabbccddeeff", config.ActorInstaller)

		out, err := call(t, cp, "GetConfiguration", `{}`)
		if err != nil {
			t.Fatal(err)
		}
		var all ocpp16.GetConfigurationResponse
		json.Unmarshal([]byte(out), &all)
		ocppKeys := 0
		for _, k := range settings.Catalogue().Keys() {
			if k.OverOCPP16() {
				ocppKeys++
			}
		}
		if len(all.ConfigurationKey) != ocppKeys || len(all.UnknownKey) != 0 {
			t.Fatalf("all keys: %d listed, %d unknown", len(all.ConfigurationKey), len(all.UnknownKey))
		}
		for _, kv := range all.ConfigurationKey {
			k, _ := settings.Catalogue().Lookup(kv.Key)
			if kv.Readonly != (k.Access == config.ReadOnly) {
				t.Errorf("%s readonly %v", kv.Key, kv.Readonly)
			}
			if k.Access == config.WriteOnly && kv.Value != nil {
				t.Errorf("write-only %s revealed", kv.Key)
			}
			if k.Access != config.WriteOnly && kv.Value == nil {
				t.Errorf("%s has no value", kv.Key)
			}
		}
		if err := ocpp16.ValidateResponse("GetConfiguration", json.RawMessage(out)); err != nil {
			t.Errorf("answer breaks the schema: %v", err)
		}

		// GetConfigurationMaxKeys is 1.
		_, err = call(t, cp, "GetConfiguration", `{"key":["HeartbeatInterval","ConnectionTimeOut"]}`)
		var e *rpc.Error
		if !errors.As(err, &e) || e.Code != rpc.OccurenceConstraintViolation {
			t.Errorf("two keys: %v, want OccurenceConstraintViolation", err)
		}
		out, _ = call(t, cp, "GetConfiguration", `{"key":["nosuchkey"]}`)
		if out != `{"unknownKey":["nosuchkey"]}` {
			t.Errorf("unknown key: %s", out)
		}
		out, _ = call(t, cp, "GetConfiguration", `{"key":["DlmInput1CurrOffsetCfg"]}`)
		if out != `{"configurationKey":[{"key":"DlmInput1CurrOffset Cfg","readonly":false,"value":"0"}]}` {
			t.Errorf("alias: %s", out)
		}
		out, _ = call(t, cp, "GetConfiguration", `{"key":["RfidTagFreeCharging"]}`)
		if out != `{"configurationKey":[{"key":"RfidTagFreeCharging","readonly":false,"value":""}]}` {
			t.Errorf("empty value: %s", out)
		}
	})
}

func TestChangeConfigurationStatuses(t *testing.T) {
	cases := []struct {
		key, value, status string
	}{
		{"HeartbeatInterval", "30", "Accepted"},
		{"HeartBeatInterval", "3600", "Accepted"},
		{"HeartbeatInterval", "9", "Rejected"},
		{"HeartbeatInterval", "thirty", "Rejected"},
		{"NumberOfConnectors", "2", "Rejected"},
		{"DlmState", "x", "Rejected"},
		{"NoSuchKey", "1", "NotSupported"},
		{"DlmMode", "1", "RebootRequired"},
		{"DlmMode", "DLM Slave (Master-Fixed-IP)", "RebootRequired"},
		{"DlmMode", "5", "Rejected"},
		{"DlmOperatorPhase1Limit", "10", "Accepted"},
		{"DlmOperatorPhase1Limit", "17", "Rejected"},
		{"MeterValuesSampledData", "Voltage", "Rejected"},
		{"DlmMasterIp", "10.0.0.1:4000", "RebootRequired"},
		{"DlmMasterIp", "not-an-ip", "Rejected"},
		{"AuthorizationKey", "00112233445566778899aabbccddeeff", "Accepted"},
		{"AuthorizationKey", "short", "Rejected"},
	}
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		cp, _, stop := start(t, csms, nil)
		defer stop()
		synctest.Wait()
		for _, c := range cases {
			out, err := call(t, cp, "ChangeConfiguration", fmt.Sprintf(`{"key":%q,"value":%q}`, c.key, c.value))
			if err != nil {
				t.Errorf("%s=%s: %v", c.key, c.value, err)
				continue
			}
			if want := `{"status":"` + c.status + `"}`; out != want {
				t.Errorf("%s=%s: %s, want %s", c.key, c.value, out, want)
			}
		}
	})
}

func TestCallsTheChargePointDoesNotServe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cp, _, stop := start(t, newFakeCSMS(), nil)
		defer stop()
		synctest.Wait()
		for _, c := range []struct {
			action, payload string
			code            rpc.ErrorCode
		}{
			{"FlyToTheMoon", `{}`, rpc.NotImplemented},
			{"Heartbeat", `{}`, rpc.NotSupported}, // sent by charge points
			{"SignedUpdateFirmware", `{"requestId":1,"firmware":{"location":"http://x/fw","retrieveDateTime":"2026-01-01T00:00:00Z",` +
				`"signingCertificate":"x","signature":"x"}}`, rpc.NotSupported}, // no firmware download here
			{"ChangeConfiguration", `{"key":"HeartbeatInterval"}`, rpc.OccurenceConstraintViolation},
			{"ChangeConfiguration", `{"key":"HeartbeatInterval","value":30}`, rpc.TypeConstraintViolation},
			{"GetConfiguration", `{"key":["x"],"extra":1}`, rpc.FormationViolation},
			{"TriggerMessage", `{"requestedMessage":"Coffee"}`, rpc.PropertyConstraintViolation},
		} {
			_, err := call(t, cp, c.action, c.payload)
			var e *rpc.Error
			if !errors.As(err, &e) || e.Code != c.code {
				t.Errorf("%s %s: %v, want %s", c.action, c.payload, err, c.code)
			}
		}
	})
}

func TestTriggerMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		cp, _, stop := start(t, csms, nil)
		defer stop()
		synctest.Wait()
		before := len(csms.sent("StatusNotification"))
		for _, c := range []struct{ payload, status string }{
			{`{"requestedMessage":"StatusNotification","connectorId":1}`, "Accepted"},
			{`{"requestedMessage":"StatusNotification","connectorId":2}`, "Rejected"},
			{`{"requestedMessage":"Heartbeat"}`, "Accepted"},
			{`{"requestedMessage":"FirmwareStatusNotification"}`, "Accepted"},
			{`{"requestedMessage":"DiagnosticsStatusNotification"}`, "Accepted"},
			{`{"requestedMessage":"MeterValues","connectorId":1}`, "Accepted"},
		} {
			out, err := call(t, cp, "TriggerMessage", c.payload)
			if err != nil || out != `{"status":"`+c.status+`"}` {
				t.Errorf("%s: %s %v, want %s", c.payload, out, err, c.status)
			}
			synctest.Wait()
		}
		sn := csms.sent("StatusNotification")[before:]
		if len(sn) != 1 || !strings.Contains(string(sn[0].payload), `"connectorId":1`) {
			t.Errorf("triggered status notifications: %v", sn)
		}
		if len(csms.sent("Heartbeat")) != 1 || len(csms.sent("FirmwareStatusNotification")) != 1 || len(csms.sent("DiagnosticsStatusNotification")) != 1 {
			t.Errorf("triggered messages not sent: %v", csms.sent(""))
		}
		if mv := csms.sent("MeterValues"); len(mv) != 1 || !strings.Contains(string(mv[0].payload), `"context":"Trigger"`) {
			t.Errorf("triggered meter values: %v", mv)
		}
	})
}

func TestTriggeredBootAnsweredPendingWaitsTheInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		cp, _, stop := start(t, csms, nil)
		time.Sleep(10 * time.Second)
		csms.answer("BootNotification", `{"status":"Pending","currentTime":"2026-01-01T00:00:00Z","interval":60}`)
		call(t, cp, "TriggerMessage", `{"requestedMessage":"BootNotification"}`)
		time.Sleep(100 * time.Second)
		stop()
		if got := csms.times("BootNotification"); !equalTimes(got, seconds(0, 10, 70)) {
			t.Errorf("boots at %v, want [0s 10s 1m10s]: the pending interval is waited", got)
		}
		if cp.Registration() != ocpp16.RegistrationStatusPending {
			t.Errorf("registration %q", cp.Registration())
		}
		for _, c := range csms.sent("Heartbeat") {
			if c.at > 10*time.Second {
				t.Errorf("heartbeat at %v while pending", c.at)
			}
		}
	})
}

func TestBootIsRetriedAtOnceWhenTheConnectionComesBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		csms.mu.Lock()
		csms.answers["BootNotification"] = func(json.RawMessage) (json.RawMessage, error) { return nil, errors.New("connection lost") }
		csms.mu.Unlock()
		cp, _, stop := start(t, csms, nil)
		time.Sleep(5 * time.Second)
		csms.answer("BootNotification", `{"status":"Accepted","currentTime":"2026-01-01T00:00:00Z","interval":240}`)
		cp.Connected()
		synctest.Wait()
		stop()
		if got := csms.times("BootNotification"); !equalTimes(got, seconds(0, 5)) {
			t.Errorf("boots at %v, want [0s 5s]: at once on reconnect, not after 30 s", got)
		}
	})
}

// While a goroutine is busy in a slow CALL, news for it piles up; none of
// it is lost, and repeated news coalesces.
func TestNewsWhileBusyIsNotLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		release := make(chan struct{})
		blocked := func(answer string) func(json.RawMessage) (json.RawMessage, error) {
			return func(json.RawMessage) (json.RawMessage, error) {
				<-release
				return json.RawMessage(answer), nil
			}
		}
		cp, settings, stop := start(t, csms, nil)
		synctest.Wait()
		csms.mu.Lock()
		csms.answers["Heartbeat"] = blocked(`{"currentTime":"2026-01-01T00:00:00Z"}`)
		csms.answers["StatusNotification"] = blocked(`{}`)
		csms.mu.Unlock()
		call(t, cp, "TriggerMessage", `{"requestedMessage":"Heartbeat"}`)
		call(t, cp, "TriggerMessage", `{"requestedMessage":"StatusNotification","connectorId":0}`)
		synctest.Wait() // the link is blocked in the Heartbeat, the reporter in a StatusNotification
		before := len(csms.sent("StatusNotification"))
		for range 40 {
			call(t, cp, "TriggerMessage", `{"requestedMessage":"StatusNotification","connectorId":1}`)
			call(t, cp, "TriggerMessage", `{"requestedMessage":"FirmwareStatusNotification"}`)
		}
		settings.Set("HeartbeatInterval", "10", config.ActorOCPP)
		close(release)
		time.Sleep(25 * time.Second)
		stop()
		// One StatusNotification for connector 1, however often it was
		// triggered (connector 0's was still waiting behind the
		// Heartbeat: the link sends one CALL at a time).
		ones := 0
		for _, c := range csms.sent("StatusNotification")[before:] {
			if strings.Contains(string(c.payload), `"connectorId":1`) {
				ones++
			}
		}
		if ones != 1 {
			t.Errorf("StatusNotifications of connector 1 after the busy spell: %d, want 1", ones)
		}
		if n := len(csms.sent("FirmwareStatusNotification")); n != 1 {
			t.Errorf("%d FirmwareStatusNotifications, want 1", n)
		}
		hb := csms.times("Heartbeat")
		if len(hb) != 3 || hb[2]-hb[1] != 10*time.Second {
			t.Errorf("heartbeats at %v: the new 10 s interval was lost", hb)
		}
	})
}

// A status that changes while the one before it is on its way is reported
// too (it was lost when the change raced the answer).
func TestStatusChangingWhileTheLastIsSentIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, nil, &kv.Mem{})
		synctest.Wait()
		release := make(chan struct{})
		csms.mu.Lock()
		csms.answers["StatusNotification"] = func(json.RawMessage) (json.RawMessage, error) {
			<-release
			return json.RawMessage(`{}`), nil
		}
		csms.mu.Unlock()
		r.board.SetFault(1, "GroundFailure")
		synctest.Wait() // Faulted is on its way
		r.board.SetFault(1, "")
		synctest.Wait()
		close(release)
		time.Sleep(time.Second)
		r.stop()
		if got := strings.Join(statuses(csms, 1), " "); got != "Available Faulted Available" {
			t.Errorf("statuses %q", got)
		}
	})
}

// key is a key of the store's buckets: a number, zero-padded.
func key(n int64) string { return fmt.Sprintf("%020d", n) }

// journalLen counts the journal's entries in the store.
func journalLen(store kv.Store) int {
	n := 0
	store.View(func(tx kv.Tx) error {
		return tx.ForEach("journal", func(string, []byte) error { n++; return nil })
	})
	return n
}

// evRetryAfter is the core's default wait before an EV that was done is
// offered current again.
const evRetryAfter = 15 * time.Minute
