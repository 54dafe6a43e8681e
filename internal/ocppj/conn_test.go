package ocppj

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// Requirement 1: the client connects to <URL>/<id> asking for ocpp1.6.
func TestConnectPathAndSubprotocol(t *testing.T) {
	s := newCSMS(t, false)
	c, _, _ := startClient(t, Options{URL: s.URL() + "/", ID: "CP 1/ä"})
	cc := s.next(t)
	if got, want := cc.req.URL.EscapedPath(), "/ocpp/CP%201%2F%C3%A4"; got != want {
		t.Errorf("path %s, want %s", got, want)
	}
	if got := cc.req.Header.Get("Sec-WebSocket-Protocol"); got != "ocpp1.6" {
		t.Errorf("asked for subprotocol %q, want ocpp1.6", got)
	}
	if got := cc.conn.Subprotocol(); got != "ocpp1.6" {
		t.Errorf("negotiated %q", got)
	}
	if c.URL() != s.URL()+"/CP%201%2F%C3%A4" {
		t.Errorf("URL() = %s", c.URL())
	}
	waitUntil(t, "Connected", c.Connected)
}

func TestURLKeepsQuery(t *testing.T) {
	c, err := NewClient(Options{URL: "wss://example.com/ocpp/?tenant=a", ID: "CP1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.URL(), "wss://example.com/ocpp/CP1?tenant=a"; got != want {
		t.Errorf("URL() = %s, want %s", got, want)
	}
}

// Requirement 1: a server that does not agree to the subprotocol gets no
// CALL, and the client says why.
func TestSubprotocolRefused(t *testing.T) {
	s := newCSMS(t, false, withSubprotocols()) // accepts without one
	c, rec, _ := startClient(t, Options{URL: s.URL(), MinBackoff: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res := callAsync(ctx, c, "Heartbeat", `{}`)

	cc := s.next(t)
	err := cc.waitClosed(t)
	if websocket.CloseStatus(err) != websocket.StatusProtocolError {
		t.Errorf("connection closed with %v, want status %d", err, websocket.StatusProtocolError)
	}
	if r := await(t, res); !errors.Is(r.err, context.DeadlineExceeded) {
		t.Errorf("Call returned %v, want the context's deadline", r.err)
	}
	select {
	case m := <-cc.msgs:
		t.Errorf("client sent %s on a connection without subprotocol", m.data)
	default:
	}
	line := rec.wait(t, "ERROR", "subprotocol")
	if !strings.Contains(line, ErrSubprotocol.Error()) {
		t.Errorf("log line %q does not carry ErrSubprotocol", line)
	}
	if c.Connected() {
		t.Error("Connected() after a refused subprotocol")
	}
}

func TestDialSubprotocolError(t *testing.T) {
	s := newCSMS(t, false, withSubprotocols("ocpp2.0.1"))
	c, err := NewClient(Options{URL: s.URL(), ID: "CP1"})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := c.dial(context.Background())
	if conn != nil || !errors.Is(err, ErrSubprotocol) {
		t.Fatalf("dial returned %v, %v; want ErrSubprotocol", conn, err)
	}
}

// The client offers several subprotocols in order and speaks whichever
// the server picks (the server's choice, by its own order).
func TestTheServerPicksOneOfTheSubprotocolsOffered(t *testing.T) {
	for _, c := range []struct {
		server []string
		want   string
	}{
		{[]string{"ocpp2.0.1", "ocpp1.6"}, "ocpp2.0.1"},
		{[]string{"ocpp1.6"}, "ocpp1.6"},
	} {
		s := newCSMS(t, false, withSubprotocols(c.server...))
		cl, _, _ := startClient(t, Options{URL: s.URL(), ID: "CP1", Subprotocols: []string{"ocpp2.0.1", "ocpp1.6"}})
		cc := s.next(t)
		if got := cc.req.Header.Get("Sec-WebSocket-Protocol"); got != "ocpp2.0.1,ocpp1.6" {
			t.Errorf("offered %q, want ocpp2.0.1, ocpp1.6", got)
		}
		waitUntil(t, "Connected", cl.Connected)
		if got := cl.Subprotocol(); got != c.want {
			t.Errorf("server of %v: speaking %q, want %q", c.server, got, c.want)
		}
	}
}

// Offer narrows what a connection attempt offers (a charge point with
// messages of one protocol waiting).
func TestOfferNarrowsTheSubprotocolsOfAnAttempt(t *testing.T) {
	s := newCSMS(t, false, withSubprotocols("ocpp2.0.1", "ocpp1.6"))
	cl, _, _ := startClient(t, Options{URL: s.URL(), ID: "CP1", Subprotocols: []string{"ocpp2.0.1", "ocpp1.6"},
		Offer: func([]string) []string { return []string{"ocpp1.6"} }})
	cc := s.next(t)
	if got := cc.req.Header.Get("Sec-WebSocket-Protocol"); got != "ocpp1.6" {
		t.Errorf("offered %q, want ocpp1.6 only", got)
	}
	waitUntil(t, "Connected", cl.Connected)
	if got := cl.Subprotocol(); got != "ocpp1.6" {
		t.Errorf("speaking %q", got)
	}
}

// Requirement 7: the backoff's bounds, growth and jitter.
func TestBackoff(t *testing.T) {
	b := backoff{min: 10 * time.Millisecond, max: 100 * time.Millisecond}
	low := func(time.Duration) time.Duration { return 0 }
	high := func(n time.Duration) time.Duration { return n - 1 }
	var los, his []time.Duration
	for range 6 {
		bb := b
		los = append(los, b.next(low))
		b = bb
		his = append(his, b.next(high))
	}
	wantHi := []time.Duration{10, 20, 40, 80, 100, 100}
	for i := range wantHi {
		hi := wantHi[i] * time.Millisecond
		if his[i] != hi || los[i] != hi-hi/2 {
			t.Errorf("wait %d in [%v, %v], want [%v, %v]", i, los[i], his[i], hi-hi/2, hi)
		}
	}
	b.reset()
	if d := b.next(high); d != 10*time.Millisecond {
		t.Errorf("after reset: %v", d)
	}

	// Doubling never overflows.
	b = backoff{min: time.Second, max: 1 << 62}
	for range 100 {
		if d := b.next(high); d <= 0 || d > 1<<62 {
			t.Fatalf("wait %v", d)
		}
	}

	// Jitter: the waits are spread over the upper half.
	b = backoff{min: time.Second, max: time.Second}
	seen := map[time.Duration]bool{}
	for range 50 {
		d := b.next(randDuration)
		if d < 500*time.Millisecond || d > time.Second {
			t.Fatalf("wait %v out of [0.5s, 1s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Errorf("only %d distinct waits in 50", len(seen))
	}
}

var randSeq atomic.Uint64

func randDuration(n time.Duration) time.Duration {
	// A cheap deterministic spread, enough to see jitter is applied.
	x := randSeq.Add(0x9e3779b97f4a7c15)
	x ^= x >> 29
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 32
	return time.Duration(x % uint64(n))
}

// Requirement 7 on real sockets: attempts against a refusing server are
// spaced by at least the lower bound of each backoff step, which doubles,
// and never by much more than MaxBackoff.
func TestReconnectBackoff(t *testing.T) {
	var mu sync.Mutex
	var attempts []time.Time
	got := make(chan struct{}, 100)
	s := newCSMS(t, false, withRefuse(func(*http.Request) int {
		mu.Lock()
		attempts = append(attempts, time.Now())
		mu.Unlock()
		got <- struct{}{}
		return http.StatusServiceUnavailable
	}))
	const minB, maxB = 10 * time.Millisecond, 80 * time.Millisecond
	_, rec, stop := startClient(t, Options{URL: s.URL(), MinBackoff: minB, MaxBackoff: maxB})
	const n = 9
	for range n {
		select {
		case <-got:
		case <-time.After(long):
			t.Fatal("no further attempt")
		}
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	bound := minB
	for i := 1; i < n; i++ {
		gap := attempts[i].Sub(attempts[i-1])
		if lo := bound - bound/2; gap < lo {
			t.Errorf("attempt %d came %v after the previous, before the backoff's lower bound %v", i, gap, lo)
		}
		if gap > maxB+2*time.Second {
			t.Errorf("attempt %d came %v after the previous, far beyond MaxBackoff", i, gap)
		}
		bound = min(2*bound, maxB)
	}
	if !rec.has("central system connection ended", "503") {
		t.Errorf("refusal not logged: %q", rec.all())
	}
}

// Requirement 8: pings go out every PingInterval, and SetPingInterval
// changes the period at once.
func TestSetPingInterval(t *testing.T) {
	s := newCSMS(t, false)
	c, _, _ := startClient(t, Options{URL: s.URL(), PingInterval: time.Hour, Handler: echoHandler})
	cc := s.next(t)
	waitUntil(t, "Connected", c.Connected)
	c.SetPingInterval(20 * time.Millisecond)
	var last time.Time
	for i := range 4 {
		select {
		case <-cc.pingCh:
		case <-time.After(long):
			t.Fatal("no ping after SetPingInterval")
		}
		// Pings never come much faster than the interval (they may come
		// slower on a busy machine).
		if now := time.Now(); i > 0 && now.Sub(last) < 15*time.Millisecond {
			t.Errorf("pings %v apart, interval 20ms", now.Sub(last))
		} else {
			last = now
		}
	}
	c.SetPingInterval(0)
	time.Sleep(short) // a ping under way arrives
	before := cc.pings.Load()
	time.Sleep(2 * short)
	if after := cc.pings.Load(); after != before {
		t.Errorf("%d pings after SetPingInterval(0)", after-before)
	}
	for len(cc.pingCh) > 0 {
		<-cc.pingCh
	}
	c.SetPingInterval(20 * time.Millisecond)
	select {
	case <-cc.pingCh:
	case <-time.After(long):
		t.Fatal("no ping after pings were turned on again")
	}
	checkAlive(t, c, cc)
}

// Requirement 8: a half-open connection (a proxy that stops forwarding
// but keeps both sockets open) is noticed by the missing pong, dropped and
// made again.
func TestHalfOpenConnection(t *testing.T) {
	s := newCSMS(t, false)
	p := newProxy(t, strings.TrimPrefix(s.srv.URL, "http://"))
	var connects atomic.Int32
	disconnects := make(chan error, 10)
	c, rec, _ := startClient(t, Options{
		URL:          "ws://" + p.addr() + "/ocpp",
		Handler:      echoHandler,
		PingInterval: 100 * time.Millisecond,
		PongTimeout:  100 * time.Millisecond,
		MinBackoff:   10 * time.Millisecond,
		MaxBackoff:   20 * time.Millisecond,
		OnConnect:    func() { connects.Add(1) },
		OnDisconnect: func(err error) { disconnects <- err },
	})
	cc := s.next(t)
	checkAlive(t, c, cc)

	p.blackhole()
	var err error
	select {
	case err = <-disconnects:
	case <-time.After(long):
		t.Fatal("the client did not notice the dead connection")
	}
	if !strings.Contains(err.Error(), "no pong") {
		// Under heavy load a pong can be late before the blackhole too;
		// then the next disconnect is the one we want.
		select {
		case err = <-disconnects:
		case <-time.After(long):
		}
		if err == nil || !strings.Contains(err.Error(), "no pong") {
			t.Fatalf("disconnected with %v, want a missing pong", err)
		}
	}
	select {
	case <-cc.done:
		t.Fatal("the blackholed connection was closed on the server side; the proxy must keep it half open")
	default:
	}
	cc2 := s.next(t)
	checkAlive(t, c, cc2)
	if connects.Load() < 2 {
		t.Errorf("%d connects", connects.Load())
	}
	rec.wait(t, "central system connection ended", "no pong")
}

// Requirement 9: Basic authentication with the charge point id as user.
func TestBasicAuth(t *testing.T) {
	type seen struct {
		header string
		user   string
		pass   string
		ok     bool
	}
	for _, tt := range []struct {
		name     string
		password func() []byte
		want     seen
	}{
		{"nil", nil, seen{}},
		{"empty", func() []byte { return nil }, seen{}},
		{"set", func() []byte { return []byte("s3cr:et") }, seen{header: "Basic " + base64.StdEncoding.EncodeToString([]byte("CP-7:s3cr:et")), user: "CP-7", pass: "s3cr:et", ok: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newCSMS(t, false)
			startClient(t, Options{URL: s.URL(), ID: "CP-7", Password: tt.password})
			cc := s.next(t)
			var got seen
			got.header = cc.req.Header.Get("Authorization")
			got.user, got.pass, got.ok = cc.req.BasicAuth()
			if got != tt.want {
				t.Errorf("server saw %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Requirement 9: a 401 gives a clear error, and the password is read at
// every attempt.
func TestUnauthorized(t *testing.T) {
	s := newCSMS(t, false, withRefuse(func(r *http.Request) int {
		if _, pass, _ := r.BasicAuth(); pass != "right" {
			return http.StatusUnauthorized
		}
		return 0
	}))
	var password atomic.Value
	password.Store("wrong")
	opts := Options{URL: s.URL(), ID: "CP1", Handler: echoHandler, Password: func() []byte { return []byte(password.Load().(string)) }}
	c, err := NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.dial(context.Background())
	if !errors.Is(err, ErrCredentialsRefused) || !strings.Contains(err.Error(), `refused the credentials of "CP1" (HTTP 401)`) {
		t.Fatalf("dial error %v, want a clear 401", err)
	}

	opts.MinBackoff = time.Hour
	c, rec, _ := startClient(t, opts)
	rec.wait(t, "central system connection ended", "HTTP 401")
	password.Store("right")
	c.Reconnect() // ends the backoff wait
	cc := s.next(t)
	checkAlive(t, c, cc)
}

// Requirement 9: security profile 2, wss:// with the server's CA.
func TestTLS(t *testing.T) {
	s := newCSMS(t, true)
	url := "wss" + strings.TrimPrefix(s.srv.URL, "https") + "/ocpp"
	pool := x509.NewCertPool()
	pool.AddCert(s.srv.Certificate())
	c, _, _ := startClient(t, Options{
		URL:        url,
		RequireTLS: true,
		TLSConfig:  &tls.Config{RootCAs: pool},
		Password:   func() []byte { return []byte("pw") },
		Handler:    echoHandler,
	})
	cc := s.next(t)
	if cc.req.TLS == nil {
		t.Fatal("not over TLS")
	}
	if _, pass, _ := cc.req.BasicAuth(); pass != "pw" {
		t.Errorf("password %q", pass)
	}
	checkAlive(t, c, cc)

	// Without the CA the server is not trusted.
	c2, err := NewClient(Options{URL: url, ID: "CP2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.dial(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("dial without the CA: %v", err)
	}
}

func TestNewClientChecks(t *testing.T) {
	for _, o := range []Options{
		{URL: "ws://example.com/ocpp", ID: "CP1", RequireTLS: true},
		{URL: "ws://example.com/ocpp"},
		{URL: "http://example.com/ocpp", ID: "CP1"},
		{URL: "example.com/ocpp", ID: "CP1"},
		{URL: "ws://", ID: "CP1"},
		{URL: "ws://exa mple.com", ID: "CP1"},
	} {
		if _, err := NewClient(o); err == nil {
			t.Errorf("NewClient(%+v): no error", o)
		}
	}
	if _, err := NewClient(Options{URL: "wss://example.com/ocpp", ID: "CP1", RequireTLS: true}); err != nil {
		t.Errorf("wss with RequireTLS: %v", err)
	}
}

// Requirement 11: Reconnect closes the connection and connects again at
// once; an outstanding call fails, a queued one goes out on the new
// connection.
func TestReconnect(t *testing.T) {
	s := newCSMS(t, false)
	var disconnects atomic.Int32
	c, _, _ := startClient(t, Options{URL: s.URL(), MinBackoff: time.Minute, OnDisconnect: func(error) { disconnects.Add(1) }})
	cc := s.next(t)
	r1 := callAsync(context.Background(), c, "Out", `{}`)
	cc.readCall(t, "Out")
	r2 := callAsync(context.Background(), c, "Queued", `{}`)
	waitUntil(t, "queued", func() bool { return c.queued() == 1 })

	start := time.Now()
	c.Reconnect()
	if err := cc.waitClosed(t); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("closed with %v, want status %d", err, websocket.StatusGoingAway)
	}
	if r := await(t, r1); !errors.Is(r.err, ErrConnectionLost) {
		t.Errorf("outstanding Call returned %v, want ErrConnectionLost", r.err)
	}
	cc2 := s.next(t)
	if d := time.Since(start); d > long/2 {
		t.Errorf("reconnected after %v", d)
	}
	f := cc2.readCall(t, "Queued")
	cc2.answer(t, f.ID, `{"ok":true}`)
	if r := await(t, r2); r.err != nil || string(r.payload) != `{"ok":true}` {
		t.Errorf("queued Call = %s, %v", r.payload, r.err)
	}
	if disconnects.Load() != 1 {
		t.Errorf("%d disconnects", disconnects.Load())
	}
}

// A handler that asks for a reconnect (a new password from
// ChangeConfiguration) gets its answer out before the connection closes.
func TestReconnectFromAHandlerAnswersFirst(t *testing.T) {
	s := newCSMS(t, false)
	var c *Client
	h := rpc.HandlerFunc(func(ctx context.Context, action string, _ json.RawMessage) (json.RawMessage, error) {
		c.Reconnect()
		time.Sleep(20 * time.Millisecond) // the answer is written after the request, not before
		return json.RawMessage(`{"status":"Accepted"}`), nil
	})
	c, _, _ = startClient(t, Options{URL: s.URL(), MinBackoff: time.Minute, Handler: h})
	for i := range 20 {
		cc := s.next(t)
		id := "rc" + strconv.Itoa(i)
		cc.send(t, `[2,"`+id+`","ChangeConfiguration",{"key":"AuthorizationKey","value":"00"}]`)
		if got, want := cc.read(t), `[3,"`+id+`",{"status":"Accepted"}]`; got != want {
			t.Fatalf("answer %s, want %s", got, want)
		}
		if err := cc.waitClosed(t); websocket.CloseStatus(err) != websocket.StatusGoingAway {
			t.Fatalf("closed with %v, want status %d", err, websocket.StatusGoingAway)
		}
	}
}

// Requirement 11: when Run's context ends, Run returns nil, the
// connection is closed with a close handshake, an outstanding call fails
// with ErrConnectionLost, queued ones and later ones with ErrClosed.
func TestRunStops(t *testing.T) {
	s := newCSMS(t, false)
	c, _, stop := startClient(t, Options{URL: s.URL()})
	cc := s.next(t)
	r1 := callAsync(context.Background(), c, "Out", `{}`)
	cc.readCall(t, "Out")
	r2 := callAsync(context.Background(), c, "Queued1", `{}`)
	r3 := callAsync(context.Background(), c, "Queued2", `{}`)
	waitUntil(t, "queued", func() bool { return c.queued() == 2 })

	stop() // checks that Run returns nil
	if err := cc.waitClosed(t); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("closed with %v, want status %d", err, websocket.StatusNormalClosure)
	}
	if r := await(t, r1); !errors.Is(r.err, ErrConnectionLost) {
		t.Errorf("outstanding Call returned %v", r.err)
	}
	for _, r := range []<-chan asyncResult{r2, r3} {
		if r := await(t, r); !errors.Is(r.err, ErrClosed) {
			t.Errorf("queued Call returned %v", r.err)
		}
	}
	if _, err := c.Call(context.Background(), "Late", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Call after Run: %v", err)
	}
	if c.Connected() {
		t.Error("Connected() after Run returned")
	}
	if err := c.Run(context.Background()); err == nil {
		t.Error("second Run: no error")
	}
}

// Calls made before the first connection wait and go out once it is up.
func TestCallsBeforeConnect(t *testing.T) {
	s := newCSMS(t, false)
	c, err := NewClient(Options{URL: s.URL(), ID: "CP1"})
	if err != nil {
		t.Fatal(err)
	}
	r1 := callAsync(context.Background(), c, "BootNotification", `{}`)
	waitUntil(t, "queued", func() bool { return c.queued() == 1 })
	r2 := callAsync(context.Background(), c, "StatusNotification", `{}`)
	waitUntil(t, "queued", func() bool { return c.queued() == 2 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	cc := s.next(t)
	f := cc.readFrame(t)
	cc.answer(t, f.ID, `{"a":"`+f.Action+`"}`)
	g := cc.readFrame(t)
	cc.answer(t, g.ID, `{"a":"`+g.Action+`"}`)
	if f.Action != "BootNotification" || g.Action != "StatusNotification" {
		t.Errorf("got %s then %s", f.Action, g.Action)
	}
	for _, ch := range []<-chan asyncResult{r1, r2} {
		if r := await(t, ch); r.err != nil {
			t.Error(r.err)
		}
	}
}

// The server closing the connection ends the session; the next connection
// takes over, and the outstanding call fails with ErrConnectionLost.
func TestServerCloses(t *testing.T) {
	s := newCSMS(t, false)
	var connects atomic.Int32
	c, _, _ := startClient(t, Options{URL: s.URL(), MinBackoff: 10 * time.Millisecond, Handler: echoHandler, OnConnect: func() { connects.Add(1) }})
	cc := s.next(t)
	res := callAsync(context.Background(), c, "Out", `{}`)
	cc.readCall(t, "Out")
	cc.conn.Close(websocket.StatusServiceRestart, "restart")
	if r := await(t, res); !errors.Is(r.err, ErrConnectionLost) {
		t.Errorf("Call returned %v", r.err)
	}
	cc2 := s.next(t)
	checkAlive(t, c, cc2)
	if n := connects.Load(); n != 2 {
		t.Errorf("%d connects", n)
	}
}

// A write that makes no progress within WriteTimeout closes the
// connection: a central system that stops reading, behind a blackhole.
func TestWriteTimeout(t *testing.T) {
	s := newCSMS(t, false)
	p := newProxy(t, strings.TrimPrefix(s.srv.URL, "http://"))
	disconnects := make(chan error, 10)
	c, _, _ := startClient(t, Options{
		URL:          "ws://" + p.addr() + "/ocpp",
		Handler:      echoHandler,
		WriteTimeout: 200 * time.Millisecond,
		CallTimeout:  50 * time.Millisecond,
		MinBackoff:   10 * time.Millisecond,
		OnDisconnect: func(err error) { disconnects <- err },
	})
	cc := s.next(t)
	checkAlive(t, c, cc)
	p.stall()
	// Fill the socket buffers until a write hangs.
	big := json.RawMessage(`{"a":"` + strings.Repeat("x", 1<<20) + `"}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			if _, err := c.Call(ctx, "Big", big); errors.Is(err, ErrConnectionLost) || errors.Is(err, context.Canceled) {
				return
			}
		}
	})
	select {
	case err := <-disconnects:
		if !strings.Contains(err.Error(), "no progress within") {
			t.Errorf("disconnected with %v, want a write timeout", err)
		}
	case <-time.After(long):
		t.Fatal("a hanging write did not close the connection")
	}
	cancel()
	wg.Wait()
	checkAlive(t, c, s.next(t))
}
