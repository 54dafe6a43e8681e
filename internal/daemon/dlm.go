package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint/station"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/dlm"
	"github.com/evse-dev/evse/internal/dlm/node"
	"github.com/evse-dev/evse/internal/dlm/wire"
	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/meter"
	"github.com/evse-dev/evse/internal/meter/modbusmeter"
	"github.com/evse-dev/evse/internal/model"
)

// DlmMode values.
const (
	dlmOff = iota
	dlmMasterWithSlave
	dlmMasterStandalone
	dlmSlaveDiscovery
	dlmSlaveFixed
)

// RunDLM runs a charge point's DLM role (DlmMode) until ctx ends, and
// makes DlmState tell it (a fleet runs it for the charge points of its
// DLM sites). Load management is the station's, whatever OCPP version
// it speaks.
func RunDLM(ctx context.Context, id string, settings *config.Settings, st *station.Station, board hw.Board,
	m model.Model, log *slog.Logger) error {
	return runDLM(ctx, id, settings, st, board, m, log, nil, nil)
}

// ManagedByDLM reports whether a DlmMode caps the charger's own
// connectors (a standalone master's are not).
func ManagedByDLM(mode int) bool { return managedByDLM(mode) }

// runDLM runs the charge point's DLM role (DlmMode) until ctx ends, and
// makes DlmState tell it.
func runDLM(ctx context.Context, id string, settings *config.Settings, st *station.Station, board hw.Board,
	m model.Model, log *slog.Logger, onListen func(net.Addr), onMaster func(func() *dlm.MasterState)) error {
	s := settings.Snapshot()
	mode := s.DlmMode
	label := modeLabel(settings, mode)
	if mode == dlmOff {
		settings.SetComputed("DlmState", func() string { return "Disabled" })
		return nil
	}
	log = log.With("dlm", label)
	self := &dlmCharger{cp: st, settings: settings, model: m}
	key := string(s.DlmSiteKey)
	port := s.DlmPort
	switch mode {
	case dlmMasterWithSlave, dlmMasterStandalone:
		siteChanged := make(chan struct{}, 1)
		stop := settings.Watch(func(c config.Change) {
			if strings.HasPrefix(c.Key.Name, "Dlm") {
				select {
				case siteChanged <- struct{}{}:
				default:
				}
			}
		})
		defer stop()
		cfg := node.MasterConfig{ID: id, Key: wire.NewKey(key), Net: s.DlmDiscoveryNetworkId,
			Site: siteAtStart(settings), SiteChanged: siteChanged, Inputs: inputsOf(board), StartGrace: dlm.StartGrace,
			FreeChargingMode: func() int { return settings.Snapshot().FreeChargingMode }, Logger: log,
			Listen: net.JoinHostPort("", strconv.Itoa(port))}
		if onListen != nil {
			cfg.OnListen = func(tcp, _ net.Addr) { onListen(tcp) }
		}
		if mode == dlmMasterWithSlave {
			cfg.Self = self
		}
		if s.DlmExtMeterEnabled == 1 {
			read, wait := startMeter(ctx, settings, log)
			defer wait()
			cfg.Meter = read
		}
		note := ""
		if key == "" {
			log.Error("DlmSiteKey is not set: the master serves no slaves; set the same key on every charger of the site")
			cfg.Listen, note = "", "; no DlmSiteKey set, no slaves served"
		}
		master := node.NewMaster(cfg)
		settings.SetComputed("DlmState", func() string { return master.State() + note })
		if onMaster != nil {
			onMaster(master.Snapshot)
		}
		err := master.Run(ctx)
		if err != nil && ctx.Err() == nil {
			// It cannot listen: it still manages its own connectors.
			log.Error("DLM master cannot serve slaves", "err", err)
			cfg.Listen, note = "", "; cannot serve slaves: "+err.Error()
			master = node.NewMaster(cfg)
			settings.SetComputed("DlmState", func() string { return master.State() + note })
			if onMaster != nil {
				onMaster(master.Snapshot)
			}
			err = master.Run(ctx)
		}
		return err
	case dlmSlaveDiscovery, dlmSlaveFixed:
		if key == "" {
			log.Error("DlmSiteKey is not set: this slave stays at DlmDisconnectedLimit; set the same key on every charger of the site")
			settings.SetComputed("DlmState", func() string {
				return "Slave: no DlmSiteKey set, DlmDisconnectedLimit in use"
			})
			return fallbackOnly(ctx, self, settings)
		}
		cfg := node.SlaveConfig{ID: id, Port: port, Net: s.DlmDiscoveryNetworkId, Key: wire.NewKey(key),
			Charger: self, Logger: log,
			Disconnected: func() float64 { return float64(settings.Snapshot().DlmDisconnectedLimit) },
			SetFreeChargingMode: func(mode int) {
				if settings.Snapshot().FreeChargingMode != mode {
					if _, err := settings.Set("FreeChargingMode", strconv.Itoa(mode), config.ActorInstaller); err != nil {
						log.Warn("cannot copy the master's FreeChargingMode", "mode", mode, "err", err)
					} else {
						log.Info("FreeChargingMode copied from the DLM master", "mode", mode)
					}
				}
			}}
		if mode == dlmSlaveFixed {
			cfg.Master = s.DlmMasterIp
			if cfg.Master == "" {
				log.Error("DlmMode 4 needs DlmMasterIp; this slave stays at DlmDisconnectedLimit")
				settings.SetComputed("DlmState", func() string { return "Slave: no DlmMasterIp set, DlmDisconnectedLimit in use" })
				return fallbackOnly(ctx, self, settings)
			}
		}
		slave := node.NewSlave(cfg)
		settings.SetComputed("DlmState", slave.State)
		return slave.Run(ctx)
	}
	return errors.New("unknown DlmMode")
}

// siteAtStart reads the master's limits live, but for the external
// meter's keys, which take effect at the next start (RebootRequired): a
// meter switched on without its reader would read as failed.
func siteAtStart(settings *config.Settings) func() dlm.Site {
	start := dlm.SiteOf(settings.Snapshot())
	return func() dlm.Site {
		s := dlm.SiteOf(settings.Snapshot())
		s.Meter, s.Excluding = start.Meter, start.Excluding
		return s
	}
}

// managedByDLM reports whether a DlmMode caps the charger's own
// connectors (a standalone master's are not).
func managedByDLM(mode int) bool {
	return mode == dlmMasterWithSlave || mode == dlmSlaveDiscovery || mode == dlmSlaveFixed
}

// fallbackOnly holds a charger at DlmDisconnectedLimit until ctx ends.
func fallbackOnly(ctx context.Context, ch *dlmCharger, settings *config.Settings) error {
	for {
		limits := map[int]float64{}
		for n := range ch.Reports() {
			limits[n] = float64(settings.Snapshot().DlmDisconnectedLimit)
		}
		ch.SetLimits(limits)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func modeLabel(settings *config.Settings, mode int) string {
	k, _ := settings.Catalogue().Lookup("DlmMode")
	if mode >= 0 && mode < len(k.Labels) {
		return k.Labels[mode]
	}
	return strconv.Itoa(mode)
}

// inputsOf reads the board's opto inputs.
func inputsOf(b hw.Board) func() [2]bool {
	return func() [2]bool { return [2]bool{b.Input(1), b.Input(2)} }
}

// dlmCharger is the charge point as DLM sees it. Reports is called by one
// goroutine only (the node's loop).
type dlmCharger struct {
	cp       *station.Station
	settings *config.Settings
	model    model.Model
	reporter dlm.Reporter
}

func (d *dlmCharger) Changed() <-chan struct{}         { return d.cp.LoadsChanged() }
func (d *dlmCharger) SetLimits(limits map[int]float64) { d.cp.SetLimits(limits) }
func (d *dlmCharger) SetPhases(phases map[int]int)     { d.cp.SetPhases(phases) }

func (d *dlmCharger) Reports() map[int]dlm.ConnectorReport {
	var loads []dlm.Load
	for _, l := range d.cp.Loads() {
		loads = append(loads, dlm.Load{Connector: l.Connector, Ready: l.Ready, Applied: l.Applied, Drawn: l.Drawn})
	}
	return d.reporter.Reports(loads, d.settings.Snapshot(), float64(d.model.MaxCurrent), d.model.Phases)
}

// startMeter starts reading the external meter (DlmExtMeter) until ctx
// ends and returns the master's view of it: the latest reading, or not ok
// while it fails (then DlmExtMeterDisconnectedFallback applies); wait
// waits for the reader to stop after ctx ended.
func startMeter(ctx context.Context, settings *config.Settings, log *slog.Logger) (read func() (dlm.Phases, bool), wait func()) {
	none := func() (dlm.Phases, bool) { return dlm.Phases{}, false }
	cfg, err := meter.Parse(settings.Snapshot().DlmExtMeter)
	switch {
	case err != nil:
		log.Error("DlmExtMeter cannot be used; the meter fallback values apply", "err", err)
		return none, func() {}
	case cfg.URL == "":
		log.Error("DlmExtMeterEnabled is On but DlmExtMeter is not set (evse config set DlmExtMeter=tcp://HOST:502?map=sdm630); the meter fallback values apply")
		return none, func() {}
	}
	p := modbusmeter.NewPoller(cfg, log.With("meter", cfg.String()))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Run(ctx); err != nil {
			log.Error("external meter cannot be read; the meter fallback values apply", "err", err)
		}
	}()
	return func() (dlm.Phases, bool) {
		v, ok := p.Latest()
		return dlm.Phases(v), ok
	}, func() { <-done }
}
