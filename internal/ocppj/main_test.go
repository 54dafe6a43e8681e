package ocppj

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/evse-dev/evse/internal/leakcheck"
)

// long bounds the wait for something that must happen; tests never wait
// that long when they pass. short is how long a test watches for something
// that must not happen.
const (
	long  = 10 * time.Second
	short = 150 * time.Millisecond
)

// TestMain fails the package when a test leaves a goroutine behind.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// logRecorder is a slog.Handler that keeps every record, for tests that
// look at what the client logged.
type logRecorder struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced at every record
	attrs   []slog.Attr
	parent  *logRecorder
}

func newLogRecorder() *logRecorder { return &logRecorder{changed: make(chan struct{})} }

func (l *logRecorder) root() *logRecorder {
	if l.parent != nil {
		return l.parent
	}
	return l
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	for _, a := range l.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	root := l.root()
	root.mu.Lock()
	root.lines = append(root.lines, b.String())
	close(root.changed)
	root.changed = make(chan struct{})
	root.mu.Unlock()
	return nil
}

func (l *logRecorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logRecorder{parent: l.root(), attrs: append(slices.Clip(l.attrs), attrs...)}
}

func (l *logRecorder) WithGroup(string) slog.Handler { return l }

// wait waits for a line that contains all of subs and returns it.
func (l *logRecorder) wait(t testing.TB, subs ...string) string {
	t.Helper()
	timeout := time.After(long)
	for {
		root := l.root()
		root.mu.Lock()
		for _, line := range root.lines {
			if containsAll(line, subs) {
				root.mu.Unlock()
				return line
			}
		}
		changed := root.changed
		root.mu.Unlock()
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("no log line with %q; log:\n%s", subs, strings.Join(l.all(), "\n"))
		}
	}
}

func (l *logRecorder) has(subs ...string) bool {
	return slices.ContainsFunc(l.all(), func(line string) bool { return containsAll(line, subs) })
}

func (l *logRecorder) all() []string {
	root := l.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	return slices.Clone(root.lines)
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// csms is a test central system on loopback: it accepts WebSocket
// connections and hands each to the test, which reads and writes frames.
type csms struct {
	srv   *httptest.Server
	conns chan *csmsConn
	// refuse, when set, answers a handshake with that HTTP status if it
	// returns one other than 0.
	refuse func(r *http.Request) int
	accept websocket.AcceptOptions

	mu     sync.Mutex
	live   map[*csmsConn]bool
	wg     sync.WaitGroup
	closed chan struct{}
}

// csmsConn is one connection as the central system sees it. A goroutine
// reads it all the time (so pings are answered) and queues data messages.
type csmsConn struct {
	conn   *websocket.Conn
	req    *http.Request
	msgs   chan csmsMsg
	done   chan struct{} // closed when the connection is closed
	err    error         // why, once done is closed
	pings  atomic.Int64
	pingCh chan struct{} // one per ping, buffered
}

type csmsMsg struct {
	typ  websocket.MessageType
	data []byte
}

type csmsOption func(*csms)

func withSubprotocols(p ...string) csmsOption {
	return func(s *csms) { s.accept.Subprotocols = p }
}

func withRefuse(f func(r *http.Request) int) csmsOption {
	return func(s *csms) { s.refuse = f }
}

// newCSMS starts a test central system; tls makes it an HTTPS server.
func newCSMS(t testing.TB, tls bool, opts ...csmsOption) *csms {
	t.Helper()
	s := &csms{
		conns:  make(chan *csmsConn, 16),
		accept: websocket.AcceptOptions{Subprotocols: []string{"ocpp1.6"}},
		live:   map[*csmsConn]bool{},
		closed: make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused TLS handshakes are expected
	if tls {
		s.srv.EnableHTTP2 = true // the client must still get HTTP/1.1 for WebSocket
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	t.Cleanup(s.close)
	return s
}

// URL is the central system's WebSocket address, without charge point id.
func (s *csms) URL() string {
	return "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ocpp"
}

func (s *csms) serve(w http.ResponseWriter, r *http.Request) {
	if s.refuse != nil {
		if code := s.refuse(r); code != 0 {
			http.Error(w, http.StatusText(code), code)
			return
		}
	}
	opts := s.accept
	cc := &csmsConn{
		req:    r,
		msgs:   make(chan csmsMsg, 256),
		done:   make(chan struct{}),
		pingCh: make(chan struct{}, 1024),
	}
	opts.OnPingReceived = func(context.Context, []byte) bool {
		cc.pings.Add(1)
		select {
		case cc.pingCh <- struct{}{}:
		default:
		}
		return true
	}
	conn, err := websocket.Accept(w, r, &opts)
	if err != nil {
		return
	}
	conn.SetReadLimit(1 << 24)
	cc.conn = conn
	s.mu.Lock()
	if s.live == nil { // closed
		s.mu.Unlock()
		conn.CloseNow()
		return
	}
	s.live[cc] = true
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	select {
	case s.conns <- cc:
	case <-s.closed:
	}
	for {
		typ, data, err := conn.Read(context.Background())
		if err != nil {
			cc.err = err
			close(cc.done)
			conn.CloseNow()
			s.mu.Lock()
			delete(s.live, cc)
			s.mu.Unlock()
			return
		}
		select {
		case cc.msgs <- csmsMsg{typ, data}:
		case <-s.closed:
		}
	}
}

func (s *csms) close() {
	s.mu.Lock()
	live := s.live
	s.live = nil
	close(s.closed)
	s.mu.Unlock()
	for cc := range live {
		cc.conn.CloseNow()
	}
	s.wg.Wait()
	s.srv.Close()
}

// next returns the next connection.
func (s *csms) next(t testing.TB) *csmsConn {
	t.Helper()
	select {
	case cc := <-s.conns:
		return cc
	case <-time.After(long):
		t.Fatal("no connection from the client")
		return nil
	}
}

// read returns the next data message as text.
func (cc *csmsConn) read(t testing.TB) string {
	t.Helper()
	select {
	case m := <-cc.msgs:
		if m.typ != websocket.MessageText {
			t.Fatalf("binary message from the client: %q", m.data)
		}
		return string(m.data)
	case <-cc.done:
		t.Fatalf("connection closed while waiting for a frame: %v", cc.err)
	case <-time.After(long):
		t.Fatal("no frame from the client")
	}
	return ""
}

// readFrame reads and parses the next frame, which must be valid.
func (cc *csmsConn) readFrame(t testing.TB) Frame {
	t.Helper()
	raw := cc.read(t)
	f, ferr := ParseFrame([]byte(raw))
	if ferr != nil {
		t.Fatalf("client sent a bad frame %s: %v", raw, ferr)
	}
	return f
}

// readCall reads the next frame, which must be a CALL of action.
func (cc *csmsConn) readCall(t testing.TB, action string) Frame {
	t.Helper()
	f := cc.readFrame(t)
	if f.Type != Call || f.Action != action {
		t.Fatalf("got %v %q %s, want a CALL %s", f.Type, f.Action, f.Payload, action)
	}
	return f
}

// noFrame checks that the client sends nothing within d.
func (cc *csmsConn) noFrame(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case m := <-cc.msgs:
		t.Fatalf("unexpected frame %s", m.data)
	case <-time.After(d):
	}
}

func (cc *csmsConn) send(t testing.TB, frame string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), long)
	defer cancel()
	if err := cc.conn.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatalf("CSMS write: %v", err)
	}
}

func (cc *csmsConn) answer(t testing.TB, id string, payload string) {
	t.Helper()
	cc.send(t, string(AppendCallResult(nil, id, json.RawMessage(payload))))
}

// waitClosed waits for the connection to close and returns why.
func (cc *csmsConn) waitClosed(t testing.TB) error {
	t.Helper()
	select {
	case <-cc.done:
		return cc.err
	case <-time.After(long):
		t.Fatal("connection not closed")
		return nil
	}
}

// startClient makes a client for opts, with a log recorder unless opts has
// a logger, and runs it until the test ends; Run must then return nil.
func startClient(t testing.TB, opts Options) (*Client, *logRecorder, func()) {
	t.Helper()
	rec := newLogRecorder()
	if opts.Logger == nil {
		opts.Logger = slog.New(rec)
	}
	if opts.ID == "" {
		opts.ID = "CP-1"
	}
	c, err := NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v, want nil", err)
				}
			case <-time.After(long):
				t.Errorf("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return c, rec, stop
}

// asyncResult is what a Call run in the background returned.
type asyncResult struct {
	payload json.RawMessage
	err     error
}

// callAsync runs c.Call in a goroutine.
func callAsync(ctx context.Context, c *Client, action, payload string) <-chan asyncResult {
	ch := make(chan asyncResult, 1)
	go func() {
		p, err := c.Call(ctx, action, json.RawMessage(payload))
		ch <- asyncResult{p, err}
	}()
	return ch
}

func await(t testing.TB, ch <-chan asyncResult) asyncResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(long):
		t.Fatal("Call did not return")
		return asyncResult{}
	}
}

// queued returns how many CALLs wait for the line.
func (c *Client) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

// waitUntil polls cond until it holds.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(long)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// proxy is a TCP proxy on loopback whose links can be switched to
// blackhole: both sockets stay open, but bytes are no longer forwarded, and
// one side closing no longer closes the other. A stalled link stops
// reading, so that writes to it hang once the socket buffers are full.
type proxy struct {
	ln     net.Listener
	target string
	done   chan struct{}

	mu    sync.Mutex
	links []*link
	wg    sync.WaitGroup
}

type link struct {
	a, b net.Conn
	mode atomic.Int32 // linkForward, linkBlackhole or linkStall
}

const (
	linkForward = iota
	linkBlackhole
	linkStall
)

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, done: make(chan struct{})}
	p.wg.Add(1)
	go p.acceptLoop()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		a, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.target)
		if err != nil {
			a.Close()
			continue
		}
		l := &link{a: a, b: b}
		p.mu.Lock()
		p.links = append(p.links, l)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(l, a, b)
		go p.pipe(l, b, a)
	}
}

// pipe copies from src to dst until either ends, dropping what it reads
// while the link is blackholed.
func (p *proxy) pipe(l *link, src, dst net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		if l.mode.Load() == linkStall {
			<-p.done
			return
		}
		n, err := src.Read(buf)
		if n > 0 && l.mode.Load() == linkForward {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			src.Close()
			if l.mode.Load() == linkForward {
				dst.Close()
			}
			return
		}
	}
}

// blackhole switches the links open now to blackhole; new links forward.
func (p *proxy) blackhole() { p.setMode(linkBlackhole) }

// stall stops the links open now from reading; new links forward.
func (p *proxy) stall() { p.setMode(linkStall) }

func (p *proxy) setMode(m int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.links {
		l.mode.Store(m)
	}
}

func (p *proxy) close() {
	close(p.done)
	p.ln.Close()
	p.mu.Lock()
	for _, l := range p.links {
		l.a.Close()
		l.b.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
