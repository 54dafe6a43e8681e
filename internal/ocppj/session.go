package ocppj

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// errReconnect ends a session at the request of [Client.Reconnect].
var errReconnect = errors.New("ocppj: reconnect requested")

// maxKeptBuffer is the largest read or write buffer a session keeps for the
// next frame; a larger one, grown for a rare big frame, is let go.
const maxKeptBuffer = 64 << 10

// session is one connection to the central system. Three goroutines serve
// it, readLoop, handleLoop and sendLoop, and Run's goroutine runs keepAlive,
// which closes the connection when the session ends, whatever ends it.
//
// The line: at most one of the client's CALLs is out at a time. The CALL
// holding the line is session.out; it is claimed by Call itself when the
// line is free and nothing is queued (and then written by the caller's
// goroutine), or, when the line frees, the oldest queued CALL is claimed
// for sendLoop to write. The line frees when the answer comes (readLoop),
// the call times out (callTimer) or the session dies (detachLocked).
type session struct {
	c    *Client
	conn *websocket.Conn
	// v201: the session speaks OCPP 2.0.1, whose CALLERROR codes differ
	// from 1.6's in spelling and number.
	v201 bool

	// Guarded by c.mu.
	out      *pendingCall // the CALL holding the line, or nil
	outSent  bool         // out's frame is being or has been written
	deadline time.Time    // when out times out; zero until it is sent
	dead     bool         // the session is ending: nothing more is sent
	cause    error        // why the session ended, when it knows better than the loop that ended first

	kick      chan struct{} // buffered 1: an unsent CALL holds the line
	handling  atomic.Bool   // handleLoop is between taking a CALL and writing its answer
	idle      chan struct{} // buffered 1: handleLoop finished a CALL
	callTimer *watchdog     // runs onCallTimer
	calls     chan incoming // readLoop to handleLoop
	// budget bounds the bytes of the CALLs read and not yet handled (at
	// most budgetSize).
	budget     *semaphore.Weighted
	budgetSize int64

	wmu       sync.Mutex // serializes writes; guards wbuf
	wbuf      []byte
	wdog      *watchdog   // closes the connection when a write hangs
	writeHung atomic.Bool // wdog closed the connection
}

// incoming is a CALL from the central system waiting for its answer, or a
// frame error to answer.
type incoming struct {
	frame Frame
	err   *FrameError
	size  int64 // of the budget it holds
}

// session runs one connection until it fails or ctx ends, and reports how
// long it was up.
func (c *Client) session(ctx context.Context) (up time.Duration, err error) {
	// A Reconnect asked for before this attempt is served by it.
	select {
	case <-c.reconnect:
	default:
	}
	conn, err := c.dial(ctx)
	if err != nil && ctx.Err() == nil && c.opts.OnConnectFailed != nil {
		c.opts.OnConnectFailed(err)
	}
	if err != nil {
		if errors.Is(err, ErrSubprotocol) {
			c.log.Error("central system refused the OCPP subprotocol; not going on with this connection", "url", c.URL(), "err", err)
		}
		return 0, err
	}
	start := time.Now()
	s := &session{
		c:     c,
		conn:  conn,
		v201:  conn.Subprotocol() == "ocpp2.0.1",
		kick:  make(chan struct{}, 1),
		idle:  make(chan struct{}, 1),
		calls: make(chan incoming, 16),
		// Two frames of the largest size: one handled, one waiting.
		budget: semaphore.NewWeighted(2 * c.opts.ReadLimit), budgetSize: 2 * c.opts.ReadLimit,
	}
	s.callTimer = newWatchdog(s.onCallTimer)
	s.wdog = newWatchdog(func() {
		s.writeHung.Store(true)
		c.mu.Lock()
		if s.cause == nil {
			s.cause = fmt.Errorf("ocppj: write: no progress within %s, connection closed", c.opts.WriteTimeout)
		}
		c.mu.Unlock()
		conn.CloseNow()
	})

	c.mu.Lock()
	c.sess = s
	s.promoteLocked()
	c.mu.Unlock()
	c.connected.Store(true)
	c.log.Info("connected to central system", "url", c.URL())
	if c.opts.OnConnect != nil {
		c.opts.OnConnect()
	}

	// keepAlive runs on this goroutine; it returns when the session ends,
	// by its own doing (which ends the others through the closed
	// connection) or theirs (which cancels gctx).
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.readLoop(gctx) })
	g.Go(func() error { return s.handleLoop(gctx) })
	g.Go(func() error { return s.sendLoop(gctx) })
	kerr := s.keepAlive(ctx, gctx)
	err = g.Wait()
	if err == nil {
		err = kerr
	}
	s.wdog.stop()

	c.mu.Lock()
	s.detachLocked()
	if s.cause != nil {
		err = s.cause
	}
	c.mu.Unlock()
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	if c.opts.OnDisconnect != nil {
		c.opts.OnDisconnect(err)
	}
	return time.Since(start), err
}

// dial makes one connection attempt.
func (c *Client) dial(ctx context.Context) (*websocket.Conn, error) {
	target := c.URL()
	header := http.Header{}
	if c.opts.Password != nil {
		if pw := c.opts.Password(); len(pw) > 0 {
			cred := append([]byte(c.opts.ID+":"), pw...)
			header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString(cred))
			clear(cred)
		}
	}
	if c.opts.Gate != nil {
		if err := c.opts.Gate(ctx); err != nil {
			return nil, fmt.Errorf("ocppj: dial %s: %w", target, err)
		}
	}
	offered := c.opts.Subprotocols
	if c.opts.Offer != nil {
		if some := c.opts.Offer(offered); len(some) > 0 {
			offered = some
		}
	}
	dctx, cancel := context.WithTimeout(ctx, c.opts.HandshakeTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, target, &websocket.DialOptions{
		HTTPClient:   c.http,
		HTTPHeader:   header,
		Subprotocols: offered,
	})
	if err != nil {
		if resp != nil {
			switch resp.StatusCode {
			case http.StatusUnauthorized, http.StatusForbidden:
				return nil, fmt.Errorf("%w of %q (HTTP %d) at %s: %w", ErrCredentialsRefused, c.opts.ID, resp.StatusCode, target, err)
			case http.StatusNotFound:
				return nil, fmt.Errorf("ocppj: %s does not know charge point %q (HTTP 404): %w", target, c.opts.ID, err)
			}
		}
		return nil, fmt.Errorf("ocppj: dial %s: %w", target, err)
	}
	got := conn.Subprotocol()
	if !slices.Contains(offered, got) {
		list := strings.Join(offered, ", ")
		conn.Close(websocket.StatusProtocolError, "subprotocol required: "+list)
		return nil, fmt.Errorf("%w: offered %s, got %q", ErrSubprotocol, list, got)
	}
	c.subprotocol.Store(got)
	conn.SetReadLimit(c.opts.ReadLimit)
	return conn, nil
}

// claimLocked gives the line to pc. A CALL not sent by the caller itself
// is handed to sendLoop.
func (s *session) claimLocked(pc *pendingCall, byCaller bool) {
	s.out = pc
	s.outSent = byCaller
	s.deadline = time.Time{}
	if !byCaller {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// promoteLocked gives a free line to the oldest queued CALL still wanted.
func (s *session) promoteLocked() {
	c := s.c
	for s.out == nil && !s.dead && len(c.queue) > 0 {
		pc := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		if err := pc.ctx.Err(); err != nil {
			pc.finish(nil, err)
			continue
		}
		s.claimLocked(pc, false)
	}
}

// detachLocked ends the session's part in the line: nothing more is sent,
// an outstanding CALL fails with ErrConnectionLost and one not yet sent
// goes back to the head of the queue for the next connection.
func (s *session) detachLocked() {
	if s.dead {
		return
	}
	c := s.c
	s.dead = true
	if c.sess == s {
		c.sess = nil
	}
	c.connected.Store(false)
	s.callTimer.stop()
	if pc := s.out; pc != nil {
		s.out = nil
		if s.outSent {
			pc.finish(nil, ErrConnectionLost)
		} else if pc.ctx.Err() == nil {
			c.queue = slices.Insert(c.queue, 0, pc)
		}
	}
}

// send writes pc, which holds the line, and starts its timeout.
func (s *session) send(pc *pendingCall) error {
	s.wmu.Lock()
	s.wbuf = AppendCall(s.wbuf[:0], pc.id, pc.action, pc.payload)
	err := s.writeLocked()
	s.wmu.Unlock()

	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		// The connection is closed on a failed write; the session ends.
		if s.cause == nil && !s.dead {
			s.cause = err
		}
		s.detachLocked() // pc fails with ErrConnectionLost
		return err
	}
	if s.out == pc && !s.dead { // not answered yet
		s.deadline = time.Now().Add(c.opts.CallTimeout)
		s.callTimer.arm(c.opts.CallTimeout)
	}
	return nil
}

// onCallTimer times out the outstanding CALL if its time has come (the
// timer may fire late for a CALL already answered).
func (s *session) onCallTimer() {
	c := s.c
	c.mu.Lock()
	pc := s.out
	if pc == nil || s.dead || s.deadline.IsZero() || time.Now().Before(s.deadline) {
		c.mu.Unlock()
		return
	}
	s.out = nil
	pc.finish(nil, ErrTimeout)
	s.promoteLocked()
	c.mu.Unlock()
	c.log.Warn("call timed out", "action", pc.action, "id", pc.id, "timeout", c.opts.CallTimeout)
}

// deliver hands an answer to the outstanding CALL it is for.
func (s *session) deliver(f Frame) {
	c := s.c
	c.mu.Lock()
	pc := s.out
	if pc == nil || !s.outSent || s.dead || pc.id != f.ID {
		c.mu.Unlock()
		c.log.Warn("dropped an answer to no outstanding call", "id", f.ID, "type", f.Type)
		return
	}
	s.out = nil
	s.callTimer.disarm()
	if f.Type == CallError {
		pc.finish(nil, f.Error)
	} else {
		pc.finish(f.Payload, nil)
	}
	s.promoteLocked()
	c.mu.Unlock()
}

// writeLocked writes s.wbuf as one text message; s.wmu is held.
func (s *session) writeLocked() error {
	c := s.c
	c.trace(Sent, s.wbuf)
	s.wdog.arm(c.opts.WriteTimeout)
	err := s.conn.Write(context.Background(), websocket.MessageText, s.wbuf)
	s.wdog.disarm()
	if err != nil && s.writeHung.Load() {
		err = fmt.Errorf("no progress within %s, connection closed: %w", c.opts.WriteTimeout, err)
	}
	if cap(s.wbuf) > maxKeptBuffer {
		s.wbuf = nil
	}
	if err != nil {
		return fmt.Errorf("ocppj: write: %w", err)
	}
	return nil
}

func (c *Client) trace(dir Direction, frame []byte) {
	if c.opts.Trace != nil {
		c.opts.Trace(dir, frame)
	}
}

// readLoop reads frames until the connection closes. It reads without a
// context: keepAlive closes the connection when the session ends, which
// lets the close handshake finish first.
func (s *session) readLoop(ctx context.Context) error {
	c := s.c
	for {
		typ, r, err := s.conn.Reader(context.Background())
		var data []byte
		owned := false
		// An idle connection holds no read buffer: one is taken from
		// the pool when a message comes, and given back once it is
		// parsed (a fleet holds thousands of idle connections).
		small := readBuffers.Get().(*[]byte)
		if err == nil {
			data, owned, err = readMessage(r, *small)
		}
		if err != nil {
			readBuffers.Put(small)
			return fmt.Errorf("ocppj: read: %w", err)
		}
		c.trace(Received, data)
		if typ != websocket.MessageText {
			readBuffers.Put(small)
			c.log.Warn("dropped a binary WebSocket message", "bytes", len(data))
			continue
		}
		// A large message has a buffer of its own: its payload stays in it
		// rather than being copied.
		f, ferr := parseFrame(data, owned)
		readBuffers.Put(small)
		var in incoming
		switch {
		case ferr != nil && (ferr.Type == CallResult || ferr.Type == CallError):
			// Never answer an answer; the outstanding call, if it is
			// this one, will time out.
			c.log.Warn("dropped a malformed answer", "id", ferr.ID, "err", ferr)
			continue
		case ferr != nil:
			in.err = ferr
		case f.Type == Call:
			in.frame = f
		default:
			s.deliver(f)
			continue
		}
		// What waits to be handled is bounded in bytes, not only in
		// frames: a burst of large CALLs holds the reader (and the
		// peer, through TCP) until the handler catches up.
		in.size = min(int64(len(f.Payload)), s.budgetSize)
		if err := s.budget.Acquire(ctx, in.size); err != nil {
			return nil
		}
		select {
		case s.calls <- in:
		case <-ctx.Done():
			s.budget.Release(in.size)
			return nil
		}
	}
}

// readBuffers are the buffers messages that fit are read into.
var readBuffers = sync.Pool{New: func() any { b := make([]byte, maxKeptBuffer); return &b }}

// readMessage reads one WebSocket message: into small when it fits (the
// result is only valid until the next read), else into a buffer of its
// own (owned), read in chunks and assembled once, so that a large message
// costs about twice its size at most while it is read.
func readMessage(r io.Reader, small []byte) (data []byte, owned bool, err error) {
	n, err := io.ReadFull(r, small)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return small[:n], false, nil
	case err != nil:
		return nil, false, err
	}
	chunks := [][]byte{bytes.Clone(small)}
	total := n
	for {
		chunk := make([]byte, readChunk)
		n, err := io.ReadFull(r, chunk)
		if n > 0 {
			chunks = append(chunks, chunk[:n])
			total += n
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, false, err
		}
	}
	data = make([]byte, 0, total)
	for _, c := range chunks {
		data = append(data, c...)
	}
	return data, true, nil
}

// readChunk is the size of the chunks a large message is read in.
const readChunk = 256 << 10

// handleLoop answers the central system's CALLs one at a time.
// waitIdle waits, at most d, until no CALL of the central system is being
// handled.
func (s *session) waitIdle(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	for s.handling.Load() {
		select {
		case <-s.idle:
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (s *session) handleLoop(ctx context.Context) error {
	for {
		var in incoming
		select {
		case in = <-s.calls:
		case <-ctx.Done():
			return nil
		}
		s.handling.Store(true)
		err := s.handleOne(ctx, in)
		s.handling.Store(false)
		select {
		case s.idle <- struct{}{}:
		default:
		}
		if err != nil {
			return err
		}
	}
}

// handleOne answers one CALL or malformed frame.
func (s *session) handleOne(ctx context.Context, in incoming) error {
	defer s.budget.Release(in.size)
	if in.err == nil {
		return s.answer(ctx, in.frame)
	}
	id := in.err.ID
	if id == "" {
		id = "-1" // as OCPP 2.0.1 asks for an id that could not be read
	}
	s.c.log.Warn("answered a malformed frame", "err", in.err)
	code := in.err.Code
	if s.v201 {
		code = frameCode201(in.err)
	}
	return s.writeAnswer(id, nil, &rpc.Error{Code: code, Description: in.err.Msg})
}

// answer runs the handler for the CALL f and writes its answer.
func (s *session) answer(ctx context.Context, f Frame) error {
	c := s.c
	hctx, after := rpc.WithAnswerHooks(ctx)
	defer after.Run(c.log) // once the answer is written, or failed to be
	payload, cerr, answer := c.handle(hctx, f, s.v201)
	if !answer {
		c.log.Info("left a CALL unanswered, as the handler asked", "action", f.Action, "id", f.ID)
		return nil
	}
	return s.writeAnswer(f.ID, payload, cerr)
}

// writeAnswer writes a CALLRESULT with payload, or a CALLERROR if cerr is
// not nil.
func (s *session) writeAnswer(id string, payload json.RawMessage, cerr *rpc.Error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if cerr != nil && s.v201 {
		cerr = &rpc.Error{Code: cerr.Code.To201(), Description: cerr.Description, Details: cerr.Details}
	}
	if cerr != nil {
		s.wbuf = AppendCallError(s.wbuf[:0], id, cerr)
	} else {
		s.wbuf = AppendCallResult(s.wbuf[:0], id, payload)
	}
	return s.writeLocked()
}

// handle calls the handler and turns what it returns, or a panic, into the
// answer to send: a payload, or an *Error with a known code; answer is
// false when the handler asked for none.
func (c *Client) handle(ctx context.Context, f Frame, v201 bool) (payload json.RawMessage, cerr *rpc.Error, answer bool) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("handler panicked", "action", f.Action, "panic", r, "stack", string(debug.Stack()))
			payload, cerr, answer = nil, rpc.Errorf(rpc.InternalError, "internal error while handling %s", f.Action), true
		}
	}()
	payload, err := c.opts.Handler.HandleCall(ctx, f.Action, f.Payload)
	if err == nil {
		if !isJSONObjectOrEmpty(payload) {
			c.log.Error("handler returned a payload that is not a JSON object", "action", f.Action)
			return nil, rpc.Errorf(rpc.InternalError, "internal error while handling %s", f.Action), true
		}
		return payload, nil, true
	}
	if errors.Is(err, rpc.ErrNoAnswer) {
		return nil, nil, false
	}
	var e *rpc.Error
	if errors.As(err, &e) && e != nil && (e.Code.Known() || v201 && e.Code.Known201()) {
		if !isJSONObjectOrEmpty(e.Details) {
			e = &rpc.Error{Code: e.Code, Description: e.Description}
		}
		return nil, e, true
	}
	// Any other error, an unknown code or a nil *Error.
	c.log.Error("handler failed", "action", f.Action, "err", err)
	return nil, &rpc.Error{Code: rpc.InternalError, Description: truncate(err.Error(), 255)}, true
}

func isJSONObjectOrEmpty(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || isObject(raw) && json.Valid(raw)
}

// sendLoop writes the queued CALLs that get the line.
func (s *session) sendLoop(ctx context.Context) error {
	c := s.c
	for {
		select {
		case <-s.kick:
		case <-ctx.Done():
			return nil
		}
		c.mu.Lock()
		pc := s.out
		if pc == nil || s.outSent || s.dead {
			c.mu.Unlock()
			continue
		}
		if err := pc.ctx.Err(); err != nil { // the caller gave up before it was sent
			s.out = nil
			pc.finish(nil, err)
			s.promoteLocked()
			c.mu.Unlock()
			continue
		}
		s.outSent = true
		c.mu.Unlock()
		if err := s.send(pc); err != nil {
			return err
		}
	}
}

// keepAlive pings the central system, serves Reconnect and, when the
// session ends for any reason, closes the connection: with a close
// handshake when the client stops or reconnects, at once otherwise.
func (s *session) keepAlive(ctx, gctx context.Context) (err error) {
	c := s.c
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
		c.mu.Lock()
		if err != nil && s.cause == nil {
			s.cause = err
		}
		s.detachLocked()
		c.mu.Unlock()
		switch {
		case ctx.Err() != nil:
			s.conn.Close(websocket.StatusNormalClosure, "charge point stopping")
		case errors.Is(err, errReconnect):
			s.conn.Close(websocket.StatusGoingAway, "reconnecting")
		default:
			s.conn.CloseNow()
		}
	}()
	for {
		d := time.Duration(c.pingInterval.Load())
		var tick <-chan time.Time
		if d > 0 {
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			tick = timer.C
		}
		select {
		case <-tick:
		case <-c.pingChanged:
			continue
		case <-c.reconnect:
			// A Reconnect asked for while a CALL is handled (a new
			// password from ChangeConfiguration) waits for its answer.
			s.waitIdle(gctx, c.opts.WriteTimeout)
			return errReconnect
		case <-gctx.Done():
			return nil
		}
		timeout := min(c.opts.PongTimeout, d)
		pctx, cancel := context.WithTimeout(gctx, timeout)
		err := s.conn.Ping(pctx)
		cancel()
		if err != nil {
			if gctx.Err() != nil {
				return nil
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
