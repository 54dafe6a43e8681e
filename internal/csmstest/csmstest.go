// Package csmstest is a small, real OCPP-J central system for tests and
// for evse demo, speaking OCPP 1.6 and 2.0.1. It accepts charge points
// over WebSocket on any listener, records every frame, answers the charge
// points' CALLs with configurable responses, validates what they send
// against the schemas of the version agreed on the connection, and can
// send any CALL to a connected charge point.
//
// The version of a connection is the subprotocol agreed in its handshake:
// the server picks, among those the charge point offers, the first of
// Options.Subprotocols. The schemas, the CALLERROR codes the server sends
// and the default answers are that version's; Respond sets an answer for
// every version, RespondVersion for one.
//
// It is safe for concurrent use.
package csmstest

import (
	"context"
	"crypto/subtle"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/evse-dev/evse/internal/ocppj"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// Direction of a recorded frame.
type Direction int

// Directions, seen from the central system.
const (
	FromChargePoint Direction = iota
	ToChargePoint
)

func (d Direction) String() string {
	if d == ToChargePoint {
		return "CSMS→CP"
	}
	return "CP→CSMS"
}

// Record is one frame seen on a connection.
type Record struct {
	Seq         int
	Time        time.Time
	ChargePoint string
	Dir         Direction
	Raw         []byte
	// Frame is the parsed frame; for an answer, Action is filled in with
	// the action of the CALL it answers where known.
	Frame ocppj.Frame
	// Invalid says why the frame or its payload broke the OCPP-J rules or
	// the schemas of the connection's version, or is "".
	Invalid string
	// Subprotocol is the subprotocol agreed on the connection ([OCPP16],
	// [OCPP201]), "" for none (spoken as 1.6).
	Subprotocol string
}

// Options configure a [Server]. The zero value works.
type Options struct {
	// Subprotocols offered, in the server's order of preference: it
	// agrees to the first one the charge point offers too. Default
	// [OCPP16]; the server speaks [OCPP16] and [OCPP201], and any other
	// as 1.6. Set NoSubprotocol to accept connections without agreeing
	// to any (spoken as 1.6).
	Subprotocols  []string
	NoSubprotocol bool
	// Passwords, when not nil, requires HTTP Basic authentication: user
	// is the charge point id and the password must equal Passwords[id].
	Passwords map[string][]byte
	// HeartbeatInterval is the interval of the default BootNotification
	// answer, in seconds. Default 240.
	HeartbeatInterval int
	// FirstTransactionID is the first transactionId the default
	// StartTransaction answer gives. Default 1.
	FirstTransactionID int
	// OnRecord, when set, sees every frame as it is recorded. It must not
	// block.
	OnRecord func(Record)
	Logger   *slog.Logger
	// Forget: frames are not kept (Records stays empty; OnRecord still
	// sees them), for long runs and big fleets.
	Forget bool
}

// Server is the test central system.
type Server struct {
	opts Options
	log  *slog.Logger

	mu         sync.Mutex
	records    []Record
	conns      map[string]*conn
	responders [numVersions]map[string]Responder // by action
	defaults   [numVersions]map[string]Responder
	changed    chan struct{} // closed and replaced on every new record or connection

	closed map[string]websocket.StatusCode // how each charge point's last connection ended

	// onAttempt, when set, is told of every connection attempt (a
	// Ledger counts them). Guarded by mu.
	onAttempt func(cp string)

	txID     atomic.Int64
	srv      *http.Server
	ln       net.Listener
	handlers sync.WaitGroup // connections being served
}

type conn struct {
	id          string
	subprotocol string // agreed in the handshake
	v           version
	ws          *websocket.Conn
	auth        []byte // the Basic authentication password it connected with, or nil
	// clientCert is its client certificate, nil for none.
	clientCert *x509.Certificate
	pings      atomic.Int64
	cancel     context.CancelFunc
	mu         sync.Mutex
	pending    map[string]pendingCall
	raw        map[string]bool // ids of frames sent with SendRaw; "-1" too
	seq        atomic.Int64
	// afterAnswer runs once the answer being made is written (the
	// connection's CALLs are answered one at a time).
	afterAnswer func()
}

type pendingCall struct {
	action string
	done   chan ocppj.Frame
}

// New returns a server with the default responses.
func New(opts Options) *Server {
	if len(opts.Subprotocols) == 0 {
		opts.Subprotocols = []string{OCPP16}
	}
	if opts.HeartbeatInterval == 0 {
		opts.HeartbeatInterval = 240
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: opts.Logger, conns: map[string]*conn{}, closed: map[string]websocket.StatusCode{},
		changed: make(chan struct{})}
	s.txID.Store(int64(max(opts.FirstTransactionID, 1)) - 1)
	s.defaults = [numVersions]map[string]Responder{v16: s.defaults16(), v201: s.defaults201()}
	for v, d := range s.defaults {
		s.responders[v] = maps.Clone(d)
	}
	return s
}

// Listen starts serving on addr (e.g. "127.0.0.1:0") and returns the
// ws:// URL charge points connect to (append "/<id>"); Close stops it.
func (s *Server) Listen(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("csmstest: %w", err)
	}
	s.serveOn(ln)
	return "ws://" + ln.Addr().String() + "/ocpp", nil
}

// serveOn serves charge points on ln until Close.
func (s *Server) serveOn(ln net.Listener) {
	s.ln = ln
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
}

// Close disconnects every charge point, stops the listener and waits for
// the connections' goroutines to end.
func (s *Server) Close() error {
	s.mu.Lock()
	for _, c := range s.conns {
		c.cancel()
	}
	s.mu.Unlock()
	var err error
	if s.srv != nil {
		err = s.srv.Close()
	}
	s.handlers.Wait()
	return err
}

// ServeHTTP accepts a charge point: the last path element is its id.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handlers.Add(1)
	defer s.handlers.Done()

	id, err := url.PathUnescape(r.URL.EscapedPath()[strings.LastIndex(r.URL.EscapedPath(), "/")+1:])
	if err != nil || id == "" {
		http.Error(w, "no charge point id in the path", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	onAttempt := s.onAttempt
	s.mu.Unlock()
	if onAttempt != nil {
		onAttempt(id)
	}
	if s.opts.Passwords != nil {
		user, pass, ok := r.BasicAuth()
		want, known := s.opts.Passwords[id]
		if !ok || user != id || !known || subtle.ConstantTimeCompare([]byte(pass), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="ocpp"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	c := &conn{id: id, pending: map[string]pendingCall{}, raw: map[string]bool{}}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		c.clientCert = r.TLS.PeerCertificates[0]
	}
	if _, pass, ok := r.BasicAuth(); ok {
		c.auth = []byte(pass)
	}
	opts := &websocket.AcceptOptions{Subprotocols: s.opts.Subprotocols, InsecureSkipVerify: true,
		OnPingReceived: func(context.Context, []byte) bool { c.pings.Add(1); return true }}
	if s.opts.NoSubprotocol {
		opts.Subprotocols = nil
	}
	ws, err := websocket.Accept(w, r, opts)
	if err != nil {
		return
	}
	ws.SetReadLimit(64 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	c.ws, c.cancel = ws, cancel
	c.subprotocol = ws.Subprotocol()
	c.v = versionOf(c.subprotocol)
	s.mu.Lock()
	if old := s.conns[id]; old != nil {
		old.cancel()
	}
	s.conns[id] = c
	s.notifyLocked()
	s.mu.Unlock()
	code := s.serve(ctx, c)
	cancel()
	ws.CloseNow()
	s.mu.Lock()
	if s.conns[id] == c {
		delete(s.conns, id)
	}
	s.closed[id] = code
	s.notifyLocked()
	s.mu.Unlock()
	c.mu.Lock()
	for _, p := range c.pending {
		close(p.done)
	}
	c.pending = map[string]pendingCall{}
	c.mu.Unlock()
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) record(c *conn, dir Direction, raw []byte, f ocppj.Frame, invalid string) {
	s.mu.Lock()
	r := Record{Seq: len(s.records), Time: time.Now(), ChargePoint: c.id, Dir: dir, Raw: raw, Frame: f, Invalid: invalid,
		Subprotocol: c.subprotocol}
	if !s.opts.Forget {
		s.records = append(s.records, r)
		s.notifyLocked()
	}
	on := s.opts.OnRecord
	s.mu.Unlock()
	if on != nil {
		on(r)
	}
}

// serve reads a connection until it ends and returns the close status the
// charge point sent (-1 if it sent none).
func (s *Server) serve(ctx context.Context, c *conn) websocket.StatusCode {
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			return websocket.CloseStatus(err)
		}
		f, ferr := ocppj.ParseFrame(data)
		if ferr != nil {
			s.record(c, FromChargePoint, data, ocppj.Frame{Type: ferr.Type, ID: ferr.ID}, ferr.Error())
			if ferr.Type != ocppj.CallResult && ferr.Type != ocppj.CallError {
				id := ferr.ID
				if id == "" {
					id = "-1"
				}
				e := &rpc.Error{Code: c.v.frameErrorCode(ferr), Description: ferr.Msg}
				s.write(ctx, c, ocppj.AppendCallError(nil, id, e), ocppj.Frame{Type: ocppj.CallError, ID: id, Error: e})
			}
			continue
		}
		switch f.Type {
		case ocppj.Call:
			s.answer(ctx, c, data, f)
		case ocppj.CallResult, ocppj.CallError:
			c.mu.Lock()
			p, ok := c.pending[f.ID]
			delete(c.pending, f.ID)
			raw := c.raw[f.ID]
			delete(c.raw, f.ID)
			c.mu.Unlock()
			invalid := ""
			if raw {
				// An answer to a frame a test wrote by hand.
			} else if ok {
				f.Action = p.action
				if err := c.v.checkAnswer(p.action, f); err != nil {
					invalid = err.Error()
				}
			} else {
				invalid = "answer to no outstanding call"
			}
			s.record(c, FromChargePoint, data, f, invalid)
			if ok {
				p.done <- f
			}
		}
	}
}

func (s *Server) answer(ctx context.Context, c *conn, raw []byte, f ocppj.Frame) {
	invalid := ""
	var e *rpc.Error
	if err := c.v.checkRequest(f.Action, f.Payload); err != nil {
		invalid = err.Error()
		if !errors.As(err, &e) {
			e = rpc.Errorf(rpc.GenericError, "%v", err)
		}
	}
	s.record(c, FromChargePoint, raw, f, invalid)
	var out []byte
	reply := ocppj.Frame{ID: f.ID, Action: f.Action}
	if e == nil {
		if r := s.responder(c.v, f.Action); r == nil {
			e = rpc.Errorf(rpc.NotImplemented, "the test central system has no answer for %s", f.Action)
		} else {
			var payload json.RawMessage
			payload, e = r(c.id, f.Payload)
			if e == nil {
				reply.Type, reply.Payload = ocppj.CallResult, payload
				out = ocppj.AppendCallResult(nil, f.ID, payload)
			}
		}
	}
	if e != nil {
		e = &rpc.Error{Code: c.v.code(e.Code), Description: e.Description, Details: e.Details}
		reply.Type, reply.Error = ocppj.CallError, e
		out = ocppj.AppendCallError(nil, f.ID, e)
	}
	err := s.write(ctx, c, out, reply)
	c.mu.Lock()
	after := c.afterAnswer
	c.afterAnswer = nil
	c.mu.Unlock()
	if after != nil && err == nil && e == nil {
		s.handlers.Add(1)
		go func() {
			defer s.handlers.Done()
			after()
		}()
	}
}

// afterAnswer has fn run once the answer a responder for cp is making is
// written, in a goroutine of its own.
func (s *Server) afterAnswer(cp string, fn func()) {
	s.mu.Lock()
	c := s.conns[cp]
	s.mu.Unlock()
	if c == nil {
		return
	}
	c.mu.Lock()
	c.afterAnswer = fn
	c.mu.Unlock()
}

func (s *Server) write(ctx context.Context, c *conn, frame []byte, f ocppj.Frame) error {
	s.record(c, ToChargePoint, frame, f, "")
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return c.ws.Write(wctx, websocket.MessageText, frame)
}

// ErrNotConnected: the charge point is not connected.
var ErrNotConnected = errors.New("csmstest: charge point not connected")

// Call sends a CALL to a connected charge point and waits for its answer:
// the CALLRESULT payload, or an *rpc.Error for a CALLERROR.
func (s *Server) Call(ctx context.Context, cp, action string, payload json.RawMessage) (json.RawMessage, error) {
	s.mu.Lock()
	c := s.conns[cp]
	s.mu.Unlock()
	if c == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotConnected, cp)
	}
	id := "csms-" + strconv.FormatInt(c.seq.Add(1), 10)
	done := make(chan ocppj.Frame, 1)
	c.mu.Lock()
	c.pending[id] = pendingCall{action: action, done: done}
	c.mu.Unlock()
	if err := s.write(ctx, c, ocppj.AppendCall(nil, id, action, payload), ocppj.Frame{Type: ocppj.Call, ID: id, Action: action, Payload: payload}); err != nil {
		return nil, fmt.Errorf("csmstest: send %s: %w", action, err)
	}
	select {
	case f, ok := <-done:
		if !ok {
			return nil, fmt.Errorf("%w: %s disconnected before answering %s", ErrNotConnected, cp, action)
		}
		if f.Type == ocppj.CallError {
			return nil, f.Error
		}
		return f.Payload, nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return nil, ctx.Err()
	}
}

// SendRaw writes any bytes as a text message to a connected charge point,
// for tests of hostile input. The frame is recorded as sent; the charge
// point's answer to it (with the frame's id, or "-1") is recorded without
// being checked.
func (s *Server) SendRaw(ctx context.Context, cp string, frame []byte) error {
	s.mu.Lock()
	c := s.conns[cp]
	s.mu.Unlock()
	if c == nil {
		return fmt.Errorf("%w: %s", ErrNotConnected, cp)
	}
	f, ferr := ocppj.ParseFrame(frame)
	id := f.ID
	if ferr != nil {
		id = ferr.ID
	}
	c.mu.Lock()
	c.raw["-1"] = true
	if id != "" {
		c.raw[id] = true
	}
	c.mu.Unlock()
	return s.write(ctx, c, frame, f)
}

// Disconnect drops a charge point's connection.
func (s *Server) Disconnect(cp string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.conns[cp]; c != nil {
		c.cancel()
	}
}

// Connected reports whether a charge point is connected.
func (s *Server) Connected(cp string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[cp] != nil
}

// Subprotocol returns the subprotocol agreed on a connected charge
// point's current connection ("" for none, spoken as 1.6), and whether it
// is connected.
func (s *Server) Subprotocol(cp string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conns[cp]
	if c == nil {
		return "", false
	}
	return c.subprotocol, true
}

// Password returns the Basic authentication password a connected charge
// point connected with, and whether it sent one.
func (s *Server) Password(cp string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.conns[cp]; c != nil && c.auth != nil {
		return c.auth, true
	}
	return nil, false
}

// Pings returns how many WebSocket pings a connected charge point has sent
// on its current connection.
func (s *Server) Pings(cp string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.conns[cp]; c != nil {
		return int(c.pings.Load())
	}
	return 0
}

// CloseStatus returns the WebSocket close status with which a charge
// point's last connection ended (-1 if it closed without one), and whether
// one has ended.
func (s *Server) CloseStatus(cp string) (websocket.StatusCode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	code, ok := s.closed[cp]
	return code, ok
}

// Records returns every frame recorded so far, in order.
func (s *Server) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.records...)
}

// WaitFor waits until a record at index from or later satisfies match, and
// returns it. It also returns when a charge point connects or disconnects,
// if match is satisfied by then. It fails when ctx ends.
func (s *Server) WaitFor(ctx context.Context, from int, match func(Record) bool) (Record, error) {
	for {
		s.mu.Lock()
		for _, r := range s.records[min(from, len(s.records)):] {
			if match(r) {
				s.mu.Unlock()
				return r, nil
			}
		}
		from = len(s.records)
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Record{}, fmt.Errorf("csmstest: waiting for a frame: %w", ctx.Err())
		}
	}
}

// WaitConnected waits until a charge point is connected.
func (s *Server) WaitConnected(ctx context.Context, cp string) error {
	for {
		s.mu.Lock()
		ok := s.conns[cp] != nil
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("csmstest: waiting for %s to connect: %w", cp, ctx.Err())
		}
	}
}

// IsCall returns a matcher for a CALL of the given action from a charge point.
func IsCall(cp, action string) func(Record) bool {
	return func(r Record) bool {
		return r.ChargePoint == cp && r.Dir == FromChargePoint && r.Frame.Type == ocppj.Call && r.Frame.Action == action
	}
}

// ConnectedCount is the number of charge points connected now.
func (s *Server) ConnectedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// ClientCertName is the common name of the client certificate a
// connected charge point presented (security profile 3), and whether it
// is connected.
func (s *Server) ClientCertName(cp string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conns[cp]
	if c == nil {
		return "", false
	}
	if c.clientCert == nil {
		return "", true
	}
	return c.clientCert.Subject.CommonName, true
}

// ClientCert is the client certificate a connected charge point
// presented, nil for none, and whether it is connected.
func (s *Server) ClientCert(cp string) (*x509.Certificate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conns[cp]
	if c == nil {
		return nil, false
	}
	return c.clientCert, true
}
