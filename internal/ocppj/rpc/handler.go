package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"runtime/debug"
	"sync"
)

// Handler answers the central system's CALLs.
type Handler interface {
	// HandleCall returns the CALLRESULT payload for a CALL, or an error: an
	// *Error is sent as that CALLERROR, ErrNoAnswer sends nothing, any
	// other error is sent as InternalError. ctx ends when the connection
	// does.
	HandleCall(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error)
}

// HandlerFunc adapts a function to [Handler].
type HandlerFunc func(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error)

// HandleCall calls f.
func (f HandlerFunc) HandleCall(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	return f(ctx, action, payload)
}

// ErrNoAnswer, returned by a [Handler], leaves the CALL unanswered: no
// CALLRESULT or CALLERROR is sent (for example while the central system
// rejects the charge point, which then sends nothing but
// BootNotification).
var ErrNoAnswer = errors.New("ocpp: CALL left unanswered")

type afterAnswerKey struct{}

// afterAnswer holds the functions AfterAnswer registered while one CALL
// was handled.
type afterAnswer struct {
	mu   sync.Mutex
	fns  []func()
	done bool
}

// AfterAnswer arranges for f to run once the answer to the CALL being
// handled with ctx has been written, or has failed to be, or when the
// handler returned ErrNoAnswer: a message that must follow the answer (a
// triggered one) can be queued from f. With a ctx that is not a handler's,
// or after the handler has returned, f runs at once. f runs on the
// goroutine that answers the central system, so it must not block; a
// panic in it is recovered and logged.
func AfterAnswer(ctx context.Context, f func()) {
	if a, ok := ctx.Value(afterAnswerKey{}).(*afterAnswer); ok {
		a.mu.Lock()
		if !a.done {
			a.fns = append(a.fns, f)
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
	}
	f()
}

// AnswerHooks collects what AfterAnswer registers while one CALL is
// handled. A transport makes one per CALL with [WithAnswerHooks] and calls
// Run once the answer is out.
type AnswerHooks = afterAnswer

// WithAnswerHooks returns the context to handle one CALL with, and the
// hooks that AfterAnswer registers under it.
func WithAnswerHooks(ctx context.Context) (context.Context, *AnswerHooks) {
	a := &afterAnswer{}
	return context.WithValue(ctx, afterAnswerKey{}, a), a
}

// Run runs the registered functions, in order; functions registered
// later run at once. A panic in one is recovered and logged.
func (a *afterAnswer) Run(log *slog.Logger) {
	a.mu.Lock()
	fns := a.fns
	a.fns, a.done = nil, true
	a.mu.Unlock()
	for _, f := range fns {
		func() {
			defer func() {
				if r := recover(); r != nil {
					log.Error("AfterAnswer function panicked", "panic", r, "stack", string(debug.Stack()))
				}
			}()
			f()
		}()
	}
}
