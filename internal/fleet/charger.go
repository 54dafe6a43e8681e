package fleet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/evse-dev/evse/internal/api"
	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/chargepoint/runner"
	"github.com/evse-dev/evse/internal/chargepoint/station"
	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/daemon"
	"github.com/evse-dev/evse/internal/display"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocppj"
)

// Charger is one charge point of the fleet: what `evse run` runs, on the
// fleet's runner and in its part of the fleet's store.
type Charger struct {
	ID    string
	group int
	f     *Fleet

	settings *config.Settings
	keys     certs.Store // its key and certificate (profile 3)
	board    *sim.Board
	// cp is the station; faces answers the central system in the
	// version its connection speaks.
	cp     *station.Station
	faces  daemon.Faces
	client *ocppj.Client
	link   *caller

	// plays is the generator's: one per connector.
	plays []connectorPlay

	connected atomic.Bool
	everUp    atomic.Bool
	failing   atomic.Bool // the last connection attempt failed
	lastError atomic.Pointer[string]
	powerOff  atomic.Bool
	power     chan struct{} // buffered 1: the power came back (for the link)

	log      *slog.Logger
	services daemon.Services // its log ring, for its page
	// dlm: the charge point is of a DLM site; its node runs while it has
	// power.
	dlm       bool
	dlmPower  chan struct{} // buffered 1: the power came back (for the node)
	dlmCancel atomic.Pointer[context.CancelFunc]
}

// newCharger makes charge point m of the fleet, restored from its part
// of the store.
func (f *Fleet) newCharger(m member, part kv.Store, httpClient *http.Client, tlsConfig *tls.Config, wsClient *http.Client) (*Charger, error) {
	g := f.spec.Groups[m.group]
	c := &Charger{ID: m.id, group: m.group, f: f, keys: certs.New(part), power: make(chan struct{}, 1), dlmPower: make(chan struct{}, 1)}
	settings, err := config.Open(f.catalogueOf(m), kvConfig{part}, f.log)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.id, err)
	}
	settings.SetComputed("DlmState", func() string {
		if settings.Snapshot().DlmMode == 0 {
			return "Disabled"
		}
		return "not run in a fleet"
	})
	tlsURL := strings.HasPrefix(strings.ToLower(f.opts.CSMSURL), "wss://")
	settings.AddCheck(func(k config.Key, v string, _ config.Actor, _ func(string) string) error {
		if k.Name != "SecurityProfile" {
			return nil
		}
		if (v == "2" || v == "3") && !tlsURL {
			return fmt.Errorf("security profile %s needs a wss:// central system URL", v)
		}
		if _, err := c.keys.Certificate(); v == "3" && err != nil {
			return fmt.Errorf("security profile 3 needs the charge point's certificate: %w", err)
		}
		return nil
	})
	c.settings = settings
	snap := settings.Snapshot()
	registers, err := runner.LastRegisters(part, snap.NumberOfConnectors)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.id, err)
	}
	c.board = sim.New(sim.Options{Clock: clock.Real{}, Connectors: snap.NumberOfConnectors, Phases: g.model.Phases,
		Registers: registers, Socket: g.model.Socket(), EventBuffer: 16})
	services := daemon.NewServices(f.log, m.id, httpClient, tlsConfig)
	c.log, c.services = services.Logger, services
	c.dlm = snap.DlmMode != 0
	c.faces, err = daemon.NewStation(station.Options{Model: g.model, Settings: settings, Board: c.board, Store: part,
		Clock: clock.Real{}, Logger: services.Logger, Runner: f.runner, ID: m.id, ReconnectSpread: f.opts.ReplaySpread,
		Pacing: f.opts.Pacing, Firmware: services.Firmware, Diagnostics: services.Diagnostics, OnHalt: c.halted,
		Managed: daemon.ManagedByDLM(snap.DlmMode), OnCertificate: c.newCertificate}, g.OCPP)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.id, err)
	}
	c.cp = c.faces.Station
	seed := f.seedOf(m.id)
	c.link = &caller{c: c, stats: f.stats, mis: g.Misbehave, rng: rand.New(rand.NewPCG(seed, 1))}
	c.cp.Attach(c.link)
	c.client, err = ocppj.NewClient(ocppj.Options{
		URL:          f.opts.CSMSURL,
		ID:           m.id,
		Password:     daemon.Password(settings),
		RequireTLS:   snap.SecurityProfile >= 2,
		HTTPClient:   wsClient,
		Gate:         c.gate,
		PingInterval: time.Duration(snap.WebSocketPingInterval) * time.Second,
		MinBackoff:   f.opts.MinBackoff,
		MaxBackoff:   f.opts.MaxBackoff,
		Subprotocols: g.OCPP,
		Offer:        c.faces.Station.Offer,
		Handler:      &handler{c: c, stats: f.stats, mis: g.Misbehave, inner: c.faces, link: c.link},
		Logger:       services.Logger,
		OnConnect:    c.onConnect,
		OnDisconnect: c.onDisconnect,
		OnConnectFailed: func(err error) {
			c.failing.Store(true)
			s := err.Error()
			c.lastError.Store(&s)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.id, err)
	}
	settings.Watch(func(ch config.Change) {
		switch ch.Key.Name {
		case "WebSocketPingInterval":
			c.client.SetPingInterval(time.Duration(settings.Snapshot().WebSocketPingInterval) * time.Second)
		case "SecurityProfile", "AuthorizationKey":
			c.client.Reconnect() // with the new credentials
		}
	})
	c.plays = make([]connectorPlay, snap.NumberOfConnectors)
	for i := range c.plays {
		c.plays[i].rng = rand.New(rand.NewPCG(seed, uint64(i+2)))
	}
	return c, nil
}

// errUnreachable fails connection attempts while the central system is
// made unreachable.
var errUnreachable = errors.New("the central system is unreachable (fault csms-unreachable)")

// gate is waited for before each connection attempt: power, the
// central system's reachability, the ramp.
func (c *Charger) gate(ctx context.Context) error {
	for {
		for c.powerOff.Load() {
			select {
			case <-c.power:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if c.f.unreachable() {
			c.f.stats.attempts.Add(1)
			c.f.stats.attemptsC.Inc()
			return errUnreachable
		}
		if err := c.f.ramp.wait(ctx); err != nil {
			return err
		}
		if !c.powerOff.Load() { // the power may have gone while it waited
			c.f.stats.attempts.Add(1)
			c.f.stats.attemptsC.Inc()
			return nil
		}
	}
}

func (c *Charger) onConnect() {
	if c.powerOff.Load() {
		// Connected in the instant the power went: no charge point is
		// there to speak.
		c.client.Drop()
		return
	}
	if c.everUp.Swap(true) {
		c.f.stats.reconnects.Inc()
	}
	c.connected.Store(true)
	c.failing.Store(false)
	c.f.stats.connects.Add(1)
	c.cp.Connected()
}

func (c *Charger) onDisconnect(err error) {
	if c.connected.Swap(false) {
		c.f.stats.disconnects.Add(1)
	}
	if err != nil {
		s := err.Error()
		c.lastError.Store(&s)
	}
	c.cp.Disconnected()
}

// newCertificate reconnects with the charge point's new certificate
// (CertificateSigned) under security profile 3.
func (c *Charger) newCertificate() {
	if c.settings.Snapshot().SecurityProfile == 3 {
		c.log.Info("reconnecting with the charge point's new certificate")
		c.client.Reconnect()
	}
}

// halted restarts the software after a reset, as a reboot does, and
// connects again.
func (c *Charger) halted(chargepoint.Halt) {
	c.cp.Restart(chargepoint.BootRemoteReset)
	c.client.Reconnect()
}

// cutPower takes the power away for d (see PowerCut).
func (c *Charger) cutPower(d time.Duration) {
	if c.powerOff.Swap(true) {
		return
	}
	c.cp.PowerCut()
	c.client.Drop()
	if cancel := c.dlmCancel.Load(); cancel != nil {
		(*cancel)() // the DLM node goes down with the rest
	}
	time.AfterFunc(d, c.restorePower)
}

func (c *Charger) restorePower() {
	if !c.powerOff.Swap(false) {
		return
	}
	c.cp.Restart(chargepoint.BootPowerUp)
	for _, ch := range []chan struct{}{c.power, c.dlmPower} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// runDLM runs the charge point's DLM node (its DlmMode) while it has
// power, until ctx ends.
func (c *Charger) runDLM(ctx context.Context) {
	for ctx.Err() == nil {
		if c.powerOff.Load() {
			select {
			case <-c.dlmPower:
			case <-ctx.Done():
			}
			continue
		}
		dctx, cancel := context.WithCancel(ctx)
		c.dlmCancel.Store(&cancel)
		if c.powerOff.Load() { // cut meanwhile
			cancel()
		}
		err := daemon.RunDLM(dctx, c.ID, c.settings, c.cp, c.board, c.f.spec.Groups[c.group].model, c.log)
		cancel()
		if err != nil && ctx.Err() == nil && !c.powerOff.Load() {
			c.log.Error("DLM node stopped", "err", err)
			select { // runs again when the power comes back
			case <-c.dlmPower:
			case <-ctx.Done():
			}
		}
	}
}

// State is a charge point's state as the fleet tells it.
type State string

// States, from the link's view.
const (
	StateConnecting State = "connecting" // never connected yet
	StateFailing    State = "failing"    // the last attempt failed
	StateOffline    State = "offline"    // was connected, is not now
	StateConnected  State = "connected"  // connected, no answer to BootNotification yet
	StateAccepted   State = "accepted"
	StatePending    State = "pending"
	StateRejected   State = "rejected"
	StatePowerOff   State = "power-off"
)

// States lists every state in the order they are shown.
var States = []State{StateConnecting, StateFailing, StateOffline, StateConnected, StateAccepted, StatePending, StateRejected, StatePowerOff}

// State is the charge point's state now.
func (c *Charger) State() State {
	switch {
	case c.powerOff.Load():
		return StatePowerOff
	case c.connected.Load():
		switch c.cp.Registration() {
		case chargepoint.Accepted:
			return StateAccepted
		case chargepoint.Pending:
			return StatePending
		case chargepoint.Rejected:
			return StateRejected
		}
		return StateConnected
	case c.failing.Load():
		return StateFailing
	case c.everUp.Load():
		return StateOffline
	}
	return StateConnecting
}

// ocpp is the OCPP version the charge point speaks now: "1.6" or
// "2.0.1".
func (c *Charger) ocpp() string { return strings.TrimPrefix(c.cp.Speaking(), "ocpp") }

// Group is the name of the charge point's group.
func (c *Charger) Group() string { return c.f.spec.Groups[c.group].Name }

// LastError is why the last connection ended or failed, "" if none did.
func (c *Charger) LastError() string {
	if p := c.lastError.Load(); p != nil {
		return *p
	}
	return ""
}

// energyWh is what the charger's meters have counted, in Wh.
func (c *Charger) energyWh() float64 {
	total := 0.0
	for _, h := range c.board.Connectors() {
		total += h.Meter().EnergyWh
	}
	return total
}

// The local API's view of the charge point (api.Backend).

var _ api.Backend = (*Charger)(nil)

func (c *Charger) Status(ctx context.Context) (chargepoint.Status, error) {
	if c.powerOff.Load() {
		return chargepoint.Status{}, errors.New("no power (fault power-cut)")
	}
	return c.cp.Status(ctx)
}
func (c *Charger) Settings() *config.Settings { return c.settings }
func (c *Charger) Board() *sim.Board          { return c.board }
func (c *Charger) EmergencyStop(ctx context.Context) error {
	return c.cp.EmergencyStop(ctx)
}
func (c *Charger) LocalList() api.LocalList { return c.faces.V16 }
func (c *Charger) Display(ctx context.Context) ([]display.Message, error) {
	if c.powerOff.Load() {
		return nil, errors.New("no power (fault power-cut)")
	}
	return c.cp.Showing(ctx)
}
