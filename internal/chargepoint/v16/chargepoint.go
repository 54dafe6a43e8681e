package v16

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/chargepoint/runner"
	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/model"
	"github.com/evse-dev/evse/internal/ocpp16"
)

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
	// between two. Zero: none.
	Pacing time.Duration
	// Firmware downloads UpdateFirmware's file; nil: UpdateFirmware is
	// answered NotSupported.
	Firmware runner.Fetcher
	// Diagnostics gives GetDiagnostics the logs and the upload; nil:
	// GetDiagnostics is answered NotSupported.
	Diagnostics runner.Diagnostics
	// Managed: load management caps the connectors' offers; until it has
	// decided, they offer nothing (instead of the model's maximum).
	Managed bool
	// ReconnectSpread is the longest random wait before the journal is
	// replayed after a reconnect, so that many charge points coming back
	// at once do not all send at the same moment. Default 10 s.
	ReconnectSpread time.Duration
	// Rules change the core's timing rules (tests); zero fields take the
	// defaults.
	Rules chargepoint.Rules
	// Runner, when set, is a runner many charge points share (a fleet):
	// the charge point is added to it, and the caller runs the runner,
	// gives the charge point its link with Attach and restarts it after a
	// reset (see Halted). Nil: the charge point has its own, run by Run.
	Runner *runner.Runner
	// ID is the charge point's identity: it names the charge point in
	// the logs of a shared runner, and is the common name of its
	// certificate (SignCertificate, CertificateSigned); "" refuses those.
	ID string
	// OnHalt, when set, is told when the core halted (see Halted); it must
	// not block.
	OnHalt func(chargepoint.Halt)
	// OnCertificate, when set, is called once CertificateSigned installed
	// a new certificate of the charge point, after the answer: the link
	// reconnects with it. It must not block.
	OnCertificate func()
}

// ErrReset is returned by Run after the central system asked for a Reset
// (or a new firmware was installed): the caller starts the charge point
// again, as a reboot.
var ErrReset = errors.New("v16: reset requested")

// ChargePoint is one OCPP 1.6 charge point: the charging core run in real
// time, with this package as its face to the central system. It is safe
// for concurrent use.
type ChargePoint struct {
	opts   Options
	log    *slog.Logger
	runner *runner.Runner
	unit   *runner.Unit
	caller atomic.Value // Caller, set by Run
	// lenientWarned: the warning about what the central system sends
	// that was read leniently has been logged.
	lenientWarned atomic.Bool
}

// readLeniently warns, once, that the central system sends what OCPP 1.6
// does not allow but evse reads anyway (a date-time without a UTC offset,
// read as UTC).
func (cp *ChargePoint) readLeniently(action string, notes []string) {
	if cp.lenientWarned.CompareAndSwap(false, true) {
		cp.log.Warn("the central system sends date-times without a UTC offset; reading them as UTC (OCPP asks for RFC 3339)",
			"action", action, "first", notes[0])
	}
}

// New returns a charge point restored from its store; Run starts it.
func New(opts Options) (*ChargePoint, error) {
	switch {
	case opts.Settings == nil:
		return nil, errors.New("v16: no settings")
	case opts.Board == nil:
		return nil, errors.New("v16: no hardware")
	case opts.Store == nil:
		return nil, errors.New("v16: no store")
	}
	s := opts.Settings.Snapshot()
	if n := s.NumberOfConnectors; n != len(opts.Board.Connectors()) {
		return nil, fmt.Errorf("v16: NumberOfConnectors is %d but the hardware has %d", n, len(opts.Board.Connectors()))
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
	m := opts.Model
	_, canSwitch := firstSwitcher(opts.Board)
	rules := opts.Rules
	rules.BootRetry = max(rules.BootRetry, opts.BootRetry)
	rules.Pacing = max(rules.Pacing, opts.Pacing)
	hb, _ := opts.Settings.Catalogue().Lookup("HeartbeatInterval")
	core := chargepoint.Config{Connectors: s.NumberOfConnectors, Phases: m.Phases, MaxCurrent: float64(m.MaxCurrent),
		CanSwitchPhases: canSwitch, Managed: opts.Managed, Rules: rules,
		HeartbeatRange: [2]time.Duration{time.Duration(hb.Min) * time.Second, time.Duration(hb.Max) * time.Second},
		Identity: chargepoint.Identity{Vendor: m.Vendor, Model: m.Model, SerialNumber: m.SerialNumber,
			ChargeBoxSerialNumber: m.ChargeBoxSerialNumber, FirmwareVersion: m.FirmwareVersion, ICCID: m.ICCID, IMSI: m.IMSI,
			MeterType: m.MeterType, MeterSerialNumber: m.MeterSerialNumber}}
	cp := &ChargePoint{opts: opts, log: opts.Logger}
	cp.runner = opts.Runner
	unitStore := kv.Store(nil)
	if cp.runner == nil {
		cp.runner = runner.New(runner.Options{Store: opts.Store, Clock: opts.Clock, Logger: opts.Logger})
	} else {
		unitStore = opts.Store // its part of the shared store
	}
	u, err := cp.runner.Add(runner.UnitOptions{ID: opts.ID, Store: unitStore, Core: core, Settings: opts.Settings, Board: opts.Board,
		Link: link{caller: callerOf{cp}, lenient: cp.readLeniently}, Legacy: Legacy{}, Firmware: opts.Firmware, Diagnostics: opts.Diagnostics,
		ReplaySpread: opts.ReconnectSpread, CallTimeout: opts.CallTimeout, OnHalt: opts.OnHalt})
	if err != nil {
		return nil, err
	}
	cp.unit = u
	return cp, nil
}

// firstSwitcher reports whether the board's connectors can switch phases.
func firstSwitcher(b hw.Board) (hw.PhaseSwitcher, bool) {
	for _, c := range b.Connectors() {
		if sw, ok := c.(hw.PhaseSwitcher); ok {
			return sw, true
		}
	}
	return nil, false
}

// callerOf is the Caller of the current Run.
type callerOf struct{ cp *ChargePoint }

func (c callerOf) get() Caller {
	v, _ := c.cp.caller.Load().(Caller)
	return v
}

func (c callerOf) Call(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	caller := c.get()
	if caller == nil {
		return nil, errors.New("v16: not running")
	}
	return caller.Call(ctx, action, payload)
}

func (c callerOf) Connected() bool {
	caller := c.get()
	return caller != nil && caller.Connected()
}

// Run runs the charge point until ctx ends (it returns nil then) or until
// a reset (ErrReset, once the transactions are stopped and their
// messages journaled). A ChargePoint runs once: a reset makes a new one.
func (cp *ChargePoint) Run(ctx context.Context, caller Caller) error {
	cp.caller.Store(caller)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cp.runner.Run(ctx) }()
	if caller.Connected() {
		cp.unit.LinkUp()
	}
	select {
	case h := <-cp.unit.Halted():
		cancel()
		<-done
		cp.log.Info("rebooting after a reset", "hard", h.Hard)
		return ErrReset
	case err := <-done:
		return err
	}
}

// Attach gives a charge point on a shared runner (Options.Runner) its
// link to the central system; the transport then tells Connected and
// Disconnected.
func (cp *ChargePoint) Attach(caller Caller) { cp.caller.Store(caller) }

// Halted delivers why the core halted (a reset, a new firmware): a charge
// point on a shared runner is then restarted with Restart.
func (cp *ChargePoint) Halted() <-chan chargepoint.Halt { return cp.unit.Halted() }

// Restart starts the software of a charge point on a shared runner again
// from its store, as a reboot does (see runner.Unit.Restart).
func (cp *ChargePoint) Restart() { cp.unit.Restart() }

// SetSkew sets the charge point's clock off by d (see
// runner.Unit.SetSkew).
func (cp *ChargePoint) SetSkew(d time.Duration) { cp.unit.SetSkew(d) }

// PowerCut takes the power away from a charge point on a shared runner,
// as kill -9 does (see runner.Unit.PowerCut); Restart brings it back.
func (cp *ChargePoint) PowerCut() { cp.unit.PowerCut() }

// Connected tells the charge point that a connection to the central system
// is up (again); the transport calls it.
func (cp *ChargePoint) Connected() { cp.unit.LinkUp() }

// Disconnected tells the charge point that the connection is down; the
// transport calls it.
func (cp *ChargePoint) Disconnected() { cp.unit.LinkDown() }

// Registration returns the status of the last BootNotification answer, ""
// before the first.
func (cp *ChargePoint) Registration() ocpp16.RegistrationStatus {
	return ocpp16.RegistrationStatus(cp.unit.Registration())
}

// Status returns the charge point's state.
func (cp *ChargePoint) Status(ctx context.Context) (chargepoint.Status, error) {
	res, err := cp.unit.Do(ctx, chargepoint.Query{})
	if err != nil {
		return chargepoint.Status{}, err
	}
	return res.(chargepoint.Status), nil
}

// EmergencyStop stops every transaction with reason EmergencyStop, as the
// emergency stop button of a charge point does.
func (cp *ChargePoint) EmergencyStop(ctx context.Context) error {
	_, err := cp.unit.Do(ctx, chargepoint.EmergencyStop{})
	return err
}

// Loads returns every connector's load for load management.
func (cp *ChargePoint) Loads() []runner.Load { return cp.unit.Loads() }

// LoadsChanged delivers a value when a connector's readiness or offer
// changed.
func (cp *ChargePoint) LoadsChanged() <-chan struct{} { return cp.unit.LoadsChanged() }

// SetLimits caps connectors' offers: load management's shares. A
// connector not named keeps its cap; a negative amount removes it.
func (cp *ChargePoint) SetLimits(limits map[int]float64) {
	cp.unit.Post(chargepoint.LimitsSet{Limits: limits})
}

// SetPhases sets how many phases (1 or 3) connectors' sessions may use,
// on hardware that can switch; a connector not named keeps its setting.
func (cp *ChargePoint) SetPhases(phases map[int]int) {
	cp.unit.Post(chargepoint.PhasesSet{Phases: phases})
}

// LocalListInfo tells the local list's version and size, for the
// installer (the local API).
func (cp *ChargePoint) LocalListInfo() (version, size int, err error) {
	return cp.unit.Auth().ListInfo()
}

// LocalListEntry returns an idTag's entry in the local list, for the
// installer: its status, parent and expiry; ok false when not listed.
func (cp *ChargePoint) LocalListEntry(idTag string) (ocpp16.IdTagInfo, bool, error) {
	info, ok, err := cp.unit.Auth().ListEntryOf(idTag)
	return idTagInfo(info), ok, err
}

// LastRegisters returns the last meter register the store knows of each
// connector (index 0: connector 1).
func LastRegisters(store kv.Store, connectors int) ([]float64, error) {
	return runner.LastRegisters(store, connectors)
}

// SecurityIncident logs a security event detected at the link or
// elsewhere outside the core (see chargepoint.SecurityIncident).
func (cp *ChargePoint) SecurityIncident(e chargepoint.SecurityIncident) { cp.unit.Post(e) }

// JournalDepth is how many transaction messages wait in the journal for
// the central system's confirmation.
func (cp *ChargePoint) JournalDepth() int { return cp.unit.JournalDepth() }
