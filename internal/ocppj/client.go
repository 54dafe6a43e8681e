package ocppj

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"
)

// Handler answers the central system's CALLs.
type Handler interface {
	// HandleCall returns the CALLRESULT payload for a CALL, or an error: an
	// *Error is sent as that CALLERROR, any other error as InternalError.
	HandleCall(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error)
}

// HandlerFunc adapts a function to [Handler].
type HandlerFunc func(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error)

// HandleCall calls f.
func (f HandlerFunc) HandleCall(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	return f(ctx, action, payload)
}

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

// Options configure a [Client]. The zero value of every field but URL, ID
// and Handler is a working default.
type Options struct {
	// URL is the central system's address, ws:// or wss://; the charge
	// point id is appended as the last path element.
	URL string
	// ID is the charge point identity.
	ID string
	// Subprotocol is asked for in the handshake and must be granted.
	// Default "ocpp1.6".
	Subprotocol string
	// Password, when it returns a non-empty password, makes the client send
	// HTTP Basic authentication with ID as user (OCPP security profiles 1
	// and 2). It is read at every connection attempt.
	Password func() []byte
	// RequireTLS refuses a ws:// URL (security profile 2).
	RequireTLS bool
	// TLSConfig is used for wss://; nil uses the system's roots.
	TLSConfig *tls.Config
	// CallTimeout bounds the wait for the answer to one CALL. Default 30 s.
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
	// each wait is drawn at random from its upper half. Defaults 1 s, 60 s.
	MinBackoff, MaxBackoff time.Duration
	// ReadLimit is the largest frame accepted, in bytes; a larger one closes
	// the connection. Default 16 MiB.
	ReadLimit int64
	// Handler answers the central system's CALLs. Nil answers every CALL
	// with NotImplemented.
	Handler Handler
	// Logger receives connection events. Default: discard.
	Logger *slog.Logger
	// Trace, when set, sees every frame sent and received. It must not block.
	Trace func(dir Direction, frame []byte)
	// OnConnect, when set, is called after each successful handshake, and
	// OnDisconnect after each connection ends. They must not block.
	OnConnect    func()
	OnDisconnect func(err error)
}

// Client is the charge point side of an OCPP-J connection. It is safe for
// concurrent use.
type Client struct {
	opts   Options
	target string
	log    *slog.Logger

	idPrefix string
	idSeq    atomic.Uint64

	pingInterval atomic.Int64 // nanoseconds
	pingChanged  chan struct{}
	reconnect    chan struct{}
	connected    atomic.Bool

	mu      sync.Mutex
	queue   []*pendingCall
	ready   chan struct{} // signalled when queue grows
	stopped bool
}

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

func (pc *pendingCall) finish(payload json.RawMessage, err error) {
	select {
	case pc.done <- callResult{payload, err}:
	default: // already finished
	}
}

// NewClient checks opts and returns a client; [Client.Run] connects it.
func NewClient(opts Options) (*Client, error) {
	if opts.ID == "" {
		return nil, errors.New("ocppj: no charge point id")
	}
	u, err := url.Parse(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("ocppj: central system URL: %w", err)
	}
	switch u.Scheme {
	case "ws":
		if opts.RequireTLS {
			return nil, fmt.Errorf("ocppj: %s: TLS is required (wss://)", opts.URL)
		}
	case "wss":
	default:
		return nil, fmt.Errorf("ocppj: %s: scheme must be ws or wss", opts.URL)
	}
	if opts.Subprotocol == "" {
		opts.Subprotocol = "ocpp1.6"
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
		opts.ReadLimit = 16 << 20
	}
	if opts.Handler == nil {
		opts.Handler = HandlerFunc(func(_ context.Context, action string, _ json.RawMessage) (json.RawMessage, error) {
			return nil, Errorf(NotImplemented, "action %q is not implemented", action)
		})
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var prefix [6]byte
	_, _ = rand.Read(prefix[:])
	c := &Client{
		opts:        opts,
		target:      strings.TrimRight(opts.URL, "/") + "/" + url.PathEscape(opts.ID),
		log:         opts.Logger,
		idPrefix:    hex.EncodeToString(prefix[:]) + "-",
		pingChanged: make(chan struct{}, 1),
		reconnect:   make(chan struct{}, 1),
		ready:       make(chan struct{}, 1),
	}
	c.pingInterval.Store(int64(opts.PingInterval))
	return c, nil
}

// URL is the address the client connects to: the central system's URL with
// the charge point id appended.
func (c *Client) URL() string { return c.target }

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
// once (for example with a new password).
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
// is answered or times out).
func (c *Client) Call(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	pc := &pendingCall{
		ctx:     ctx,
		id:      c.idPrefix + strconv.FormatUint(c.idSeq.Add(1), 36),
		action:  action,
		payload: payload,
		done:    make(chan callResult, 1),
	}
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	c.queue = append(c.queue, pc)
	c.mu.Unlock()
	select {
	case c.ready <- struct{}{}:
	default:
	}
	select {
	case r := <-pc.done:
		return r.payload, r.err
	case <-ctx.Done():
		pc.finish(nil, ctx.Err()) // the sender skips or ignores it
		return nil, ctx.Err()
	}
}

// pop takes the oldest queued call that is still wanted, or returns nil.
func (c *Client) pop() *pendingCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.queue) > 0 {
		pc := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		if pc.ctx.Err() == nil {
			return pc
		}
	}
	return nil
}

// Run connects and keeps the client connected until ctx ends. It returns
// nil when ctx ends; queued calls then fail with ErrClosed.
func (c *Client) Run(ctx context.Context) error {
	defer c.stop()
	backoff := c.opts.MinBackoff
	for {
		start := time.Now()
		err := c.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > 30*time.Second {
			backoff = c.opts.MinBackoff // it was a real connection, not a flap
		}
		wait := backoff/2 + mathrand.N(backoff/2+1)
		c.log.Warn("central system connection ended", "err", err, "retry_in", wait.Round(time.Millisecond))
		backoff = min(2*backoff, c.opts.MaxBackoff)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.reconnect:
			t.Stop()
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

// dial makes one connection attempt.
func (c *Client) dial(ctx context.Context) (*websocket.Conn, error) {
	header := http.Header{}
	if c.opts.Password != nil {
		if pw := c.opts.Password(); len(pw) > 0 {
			cred := append([]byte(c.opts.ID+":"), pw...)
			header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString(cred))
		}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = c.opts.TLSConfig
	dctx, cancel := context.WithTimeout(ctx, c.opts.HandshakeTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, c.target, &websocket.DialOptions{
		HTTPClient:   &http.Client{Transport: transport},
		HTTPHeader:   header,
		Subprotocols: []string{c.opts.Subprotocol},
	})
	if err != nil {
		if resp != nil {
			switch resp.StatusCode {
			case http.StatusUnauthorized, http.StatusForbidden:
				return nil, fmt.Errorf("ocppj: %s refused the credentials of %q (HTTP %d): %w", c.target, c.opts.ID, resp.StatusCode, err)
			case http.StatusNotFound:
				return nil, fmt.Errorf("ocppj: %s does not know charge point %q (HTTP 404): %w", c.target, c.opts.ID, err)
			}
		}
		return nil, fmt.Errorf("ocppj: dial %s: %w", c.target, err)
	}
	if got := conn.Subprotocol(); got != c.opts.Subprotocol {
		conn.Close(websocket.StatusProtocolError, "subprotocol "+c.opts.Subprotocol+" required")
		return nil, fmt.Errorf("%w: asked for %q, got %q", ErrSubprotocol, c.opts.Subprotocol, got)
	}
	conn.SetReadLimit(c.opts.ReadLimit)
	return conn, nil
}

// incoming is a CALL from the central system waiting for its answer, or a
// frame error to answer.
type incoming struct {
	frame Frame
	err   *FrameError
}

// session runs one connection until it fails or ctx ends.
func (c *Client) session(ctx context.Context) error {
	conn, err := c.dial(ctx)
	if err != nil {
		if errors.Is(err, ErrSubprotocol) {
			c.log.Error("central system refused the OCPP subprotocol; not going on with this connection", "url", c.target, "err", err)
		}
		return err
	}
	defer conn.CloseNow()
	c.log.Info("connected to central system", "url", c.target)
	c.connected.Store(true)
	if c.opts.OnConnect != nil {
		c.opts.OnConnect()
	}
	g, gctx := errgroup.WithContext(ctx)
	calls := make(chan incoming, 16)
	results := make(chan Frame, 1)
	g.Go(func() error { return c.readLoop(gctx, conn, calls, results) })
	g.Go(func() error { return c.handleLoop(gctx, conn, calls) })
	g.Go(func() error { return c.sendLoop(gctx, conn, results) })
	g.Go(func() error { return c.pingLoop(gctx, conn) })
	g.Go(func() error {
		select {
		case <-c.reconnect:
			return errors.New("reconnect requested")
		case <-gctx.Done():
			return nil
		}
	})
	err = g.Wait()
	c.connected.Store(false)
	if ctx.Err() != nil {
		conn.Close(websocket.StatusNormalClosure, "charge point stopping")
		err = ctx.Err()
	} else {
		conn.Close(websocket.StatusGoingAway, "")
	}
	if c.opts.OnDisconnect != nil {
		c.opts.OnDisconnect(err)
	}
	return err
}

func (c *Client) trace(dir Direction, frame []byte) {
	if c.opts.Trace != nil {
		c.opts.Trace(dir, frame)
	}
}

func (c *Client) write(ctx context.Context, conn *websocket.Conn, frame []byte) error {
	wctx, cancel := context.WithTimeout(ctx, c.opts.WriteTimeout)
	defer cancel()
	c.trace(Sent, frame)
	if err := conn.Write(wctx, websocket.MessageText, frame); err != nil {
		return fmt.Errorf("ocppj: write: %w", err)
	}
	return nil
}

func (c *Client) readLoop(ctx context.Context, conn *websocket.Conn, calls chan<- incoming, results chan<- Frame) error {
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return fmt.Errorf("ocppj: read: %w", err)
		}
		c.trace(Received, data)
		if typ != websocket.MessageText {
			c.log.Warn("dropped a binary WebSocket message", "bytes", len(data))
			continue
		}
		f, ferr := ParseFrame(data)
		if ferr != nil {
			switch ferr.Type {
			case CallResult, CallError:
				// Never answer an answer; the outstanding call, if it is
				// this one, will time out.
				c.log.Warn("dropped a malformed answer", "id", ferr.ID, "err", ferr)
				continue
			}
			select {
			case calls <- incoming{err: ferr}:
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		switch f.Type {
		case Call:
			select {
			case calls <- incoming{frame: f}:
			case <-ctx.Done():
				return ctx.Err()
			}
		case CallResult, CallError:
			select {
			case results <- f:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

func (c *Client) handleLoop(ctx context.Context, conn *websocket.Conn, calls <-chan incoming) error {
	for {
		var in incoming
		select {
		case in = <-calls:
		case <-ctx.Done():
			return ctx.Err()
		}
		var frame []byte
		if in.err != nil {
			id := in.err.ID
			if id == "" {
				id = "-1" // as OCPP 2.0.1 asks for an id that could not be read
			}
			c.log.Warn("answered a malformed frame", "err", in.err)
			frame = AppendCallError(nil, id, &Error{Code: in.err.Code, Description: in.err.Msg})
		} else {
			payload, err := c.handle(ctx, in.frame)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || !e.Code.Known() {
					c.log.Error("handler failed", "action", in.frame.Action, "err", err)
					e = &Error{Code: InternalError, Description: truncate(err.Error(), 255)}
				}
				frame = AppendCallError(nil, in.frame.ID, e)
			} else {
				frame = AppendCallResult(nil, in.frame.ID, payload)
			}
		}
		if err := c.write(ctx, conn, frame); err != nil {
			return err
		}
	}
}

// handle calls the handler, turning a panic into an error.
func (c *Client) handle(ctx context.Context, f Frame) (payload json.RawMessage, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("handler panicked", "action", f.Action, "panic", r, "stack", string(debug.Stack()))
			payload, err = nil, Errorf(InternalError, "internal error while handling %s", f.Action)
		}
	}()
	payload, err = c.opts.Handler.HandleCall(ctx, f.Action, f.Payload)
	if err == nil && !isObject(payload) && len(payload) != 0 {
		return nil, fmt.Errorf("handler for %s returned a payload that is not a JSON object", f.Action)
	}
	return payload, err
}

func (c *Client) sendLoop(ctx context.Context, conn *websocket.Conn, results <-chan Frame) error {
	for {
		pc := c.pop()
		if pc == nil {
			select {
			case <-c.ready:
			case f := <-results:
				c.log.Warn("dropped an answer to no outstanding call", "id", f.ID, "type", f.Type)
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		if err := c.write(ctx, conn, AppendCall(nil, pc.id, pc.action, pc.payload)); err != nil {
			pc.finish(nil, ErrConnectionLost)
			return err
		}
		if err := c.await(ctx, pc, results); err != nil {
			return err
		}
	}
}

// await waits for the answer to pc, which is on the wire, until it comes,
// the call times out or the connection ends.
func (c *Client) await(ctx context.Context, pc *pendingCall, results <-chan Frame) error {
	timer := time.NewTimer(c.opts.CallTimeout)
	defer timer.Stop()
	for {
		select {
		case f := <-results:
			if f.ID != pc.id {
				c.log.Warn("dropped an answer to no outstanding call", "id", f.ID, "type", f.Type)
				continue
			}
			if f.Type == CallError {
				pc.finish(nil, f.Error)
			} else {
				pc.finish(f.Payload, nil)
			}
			return nil
		case <-timer.C:
			c.log.Warn("call timed out", "action", pc.action, "id", pc.id, "timeout", c.opts.CallTimeout)
			pc.finish(nil, ErrTimeout)
			return nil
		case <-ctx.Done():
			pc.finish(nil, ErrConnectionLost)
			return ctx.Err()
		}
	}
}

func (c *Client) pingLoop(ctx context.Context, conn *websocket.Conn) error {
	for {
		d := time.Duration(c.pingInterval.Load())
		if d <= 0 {
			select {
			case <-c.pingChanged:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.pingChanged:
			t.Stop()
			continue
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		timeout := min(c.opts.PongTimeout, d)
		pctx, cancel := context.WithTimeout(ctx, timeout)
		err := conn.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("ocppj: no pong within %s: %w", timeout, err)
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
