package chargepoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/config"
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

// Options configure a [ChargePoint]. Settings is required; the zero value
// of the others works.
type Options struct {
	Model    model.Model
	Settings *config.Settings
	Clock    clock.Clock
	Logger   *slog.Logger
	// BootRetry is the wait before BootNotification is sent again when it
	// got no answer, and after Pending or Rejected with interval 0.
	// Default 30 s.
	BootRetry time.Duration
	// CallTimeout bounds each of the charge point's own CALLs, on top of
	// the transport's timeout. Default 60 s.
	CallTimeout time.Duration
}

// ChargePoint is one OCPP 1.6 charge point. It is safe for concurrent use.
type ChargePoint struct {
	opts     Options
	settings *config.Settings
	clock    clock.Clock
	log      *slog.Logger

	// wake tells Run that there is news in pending.
	wake chan struct{} // buffered 1

	mu           sync.Mutex
	pending      news                      // guarded by mu
	connections  int64                     // connections made so far; guarded by mu
	registration ocpp16.RegistrationStatus // "" before the first answer; guarded by mu
}

// news is what happened since Run last looked: flags that coalesce, so
// that nothing is lost however long Run is busy (two triggers of the same
// message before Run gets to them send it once).
type news struct {
	heartbeatChanged bool
	connected        bool
	boot             bool // TriggerMessage BootNotification
	heartbeat        bool
	diagnostics      bool
	firmware         bool
	allStatuses      bool
	statuses         map[int]bool // connectors whose status was asked for
}

// New returns a charge point; Run starts it.
func New(opts Options) (*ChargePoint, error) {
	if opts.Settings == nil {
		return nil, errors.New("chargepoint: no settings")
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
	return &ChargePoint{opts: opts, settings: opts.Settings, clock: opts.Clock, log: opts.Logger,
		wake: make(chan struct{}, 1)}, nil
}

// Registration returns the status of the last BootNotification answer, ""
// before the first.
func (cp *ChargePoint) Registration() ocpp16.RegistrationStatus {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.registration
}

func (cp *ChargePoint) setRegistration(s ocpp16.RegistrationStatus) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.registration = s
}

// note records news for Run and wakes it.
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
// is up (again); the transport calls it.
func (cp *ChargePoint) Connected() {
	cp.note(func(n *news) {
		n.connected = true
		cp.connections++
	})
}

func (cp *ChargePoint) connectionCount() int64 {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.connections
}

// Run registers with the central system and then keeps heartbeating until
// ctx ends. It returns nil when ctx ends.
func (cp *ChargePoint) Run(ctx context.Context, caller Caller) error {
	stop := cp.settings.Watch(func(c config.Change) {
		if c.Key.Name == "HeartbeatInterval" {
			cp.note(func(n *news) { n.heartbeatChanged = true })
		}
	})
	defer stop()
	s := &session{cp: cp, caller: caller}
	var status ocpp16.RegistrationStatus
	var wait time.Duration
	for {
		if err := s.register(ctx, status, wait); err != nil {
			return nil // ctx ended
		}
		status, wait = s.accepted(ctx)
		if ctx.Err() != nil {
			return nil
		}
	}
}

// session is the state owned by Run's goroutine.
type session struct {
	cp     *ChargePoint
	caller Caller
	// statusConnection is the connection count when the status of every
	// connector was last sent.
	statusConnection int64
}

// register sends BootNotification until the central system accepts it,
// first waiting wait after an answer of status. It returns ctx's error when
// ctx ends first.
func (s *session) register(ctx context.Context, status ocpp16.RegistrationStatus, wait time.Duration) error {
	for {
		if wait > 0 {
			if err := s.waitToBoot(ctx, status, wait); err != nil {
				return err
			}
		}
		status, wait = s.boot(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if status == ocpp16.RegistrationStatusAccepted {
			return nil
		}
	}
}

// waitToBoot waits until the next BootNotification is due: after wait, at
// once when the central system triggers it, or when a connection comes up
// after a BootNotification that got no answer. Meanwhile, unless rejected,
// it sends what the central system triggers.
func (s *session) waitToBoot(ctx context.Context, status ocpp16.RegistrationStatus, wait time.Duration) error {
	t := s.cp.clock.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-t.C():
			return nil
		case <-s.cp.wake:
			n := s.cp.take()
			if n.connected && status == "" {
				return nil // the last one was lost on the way
			}
			if status == ocpp16.RegistrationStatusRejected {
				continue // send nothing but BootNotification
			}
			if n.boot {
				return nil
			}
			s.sendTriggered(ctx, n)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// boot sends one BootNotification and returns the registration status
// ("" without an answer) and how long to wait before the next one if it is
// not Accepted.
func (s *session) boot(ctx context.Context) (ocpp16.RegistrationStatus, time.Duration) {
	cp := s.cp
	m := cp.opts.Model
	req := ocpp16.BootNotificationRequest{
		ChargePointVendor:       m.Vendor,
		ChargePointModel:        m.Model,
		ChargePointSerialNumber: m.SerialNumber,
		ChargeBoxSerialNumber:   m.ChargeBoxSerialNumber,
		FirmwareVersion:         m.FirmwareVersion,
		Iccid:                   m.ICCID,
		Imsi:                    m.IMSI,
		MeterType:               m.MeterType,
		MeterSerialNumber:       m.MeterSerialNumber,
	}
	var resp ocpp16.BootNotificationResponse
	if err := s.call(ctx, "BootNotification", &req, &resp); err != nil {
		if ctx.Err() == nil {
			cp.log.Warn("BootNotification got no valid answer", "err", err, "retry_in", cp.opts.BootRetry)
		}
		return "", cp.opts.BootRetry
	}
	cp.setRegistration(resp.Status)
	interval := time.Duration(resp.Interval) * time.Second
	switch resp.Status {
	case ocpp16.RegistrationStatusAccepted:
		cp.log.Info("registered with the central system", "heartbeat_interval", resp.Interval)
		if resp.Interval > 0 {
			s.adoptHeartbeatInterval(resp.Interval)
		}
	default:
		if interval <= 0 {
			interval = cp.opts.BootRetry
		}
		cp.log.Info("central system did not accept the charge point", "status", resp.Status, "retry_in", interval)
	}
	return resp.Status, interval
}

// adoptHeartbeatInterval makes the interval of an accepted BootNotification
// the value of HeartbeatInterval, within the key's range.
func (s *session) adoptHeartbeatInterval(seconds int) {
	k, _ := s.cp.settings.Catalogue().Lookup("HeartbeatInterval")
	v := min(max(int64(seconds), k.Min), k.Max)
	if v != int64(seconds) {
		s.cp.log.Warn("heartbeat interval of BootNotification out of range; clamped", "interval", seconds, "used", v)
	}
	if _, err := s.cp.settings.Set("HeartbeatInterval", fmt.Sprint(v), config.ActorOCPP); err != nil {
		s.cp.log.Error("could not store the heartbeat interval", "err", err)
	}
}

// accepted runs the registered charge point until ctx ends, or until a
// triggered BootNotification is answered with another status than
// Accepted; it then returns that status and the wait before the next boot.
func (s *session) accepted(ctx context.Context) (ocpp16.RegistrationStatus, time.Duration) {
	cp := s.cp
	s.sendAllStatuses(ctx)
	interval := func() time.Duration { return time.Duration(cp.settings.Int("HeartbeatInterval")) * time.Second }
	hb := cp.clock.NewTimer(interval())
	defer hb.Stop()
	for {
		select {
		case <-hb.C():
			if s.caller.Connected() {
				s.heartbeat(ctx)
			}
			hb.Reset(interval())
		case <-cp.wake:
			n := cp.take()
			if n.heartbeatChanged {
				hb.Stop()
				hb.Reset(interval())
			}
			if n.connected && cp.connectionCount() > s.statusConnection {
				s.sendAllStatuses(ctx)
			}
			if n.boot {
				status, wait := s.boot(ctx)
				if status != ocpp16.RegistrationStatusAccepted && status != "" {
					return status, wait
				}
			}
			s.sendTriggered(ctx, n)
		case <-ctx.Done():
			return "", 0
		}
	}
}

// sendTriggered sends the messages TriggerMessage asked for, but
// BootNotification, which the caller handles.
func (s *session) sendTriggered(ctx context.Context, n news) {
	if n.heartbeat {
		s.heartbeat(ctx)
	}
	if n.allStatuses {
		s.sendAllStatuses(ctx)
	} else {
		for c := 0; c <= s.cp.settings.Int("NumberOfConnectors"); c++ {
			if n.statuses[c] {
				s.sendStatus(ctx, c)
			}
		}
	}
	if n.diagnostics {
		s.call(ctx, "DiagnosticsStatusNotification",
			&ocpp16.DiagnosticsStatusNotificationRequest{Status: ocpp16.DiagnosticsStatusIdle},
			&ocpp16.DiagnosticsStatusNotificationResponse{})
	}
	if n.firmware {
		s.call(ctx, "FirmwareStatusNotification",
			&ocpp16.FirmwareStatusNotificationRequest{Status: ocpp16.FirmwareStatusIdle},
			&ocpp16.FirmwareStatusNotificationResponse{})
	}
}

func (s *session) heartbeat(ctx context.Context) {
	var resp ocpp16.HeartbeatResponse
	if err := s.call(ctx, "Heartbeat", &ocpp16.HeartbeatRequest{}, &resp); err != nil && ctx.Err() == nil {
		s.cp.log.Warn("Heartbeat failed", "err", err)
	}
}

// sendAllStatuses reports the status of the charge point (connector 0)
// and of every connector.
func (s *session) sendAllStatuses(ctx context.Context) {
	s.statusConnection = s.cp.connectionCount()
	n := s.cp.settings.Int("NumberOfConnectors")
	for id := 0; id <= n; id++ {
		s.sendStatus(ctx, id)
	}
}

func (s *session) sendStatus(ctx context.Context, connector int) {
	now := ocpp16.DateTime{Time: s.cp.clock.Now()}
	req := ocpp16.StatusNotificationRequest{
		ConnectorId: connector,
		ErrorCode:   ocpp16.ChargePointErrorCodeNoError,
		Status:      ocpp16.ChargePointStatusAvailable,
		Timestamp:   &now,
	}
	if err := s.call(ctx, "StatusNotification", &req, &ocpp16.StatusNotificationResponse{}); err != nil && ctx.Err() == nil {
		s.cp.log.Warn("StatusNotification failed", "connector", connector, "err", err)
	}
}

// call sends one CALL and decodes its answer, checked against the schema.
func (s *session) call(ctx context.Context, action string, req, resp any) error {
	payload, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("chargepoint: encode %s: %w", action, err)
	}
	cctx, cancel := context.WithTimeout(ctx, s.cp.opts.CallTimeout)
	defer cancel()
	raw, err := s.caller.Call(cctx, action, payload)
	if err != nil {
		return fmt.Errorf("chargepoint: %s: %w", action, err)
	}
	if err := ocpp16.ValidateResponse(action, raw); err != nil {
		return fmt.Errorf("chargepoint: %s: the central system's answer breaks the schema: %w", action, err)
	}
	if err := json.Unmarshal(raw, resp); err != nil {
		return fmt.Errorf("chargepoint: decode %s answer: %w", action, err)
	}
	return nil
}
