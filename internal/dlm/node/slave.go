package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/dlm"
	"github.com/evse-dev/evse/internal/dlm/wire"
)

// SlaveConfig configures a slave node.
type SlaveConfig struct {
	// ID is the slave's name at the master: the charge point's identity.
	ID string
	// Master is the master's address, host[:port] (DlmMode 4); empty:
	// find it by discovery (DlmMode 3).
	Master string
	// Port is the master's port when Master names none, and discovery's.
	Port int
	// Net is DlmDiscoveryNetworkId.
	Net int
	Key wire.Key
	// Broadcast is where discovery asks; default: the broadcast address
	// of every IPv4 network of the host's interfaces, and
	// 255.255.255.255 (which needs a default route).
	Broadcast string
	Charger   Charger
	// Disconnected returns DlmDisconnectedLimit.
	Disconnected func() float64
	// SetFreeChargingMode copies the master's mode; nil: not copied.
	SetFreeChargingMode func(mode int)
	Clock               clock.Clock
	Logger              *slog.Logger
}

// Slave is a running DLM slave.
type Slave struct {
	cfg   SlaveConfig
	state atomic.Value // string, for DlmState
}

// NewSlave returns a slave; Run starts it.
func NewSlave(cfg SlaveConfig) *Slave {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Port == 0 {
		cfg.Port = wire.DefaultPort
	}
	s := &Slave{cfg: cfg}
	s.state.Store("Slave: starting")
	return s
}

// State is the DlmState text.
func (s *Slave) State() string { return s.state.Load().(string) }

// masterLink is an authenticated link to the master, as the slave's loop
// sees it.
type masterLink struct {
	addr string
	out  chan []wire.Connector // reports to send; buffered 1, latest wins
}

type slaveEvent struct {
	link   *masterLink
	offers *wire.Message
	down   bool
}

// Run manages the charger's connectors until ctx ends.
func (s *Slave) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan slaveEvent, 16)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.connect(ctx, events)
	}()
	s.loop(ctx, events)
	cancel()
	wg.Wait()
	return nil
}

// loop owns the decisions (a dlm.SlaveSide): the master's offers and
// time in, limits out.
func (s *Slave) loop(ctx context.Context, events <-chan slaveEvent) {
	now := s.cfg.Clock.Now()
	side := dlm.NewSlaveSide(s.cfg.Disconnected(), now)
	var link *masterLink
	wake := s.cfg.Clock.NewTimer(0)
	defer wake.Stop()
	poll := s.cfg.Clock.NewTimer(dlm.DrawnPoll)
	defer poll.Stop()
	for {
		report := false
		select {
		case <-ctx.Done():
			return
		case ev := <-events:
			switch {
			case ev.down:
				if link == ev.link {
					link = nil
				}
			case ev.offers != nil:
				offers, onePhase := map[int]float64{}, map[int]bool{}
				for _, o := range ev.offers.Offers {
					offers[o.N] = min(max(o.A, 0), 1000) // never "no cap" (negative), never absurd
					onePhase[o.N] = o.Phases == 1
				}
				side.Heard(offers, onePhase, s.cfg.Clock.Now())
				if f := ev.offers.FreeChargingMode; f != nil && s.cfg.SetFreeChargingMode != nil {
					s.cfg.SetFreeChargingMode(*f)
				}
			default:
				link, report = ev.link, true
			}
		case <-s.cfg.Charger.Changed():
			report = true
		case <-wake.C():
		case <-poll.C():
			poll.Reset(dlm.DrawnPoll)
		}
		now = s.cfg.Clock.Now()
		wasLost := side.Slave().Lost(now)
		reports := s.cfg.Charger.Reports()
		a := side.Update(reports, s.cfg.Disconnected(), now, report, link != nil)
		if lost := side.Slave().Lost(now); lost && !wasLost {
			s.cfg.Logger.Warn("DLM master lost: falling back to DlmDisconnectedLimit", "limit", s.cfg.Disconnected())
		}
		if a.Phases != nil {
			s.cfg.Charger.SetPhases(a.Phases)
		}
		if a.Limits != nil {
			s.cfg.Charger.SetLimits(a.Limits)
		}
		if a.Report && link != nil {
			select {
			case <-link.out: // an unsent report is replaced by this one
			default:
			}
			link.out <- fromReports(reports)
		}
		wake.Stop()
		wake.Reset(max(side.Next().Sub(now), time.Millisecond))
		s.state.Store(s.text(side.Slave(), link, side.Limits(), now))
	}
}

// text is the DlmState of a slave.
func (s *Slave) text(ds *dlm.Slave, link *masterLink, applied map[int]float64, now time.Time) string {
	limits := ""
	for n := 1; n <= len(applied); n++ {
		limits += fmt.Sprintf("; connector %d limit %.1f A", n, applied[n])
	}
	switch {
	case ds.Connected(now) && link != nil:
		return "Slave: master " + link.addr + " online" + limits
	case ds.Lost(now):
		return "Slave: master lost, DlmDisconnectedLimit in use" + limits
	default:
		return "Slave: looking for the master" + limits
	}
}

// connect keeps a link to the master, reconnecting with backoff.
func (s *Slave) connect(ctx context.Context, events chan<- slaveEvent) {
	backoff := time.Second
	for ctx.Err() == nil {
		addr, err := s.findMaster(ctx)
		if err == nil {
			var linked bool
			linked, err = s.session(ctx, addr, events)
			if linked {
				backoff = time.Second // it worked: the next try comes soon
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.cfg.Logger.Info("DLM master link", "err", err)
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		backoff = min(backoff*2, 10*time.Second)
		t := s.cfg.Clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// findMaster returns the master's address: the fixed one, or the one
// that answers discovery with the site key.
func (s *Slave) findMaster(ctx context.Context) (string, error) {
	if s.cfg.Master != "" {
		if _, _, err := net.SplitHostPort(s.cfg.Master); err != nil {
			return net.JoinHostPort(s.cfg.Master, strconv.Itoa(s.cfg.Port)), nil
		}
		return s.cfg.Master, nil
	}
	pc, err := net.ListenPacket("udp4", ":0")
	if err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	defer pc.Close()
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()
	// Go sets SO_BROADCAST on UDP sockets.
	nonce, netID := wire.Nonce(), s.cfg.Net
	ask, _ := wire.Unsigned(wire.Message{Type: wire.TypeDiscover, Nonce: nonce, Net: &netID})
	sent := 0
	var sendErr error
	for _, b := range s.broadcasts() {
		to := &net.UDPAddr{IP: b, Port: s.cfg.Port}
		if _, err := pc.WriteTo(ask, to); err != nil {
			sendErr = err
			continue
		}
		sent++
	}
	if sent == 0 {
		return "", fmt.Errorf("discovery: no broadcast could be sent: %v", sendErr)
	}
	pc.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 2048)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return "", fmt.Errorf("discovery: no master of network %d answered: %w", s.cfg.Net, err)
		}
		l, err := wire.Parse(trimNewline(buf[:n]))
		if err != nil || l.Msg.Type != wire.TypeHere {
			continue
		}
		if err := wire.NewSession(s.cfg.Key, false, nonce, nil).Verify(l); err != nil {
			s.cfg.Logger.Warn("DLM discovery: an answer failed authentication", "from", from.String())
			continue
		}
		if l.Msg.Net == nil || *l.Msg.Net != s.cfg.Net || l.Msg.Port < 1 || l.Msg.Port > 65535 {
			continue
		}
		host, _, _ := net.SplitHostPort(from.String())
		return net.JoinHostPort(host, strconv.Itoa(l.Msg.Port)), nil
	}
}

var errRefused = errors.New("refused by the master")

// session runs one link to the master until it fails; linked tells
// whether it got as far as an authenticated link.
func (s *Slave) session(ctx context.Context, addr string, events chan<- slaveEvent) (linked bool, err error) {
	d := net.Dialer{Timeout: handshakeTimeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	nonce := wire.Nonce()
	hello, _ := wire.Unsigned(wire.Message{Type: wire.TypeHello, Slave: s.cfg.ID, Nonce: nonce})
	if err := writeLine(c, hello); err != nil {
		return false, err
	}
	lr := newLineReader(c)
	c.SetReadDeadline(time.Now().Add(handshakeTimeout))
	w, err := lr.next()
	if err != nil {
		return false, fmt.Errorf("%s: no welcome: %w", addr, err)
	}
	if w.Msg.Type == wire.TypeRefuse {
		return false, fmt.Errorf("%s: %w: %s", addr, errRefused, w.Msg.Reason)
	}
	sess := wire.NewSession(s.cfg.Key, false, nonce, nil)
	sess.SetSlave(s.cfg.ID)
	if w.Msg.Type != wire.TypeWelcome || len(w.Msg.Nonce) != 16 {
		return false, fmt.Errorf("%s: expected welcome, got %q", addr, w.Msg.Type)
	}
	sess.SetMasterNonce(w.Msg.Nonce)
	if err := sess.Verify(w); err != nil {
		return false, fmt.Errorf("%s: the master %w", addr, err)
	}
	s.cfg.Logger.Info("DLM master online", "master", addr)
	link := &masterLink{addr: addr, out: make(chan []wire.Connector, 1)}
	select {
	case events <- slaveEvent{link: link}:
	case <-ctx.Done():
		return true, nil
	}
	defer func() {
		select {
		case events <- slaveEvent{link: link, down: true}:
		case <-ctx.Done():
		}
	}()
	// The writer sends reports; this goroutine reads offers.
	done := make(chan struct{})
	var writer sync.WaitGroup
	writer.Add(1)
	go func() {
		defer writer.Done()
		for {
			select {
			case cs := <-link.out:
				line, err := sess.Seal(wire.Message{Type: wire.TypeReport, Connectors: cs})
				if err == nil {
					err = writeLine(c, line)
				}
				if err != nil {
					s.cfg.Logger.Info("DLM master link: write failed", "err", err)
					c.Close()
					return
				}
			case <-done:
				return
			}
		}
	}()
	defer writer.Wait()
	defer close(done)
	for {
		c.SetReadDeadline(time.Now().Add(idleTimeout))
		l, err := lr.next()
		if err == nil {
			err = sess.Verify(l)
		}
		if err != nil {
			return true, fmt.Errorf("%s: %w", addr, err)
		}
		if l.Msg.Type != wire.TypeOffers {
			continue
		}
		msg := l.Msg
		select {
		case events <- slaveEvent{link: link, offers: &msg}:
		case <-ctx.Done():
			return true, nil
		}
	}
}

// broadcasts are the addresses discovery asks at.
func (s *Slave) broadcasts() []net.IP {
	if s.cfg.Broadcast != "" {
		if ip := net.ParseIP(s.cfg.Broadcast); ip != nil {
			return []net.IP{ip}
		}
	}
	out := []net.IP{net.IPv4bcast}
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagBroadcast == 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok || n.IP.To4() == nil {
				continue
			}
			ip, mask := n.IP.To4(), net.IP(n.Mask).To4()
			if mask == nil {
				continue
			}
			b := make(net.IP, 4)
			for i := range 4 {
				b[i] = ip[i] | ^mask[i]
			}
			out = append(out, b)
		}
	}
	return out
}
