// Package daemon builds the subsystems of one charge point (store,
// configuration, OCPP-J transport, charge point) and owns their goroutines.
package daemon

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/evse-dev/evse/internal/api"
	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/chargepoint/runner"
	"github.com/evse-dev/evse/internal/chargepoint/station"
	v16 "github.com/evse-dev/evse/internal/chargepoint/v16"
	"github.com/evse-dev/evse/internal/chargepoint/v201"
	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/display"
	"github.com/evse-dev/evse/internal/dlm"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/model"
	"github.com/evse-dev/evse/internal/ocppj"
	"github.com/evse-dev/evse/internal/store"
	"github.com/evse-dev/evse/internal/web"
)

// Options configure one charge point process. CSMSURL, ID and DataDir are
// required.
type Options struct {
	// CSMSURL is the central system's ws:// or wss:// URL; the charge
	// point id is appended.
	CSMSURL string
	ID      string
	// DataDir holds the store.
	DataDir string
	// Model is the unit played; the zero value is model.Default().
	Model model.Model
	// CAFile, when set, is a PEM file of CA certificates trusted for
	// wss:// instead of the system's.
	CAFile string
	// TrustSystemRoots adds the system's roots to the roots the central
	// system's certificate is checked against: the installed central
	// system roots, or CAFile's. Without either the system's roots are
	// used anyway.
	TrustSystemRoots bool
	Logger           *slog.Logger
	// Trace, when set, sees every OCPP frame. It must not block.
	Trace func(dir ocppj.Direction, frame []byte)
	// MinBackoff and MaxBackoff bound the reconnection wait; zero values
	// take the transport's defaults.
	MinBackoff, MaxBackoff time.Duration
	// Listen is the address of the local HTTP API ("": none).
	Listen string
	// ReplaySpread is the longest random wait before the journal is
	// replayed after a (re)connection; zero takes the charge point's
	// default (10 s).
	ReplaySpread time.Duration
	// Adopt takes over a data directory made for another charge point id
	// or model: it is kept as this one's from then on.
	Adopt bool
	// Pacing is the least time between two transaction messages sent
	// from the journal; zero: as fast as the central system answers.
	Pacing time.Duration
	// OnListen, when set, is told the API's address once it listens.
	OnListen func(addr string)
	// OnDLMListen, when set, is told the DLM master's address once it
	// listens.
	OnDLMListen func(addr net.Addr)
	// OCPP are the OCPP versions offered to the central system, in order
	// of preference (ParseVersions); the charge point speaks the one it
	// picks. Default OCPP 1.6 only.
	OCPP []string
}

// ParseVersions reads a list of OCPP versions ("2.0.1,1.6", or with their
// subprotocol names ocpp2.0.1, ocpp1.6) into subprotocols, in order.
func ParseVersions(list string) ([]string, error) {
	var out []string
	for _, v := range strings.Split(list, ",") {
		sp := strings.TrimSpace(v)
		if !strings.HasPrefix(sp, "ocpp") {
			sp = "ocpp" + sp
		}
		if sp != v16.Subprotocol && sp != v201.Subprotocol {
			return nil, fmt.Errorf("OCPP version %q: 1.6 or 2.0.1", strings.TrimSpace(v))
		}
		if slices.Contains(out, sp) {
			return nil, fmt.Errorf("OCPP version %q given twice", strings.TrimSpace(v))
		}
		out = append(out, sp)
	}
	return out, nil
}

// OpenSettings opens the store in dataDir (creating it unless readOnly;
// read-only, nothing is written) and the configuration of its unit: of the
// model the store keeps, or of the given one (non-zero) when the store
// keeps none or the same; a writer keeps a given model for the next. The
// caller closes the returned store.
func OpenSettings(dataDir string, given model.Model, readOnly bool, log *slog.Logger) (*config.Settings, *store.DB, error) {
	db, err := store.Open(dataDir, store.Options{MustExist: readOnly, ReadOnly: readOnly})
	if err != nil {
		return nil, nil, err
	}
	_, kept, err := keptUnit(db)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("%s: %w", dataDir, err)
	}
	m, err := resolveModel(dataDir, given, kept, false)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	if !readOnly && given.Vendor != "" && kept == nil {
		// The first writer names the model; later ones find it.
		if err := keepUnit(db, "", m); err != nil {
			db.Close()
			return nil, nil, err
		}
	}
	cat, err := config.NewCatalogue(m.ConfigDefaults())
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	settings, err := config.Open(cat, db, log)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	settings.SetComputed("DlmState", dlmState(settings))
	return settings, db, nil
}

// dlmState is DlmState while the charge point does not run (evse config
// get); a running one tells its live state (runDLM).
func dlmState(settings *config.Settings) func() string {
	return func() string {
		mode := settings.Snapshot().DlmMode
		if mode == dlmOff {
			return "Disabled"
		}
		return modeLabel(settings, mode) + ": not running"
	}
}

// Run runs the charge point until ctx ends; it returns nil then, or the
// error that kept it from starting. A Reset from the central system
// restarts the charge point's software in place (configuration reloaded,
// BootNotification again); the simulated hardware, and the EVs plugged
// into it, live on.
func Run(ctx context.Context, opts Options) error {
	if opts.CSMSURL == "" || opts.ID == "" || opts.DataDir == "" {
		return errors.New("daemon: the central system URL, the charge point id and the data directory are required")
	}
	if _, err := ocppj.CheckURL(opts.CSMSURL); err != nil {
		return err // before anything is made or started
	}
	if err := bindDataDir(&opts); err != nil {
		return err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ring := newLogRing() // what GetDiagnostics uploads
	log = slog.New(newCapHandler(newRingHandler(log.Handler(), ring))).With("cp", opts.ID)
	tlsConfig, err := TLSConfig(opts.CAFile, opts.TrustSystemRoots)
	if err != nil {
		return err
	}
	hw := &hardware{}
	defer hw.stop()
	if err := hw.start(opts, log); err != nil {
		return err
	}
	live := &liveCP{hw: hw}
	if opts.Listen != "" {
		stopAPI, err := serveAPI(opts, live, ring, log)
		if err != nil {
			return err
		}
		defer stopAPI()
	}
	for reason := chargepoint.BootPowerUp; ; reason = chargepoint.BootRemoteReset {
		err := runOnce(ctx, opts, reason, log, tlsConfig, hw, live, ring)
		if !errors.Is(err, v16.ErrReset) {
			return err
		}
		log.Info("restarting after Reset")
	}
}

// serveAPI starts the local HTTP API and the charger's page; the
// returned function stops them.
func serveAPI(opts Options, live *liveCP, ring *logRing, log *slog.Logger) (func(), error) {
	page := web.NewCharger(live, web.ChargerOptions{Title: opts.ID, Logs: ring, Logger: log, Site: live.SiteLoad})
	mux := http.NewServeMux()
	mux.Handle("/api/", api.Handler(live, log))
	mux.Handle("/assets/", web.Assets())
	mux.Handle("/", page)
	stop, err := ServeAPI(opts.Listen, opts.DataDir, mux, log, opts.OnListen)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		page.Run(ctx) // the chart's last hour
	}()
	return func() {
		stop()
		cancel()
		<-done
	}, nil
}

// ServeAPI serves a local API's handler on listen, guarded as `evse
// run`'s is (docs/api.md): the token kept in dataDir beyond loopback,
// this machine's Host only, no cross-origin requests, bounded
// connections and timeouts. onListen (optional) is told the address.
// The returned function stops it.
func ServeAPI(listen, dataDir string, handler http.Handler, log *slog.Logger, onListen func(addr string)) (func(), error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("local API: %w", err)
	}
	token, err := APIToken(dataDir)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("local API token: %w", err)
	}
	guard := api.Guard{Loopback: isLoopback(ln.Addr())}
	if !guard.Loopback {
		guard.Token = token
		log.Warn("local API listens beyond loopback: every request needs its token (evse api-token --data DIR)", "addr", ln.Addr().String())
	}
	ln = newLimitListener(ln)
	// Requests live in base: a stop ends the pages' event streams at
	// once, rather than Shutdown waiting for them.
	base, endRequests := context.WithCancel(context.Background())
	srv := &http.Server{Handler: guard.Protect(handler, log), BaseContext: func(net.Listener) context.Context { return base },
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: time.Minute,
		IdleTimeout: 30 * time.Second, MaxHeaderBytes: 64 << 10}
	done := make(chan struct{})
	go func() {
		srv.Serve(ln)
		close(done)
	}()
	log.Info("local API listening", "addr", ln.Addr().String())
	if onListen != nil {
		onListen(ln.Addr().String())
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		endRequests()
		srv.Shutdown(ctx)
		<-done
	}, nil
}

// isLoopback reports whether a listening address is a loopback one.
func isLoopback(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}

// liveCP is the charge point the local API serves, whichever run of it is
// current (a Reset makes a new one).
type liveCP struct {
	hw *hardware
	mu sync.Mutex
	cp *v16.ChargePoint
	s  *config.Settings
	// master is the DLM master's state, when this charger is one.
	master func() *dlm.MasterState
}

func (l *liveCP) setMaster(f func() *dlm.MasterState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.master = f
}

// SiteLoad is what a DLM master had available and offered on each grid
// phase (ok false on any other charger).
func (l *liveCP) SiteLoad() (available, offered [3]float64, ok bool) {
	l.mu.Lock()
	f := l.master
	l.mu.Unlock()
	if f == nil {
		return available, offered, false
	}
	st := f()
	if st == nil {
		return available, offered, false
	}
	return st.Available, st.Offered, true
}

var _ api.Backend = (*liveCP)(nil)

func (l *liveCP) set(cp *v16.ChargePoint, s *config.Settings) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cp, l.s = cp, s
}

func (l *liveCP) Status(ctx context.Context) (chargepoint.Status, error) {
	l.mu.Lock()
	cp := l.cp
	l.mu.Unlock()
	if cp == nil {
		return chargepoint.Status{}, errors.New("starting")
	}
	return cp.Status(ctx)
}

func (l *liveCP) Display(ctx context.Context) ([]display.Message, error) {
	l.mu.Lock()
	cp := l.cp
	l.mu.Unlock()
	if cp == nil {
		return nil, errors.New("starting")
	}
	return cp.Showing(ctx)
}

func (l *liveCP) EmergencyStop(ctx context.Context) error {
	l.mu.Lock()
	cp := l.cp
	l.mu.Unlock()
	if cp == nil {
		return errors.New("starting")
	}
	return cp.EmergencyStop(ctx)
}

func (l *liveCP) Settings() *config.Settings {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s
}

func (l *liveCP) Board() *sim.Board { return l.hw.board }

func (l *liveCP) LocalList() api.LocalList {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cp == nil {
		return nil
	}
	return l.cp
}

// hardware is the simulated board, made once and kept across resets.
type hardware struct {
	board  *sim.Board
	cancel context.CancelFunc
	done   chan struct{}
}

// start makes the board, its meters starting from the registers the store
// last knew, and runs it.
func (h *hardware) start(opts Options, log *slog.Logger) error {
	settings, db, err := OpenSettings(opts.DataDir, opts.Model, false, log)
	if err != nil {
		return err
	}
	defer db.Close()
	connectors := settings.Snapshot().NumberOfConnectors
	registers, err := runner.LastRegisters(db, connectors)
	if err != nil {
		return err
	}
	h.board = sim.New(sim.Options{Clock: clock.Real{}, Connectors: connectors, Phases: opts.Model.Phases, Registers: registers,
		Socket: opts.Model.Socket()})
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go func() {
		h.board.Run(ctx)
		close(h.done)
	}()
	return nil
}

func (h *hardware) stop() {
	if h.cancel != nil {
		h.cancel()
		<-h.done
	}
}

// runOnce runs the charge point's software once: until ctx ends, or a
// Reset (v16.ErrReset).
func runOnce(ctx context.Context, opts Options, bootReason chargepoint.BootReason, log *slog.Logger, tlsConfig *tls.Config, hw *hardware, live *liveCP, ring *logRing) error {
	settings, db, err := OpenSettings(opts.DataDir, opts.Model, false, log)
	if err != nil {
		return err
	}
	defer db.Close()

	// The network connection profile this boot starts with (B10): the
	// first of NetworkConfigurationPriority, which may change the
	// security profile.
	walker, err := newSlotWalker(db, settings, opts.CSMSURL, log)
	if err != nil {
		return err
	}
	profile := settings.Snapshot().SecurityProfile
	if (profile == 1 || profile == 2) && settings.Snapshot().AuthorizationKey == "" {
		return fmt.Errorf("security profile %d needs an AuthorizationKey: evse config set --data %s AuthorizationKey=<32 to 40 hex digits>", profile, opts.DataDir)
	}
	keys := certs.New(db)
	if profile == 3 {
		if _, err := keys.Certificate(); err != nil {
			return fmt.Errorf("security profile 3: %w", err)
		}
	}
	settings.AddCheck(checkPriority(db))
	settings.AddCheck(func(k config.Key, v string, _ config.Actor, _ func(string) string) error {
		if k.Name != "SecurityProfile" {
			return nil
		}
		if (v == "2" || v == "3") && !strings.HasPrefix(strings.ToLower(walker.url()), "wss://") {
			return fmt.Errorf("security profile %s needs a wss:// central system URL", v)
		}
		if _, err := keys.Certificate(); v == "3" && err != nil {
			return fmt.Errorf("security profile 3 needs the charge point's certificate: %w", err)
		}
		return nil
	})
	if tlsConfig, err = profileTLS(tlsConfig, keys, settings, opts.TrustSystemRoots); err != nil {
		return err
	}
	var client *ocppj.Client
	faces, err := NewStation(station.Options{
		Model: opts.Model, Settings: settings, Board: hw.board, Store: db, Clock: clock.Real{}, Logger: log,
		ReconnectSpread: opts.ReplaySpread, Pacing: opts.Pacing, Managed: managedByDLM(settings.Snapshot().DlmMode),
		Firmware: newHTTPFetcher(tlsConfig), Diagnostics: newDiagnostics(ring, tlsConfig), ID: opts.ID,
		BootReason: bootReason, SetNetworkProfile: keepProfile(db, settings, keys, walker),
		OnCertificate: func() {
			if settings.Snapshot().SecurityProfile == 3 {
				log.Info("reconnecting with the charge point's new certificate")
				client.Reconnect()
			}
		},
	}, opts.OCPP)
	if err != nil {
		return err
	}
	cp := faces.V16
	refusals := &linkRefusals{report: cp.SecurityIncident}
	renewal := &renewalTrial{keys: keys, log: log, reconnect: func() { client.Reconnect() }, report: cp.SecurityIncident}
	fallback := &profileFallback{settings: settings, log: log, reconnect: func() { client.Reconnect() }, report: cp.SecurityIncident}
	client, err = ocppj.NewClient(ocppj.Options{
		URL:          walker.url(),
		ID:           opts.ID,
		Password:     Password(settings),
		RequireTLS:   profile >= 2,
		TLSConfig:    tlsConfig,
		PingInterval: time.Duration(settings.Snapshot().WebSocketPingInterval) * time.Second,
		MinBackoff:   opts.MinBackoff,
		MaxBackoff:   opts.MaxBackoff,
		Subprotocols: opts.OCPP,
		Offer:        faces.Station.Offer,
		Handler:      faces,
		Logger:       log,
		Trace:        opts.Trace,
		OnConnect: func() {
			moved := walker.connected()
			fallback.connected()
			refusals.connected()
			renewal.connected()
			if moved {
				faces.Station.ConnectedToNewServer()
				return
			}
			cp.Connected()
		},
		OnDisconnect: func(error) { cp.Disconnected() },
		OnConnectFailed: func(err error) {
			refusals.failed(err)
			fallback.failed(err)
			renewal.failed(err)
			walker.failed(err)
		},
	})
	if err != nil {
		return err
	}
	walker.setURL, walker.reconnect = client.SetURL, client.Reconnect
	live.set(cp, settings)
	defer live.set(nil, nil)
	stop := settings.Watch(func(c config.Change) {
		switch c.Key.Name {
		case "WebSocketPingInterval":
			client.SetPingInterval(time.Duration(settings.Snapshot().WebSocketPingInterval) * time.Second)
		case "SecurityProfile":
			log.Info("security profile changed; reconnecting with it", "security_profile", c.New)
			fallback.changed(c)
			client.Reconnect() // after the answer to ChangeConfiguration
		case "AuthorizationKey":
			if settings.Snapshot().SecurityProfile >= 1 {
				log.Info("AuthorizationKey changed; reconnecting with the new password")
				client.Reconnect()
			}
		}
	})
	defer stop()

	log.Info("charge point starting", "url", client.URL(), "vendor", opts.Model.Vendor, "model", opts.Model.Model,
		"security_profile", profile, "data", db.Path())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The transport outlives the charge point's own stop: going down, it
	// still delivers the journal (the stops of running transactions) for
	// a few seconds.
	tctx, stopTransport := context.WithCancel(context.WithoutCancel(ctx))
	defer stopTransport()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		err := client.Run(tctx)
		cancel() // a transport that gives up stops the charge point
		return err
	})
	g.Go(func() error {
		err := cp.Run(gctx, client)
		cancel() // a Reset stops the transport too
		stopTransport()
		return err
	})
	g.Go(func() error {
		defer live.setMaster(nil)
		return runDLM(gctx, opts.ID, settings, faces.Station, hw.board, opts.Model, log, opts.OnDLMListen, live.setMaster)
	})
	err = g.Wait()
	log.Info("charge point stopped")
	return err
}

// Password returns the Basic authentication password of the security
// profile, read at each connection: AuthorizationKey decoded from hex
// for profiles 1 and 2, none for 0 and 3 (a client certificate).
func Password(settings *config.Settings) func() []byte {
	return func() []byte {
		s := settings.Snapshot()
		if s.SecurityProfile != 1 && s.SecurityProfile != 2 {
			return nil
		}
		b, err := hex.DecodeString(string(s.AuthorizationKey))
		if err != nil {
			return nil
		}
		return b
	}
}

// maxFirmware bounds a firmware download.
const maxFirmware = 64 << 20

// httpFetcher downloads firmware over HTTP(S) and FTP.
type httpFetcher struct{ client *http.Client }

func newHTTPFetcher(tlsConfig *tls.Config) httpFetcher {
	return httpFetcher{client: newHTTPClient(tlsConfig)}
}

// newHTTPClient is the client of firmware downloads and diagnostics
// uploads: the --ca pool when given, 5 minutes at most.
func newHTTPClient(tlsConfig *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if tlsConfig != nil {
		tr.TLSClientConfig = tlsConfig
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Minute}
}

// Fetch GETs url (status 200 only), or retrieves it over FTP: at most
// 64 MiB.
func (f httpFetcher) Fetch(ctx context.Context, url string) ([]byte, error) {
	if strings.HasPrefix(url, "ftp://") {
		return ftpFetch(ctx, url, maxFirmware)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFirmware+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxFirmware {
		return nil, fmt.Errorf("GET %s: over %d bytes", url, maxFirmware)
	}
	return body, nil
}
