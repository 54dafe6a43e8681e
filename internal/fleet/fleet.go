package fleet

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint/runner"
	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/daemon"
	"github.com/evse-dev/evse/internal/ocppj"
	"github.com/evse-dev/evse/internal/store"
)

// Options configure a fleet. CSMSURL (or Spec.CSMS), Spec and DataDir
// are required.
type Options struct {
	CSMSURL string
	Spec    Spec
	// DataDir holds the fleet's one store.
	DataDir string
	// Seed makes the cars, the drivers and the faults' draws; the same
	// seed, the same draws.
	Seed uint64
	// Shard is the part of the spec this process runs; zero: all.
	Shard Shard
	// CAFile, when set, is a PEM file of CA certificates trusted for
	// wss:// instead of the system's.
	CAFile string
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound each link's reconnection wait;
	// zero takes the transport's defaults (1 s, 60 s).
	MinBackoff, MaxBackoff time.Duration
	// ReplaySpread is the longest random wait before a journal is
	// replayed after a reconnection; zero: 10 s.
	ReplaySpread time.Duration
	// Pacing is the least time between two journaled messages of one
	// charge point; zero: none.
	Pacing time.Duration
	// StopGrace bounds the delivery of the journals when the fleet
	// stops. Default 10 s.
	StopGrace time.Duration
}

// Fleet is many charge points in one process.
type Fleet struct {
	opts       Options
	spec       Spec
	log        *slog.Logger
	db         *store.DB
	runner     *runner.Runner
	catalogues []*config.Catalogue
	// slaveCatalogues are the catalogues of the slaves of DLM groups
	// (nil for other groups).
	slaveCatalogues []*config.Catalogue
	chargers        []*Charger
	byID            map[string]*Charger
	stats           *Stats
	ramp            *ramp
	gen             *generator
	started         time.Time
	// energyAtStart is what the meters had counted when the fleet
	// started, in Wh (the report counts what this run added).
	energyAtStart float64

	unreachableUntil atomic.Int64 // unix ns

	gaugeOnce sync.Once

	faultMu  sync.Mutex
	faultRng *rand.Rand
	faults   []FaultRecord
}

// FaultRecord is a fault that happened.
type FaultRecord struct {
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"`
	Chargers int       `json:"chargers"`
}

// New opens the fleet's store and makes its charge points, each restored
// from its part (a fleet started again on its data resumes every one).
func New(opts Options) (*Fleet, error) {
	if opts.CSMSURL == "" {
		opts.CSMSURL = opts.Spec.CSMS
	}
	if opts.CSMSURL == "" || opts.DataDir == "" {
		return nil, errors.New("fleet: the central system URL and the data directory are required")
	}
	if _, err := ocppj.CheckURL(opts.CSMSURL); err != nil {
		return nil, err
	}
	if opts.Shard.N == 0 {
		opts.Shard = Shard{0, 1}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tlsURL := strings.HasPrefix(strings.ToLower(opts.CSMSURL), "wss://")
	for _, g := range opts.Spec.Groups {
		if p := g.Security.Profile; p >= 2 && !tlsURL {
			return nil, fmt.Errorf("fleet: group %s: security profile %d needs a wss:// central system URL", g.Name, p)
		}
	}
	tlsConfig, err := daemon.TLSConfig(opts.CAFile, false)
	if err != nil {
		return nil, err
	}
	tlsConfig.GetClientCertificate = clientCertificate
	members := opts.Spec.members(opts.Shard)
	if len(members) == 0 {
		return nil, fmt.Errorf("fleet: shard %d/%d holds no charge point", opts.Shard.I, opts.Shard.N)
	}
	db, err := store.Open(opts.DataDir, store.Options{})
	if err != nil {
		return nil, err
	}
	f := &Fleet{opts: opts, spec: opts.Spec, log: log, db: db, byID: map[string]*Charger{}, stats: newStats(),
		ramp: newRamp(opts.Spec.Ramp, opts.Seed), faultRng: rand.New(rand.NewPCG(opts.Seed, 0xfa17))}
	f.runner = runner.New(runner.Options{Store: db, Logger: log, StopGrace: opts.StopGrace})
	for i, g := range f.spec.Groups {
		master, slave, err := f.groupCatalogues(i, g)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("group %s: %w", g.Name, err)
		}
		f.catalogues = append(f.catalogues, master)
		f.slaveCatalogues = append(f.slaveCatalogues, slave)
	}
	prefixes := make([]string, len(members))
	for i, m := range members {
		prefixes[i] = partPrefix(m.id)
	}
	if err := runner.PrepareParts(db, prefixes); err != nil {
		db.Close()
		return nil, err
	}
	if err := f.provision(db, members, prefixes); err != nil {
		db.Close()
		return nil, err
	}
	httpClient := daemon.NewHTTPClient(tlsConfig)
	wsClients, err := linkClients(f.spec.Groups, tlsConfig)
	if err != nil {
		db.Close()
		return nil, err
	}
	for i, m := range members {
		c, err := f.newCharger(m, runner.Prefixed(db, prefixes[i]), httpClient, tlsConfig, wsClients[m.group])
		if err != nil {
			db.Close()
			return nil, err
		}
		f.chargers = append(f.chargers, c)
		f.byID[c.ID] = c
	}
	for _, c := range f.chargers {
		f.energyAtStart += c.energyWh()
	}
	f.gen = &generator{clock: clock.Real{}, stats: f.stats, groups: f.spec.Groups}
	return f, nil
}

// catalogueOf is the catalogue of charge point m.
func (f *Fleet) catalogueOf(m member) *config.Catalogue {
	if f.spec.Groups[m.group].DLM && m.n > 1 {
		return f.slaveCatalogues[m.group]
	}
	return f.catalogues[m.group]
}

// groupCatalogues makes a group's catalogue; for a DLM group, that of
// its master and that of its slaves, which find the master on loopback.
func (f *Fleet) groupCatalogues(i int, g Group) (master, slave *config.Catalogue, err error) {
	if !g.DLM {
		master, err = g.catalogue(nil)
		return master, nil, err
	}
	port := g.DLMPort
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, nil, err
		}
	}
	role := roleDefaults{"DlmMode": dlmMaster, "DlmPort": strconv.Itoa(port)}
	if g.Keys["DlmSiteKey"] == "" {
		rng := rand.New(rand.NewPCG(f.opts.Seed, uint64(i)))
		role["DlmSiteKey"] = fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
	}
	if master, err = g.catalogue(role); err != nil {
		return nil, nil, err
	}
	role["DlmMode"], role["DlmMasterIp"] = dlmSlave, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	slave, err = g.catalogue(role)
	return master, slave, err
}

// freePort returns a TCP port nothing listens on now (the master takes
// it when it starts: a port taken meanwhile shows in its DlmState).
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("a port for the DLM master: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// partPrefix is the prefix of a charge point's buckets in the store.
func partPrefix(id string) string { return "cp/" + id + "/" }

// seedOf is a charge point's own seed: the fleet's and its id.
func (f *Fleet) seedOf(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64() ^ f.opts.Seed
}

// Chargers returns the fleet's charge points, in file order.
func (f *Fleet) Chargers() []*Charger { return f.chargers }

// Charger returns a charge point by id.
func (f *Fleet) Charger(id string) (*Charger, bool) {
	c, ok := f.byID[id]
	return c, ok
}

func (f *Fleet) unreachable() bool {
	return time.Now().UnixNano() < f.unreachableUntil.Load()
}

// Run runs the fleet until ctx ends, then stops it cleanly: every
// transaction stops (reason Reboot) and the journals are delivered for
// up to StopGrace while the links last. It closes the store.
func (f *Fleet) Run(ctx context.Context) error {
	defer f.db.Close()
	f.started = time.Now()
	var wg sync.WaitGroup
	// The links outlive the charge points' own stop: going down, they
	// still deliver the journals.
	lctx, stopLinks := context.WithCancel(context.WithoutCancel(ctx))
	for _, c := range f.chargers {
		wg.Go(func() { c.client.Run(withCharger(lctx, c)) })
	}
	bctx, stopBoards := context.WithCancel(context.Background())
	var side sync.WaitGroup
	wg.Go(func() { f.ramp.run(lctx) }) // as long as the links
	side.Go(func() { f.moveBoards(bctx) })
	f.gen.schedule(time.Now(), f.chargers)
	side.Go(func() { f.gen.run(bctx) })
	side.Go(func() { f.scheduleFaults(bctx) })
	for _, c := range f.chargers {
		if c.dlm {
			side.Go(func() { c.runDLM(bctx) })
		}
	}
	err := f.runner.Run(ctx)
	stopBoards()
	side.Wait()
	stopLinks()
	wg.Wait()
	return err
}

// moveBoards moves every board's time from one goroutine: each board's
// EVs follow their offers and fill their batteries.
func (f *Fleet) moveBoards(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		now := time.Now()
		for _, c := range f.chargers {
			if next := c.board.Next(); (!next.IsZero() && !next.After(now)) || c.board.Waiting() {
				c.board.Tick()
			}
		}
	}
}

// scheduleFaults applies the spec's faults at their times.
func (f *Fleet) scheduleFaults(ctx context.Context) {
	faults := append([]Fault(nil), f.spec.Faults...)
	sort.SliceStable(faults, func(i, j int) bool { return faults[i].At < faults[j].At })
	for _, ft := range faults {
		if err := sleep(ctx, time.Until(f.started.Add(ft.At.D()))); err != nil {
			return
		}
		if _, err := f.Apply(ft); err != nil {
			f.log.Error("fault not applied", "kind", ft.Kind, "err", err)
		}
	}
}

// Apply applies a fault now and returns how many charge points it hit.
func (f *Fleet) Apply(ft Fault) (int, error) {
	groups := map[string]bool{}
	for _, g := range f.spec.Groups {
		groups[g.Name] = true
	}
	if err := ft.check(groups); err != nil {
		return 0, err
	}
	hit := f.pick(ft)
	switch ft.Kind {
	case DropLinks:
		for _, c := range hit {
			c.client.Drop()
		}
	case PowerCut:
		for _, c := range hit {
			c.cutPower(ft.For.D())
		}
	case Unreachable:
		f.unreachableUntil.Store(time.Now().Add(ft.For.D()).UnixNano())
		hit = f.chargers
		for _, c := range hit {
			c.client.Drop()
		}
	case ClockSkew:
		for _, c := range hit {
			c.cp.SetSkew(ft.By.D())
		}
	}
	f.faultMu.Lock()
	f.faults = append(f.faults, FaultRecord{At: time.Now(), Kind: ft.Kind, Chargers: len(hit)})
	if len(f.faults) > maxFaults {
		f.faults = f.faults[1:]
	}
	f.faultMu.Unlock()
	f.log.Info("fault", "kind", ft.Kind, "chargers", len(hit), "for", ft.For.D(), "by", ft.By.D())
	return len(hit), nil
}

// pick draws the charge points a fault hits.
func (f *Fleet) pick(ft Fault) []*Charger {
	if len(ft.IDs) > 0 {
		var out []*Charger
		for _, id := range ft.IDs {
			if c, ok := f.byID[id]; ok {
				out = append(out, c)
			}
		}
		return out
	}
	f.faultMu.Lock()
	defer f.faultMu.Unlock()
	var out []*Charger
	for _, c := range f.chargers {
		if ft.Group != "" && c.Group() != ft.Group {
			continue
		}
		if ft.Share >= 1 || f.faultRng.Float64() < ft.Share {
			out = append(out, c)
		}
	}
	return out
}

// Progress is the fleet's state at a moment.
type Progress struct {
	Chargers int           `json:"chargers"`
	States   map[State]int `json:"states"`
	Attempts int64         `json:"connectionAttempts"`
	Sessions int64         `json:"sessions"`
}

// Progress counts the charge points by state.
func (f *Fleet) Progress() Progress {
	p := Progress{Chargers: len(f.chargers), States: map[State]int{}, Attempts: f.stats.attempts.Load(),
		Sessions: f.stats.sessions.Load()}
	for _, c := range f.chargers {
		p.States[c.State()]++
	}
	return p
}
