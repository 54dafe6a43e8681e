package chargepoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/model"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// Caller sends the charge point's CALLs to the central system.
type Caller interface {
	// Call sends a CALL and returns the CALLRESULT payload, or an error
	// (an *rpc.Error for a CALLERROR).
	Call(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error)
	// Connected reports whether the central system is reachable now.
	Connected() bool
}

// Options configure a [ChargePoint]. Settings, Board and Store are
// required; the zero value of the others works.
type Options struct {
	Model    model.Model
	Settings *config.Settings
	// Board is the hardware; its connectors must number
	// NumberOfConnectors.
	Board hw.Board
	// Store keeps the journal, the open transactions and the
	// authorization data.
	Store  kv.Store
	Clock  clock.Clock
	Logger *slog.Logger
	// BootRetry is the wait before BootNotification is sent again when it
	// got no answer, and after Pending or Rejected with interval 0.
	// Default 30 s.
	BootRetry time.Duration
	// CallTimeout bounds each of the charge point's own CALLs, on top of
	// the transport's timeout. Default 60 s.
	CallTimeout time.Duration
	// Pacing bounds the rate of journaled messages: at least this long
	// between two. Default 200 ms.
	Pacing time.Duration
	// Firmware downloads UpdateFirmware's file; nil: UpdateFirmware is
	// answered NotSupported.
	Firmware Fetcher
	// Diagnostics gives GetDiagnostics the logs and the upload; nil:
	// GetDiagnostics is answered NotSupported.
	Diagnostics Diagnostics
	// Managed: load management caps the connectors' offers; until it has
	// decided, they offer nothing (instead of the model's maximum).
	Managed bool
	// ReconnectSpread is the longest random wait before the journal is
	// replayed after a reconnect, so that many charge points coming back
	// at once do not all send at the same moment. Default 10 s.
	ReconnectSpread time.Duration
}

// ErrReset is returned by Run after the central system asked for a Reset:
// the caller starts the charge point again, as a reboot.
var ErrReset = errors.New("chargepoint: reset requested")

// ChargePoint is one OCPP 1.6 charge point. It is safe for concurrent use.
type ChargePoint struct {
	opts     Options
	settings *config.Settings
	clock    clock.Clock
	log      *slog.Logger
	store    kv.Store

	callerV atomic.Value // Caller, set by Run

	// wake tells the link goroutine that there is news in pending.
	wake chan struct{} // buffered 1

	// posts carries work for the core goroutine; coreDone is closed when
	// it has stopped taking any.
	posts    chan func(*core)
	coreDone chan struct{}
	// coreNews holds what the core must look at again, coreWake wakes it;
	// for callers that must not block (settings watchers, the transport).
	coreNews atomic.Uint32
	coreWake chan struct{} // buffered 1

	reporter *reporter
	fw       progress[ocpp16.FirmwareStatus]
	diag     progress[ocpp16.DiagnosticsStatus]
	// loads is the connectors' state for load management, published by
	// the core; loadsChanged is signalled when it changes.
	loads        atomic.Pointer[[]loadState]
	loadsChanged chan struct{} // buffered 1
	// senderWake tells the journal sender to look again.
	senderWake chan struct{} // buffered 1

	// async runs one-off CALLs (Authorize) so that the core never waits
	// for the network.
	async   sync.WaitGroup
	asyncMu sync.Mutex
	runCtx  context.Context // of the current Run; guarded by asyncMu

	reset chan ocpp16.ResetType // buffered 1: a Reset was accepted

	mu           sync.Mutex
	pending      news                      // guarded by mu
	connections  int64                     // connections made so far; guarded by mu
	registration ocpp16.RegistrationStatus // "" before the first answer; guarded by mu
}

// news is what happened since the link goroutine last looked: flags that
// coalesce, so that nothing is lost however long it is busy (two triggers
// of the same message before it gets to them send it once).
type news struct {
	heartbeatChanged bool
	connected        bool
	boot             bool // TriggerMessage BootNotification
	heartbeat        bool
	diagnostics      bool
	firmware         bool
}

// New returns a charge point; Run starts it.
func New(opts Options) (*ChargePoint, error) {
	switch {
	case opts.Settings == nil:
		return nil, errors.New("chargepoint: no settings")
	case opts.Board == nil:
		return nil, errors.New("chargepoint: no hardware")
	case opts.Store == nil:
		return nil, errors.New("chargepoint: no store")
	}
	if n := opts.Settings.Int("NumberOfConnectors"); n != len(opts.Board.Connectors()) {
		return nil, fmt.Errorf("chargepoint: NumberOfConnectors is %d but the hardware has %d", n, len(opts.Board.Connectors()))
	}
	if opts.Model.Vendor == "" {
		opts.Model = model.Default()
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BootRetry <= 0 {
		opts.BootRetry = 30 * time.Second
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 60 * time.Second
	}
	if opts.Pacing <= 0 {
		opts.Pacing = 200 * time.Millisecond
	}
	if opts.ReconnectSpread <= 0 {
		opts.ReconnectSpread = 10 * time.Second
	}
	cp := &ChargePoint{opts: opts, settings: opts.Settings, clock: opts.Clock, log: opts.Logger, store: opts.Store,
		wake: make(chan struct{}, 1), posts: make(chan func(*core), 64), coreDone: make(chan struct{}),
		coreWake: make(chan struct{}, 1), loadsChanged: make(chan struct{}, 1),
		senderWake: make(chan struct{}, 1), reset: make(chan ocpp16.ResetType, 1)}
	cp.reporter = newReporter(cp)
	cp.fw.idle, cp.diag.idle = ocpp16.FirmwareStatusIdle, ocpp16.DiagnosticsStatusIdle
	return cp, nil
}

// caller returns the Caller of the current Run.
func (cp *ChargePoint) caller() Caller {
	c, _ := cp.callerV.Load().(Caller)
	return c
}

// phases is the number of phases each connector has.
func (cp *ChargePoint) phases() int { return cp.opts.Model.Phases }

// Registration returns the status of the last BootNotification answer, ""
// before the first.
func (cp *ChargePoint) Registration() ocpp16.RegistrationStatus {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.registration
}

func (cp *ChargePoint) setRegistration(s ocpp16.RegistrationStatus) {
	if s == ocpp16.RegistrationStatusAccepted {
		// Before Accepted is visible: the reporter may send the moment it
		// is, and a later resendAll would send every status twice.
		cp.reporter.resendAll()
	}
	cp.mu.Lock()
	cp.registration = s
	cp.mu.Unlock()
	if s == ocpp16.RegistrationStatusAccepted {
		cp.nudgeSender()
	}
}

// note records news for the link goroutine and wakes it.
func (cp *ChargePoint) note(f func(n *news)) {
	cp.mu.Lock()
	f(&cp.pending)
	cp.mu.Unlock()
	select {
	case cp.wake <- struct{}{}:
	default:
	}
}

// take returns the news and clears it.
func (cp *ChargePoint) take() news {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	n := cp.pending
	cp.pending = news{}
	return n
}

// Connected tells the charge point that a connection to the central system
// is up (again); the transport calls it. The status of every connector is
// sent again, and the journal replayed.
func (cp *ChargePoint) Connected() {
	cp.reporter.resendAll()
	cp.note(func(n *news) {
		n.connected = true
		cp.connections++
	})
	cp.nudgeSender()
	cp.tellCore(newsConnection)
}

// Disconnected tells the charge point that the connection is down; the
// transport calls it.
func (cp *ChargePoint) Disconnected() { cp.tellCore(newsConnection) }

// Kinds of news for the core.
const (
	newsConnection uint32 = 1 << iota // the connection came up or went down
	newsMetering                      // a metering interval changed
	newsSettings                      // a setting that changes what the hardware does
)

// tellCore records news for the core and wakes it, without blocking.
func (cp *ChargePoint) tellCore(kind uint32) {
	cp.coreNews.Or(kind)
	select {
	case cp.coreWake <- struct{}{}:
	default:
	}
}

func (cp *ChargePoint) connectionCount() int64 {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.connections
}

func (cp *ChargePoint) nudgeSender() {
	select {
	case cp.senderWake <- struct{}{}:
	default:
	}
}

// post hands work to the core goroutine; it is dropped once the core has
// stopped.
func (cp *ChargePoint) post(f func(*core)) {
	select {
	case cp.posts <- f:
	case <-cp.coreDone:
	}
}

// exec runs f on the core goroutine and waits for it.
func (cp *ChargePoint) exec(ctx context.Context, f func(*core)) error {
	done := make(chan struct{})
	select {
	case cp.posts <- func(c *core) { f(c); close(done) }:
	case <-cp.coreDone:
		return errors.New("chargepoint: stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-cp.coreDone:
		return errors.New("chargepoint: stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// goAsync runs f in a goroutine that Run waits for, with Run's context.
func (cp *ChargePoint) goAsync(f func(ctx context.Context)) {
	cp.asyncMu.Lock()
	defer cp.asyncMu.Unlock()
	if cp.runCtx == nil || cp.runCtx.Err() != nil {
		return
	}
	ctx := cp.runCtx
	cp.async.Add(1)
	go func() {
		defer cp.async.Done()
		f(ctx)
	}()
}

// Run runs the charge point until ctx ends (it returns nil then) or until
// the central system asks for a Reset (ErrReset, once the transactions are
// stopped and their messages journaled).
func (cp *ChargePoint) Run(ctx context.Context, caller Caller) error {
	cp.callerV.Store(caller)
	defer cp.async.Wait() // after cancel: deferred calls run last first
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cp.asyncMu.Lock()
	cp.runCtx = ctx
	cp.asyncMu.Unlock()

	c, err := cp.newCore()
	if err != nil {
		return err
	}
	stop := cp.settings.Watch(func(ch config.Change) {
		switch ch.Key.Name {
		case "HeartbeatInterval":
			cp.note(func(n *news) { n.heartbeatChanged = true })
		case "MeterValueSampleInterval", "ClockAlignedDataInterval":
			cp.tellCore(newsMetering)
		case "FreeCharging", "FreeChargingMode":
			cp.reporter.resendAll()
			cp.tellCore(newsSettings)
		}
	})
	defer stop()

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { c.run(gctx); return nil })
	g.Go(func() error { cp.link(gctx); return nil })
	g.Go(func() error { cp.reporter.run(gctx); return nil })
	g.Go(func() error { cp.sendJournal(gctx); return nil })
	var resetType ocpp16.ResetType
	g.Go(func() error {
		select {
		case resetType = <-cp.reset:
			cp.flushJournal(gctx, 5*time.Second)
			return ErrReset
		case <-gctx.Done():
			return nil
		}
	})
	err = g.Wait()
	cancel() // ends the one-off calls still out (an unanswered Authorize)
	if errors.Is(err, ErrReset) {
		cp.log.Info("rebooting after Reset", "type", resetType)
		return ErrReset
	}
	return nil
}

// call sends one CALL and decodes its answer, checked against the schema.
func (cp *ChargePoint) call(ctx context.Context, action string, req, resp any) error {
	payload, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("chargepoint: encode %s: %w", action, err)
	}
	cctx, cancel := context.WithTimeout(ctx, cp.opts.CallTimeout)
	defer cancel()
	raw, err := cp.caller().Call(cctx, action, payload)
	if err != nil {
		return fmt.Errorf("chargepoint: %s: %w", action, err)
	}
	if err := ocpp16.ValidateResponse(action, raw); err != nil {
		return fmt.Errorf("chargepoint: %s: the central system's answer breaks the schema: %w", action, err)
	}
	if resp == nil {
		return nil
	}
	if err := json.Unmarshal(raw, resp); err != nil {
		return fmt.Errorf("chargepoint: decode %s answer: %w", action, err)
	}
	return nil
}

// authorizeRemote asks the central system about an idTag.
func (cp *ChargePoint) authorizeRemote(ctx context.Context, idTag string) (*ocpp16.IdTagInfo, error) {
	var resp ocpp16.AuthorizeResponse
	if err := cp.call(ctx, "Authorize", &ocpp16.AuthorizeRequest{IdTag: idTag}, &resp); err != nil {
		return nil, err
	}
	return &resp.IdTagInfo, nil
}

// sendLater sends a message that is not journaled (clock-aligned values of
// an idle connector, triggered meter values) if the central system is
// reachable now; otherwise it is dropped.
func (cp *ChargePoint) sendLater(action string, req any) {
	if cp.Registration() != ocpp16.RegistrationStatusAccepted || !cp.caller().Connected() {
		return
	}
	cp.goAsync(func(ctx context.Context) {
		if err := cp.call(ctx, action, req, nil); err != nil && ctx.Err() == nil {
			cp.log.Warn("message not delivered", "action", action, "err", err)
		}
	})
}
