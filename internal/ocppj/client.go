package ocppj

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
	"log/slog"
	mathrand "math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Direction says which way a traced frame went.
type Direction int

// Directions of a traced frame.
const (
	Sent Direction = iota
	Received
)

func (d Direction) String() string {
	if d == Sent {
		return "sent"
	}
	return "received"
}

// Options configure a [Client]. The zero value of every field but URL and
// ID is a working default.
type Options struct {
	// URL is the central system's address, ws:// or wss://; the charge
	// point id is appended as the last path element.
	URL string
	// ID is the charge point identity.
	ID string
	// Subprotocol is asked for in the handshake and must be granted.
	// Default "ocpp1.6".
	Subprotocol string
	// Subprotocols, when set, are offered instead, in order of
	// preference: the server picks one (Client.Subprotocol says which).
	Subprotocols []string
	// Offer, when set, narrows Subprotocols at each connection attempt
	// (a charge point with messages of one protocol waiting offers that
	// one only); it returns some of them, in order, or all.
	Offer func(all []string) []string
	// Password, when it returns a non-empty password, makes the client send
	// HTTP Basic authentication with ID as user (OCPP security profiles 1
	// and 2). It is read at every connection attempt.
	Password func() []byte
	// RequireTLS refuses a ws:// URL (security profile 2).
	RequireTLS bool
	// TLSConfig is used for wss://; nil uses the system's roots.
	TLSConfig *tls.Config
	// CallTimeout bounds the wait for the answer to one CALL once it is
	// sent. Default 30 s.
	CallTimeout time.Duration
	// HandshakeTimeout bounds one connection attempt. Default 30 s.
	HandshakeTimeout time.Duration
	// WriteTimeout bounds the write of one frame; a write that takes longer
	// closes the connection. Default 30 s.
	WriteTimeout time.Duration
	// PingInterval is the initial period of WebSocket pings; 0 sends none.
	// [Client.SetPingInterval] changes it.
	PingInterval time.Duration
	// PongTimeout is how long a pong may take before the connection is
	// considered dead, closed and re-established. Default 10 s, but never
	// more than the ping interval.
	PongTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between connection attempts:
	// it doubles from MinBackoff after each failure up to MaxBackoff, and
	// each wait is drawn at random from its upper half. A connection that
	// stayed up for 30 s starts the doubling again from MinBackoff.
	// Defaults 1 s, 60 s.
	MinBackoff, MaxBackoff time.Duration
	// ReadLimit is the largest frame accepted, in bytes; a larger one closes
	// the connection. Default DefaultReadLimit.
	ReadLimit int64
	// Handler answers the central system's CALLs. Nil answers every CALL
	// with NotImplemented.
	Handler rpc.Handler
	// Logger receives connection events. Default: discard.
	Logger *slog.Logger
	// Trace, when set, sees every frame sent and received. It must not
	// block, and must not keep frame after it returns (the buffer is
	// reused).
	Trace func(dir Direction, frame []byte)
	// HTTPClient, when set, makes the handshakes (many clients of a fleet
	// share one); nil: the client's own, without keep-alive. Each
	// handshake's context carries the values of the context Run was
	// given: a shared client's TLS configuration tells the clients apart
	// by them (tls.CertificateRequestInfo.Context).
	HTTPClient *http.Client
	// Gate, when set, is waited for before each connection attempt; an
	// error fails the attempt as a refused connection would (a fleet's
	// ramp, or its central system made unreachable on purpose).
	Gate func(ctx context.Context) error
	// OnConnect, when set, is called after each successful handshake, and
	// OnDisconnect after each connection ends. They must not block.
	OnConnect    func()
	OnDisconnect func(err error)
	// OnConnectFailed, when set, is told why a connection attempt failed.
	// It must not block.
	OnConnectFailed func(err error)
}

// stableConnection is how long a connection must have been up for the
// next failure to start the backoff again from MinBackoff.
const stableConnection = 30 * time.Second

// Client is the charge point side of an OCPP-J connection. It is safe for
// concurrent use.
type Client struct {
	opts   Options
	target atomic.Pointer[string] // the URL with the id appended
	log    *slog.Logger
	http   *http.Client

	idPrefix string
	idSeq    atomic.Uint64

	pingInterval atomic.Int64 // nanoseconds
	pingChanged  chan struct{}
	reconnect    chan struct{}
	connected    atomic.Bool
	running      atomic.Bool
	// subprotocol is the one the server picked at the last handshake.
	subprotocol atomic.Value // string

	// mu guards the call queue and the line of the current session (see
	// session). It is never held while a frame is written, nor together
	// with session.wmu.
	mu      sync.Mutex
	queue   []*pendingCall // waiting for the line, oldest first
	sess    *session       // the live connection, or nil
	stopped bool
}

// pendingCall is one of the client's own CALLs.
type pendingCall struct {
	ctx     context.Context
	id      string
	action  string
	payload json.RawMessage
	done    chan callResult // buffered 1
}

type callResult struct {
	payload json.RawMessage
	err     error
}

// finish delivers the result of pc; only the first one counts.
func (pc *pendingCall) finish(payload json.RawMessage, err error) {
	select {
	case pc.done <- callResult{payload, err}:
	default: // already finished
	}
}

// CheckURL checks a central system's URL: ws:// or wss://, a host, and a
// port (if any) from 1 to 65535. Its errors say what a URL looks like.
func CheckURL(raw string) (*url.URL, error) {
	const want = "want ws://host:port/path or wss://host:port/path"
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") {
		return nil, fmt.Errorf("central system URL %q: %s", raw, want)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("central system URL %q: no host; %s", raw, want)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("central system URL %q: port %s is not 1 to 65535", raw, p)
		}
	}
	if u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("central system URL %q: no user or fragment (the password is AuthorizationKey); %s", raw, want)
	}
	return u, nil
}

// DefaultReadLimit is the largest frame a client accepts by default: room
// for the largest legitimate OCPP 1.6 frame, a SendLocalList of 45,000
// entries with every field at its longest (about 6.6 MB, see
// TestTheLargestSendLocalListFitsTheReadLimit), and little more.
const DefaultReadLimit = 8 << 20

// NewClient checks opts and returns a client; [Client.Run] connects it.
func NewClient(opts Options) (*Client, error) {
	if opts.ID == "" {
		return nil, errors.New("ocppj: no charge point id")
	}
	target, err := targetOf(opts.URL, opts.ID, opts.RequireTLS)
	if err != nil {
		return nil, err
	}
	if opts.Subprotocol == "" {
		opts.Subprotocol = "ocpp1.6"
	}
	if len(opts.Subprotocols) == 0 {
		opts.Subprotocols = []string{opts.Subprotocol}
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 30 * time.Second
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = 30 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 30 * time.Second
	}
	if opts.PongTimeout <= 0 {
		opts.PongTimeout = 10 * time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(60*time.Second, opts.MinBackoff)
	}
	if opts.ReadLimit <= 0 {
		opts.ReadLimit = DefaultReadLimit
	}
	if opts.Handler == nil {
		opts.Handler = rpc.HandlerFunc(func(_ context.Context, action string, _ json.RawMessage) (json.RawMessage, error) {
			return nil, rpc.Errorf(rpc.NotImplemented, "action %q is not implemented", action)
		})
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}

	httpClient := opts.HTTPClient
	if httpClient == nil {
		httpClient = NewHTTPClient(opts.TLSConfig)
	}

	var prefix [6]byte
	_, _ = rand.Read(prefix[:])
	c := &Client{
		opts:        opts,
		log:         opts.Logger,
		http:        httpClient,
		idPrefix:    hex.EncodeToString(prefix[:]) + "-",
		pingChanged: make(chan struct{}, 1),
		reconnect:   make(chan struct{}, 1),
	}
	c.pingInterval.Store(int64(max(opts.PingInterval, 0)))
	c.target.Store(&target)
	return c, nil
}

// targetOf is the address a client connects to: raw (checked by
// CheckURL, wss:// if requireTLS) with the id appended as the last path
// element, escaped; a query string stays last.
func targetOf(raw, id string, requireTLS bool) (string, error) {
	u, err := CheckURL(raw)
	if err != nil {
		return "", err
	}
	if u.Scheme == "ws" && requireTLS {
		return "", fmt.Errorf("ocppj: %s: TLS is required (wss://)", raw)
	}
	escaped := strings.TrimRight(u.EscapedPath(), "/") + "/" + url.PathEscape(id)
	u.Path = strings.TrimRight(u.Path, "/") + "/" + id
	u.RawPath = escaped
	return u.String(), nil
}

// SetURL changes the central system's address (as Options.URL and
// Options.RequireTLS) from the next connection attempt on; the current
// connection, if any, stays. It returns an error, and changes nothing,
// if the URL is not one CheckURL takes or not wss:// while requireTLS.
func (c *Client) SetURL(raw string, requireTLS bool) error {
	target, err := targetOf(raw, c.opts.ID, requireTLS)
	if err != nil {
		return err
	}
	c.target.Store(&target)
	return nil
}

// NewHTTPClient returns a client for handshakes: one transport for all
// attempts, without keep-alive (a refused handshake must not leave an
// idle connection, and its goroutines, behind).
func NewHTTPClient(tlsConfig *tls.Config) *http.Client {
	transport := &http.Transport{Proxy: http.ProxyFromEnvironment}
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		transport = t.Clone()
	}
	transport.TLSClientConfig = tlsConfig
	transport.DisableKeepAlives = true
	return &http.Client{Transport: transport}
}

// Drop closes the current connection, if any, at once and without a
// close handshake, as a network that fails does; Run connects again
// after its backoff.
func (c *Client) Drop() {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s != nil {
		s.conn.CloseNow()
	}
}

// URL is the address the client connects to: the central system's URL with
// the charge point id appended.
func (c *Client) URL() string { return *c.target.Load() }

// Subprotocol is the subprotocol the server picked at the last successful
// handshake ("" before one).
func (c *Client) Subprotocol() string {
	s, _ := c.subprotocol.Load().(string)
	return s
}

// Connected reports whether a connection is up.
func (c *Client) Connected() bool { return c.connected.Load() }

// SetPingInterval changes the period of WebSocket pings; 0 stops them. It
// takes effect at once.
func (c *Client) SetPingInterval(d time.Duration) {
	c.pingInterval.Store(int64(max(d, 0)))
	select {
	case c.pingChanged <- struct{}{}:
	default:
	}
}

// Reconnect closes the current connection, if any; Run connects again at
// once, without backoff (for example with a new password). A CALL of the
// central system being handled is answered first (waiting at most
// WriteTimeout), so a handler may call Reconnect. A Reconnect while a
// connection attempt is under way closes the connection it makes.
func (c *Client) Reconnect() {
	select {
	case c.reconnect <- struct{}{}:
	default:
	}
}

// Call sends a CALL and waits for its answer. CALLs are sent one at a time,
// in the order Call was called; while the client is not connected they wait.
// It returns the CALLRESULT payload, an *Error for a CALLERROR, ErrTimeout,
// ErrConnectionLost, ErrClosed, or ctx's error if ctx ends before the CALL
// was sent or answered (a CALL already sent still holds the line until it
// is answered or times out). The payload must be a JSON object; nil is sent
// as {}.
func (c *Client) Call(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	if action == "" {
		return nil, errors.New("ocppj: CALL without an action")
	}
	if len(bytes.TrimSpace(payload)) > 0 && (!isObject(payload) || !json.Valid(payload)) {
		return nil, fmt.Errorf("ocppj: %s: payload is not a JSON object", action)
	}
	var idBuf [48]byte
	pc := &pendingCall{
		ctx:     ctx,
		id:      string(strconv.AppendUint(append(idBuf[:0], c.idPrefix...), c.idSeq.Add(1), 36)),
		action:  action,
		payload: payload,
		done:    make(chan callResult, 1),
	}

	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if s := c.sess; s != nil && s.out == nil && len(c.queue) == 0 {
		// The line is free: send it from this goroutine.
		s.claimLocked(pc, true)
		c.mu.Unlock()
		s.send(pc)
	} else {
		c.queue = append(c.queue, pc)
		c.mu.Unlock()
	}

	if ctx.Done() == nil {
		r := <-pc.done
		return r.payload, r.err
	}
	select {
	case r := <-pc.done:
		return r.payload, r.err
	case <-ctx.Done():
		c.mu.Lock()
		if i := slices.Index(c.queue, pc); i >= 0 {
			c.queue = slices.Delete(c.queue, i, i+1)
		}
		c.mu.Unlock()
		pc.finish(nil, ctx.Err()) // a later answer is ignored
		return nil, ctx.Err()
	}
}

// Run connects and keeps the client connected until ctx ends. It returns
// nil when ctx ends, after the close handshake (which the central system
// gets 5 s to answer) and after the handler has returned; queued calls
// then fail with ErrClosed and one outstanding with ErrConnectionLost. Run
// may be called once.
func (c *Client) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("ocppj: Run called twice")
	}
	defer c.stop()
	b := backoff{min: c.opts.MinBackoff, max: c.opts.MaxBackoff}
	for {
		up, err := c.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errReconnect) {
			b.reset()
			c.log.Info("reconnecting to central system")
			continue
		}
		if up >= stableConnection {
			b.reset()
		}
		wait := b.next(mathrand.N[time.Duration])
		c.log.Warn("central system connection ended", "err", err, "retry_in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.reconnect:
			t.Stop()
			b.reset()
		case <-ctx.Done():
			t.Stop()
			return nil
		}
	}
}

func (c *Client) stop() {
	c.mu.Lock()
	c.stopped = true
	q := c.queue
	c.queue = nil
	c.mu.Unlock()
	for _, pc := range q {
		pc.finish(nil, ErrClosed)
	}
}

// backoff computes the waits between connection attempts.
type backoff struct {
	min, max time.Duration
	cur      time.Duration // the bound of the next wait; 0 means min
}

// next returns the next wait, drawn from [cur/2, cur] with randN (which
// returns a value in [0, n)), and doubles cur up to max.
func (b *backoff) next(randN func(n time.Duration) time.Duration) time.Duration {
	if b.cur <= 0 {
		b.cur = b.min
	}
	d := b.cur
	if b.cur > b.max/2 {
		b.cur = b.max
	} else {
		b.cur *= 2
	}
	lo := d - d/2
	return lo + randN(d-lo+1)
}

func (b *backoff) reset() { b.cur = 0 }
