package node

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/dlm"
	"github.com/evse-dev/evse/internal/dlm/wire"
)

// MasterConfig configures a master node.
type MasterConfig struct {
	// ID names the master's own charger (its internal slave).
	ID string
	// Listen is the TCP address slaves connect to; discovery answers on
	// the same UDP port. Port 0 picks one (tests).
	Listen string
	Key    wire.Key
	// Net is DlmDiscoveryNetworkId.
	Net int
	// Site returns the limits now; it is read every Poll and whenever
	// SiteChanged delivers, so that a change (an operator limit over
	// OCPP) applies at once.
	Site        func() dlm.Site
	SiteChanged <-chan struct{}
	// Inputs reads the opto inputs 1 and 2. Nil: none high.
	Inputs func() [2]bool
	// Meter reads the external meter (the current on each grid phase),
	// ok false when it failed. Nil: no meter.
	Meter func() (dlm.Phases, bool)
	// FreeChargingMode is the master's, copied to its slaves.
	FreeChargingMode func() int
	// Self is the master's own charger (DlmMode 1); nil for a standalone
	// master.
	Self   Charger
	Clock  clock.Clock
	Logger *slog.Logger
	// OnListen is told the TCP and UDP addresses once bound.
	OnListen func(tcp, udp net.Addr)
	// Poll is how often limits, inputs and the own charger are looked at.
	// Default 100 ms.
	Poll time.Duration
	// StartGrace holds raises for this long after the start (see
	// dlm.StartGrace); 0 for none.
	StartGrace time.Duration
}

// Master is a running DLM master.
type Master struct {
	cfg   MasterConfig
	state atomic.Value // string, for DlmState
	st    atomic.Pointer[dlm.MasterState]

	handshakes handshakes
	linkSeq    atomic.Uint64
	warnMu     sync.Mutex
	warnAt     time.Time // of the last handshake warning
	warnSkip   int       // warnings not logged since

	lastWarning string // owned by loop
}

// NewMaster returns a master; Run starts it.
func NewMaster(cfg MasterConfig) *Master {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 100 * time.Millisecond
	}
	if cfg.Inputs == nil {
		cfg.Inputs = func() [2]bool { return [2]bool{} }
	}
	if cfg.FreeChargingMode == nil {
		cfg.FreeChargingMode = func() int { return 0 }
	}
	m := &Master{cfg: cfg}
	m.state.Store("Master: starting")
	return m
}

// State is the DlmState text.
func (m *Master) State() string { return m.state.Load().(string) }

// Snapshot is the master's state, for the local API; nil before the
// first step.
func (m *Master) Snapshot() *dlm.MasterState { return m.st.Load() }

// slaveLink is one connected, authenticated slave.
type slaveLink struct {
	id   string
	seq  uint64 // accept order: a newer link of the same slave wins
	conn net.Conn
	sess *wire.Session // written by the writer only after the handshake
	out  chan wire.Message
	done chan struct{}
}

type linkEvent struct {
	link   *slaveLink
	report map[int]dlm.ConnectorReport
	closed bool
}

// Run serves slaves until ctx ends. With no Listen address it serves
// only its own charger.
func (m *Master) Run(ctx context.Context) error {
	if m.cfg.Listen == "" {
		m.loop(ctx, nil)
		return nil
	}
	ln, err := net.Listen("tcp", m.cfg.Listen)
	if err != nil {
		return fmt.Errorf("dlm master: %w", err)
	}
	udp, err := net.ListenPacket("udp", ln.Addr().String())
	if err != nil {
		ln.Close()
		return fmt.Errorf("dlm master: discovery: %w", err)
	}
	if m.cfg.OnListen != nil {
		m.cfg.OnListen(ln.Addr(), udp.LocalAddr())
	}
	m.cfg.Logger.Info("DLM master listening", "addr", ln.Addr().String())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	events := make(chan linkEvent, 64)
	wg.Add(2)
	go func() {
		defer wg.Done()
		m.accept(ctx, ln, events, &wg)
	}()
	go func() {
		defer wg.Done()
		m.answerDiscovery(ctx, udp, ln.Addr().(*net.TCPAddr).Port)
	}()
	go func() {
		<-ctx.Done()
		ln.Close()
		udp.Close()
	}()
	m.loop(ctx, events)
	cancel()
	wg.Wait()
	return nil
}

// accept takes slaves' connections; each gets a goroutine.
func (m *Master) accept(ctx context.Context, ln net.Listener, events chan<- linkEvent, wg *sync.WaitGroup) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// Out of file descriptors or the like: try again soon.
			m.cfg.Logger.Warn("DLM accept", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		ok, evicted := m.handshakes.admit(c, time.Now())
		if evicted != nil {
			evicted.Close() // its serve ends
			m.handshakeWarn("too many DLM links in their handshake; the oldest closed", "remote", evicted.RemoteAddr().String())
		}
		if !ok {
			c.Close()
			m.handshakeWarn("too many DLM links in their handshake from one address; refused", "remote", c.RemoteAddr().String())
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.serve(ctx, c, events)
		}()
	}
}

// serve runs one slave's link: the handshake, then its reports in and
// the master's offers out.
func (m *Master) serve(ctx context.Context, c net.Conn, events chan<- linkEvent) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	log := m.cfg.Logger.With("remote", c.RemoteAddr().String())
	release := func() { m.handshakes.done(c) }
	defer release()
	lr := newLineReader(c)
	c.SetReadDeadline(time.Now().Add(handshakeTimeout))
	hello, err := lr.next()
	if err != nil {
		m.handshakeWarn("DLM slave: no hello", "remote", c.RemoteAddr().String(), "err", err)
		return
	}
	switch h := hello.Msg; {
	case h.Type != wire.TypeHello:
		m.handshakeWarn("DLM slave: expected hello", "remote", c.RemoteAddr().String(), "type", h.Type)
		return
	case h.V != wire.Version:
		line, _ := wire.Unsigned(wire.Message{Type: wire.TypeRefuse, Reason: fmt.Sprintf("protocol version %d not supported; this master speaks %d", h.V, wire.Version)})
		writeLine(c, line)
		m.handshakeWarn("DLM slave speaks another protocol version", "remote", c.RemoteAddr().String(), "v", h.V)
		return
	case h.Slave == "" || len(h.Slave) > 64 || len(h.Nonce) != 16:
		m.handshakeWarn("DLM slave: bad hello", "remote", c.RemoteAddr().String())
		return
	case h.Slave == m.cfg.ID:
		line, _ := wire.Unsigned(wire.Message{Type: wire.TypeRefuse, Reason: "a slave may not have the master's id " + m.cfg.ID})
		writeLine(c, line)
		m.handshakeWarn("DLM slave with the master's own id refused", "remote", c.RemoteAddr().String(), "slave", h.Slave)
		return
	}
	link := &slaveLink{id: hello.Msg.Slave, seq: m.linkSeq.Add(1), conn: c, out: make(chan wire.Message, 16), done: make(chan struct{})}
	link.sess = wire.NewSession(m.cfg.Key, true, hello.Msg.Nonce, wire.Nonce())
	link.sess.SetSlave(link.id)
	line, err := link.sess.Seal(wire.Message{Type: wire.TypeWelcome, Nonce: link.sess.MasterNonce()})
	if err != nil || writeLine(c, line) != nil {
		return
	}
	// The first report proves the slave holds the key.
	first, err := lr.next()
	if err == nil {
		err = link.sess.Verify(first)
	}
	if err != nil {
		m.handshakeWarn("DLM slave failed authentication (is the site key the same?)", "remote", c.RemoteAddr().String(),
			"slave", link.id, "err", err)
		return
	}
	release()
	log = log.With("slave", link.id)
	go m.write(link, log)
	defer close(link.done)
	msg := first.Msg
	for {
		if msg.Type == wire.TypeReport {
			if err := validReport(msg.Connectors); err != nil {
				log.Warn("DLM slave: bad report; link closed", "err", err)
				break
			}
			select {
			case events <- linkEvent{link: link, report: toReports(msg.Connectors)}:
			case <-ctx.Done():
				return
			}
		}
		c.SetReadDeadline(time.Now().Add(idleTimeout))
		l, err := lr.next()
		if err == nil {
			err = link.sess.Verify(l)
		}
		if err != nil {
			if ctx.Err() == nil {
				log.Info("DLM slave link ended", "err", err)
			}
			break
		}
		msg = l.Msg
	}
	select {
	case events <- linkEvent{link: link, closed: true}:
	case <-ctx.Done():
	}
}

// write sends a link's messages until it is done.
func (m *Master) write(link *slaveLink, log *slog.Logger) {
	for {
		select {
		case msg := <-link.out:
			line, err := link.sess.Seal(msg)
			if err == nil {
				err = writeLine(link.conn, line)
			}
			if err != nil {
				log.Info("DLM slave link: write failed", "err", err)
				link.conn.Close()
				return
			}
		case <-link.done:
			return
		}
	}
}

// answerDiscovery tells slaves of the same network id where to connect.
func (m *Master) answerDiscovery(ctx context.Context, pc net.PacketConn, port int) {
	buf := make([]byte, 2048)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() == nil {
				m.cfg.Logger.Warn("DLM discovery", "err", err)
			}
			return
		}
		l, err := wire.Parse(trimNewline(buf[:n]))
		if err != nil || l.Msg.Type != wire.TypeDiscover || l.Msg.V != wire.Version || len(l.Msg.Nonce) != 16 ||
			l.Msg.Net == nil || *l.Msg.Net != m.cfg.Net {
			continue
		}
		net := m.cfg.Net
		sess := wire.NewSession(m.cfg.Key, true, l.Msg.Nonce, nil)
		line, err := sess.Seal(wire.Message{Type: wire.TypeHere, Net: &net, Port: port})
		if err == nil {
			pc.WriteTo(line, from)
		}
	}
}

func trimNewline(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return b[:len(b)-1]
	}
	return b
}

// loop owns the decisions: reports and time in, offers out.
func (m *Master) loop(ctx context.Context, events <-chan linkEvent) {
	now := m.cfg.Clock.Now()
	site := m.cfg.Site()
	dm := dlm.NewMaster(site, now)
	if m.cfg.StartGrace > 0 {
		dm.HoldRaisesUntil(now.Add(m.cfg.StartGrace))
	}
	links := map[string]*slaveLink{}
	lastMeter := time.Time{}
	poll := m.cfg.Clock.NewTimer(0)
	defer poll.Stop()
	wake := m.cfg.Clock.NewTimer(time.Hour)
	defer wake.Stop()
	var selfChanged <-chan struct{}
	if m.cfg.Self != nil {
		selfChanged = m.cfg.Self.Changed()
	}
	selfOffers, selfPhases := map[int]float64{}, map[int]int{}
	if m.cfg.Self != nil {
		// Nothing until the master has decided: the charger's own cap is
		// none at all before this.
		none := map[int]float64{}
		for n := range m.cfg.Self.Reports() {
			none[n] = 0
		}
		m.applySelf(none, selfOffers)
	}

	for {
		answer := map[string]bool{} // slaves to answer whatever changed
		select {
		case <-ctx.Done():
			for _, l := range links {
				l.conn.Close()
			}
			return
		case ev := <-events:
			now = m.cfg.Clock.Now()
			cur := links[ev.link.id]
			switch {
			case ev.closed:
				if cur == ev.link {
					delete(links, ev.link.id)
				}
			case cur != nil && ev.link.seq < cur.seq:
				// A report from a link a newer one replaced: dropped.
			default:
				if cur != nil && cur != ev.link {
					m.cfg.Logger.Info("DLM slave connected again; old link closed", "slave", ev.link.id)
					cur.conn.Close()
				}
				if cur != ev.link {
					m.cfg.Logger.Info("DLM slave online", "slave", ev.link.id, "remote", ev.link.conn.RemoteAddr().String())
				}
				links[ev.link.id] = ev.link
				dm.Report(ev.link.id, ev.report, now)
				answer[ev.link.id] = true
			}
		case <-selfChanged:
			now = m.cfg.Clock.Now()
			m.reportSelf(dm, selfOffers, now)
		case <-m.cfg.SiteChanged:
			now = m.cfg.Clock.Now()
			if s := m.cfg.Site(); s != site {
				site = s
				dm.SetSite(s)
			}
		case <-poll.C():
			now = m.cfg.Clock.Now()
			poll.Reset(m.cfg.Poll)
			if s := m.cfg.Site(); s != site {
				site = s
				dm.SetSite(s)
			}
			in := m.cfg.Inputs()
			dm.Input(1, in[0])
			dm.Input(2, in[1])
			if m.cfg.Meter != nil && now.Sub(lastMeter) >= time.Second {
				r, ok := m.cfg.Meter()
				dm.MeterReading(r, ok)
				lastMeter = now
			}
			m.reportSelf(dm, selfOffers, now)
		case <-wake.C():
			now = m.cfg.Clock.Now()
		}
		changed := map[string]bool{}
		for _, o := range dm.Step(now) {
			changed[o.ID.Slave] = true
		}
		fcm := m.cfg.FreeChargingMode()
		for id := range changed {
			answer[id] = true
		}
		for id := range answer {
			offers := dm.Offers(id)
			onePhase := dm.OnePhase(id)
			if m.cfg.Self != nil && id == m.cfg.ID {
				m.applySelf(offers, selfOffers)
				m.applySelfPhases(onePhase, selfPhases)
				continue
			}
			l := links[id]
			if l == nil {
				continue
			}
			msg := wire.Message{Type: wire.TypeOffers, FreeChargingMode: &fcm}
			for n := 1; n <= 255 && len(msg.Offers) < len(offers); n++ {
				if a, ok := offers[n]; ok {
					o := wire.Offer{N: n, A: a}
					if onePhase[n] {
						o.Phases = 1
					}
					msg.Offers = append(msg.Offers, o)
				}
			}
			select {
			case l.out <- msg:
			default:
				m.cfg.Logger.Warn("DLM slave does not keep up; link closed", "slave", id)
				l.conn.Close()
			}
		}
		st := dm.State(now)
		m.st.Store(&st)
		m.state.Store(masterText(st, m.cfg.Self != nil))
		if w := st.Warning; w != "" && w != m.lastWarning {
			m.cfg.Logger.Warn("DLM: " + w)
		}
		m.lastWarning = st.Warning
		wake.Stop()
		if next := dm.Next(); next.IsZero() {
			wake.Reset(0)
		} else {
			wake.Reset(max(next.Sub(now), time.Millisecond))
		}
	}
}

// reportSelf reports the master's own connectors as its internal slave.
func (m *Master) reportSelf(dm *dlm.Master, applied map[int]float64, now time.Time) {
	if m.cfg.Self != nil {
		dm.Report(m.cfg.ID, m.cfg.Self.Reports(), now)
	}
}

// applySelf gives the master's own connectors their offers.
func (m *Master) applySelf(offers, applied map[int]float64) {
	changed := false
	for n, a := range offers {
		if b, ok := applied[n]; !ok || b != a {
			applied[n], changed = a, true
		}
	}
	if changed {
		m.cfg.Self.SetLimits(offers)
	}
}

// applySelfPhases gives the master's own connectors their phases.
func (m *Master) applySelfPhases(onePhase map[int]bool, applied map[int]int) {
	want := map[int]int{}
	changed := false
	for n := range m.cfg.Self.Reports() {
		want[n] = 3
		if onePhase[n] {
			want[n] = 1
		}
		if applied[n] != want[n] {
			applied[n], changed = want[n], true
		}
	}
	if changed {
		m.cfg.Self.SetPhases(want)
	}
}

// masterText is the DlmState of a master.
func masterText(st dlm.MasterState, withSelf bool) string {
	online := st.SlavesOnline
	if withSelf && online > 0 {
		online-- // the internal slave
	}
	var b strings.Builder
	role := "Master"
	if !withSelf {
		role = "Master (standalone)"
	}
	fmt.Fprintf(&b, "%s: %d slaves online, %d lost; %d charging, %d waiting;", role, online, st.SlavesLost, st.Charging, st.Waiting)
	for p := range 3 {
		fmt.Fprintf(&b, " L%d %.1f/%.1f A", p+1, st.Offered[p], st.Available[p])
		if p < 2 {
			b.WriteByte(',')
		}
	}
	var over []string
	for p := range 3 {
		if st.Offered[p] > st.Available[p]+0.05 {
			over = append(over, fmt.Sprintf("L%d", p+1))
		}
	}
	if len(over) > 0 {
		// Less is available than is in force: the offers are lowered,
		// the slaves and their EVs are following.
		fmt.Fprintf(&b, "; lowering under way on %s", strings.Join(over, ", "))
	}
	if !st.MeterOK {
		b.WriteString("; meter failed, fallback in use")
	}
	if st.Warning != "" {
		b.WriteString("; WARNING: " + st.Warning)
	}
	return b.String()
}

// handshakeWarn logs a failed handshake, at most once every 10 s (with
// the number not logged since), so that a LAN peer cannot flood the log.
func (m *Master) handshakeWarn(msg string, args ...any) {
	m.warnMu.Lock()
	defer m.warnMu.Unlock()
	if now := time.Now(); now.Sub(m.warnAt) >= 10*time.Second {
		if m.warnSkip > 0 {
			args = append(args, "not_logged_since", m.warnSkip)
		}
		m.cfg.Logger.Warn(msg, args...)
		m.warnAt, m.warnSkip = now, 0
		return
	}
	m.warnSkip++
}
