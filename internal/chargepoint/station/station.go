// Package station runs one charge point's charging core in real time on
// package runner, whatever protocol it speaks: a protocol adapter
// (chargepoint/v16, chargepoint/v201) gives it the link that renders the
// core's messages, answers the central system's CALLs, and embeds the
// Station for everything that does not depend on the protocol (the
// hardware's and load management's side, the reset, the journal's
// depth). One Station may speak several protocols: the link of the one
// the transport agreed on renders its messages.
package station

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/chargepoint/runner"
	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/display"
	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/model"
	"github.com/evse-dev/evse/internal/netprofile"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
	"github.com/evse-dev/evse/internal/ocppschema"
)

// Caller sends the charge point's CALLs to the central system.
type Caller interface {
	// Call sends a CALL and returns the CALLRESULT payload, or an error
	// (an *rpc.Error for a CALLERROR).
	Call(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error)
	// Connected reports whether the central system is reachable now.
	Connected() bool
}

// Options configure a [Station]. Settings, Board and Store are
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
	// Firmware downloads a firmware update's file; nil: firmware updates
	// are answered NotSupported.
	Firmware runner.Fetcher
	// Diagnostics gives diagnostics and log uploads the logs and the
	// upload; nil: they are answered NotSupported.
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
	// BootReason is why the charge point starts (a reset: RemoteReset),
	// for BootNotification; "": PowerUp.
	BootReason chargepoint.BootReason
	// SetNetworkProfile, when set, checks a network connection profile
	// the central system gives for a configuration slot and keeps it
	// durably (2.0.1's SetNetworkProfile); a *netprofile.Rejection
	// refuses it, another error is a failure to keep it. Nil:
	// SetNetworkProfile is answered NotSupported.
	SetNetworkProfile func(slot int, p netprofile.Profile) error
}

// ErrReset is returned by Run after the central system asked for a Reset
// (or a new firmware was installed): the caller starts the charge point
// again, as a reboot.
var ErrReset = errors.New("station: reset requested")

// Protocol is one protocol a Station speaks: its subprotocol name
// (ocpp1.6, ocpp2.0.1) and its link, made over the Station's caller.
type Protocol struct {
	Name string
	Link func(Caller) runner.Link
	// NamesTransactions: the charge point names transactions in this
	// protocol (2.0.1's transactionId); see chargepoint.Config.
	NamesTransactions bool
	// TellsLimits: the protocol tells load management's limits (2.0.1's
	// NotifyChargingLimit); see chargepoint.Config.
	TellsLimits bool
	// Sign sends a renewal's CSR with the protocol's SignCertificate (the
	// station's own renewal, A03); nil: the protocol has none.
	Sign func(ctx context.Context, csr []byte) error
}

// Station is one charge point: the charging core run in real time, with
// the links of the protocols it speaks. It is safe for concurrent use.
type Station struct {
	opts   Options
	log    *slog.Logger
	runner *runner.Runner
	unit   *runner.Unit
	caller atomic.Value // Caller, set by Run or Attach
	links  []namedLink
	// display is the station's display messages, kept in its store.
	display *display.Board

	// Background tasks (Go): they end with Run's context, and Run waits
	// for them; closed: Run has returned, no task starts.
	mu     sync.Mutex
	bgCtx  context.Context
	bg     sync.WaitGroup
	closed bool

	// renewing: a renewal of the station's certificate (SignCertificate)
	// is under way; signed counts the certificates CertificateSigned
	// installed (a renewal waiting for one sees it come).
	renewing atomic.Bool
	signed   atomic.Uint64
}

// Go runs a protocol adapter's background task (a CALL of its own, sent
// after an answer) with a context that ends when Run returns, at most
// for d. A station on a shared runner (Attach) bounds it by d only.
func (st *Station) Go(d time.Duration, task func(ctx context.Context)) {
	st.mu.Lock()
	parent := st.bgCtx
	if parent == nil {
		parent = context.Background()
	}
	if st.closed {
		st.mu.Unlock()
		return // Run has returned
	}
	st.bg.Add(1)
	st.mu.Unlock()
	go func() {
		defer st.bg.Done()
		ctx, cancel := context.WithTimeout(parent, d)
		defer cancel()
		task(ctx)
	}()
}

// Closed reports whether Run has returned: no background task starts
// any more.
func (st *Station) Closed() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.closed
}

type namedLink struct {
	name string
	link runner.Link
	sign func(ctx context.Context, csr []byte) error
}

// New returns a charge point restored from its store, speaking protocols
// (the first is the default); Run starts it. legacy converts a store of
// an older layout (nil: refused).
func New(opts Options, legacy runner.Legacy, protocols ...Protocol) (*Station, error) {
	switch {
	case opts.Settings == nil:
		return nil, errors.New("station: no settings")
	case opts.Board == nil:
		return nil, errors.New("station: no hardware")
	case opts.Store == nil:
		return nil, errors.New("station: no store")
	case len(protocols) == 0:
		return nil, errors.New("station: no protocol")
	}
	s := opts.Settings.Snapshot()
	if n := s.NumberOfConnectors; n != len(opts.Board.Connectors()) {
		return nil, fmt.Errorf("station: NumberOfConnectors is %d but the hardware has %d", n, len(opts.Board.Connectors()))
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
		CanSwitchPhases: canSwitch, Managed: opts.Managed, Rules: rules, BootReason: opts.BootReason,
		HeartbeatRange: [2]time.Duration{time.Duration(hb.Min) * time.Second, time.Duration(hb.Max) * time.Second},
		Identity: chargepoint.Identity{Vendor: m.Vendor, Model: m.Model, SerialNumber: m.SerialNumber,
			ChargeBoxSerialNumber: m.ChargeBoxSerialNumber, FirmwareVersion: m.FirmwareVersion, ICCID: m.ICCID, IMSI: m.IMSI,
			MeterType: m.MeterType, MeterSerialNumber: m.MeterSerialNumber}}
	core.NamesTransactions = true
	for _, p := range protocols {
		core.NamesTransactions = core.NamesTransactions && p.NamesTransactions
	}
	core.TxPoints = core.NamesTransactions // 2.0.1 alone
	for _, p := range protocols {
		core.TellsLimits = core.TellsLimits || p.TellsLimits
	}
	board, err := display.Open(opts.Store, display.Capabilities{})
	if err != nil {
		return nil, fmt.Errorf("station: %w", err)
	}
	st := &Station{opts: opts, log: opts.Logger, display: board}
	for _, p := range protocols {
		st.links = append(st.links, namedLink{name: p.Name, link: p.Link(currentCaller{st}), sign: p.Sign})
	}
	st.runner = opts.Runner
	unitStore := kv.Store(nil)
	if st.runner == nil {
		st.runner = runner.New(runner.Options{Store: opts.Store, Clock: opts.Clock, Logger: opts.Logger})
	} else {
		unitStore = opts.Store // its part of the shared store
	}
	u, err := st.runner.Add(runner.UnitOptions{ID: opts.ID, Store: unitStore, Core: core, Settings: opts.Settings, Board: opts.Board,
		Link: protocolLink{st}, Legacy: legacy, Firmware: opts.Firmware, Diagnostics: opts.Diagnostics,
		ReplaySpread: opts.ReconnectSpread, CallTimeout: opts.CallTimeout, OnHalt: opts.OnHalt})
	if err != nil {
		return nil, err
	}
	st.unit = u
	time.AfterFunc(time.Minute, st.checkExpiry)
	// The list's size is kept with it: reading it is one read of the
	// store, which does not wait for writers.
	opts.Settings.SetComputed("LocalAuthListEntries", func() string {
		_, n, err := u.Auth().ListInfo()
		if err != nil {
			return ""
		}
		return strconv.Itoa(n)
	})
	return st, nil
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

// Caller is the Caller of the current Run (or Attach), nil before.
func (st *Station) Caller() Caller {
	v, _ := st.caller.Load().(Caller)
	return v
}

// currentCaller forwards to the Station's current Caller.
type currentCaller struct{ st *Station }

func (c currentCaller) Call(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	caller := c.st.Caller()
	if caller == nil {
		return nil, errors.New("station: not running")
	}
	return caller.Call(ctx, action, payload)
}

func (c currentCaller) Connected() bool {
	caller := c.st.Caller()
	return caller != nil && caller.Connected()
}

// Speaking is the subprotocol the current connection speaks: the one the
// Caller says it agreed on (a transport with a Subprotocol method) when
// the Station speaks it, else the Station's first.
func (st *Station) Speaking() string { return st.link().name }

func (st *Station) link() namedLink {
	if p, ok := st.Caller().(interface{ Subprotocol() string }); ok {
		name := p.Subprotocol()
		for _, l := range st.links {
			if l.name == name {
				return l
			}
		}
	}
	return st.links[0]
}

// protocolLink is the unit's link: the current protocol's.
type protocolLink struct{ st *Station }

func (l protocolLink) Send(ctx context.Context, msg any) (any, chargepoint.Failure, error) {
	return l.st.link().link.Send(ctx, msg)
}

// Connected reports whether the central system is reachable now (a
// restarted core is told at once).
func (l protocolLink) Connected() bool { return currentCaller{l.st}.Connected() }

// Run runs the charge point until ctx ends (it returns nil then) or until
// a reset (ErrReset, once the transactions are stopped and their
// messages journaled). A ChargePoint runs once: a reset makes a new one.
func (st *Station) Run(ctx context.Context, caller Caller) error {
	st.caller.Store(caller)
	ctx, cancel := context.WithCancel(ctx)
	st.mu.Lock()
	st.bgCtx = ctx
	st.mu.Unlock()
	defer func() {
		// No task starts from now; those running end with ctx.
		st.mu.Lock()
		st.closed = true
		st.mu.Unlock()
		cancel()
		st.bg.Wait()
	}()
	done := make(chan error, 1)
	go func() { done <- st.runner.Run(ctx) }()
	if caller.Connected() {
		st.Connected()
	}
	select {
	case h := <-st.unit.Halted():
		cancel()
		<-done
		st.log.Info("rebooting after a reset", "hard", h.Hard)
		return ErrReset
	case err := <-done:
		return err
	}
}

// Attach gives a charge point on a shared runner (Options.Runner) its
// link to the central system; the transport then tells Connected and
// Disconnected.
func (st *Station) Attach(caller Caller) { st.caller.Store(caller) }

// Halted delivers why the core halted (a reset, a new firmware): a charge
// point on a shared runner is then restarted with Restart.
func (st *Station) Halted() <-chan chargepoint.Halt { return st.unit.Halted() }

// Restart starts the software of a charge point on a shared runner again
// from its store, as a reboot does (see runner.Unit.Restart).
func (st *Station) Restart(reason chargepoint.BootReason) { st.unit.Restart(reason) }

// SetSkew sets the charge point's clock off by d (see
// runner.Unit.SetSkew).
func (st *Station) SetSkew(d time.Duration) { st.unit.SetSkew(d) }

// PowerCut takes the power away from a charge point on a shared runner,
// as kill -9 does (see runner.Unit.PowerCut); Restart brings it back.
func (st *Station) PowerCut() { st.unit.PowerCut() }

// Connected tells the charge point that a connection to the central system
// is up (again); the transport calls it. The protocol it speaks is kept
// (see Offer).
func (st *Station) Connected() {
	st.keepProtocol(st.Speaking())
	st.unit.LinkUp()
}

// ConnectedToNewServer is Connected to another central system than the
// last one (another network connection profile, OCPP 2.0.1's B10): the
// station boots with it anew.
func (st *Station) ConnectedToNewServer() {
	st.keepProtocol(st.Speaking())
	st.unit.LinkUpToNewServer()
}

// The station's own bucket in its store, and its key.
const (
	bucketStation = "station"
	keyProtocol   = "protocol" // the protocol of the last connection
)

// keepProtocol keeps the protocol of a new connection, if it changed and
// the station speaks more than one.
func (st *Station) keepProtocol(p string) {
	if len(st.links) < 2 {
		return
	}
	var kept string
	st.opts.Store.View(func(tx kv.Tx) error {
		kept = string(tx.Get(bucketStation, keyProtocol))
		return nil
	})
	if kept == p {
		return
	}
	if err := st.opts.Store.Update(func(tx kv.Tx) error { return tx.Put(bucketStation, keyProtocol, []byte(p)) }); err != nil {
		st.log.Warn("the protocol of the connection not kept", "protocol", p, "err", err)
	}
}

// Offer narrows the subprotocols a connection offers: while messages wait
// in the journal, only the protocol of the last connection, which they
// belong to (a 1.6 StopTransaction cannot go as a 2.0.1 message of a
// transaction the 2.0.1 central system never saw start); otherwise all.
// It is safe for concurrent use.
func (st *Station) Offer(all []string) []string {
	if len(st.links) < 2 || st.unit.JournalDepth() == 0 {
		return all
	}
	var kept string
	st.opts.Store.View(func(tx kv.Tx) error {
		kept = string(tx.Get(bucketStation, keyProtocol))
		return nil
	})
	for _, p := range all {
		if p == kept {
			return []string{p}
		}
	}
	return all
}

// Disconnected tells the charge point that the connection is down; the
// transport calls it.
func (st *Station) Disconnected() { st.unit.LinkDown() }

// Registration returns the status of the last BootNotification answer, ""
// before the first.
func (st *Station) Registration() chargepoint.Registration { return st.unit.Registration() }

// Unit is the runner's unit of the charge point, for protocol adapters.
func (st *Station) Unit() *runner.Unit { return st.unit }

// Options returns what the Station was made with (defaults filled in).
func (st *Station) Options() Options { return st.opts }

// Status returns the charge point's state.
func (st *Station) Status(ctx context.Context) (chargepoint.Status, error) {
	res, err := st.unit.Do(ctx, chargepoint.Query{})
	if err != nil {
		return chargepoint.Status{}, err
	}
	s := res.(chargepoint.Status)
	if s.Connected {
		s.Protocol = st.Speaking()
	}
	return s, nil
}

// Display is the station's display messages (OCPP 2.0.1's block O),
// which survive a restart in its store.
func (st *Station) Display() *display.Board { return st.display }

// Showing returns what the station's display shows now (display.Select):
// the messages that apply at this time, in the states the station's
// status puts it in.
func (st *Station) Showing(ctx context.Context) ([]display.Message, error) {
	s, err := st.Status(ctx)
	if err != nil {
		return nil, err
	}
	now, ongoing := st.opts.Clock.Now(), display.OngoingIn(s)
	msgs, err := st.display.List(now, ongoing)
	if err != nil {
		return nil, err
	}
	return display.Select(msgs, now, display.StatesOf(s), ongoing), nil
}

// EmergencyStop stops every transaction with reason EmergencyStop, as the
// emergency stop button of a charge point does.
func (st *Station) EmergencyStop(ctx context.Context) error {
	_, err := st.unit.Do(ctx, chargepoint.EmergencyStop{})
	return err
}

// Loads returns every connector's load for load management.
func (st *Station) Loads() []runner.Load { return st.unit.Loads() }

// LoadsChanged delivers a value when a connector's readiness or offer
// changed.
func (st *Station) LoadsChanged() <-chan struct{} { return st.unit.LoadsChanged() }

// SetLimits caps connectors' offers: load management's shares. A
// connector not named keeps its cap; a negative amount removes it.
func (st *Station) SetLimits(limits map[int]float64) {
	st.unit.Post(chargepoint.LimitsSet{Limits: limits})
}

// SetPhases sets how many phases (1 or 3) connectors' sessions may use,
// on hardware that can switch; a connector not named keeps its setting.
func (st *Station) SetPhases(phases map[int]int) {
	st.unit.Post(chargepoint.PhasesSet{Phases: phases})
}

// LocalListInfo tells the local list's version and size, for the
// installer (the local API).
func (st *Station) LocalListInfo() (version, size int, err error) {
	return st.unit.Auth().ListInfo()
}

// LastRegisters returns the last meter register the store knows of each
// connector (index 0: connector 1).
func LastRegisters(store kv.Store, connectors int) ([]float64, error) {
	return runner.LastRegisters(store, connectors)
}

// SecurityIncident logs a security event detected at the link or
// elsewhere outside the core (see chargepoint.SecurityIncident).
func (st *Station) SecurityIncident(e chargepoint.SecurityIncident) { st.unit.Post(e) }

// JournalDepth is how many journaled messages (of transactions, and
// security events) wait for the central system's confirmation.
func (st *Station) JournalDepth() int { return st.unit.JournalDepth() }

// CallFailure says how a CALL that did not get its answer failed, for the
// core: Refused for a CALLERROR (wrapping chargepoint.ErrUnsupported for
// NotImplemented and NotSupported: the central system does not take the
// message), Unanswered for a timeout while the link stayed up, Lost
// otherwise. err is the Caller's error, wrapped with the action.
func CallFailure(err error, connected bool) chargepoint.Failure {
	var callErr *rpc.Error
	switch {
	case errors.As(err, &callErr):
		return chargepoint.Refused
	case (errors.Is(err, rpc.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)) && connected:
		return chargepoint.Unanswered
	}
	return chargepoint.Lost
}

// Unsupported wraps err with chargepoint.ErrUnsupported when it is a
// CALLERROR NotImplemented or NotSupported.
func Unsupported(err error) error {
	var callErr *rpc.Error
	if errors.As(err, &callErr) && (callErr.Code == rpc.NotImplemented || callErr.Code == rpc.NotSupported) {
		return fmt.Errorf("%w: %w", chargepoint.ErrUnsupported, err)
	}
	return err
}

// Exec runs a command of the core for a CALL of the central system; what
// the core sends after the reply waits until the reply is written
// (rpc.AfterAnswer).
func (st *Station) Exec(ctx context.Context, cmd any) (any, error) {
	res, release, err := st.unit.Exec(ctx, cmd)
	if err != nil {
		return nil, err
	}
	rpc.AfterAnswer(ctx, release)
	return res, nil
}

// ErrNothingToSend is what a protocol's render says of a message it has
// no form for (1.6's change of a charging state, 2.0.1's connector 0):
// Send counts it as delivered.
var ErrNothingToSend = errors.New("station: no message in this protocol")

// Codec is what a protocol's link knows of its messages.
type Codec struct {
	// Name prefixes errors ("v16").
	Name string
	// Render turns a message of the core into a CALL: its action and
	// payload, or ErrNothingToSend.
	Render func(msg any) (action string, req any, err error)
	// Read checks a CALLRESULT against the protocol's schema and turns it
	// into the core's answer to msg.
	Read func(msg any, action string, raw json.RawMessage) (any, error)
}

// Send renders a message of the core in a protocol, sends it with caller
// and reads the answer: a protocol's runner.Link.Send.
func Send(ctx context.Context, caller Caller, c Codec, msg any) (any, chargepoint.Failure, error) {
	action, req, err := c.Render(msg)
	if errors.Is(err, ErrNothingToSend) {
		return nil, chargepoint.Delivered, nil
	}
	if err != nil {
		return nil, chargepoint.Refused, err
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return nil, chargepoint.Refused, fmt.Errorf("%s: encode %s: %w", c.Name, action, err)
	}
	raw, err := caller.Call(ctx, action, payload)
	if err == nil {
		answer, rerr := c.Read(msg, action, raw)
		if rerr != nil {
			return nil, chargepoint.Refused, fmt.Errorf("%s: %s: the central system's answer breaks the schema: %w", c.Name, action, rerr)
		}
		return answer, chargepoint.Delivered, nil
	}
	err = Unsupported(fmt.Errorf("%s: %s: %w", c.Name, action, err))
	return nil, CallFailure(err, caller.Connected()), err
}

// Retries reads the retries and retryInterval (s) of an upload or a
// download CALL, as both protocols carry them: none or a negative count
// is no retry, none or a negative interval 0 s.
func Retries(retries, intervalSeconds *int) (int, time.Duration) {
	var n int
	var d time.Duration
	if retries != nil {
		n = max(*retries, 0)
	}
	if intervalSeconds != nil {
		d = time.Duration(max(*intervalSeconds, 0)) * time.Second
	}
	return n, d
}

// GetLog is the core's log upload for a GetLog CALL, as 1.6's security
// extension and 2.0.1 carry it alike: the log, the request id, where to,
// the oldest and latest timestamps (none: no bound), the retries.
func GetLog(log string, requestID int, location string, oldest, latest *ocppschema.DateTime, retries, intervalSeconds *int) chargepoint.GetLog {
	g := chargepoint.GetLog{Type: chargepoint.LogType(log), RequestID: requestID, Location: location}
	if oldest != nil {
		g.From = oldest.Time
	}
	if latest != nil {
		g.To = latest.Time
	}
	g.Retries, g.Interval = Retries(retries, intervalSeconds)
	return g
}
