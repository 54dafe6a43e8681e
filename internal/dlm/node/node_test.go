package node

import (
	"context"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/dlm"
	"github.com/evse-dev/evse/internal/dlm/wire"
	"github.com/evse-dev/evse/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// fakeCharger is one connector whose EV follows its offer at once.
type fakeCharger struct {
	mu      sync.Mutex
	ready   bool
	max     float64
	limit   float64
	set     int // SetLimits calls
	changed chan struct{}
}

func newFakeCharger(ready bool) *fakeCharger {
	return &fakeCharger{ready: ready, max: 32, changed: make(chan struct{}, 1)}
}

func (f *fakeCharger) Reports() map[int]dlm.ConnectorReport {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := dlm.ConnectorReport{Ready: f.ready, Phases: 3, Rotation: [3]int{0, 1, 2}, Max: f.max, Min: 6, Disconnected: 6}
	if f.ready && f.limit >= 6 {
		r.Applied = min(f.limit, f.max)
		r.Drawn = dlm.Phases{r.Applied, r.Applied, r.Applied}
	}
	return map[int]dlm.ConnectorReport{1: r}
}

func (f *fakeCharger) SetLimits(l map[int]float64) {
	f.mu.Lock()
	f.limit = l[1]
	f.set++
	f.mu.Unlock()
	f.signal()
}

func (f *fakeCharger) SetPhases(map[int]int) {}

func (f *fakeCharger) signal() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

func (f *fakeCharger) Changed() <-chan struct{} { return f.changed }

func (f *fakeCharger) Limit() float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.limit
}

func (f *fakeCharger) setReady(r bool) {
	f.mu.Lock()
	f.ready = r
	f.mu.Unlock()
	f.signal()
}

// siteLimits is a thread-safe dlm.Site for a test to change.
type siteLimits struct {
	mu   sync.Mutex
	site dlm.Site
}

func (s *siteLimits) get() dlm.Site { s.mu.Lock(); defer s.mu.Unlock(); return s.site }
func (s *siteLimits) setOperator(a float64) {
	s.mu.Lock()
	s.site.OperatorLimit = dlm.Phases{a, a, a}
	s.mu.Unlock()
}

func logger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil)).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// startMaster runs a standalone master on loopback and returns its TCP
// address.
func startMaster(t *testing.T, key string, netID int, site *siteLimits) (*Master, string) {
	t.Helper()
	addr := make(chan string, 1)
	m := NewMaster(MasterConfig{ID: "M", Listen: "127.0.0.1:0", Key: wire.NewKey(key), Net: netID, Site: site.get,
		Logger: logger(t), OnListen: func(tcp, _ net.Addr) { addr <- tcp.String() }})
	run(t, m.Run)
	select {
	case a := <-addr:
		return m, a
	case <-time.After(5 * time.Second):
		t.Fatal("master did not listen")
		return nil, ""
	}
}

// run runs f until the test ends.
func run(t *testing.T, f func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func startSlave(t *testing.T, id, key, master string, ch Charger) *Slave {
	s := NewSlave(SlaveConfig{ID: id, Master: master, Key: wire.NewKey(key), Charger: ch,
		Disconnected: func() float64 { return 6 }, Logger: logger(t)})
	run(t, s.Run)
	return s
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("not within 5 s: %s", what)
}

func site32() *siteLimits {
	return &siteLimits{site: dlm.Site{PhaseLimit: dlm.Phases{32, 32, 32}, OperatorLimit: dlm.Phases{32, 32, 32}, Recalc: 2 * time.Second}}
}

func TestSlavesOverTCPShareTheSiteAndFollowAnOperatorLimitAtOnce(t *testing.T) {
	site := site32()
	m, addr := startMaster(t, "site-key", 0, site)
	a, b := newFakeCharger(true), newFakeCharger(false)
	startSlave(t, "A", "site-key", addr, a)
	startSlave(t, "B", "site-key", addr, b)
	eventually(t, "A alone gets 32 A", func() bool { return a.Limit() == 32 })
	b.setReady(true)
	eventually(t, "A and B get 16 A each", func() bool { return a.Limit() == 16 && b.Limit() == 16 })
	if st := m.State(); !strings.Contains(st, "2 slaves online") || !strings.Contains(st, "2 charging") {
		t.Errorf("DlmState %q", st)
	}
	site.setOperator(20)
	start := time.Now()
	eventually(t, "the operator limit reaches both", func() bool { return a.Limit() == 10 && b.Limit() == 10 })
	t.Logf("operator limit to both slaves: %v", time.Since(start))
	if a.Limit()+b.Limit() > 20 {
		t.Fatalf("over the limit: %g + %g", a.Limit(), b.Limit())
	}
}

func TestASlaveWithAnotherSiteKeyGetsNothing(t *testing.T) {
	_, addr := startMaster(t, "site-key", 0, site32())
	good, bad := newFakeCharger(true), newFakeCharger(true)
	startSlave(t, "G", "site-key", addr, good)
	s := startSlave(t, "X", "wrong-key", addr, bad)
	eventually(t, "the good slave is served", func() bool { return good.Limit() == 32 })
	time.Sleep(time.Second)
	if bad.Limit() != 0 {
		t.Fatalf("a slave without the key got %g A", bad.Limit())
	}
	if st := s.State(); !strings.Contains(st, "looking for the master") {
		t.Errorf("DlmState %q", st)
	}
}

func TestDiscoveryFindsOnlyAMasterOfTheSameNetworkAndKey(t *testing.T) {
	_, addr := startMaster(t, "site-key", 7, site32())
	_, port, _ := net.SplitHostPort(addr)
	p := atoi(t, port)
	find := func(key string, netID int) (string, error) {
		s := NewSlave(SlaveConfig{ID: "D", Port: p, Net: netID, Key: wire.NewKey(key), Broadcast: "127.0.0.1",
			Charger: newFakeCharger(false), Disconnected: func() float64 { return 6 }})
		return s.findMaster(context.Background())
	}
	if got, err := find("site-key", 7); err != nil || got != addr {
		t.Fatalf("discovery: %q, %v; want %s", got, err, addr)
	}
	if got, err := find("site-key", 8); err == nil {
		t.Fatalf("another network id found %q", got)
	}
	if got, err := find("other-key", 7); err == nil {
		t.Fatalf("another key accepted the answer of %q", got)
	}
}

func TestAMasterRefusesAnotherProtocolVersionAndGarbage(t *testing.T) {
	_, addr := startMaster(t, "k", 0, site32())
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(`- {"type":"hello","v":2,"slave":"S","nonce":"AAAAAAAAAAAAAAAAAAAAAA=="}` + "\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := newLineReader(c).next()
	if err != nil || l.Msg.Type != wire.TypeRefuse || !strings.Contains(l.Msg.Reason, "version 2") {
		t.Fatalf("got %+v, %v; want a refusal naming version 2", l.Msg, err)
	}
	g, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	g.Write([]byte(strings.Repeat("x", 70000) + "\n"))
	g.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := newLineReader(g).next(); err == nil {
		t.Fatal("garbage answered")
	}
}

func atoi(t *testing.T, s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

func TestAMastersOwnConnectorIsManagedFromTheStart(t *testing.T) {
	self := newFakeCharger(false)
	self.limit = -1 // uncapped, as a charge point starts
	site := site32()
	addr := make(chan string, 1)
	m := NewMaster(MasterConfig{ID: "M", Listen: "127.0.0.1:0", Key: wire.NewKey("k"), Site: site.get, Self: self,
		Logger: logger(t), OnListen: func(tcp, _ net.Addr) { addr <- tcp.String() }})
	run(t, m.Run)
	// Before any car: capped at nothing, so that a car plugged now does
	// not get the charger's maximum before the master has decided.
	eventually(t, "the master's own connector capped at 0", func() bool { return self.Limit() == 0 })
	self.setReady(true)
	eventually(t, "the master's own car gets the site", func() bool { return self.Limit() == 32 })
	s := newFakeCharger(true)
	startSlave(t, "S", "k", <-addr, s)
	eventually(t, "own car and slave share", func() bool { return self.Limit() == 16 && s.Limit() == 16 })
}

func TestASlaveWithTheMastersIDIsRefused(t *testing.T) {
	_, addr := startMaster(t, "k", 0, site32())
	c := newFakeCharger(true)
	s := startSlave(t, "M", "k", addr, c) // the master's own id
	time.Sleep(time.Second)
	if c.Limit() != 0 || !strings.Contains(s.State(), "looking for the master") {
		t.Fatalf("a slave posing as the master got %g A (%s)", c.Limit(), s.State())
	}
}
