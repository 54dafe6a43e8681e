package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/evse-dev/evse/internal/ocppj"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// Kinds of fault.
const (
	// DropLinks closes the links of a share of the charge points at once,
	// without a close handshake: a reconnect storm follows.
	DropLinks = "drop-links"
	// PowerCut takes the power from a share of the charge points for a
	// while (For), as kill -9 does: what was not written is lost; the
	// transactions open end with PowerLoss when they boot again.
	PowerCut = "power-cut"
	// Unreachable makes the central system unreachable for a while
	// (For): every link drops, and every attempt fails until then.
	Unreachable = "csms-unreachable"
	// ClockSkew sets the clocks of a share of the charge points off by By
	// (negative: behind).
	ClockSkew = "clock-skew"
)

// Fault is a fault on demand, scheduled in a fleet file or asked for
// through the API.
type Fault struct {
	// At is when, after the fleet started (the file's schedule).
	At   Duration `yaml:"at" json:"at,omitempty"`
	Kind string   `yaml:"kind" json:"kind"`
	// Share is the part of the charge points hit, 0 to 1 (default 1),
	// drawn from the fleet's seed; of Group when it is set.
	Share float64 `yaml:"share" json:"share,omitempty"`
	Group string  `yaml:"group" json:"group,omitempty"`
	// IDs, through the API, names the charge points instead.
	IDs []string `yaml:"-" json:"ids,omitempty"`
	For Duration `yaml:"for" json:"for,omitempty"`
	By  Duration `yaml:"by" json:"by,omitempty"`
}

// UnmarshalJSON reads a fault of the API, durations as strings.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var raw struct {
		Kind  string   `json:"kind"`
		Share float64  `json:"share"`
		Group string   `json:"group"`
		IDs   []string `json:"ids"`
		For   string   `json:"for"`
		By    string   `json:"by"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*f = Fault{Kind: raw.Kind, Share: raw.Share, Group: raw.Group, IDs: raw.IDs}
	for _, d := range []struct {
		s   string
		dst *Duration
	}{{raw.For, &f.For}, {raw.By, &f.By}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return err
		}
		*d.dst = Duration(v)
	}
	return nil
}

func (f *Fault) check(groups map[string]bool) error {
	if f.Share == 0 {
		f.Share = 1
	}
	switch {
	case f.Share < 0 || f.Share > 1 || math.IsNaN(f.Share):
		return fmt.Errorf("share %g: want 0 to 1", f.Share)
	case f.Group != "" && !groups[f.Group]:
		return fmt.Errorf("no group %q", f.Group)
	case f.At < 0:
		return errors.New("a negative at")
	case len(f.IDs) > maxFleet:
		return errors.New("too many ids")
	}
	switch f.Kind {
	case DropLinks:
	case PowerCut, Unreachable:
		if f.For <= 0 || f.For.D() > 7*24*time.Hour {
			return fmt.Errorf("%s needs a for of above 0 and at most a week", f.Kind)
		}
	case ClockSkew:
		if f.By == 0 || f.By.D().Abs() > 365*24*time.Hour {
			return fmt.Errorf("%s needs a by, not 0 and at most a year either way", f.Kind)
		}
	default:
		return fmt.Errorf("kind %q: want %s, %s, %s or %s", f.Kind, DropLinks, PowerCut, Unreachable, ClockSkew)
	}
	return nil
}

// Misbehave makes a group's charge points break OCPP on purpose, to see
// how a central system copes. Every share is 0 to 1, drawn at random
// from the fleet's seed; all are off unless asked for.
type Misbehave struct {
	// LateAnswers is the share of the central system's CALLs answered
	// only after LateBy (default 40 s: past most central systems'
	// timeouts).
	LateAnswers float64  `yaml:"lateAnswers"`
	LateBy      Duration `yaml:"lateBy"`
	// CallErrors is the share of the central system's CALLs answered
	// with a CALLERROR InternalError instead of being carried out.
	CallErrors float64 `yaml:"callErrors"`
	// Repeats is the share of the charge points' CALLs sent twice: the
	// copy, with a message id of its own, right after the answer.
	Repeats float64 `yaml:"repeats"`
	// StatusOrder is the share of StatusNotifications held back and sent
	// after the next one (a wrong order): the charge point's core is
	// told at once that it went through.
	StatusOrder float64 `yaml:"statusOrder"`
}

func (m *Misbehave) check() error {
	for _, v := range []float64{m.LateAnswers, m.CallErrors, m.Repeats, m.StatusOrder} {
		if v < 0 || v > 1 || math.IsNaN(v) {
			return fmt.Errorf("share %g: want 0 to 1", v)
		}
	}
	if m.LateBy == 0 {
		m.LateBy = Duration(40 * time.Second)
	}
	if m.LateBy < 0 || m.LateBy.D() > time.Hour {
		return errors.New("lateBy: want above 0 and at most 1 h")
	}
	return nil
}

func (m Misbehave) any() bool {
	return m.LateAnswers > 0 || m.CallErrors > 0 || m.Repeats > 0 || m.StatusOrder > 0
}

// caller is a charge point's link as the core uses it: the transport's,
// timed and counted, and misbehaving when asked to.
type caller struct {
	c     *Charger
	stats *Stats
	mis   Misbehave

	mu   sync.Mutex
	rng  *rand.Rand
	held *heldStatus // a StatusNotification held back (StatusOrder)
}

type heldStatus struct{ payload json.RawMessage }

func (l *caller) Connected() bool { return l.c.client.Connected() }

// Subprotocol is the subprotocol agreed on the link's connection: the
// station renders its messages in it (see station.Station.Speaking).
func (l *caller) Subprotocol() string { return l.c.client.Subprotocol() }

func (l *caller) draw(share float64) bool {
	if share <= 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rng.Float64() < share
}

func (l *caller) Call(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	if action == "StatusNotification" && l.mis.StatusOrder > 0 {
		l.mu.Lock()
		held := l.held
		l.held = nil
		l.mu.Unlock()
		if held == nil && l.draw(l.mis.StatusOrder) {
			l.mu.Lock()
			l.held = &heldStatus{payload: payload}
			l.mu.Unlock()
			return json.RawMessage(`{}`), nil // the core thinks it went
		}
		if held != nil {
			defer l.call(ctx, action, held.payload)
		}
	}
	answer, err := l.call(ctx, action, payload)
	if err == nil && l.draw(l.mis.Repeats) {
		l.call(ctx, action, payload)
	}
	if err == nil && startedSession(action, payload, answer) {
		l.stats.sessions.Add(1)
		l.stats.sessionsC.Inc()
	}
	return answer, err
}

// call sends one CALL and counts it.
func (l *caller) call(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	start := time.Now()
	answer, err := l.c.client.Call(ctx, action, payload)
	var callErr *rpc.Error
	refused := errors.As(err, &callErr)
	timeout := errors.Is(err, ocppj.ErrTimeout)
	if err == nil || refused || timeout { // not a link that went
		l.stats.sent(action, l.c.ocpp(), time.Since(start), refused, timeout)
	}
	return answer, err
}

// startedSession reports whether a CALL and its answer are a
// transaction the central system accepted: a StartTransaction whose
// idTagInfo is Accepted (1.6), or a TransactionEvent Started whose
// idTokenInfo, when it has one, is Accepted (2.0.1: a transaction
// started without an idToken has none).
func startedSession(action string, payload, answer json.RawMessage) bool {
	switch action {
	case "StartTransaction":
		var a struct {
			IDTagInfo struct {
				Status string `json:"status"`
			} `json:"idTagInfo"`
		}
		return json.Unmarshal(answer, &a) == nil && a.IDTagInfo.Status == "Accepted"
	case "TransactionEvent":
		var req struct {
			EventType string `json:"eventType"`
		}
		if json.Unmarshal(payload, &req) != nil || req.EventType != "Started" {
			return false
		}
		var a struct {
			IDTokenInfo *struct {
				Status string `json:"status"`
			} `json:"idTokenInfo"`
		}
		return json.Unmarshal(answer, &a) == nil && (a.IDTokenInfo == nil || a.IDTokenInfo.Status == "Accepted")
	}
	return false
}

// handler answers the central system's CALLs through the charge point,
// counted, and misbehaving when asked to.
type handler struct {
	c     *Charger
	stats *Stats
	mis   Misbehave
	inner rpc.Handler
	link  *caller // its random stream
}

func (h *handler) HandleCall(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	if h.link.draw(h.mis.CallErrors) {
		h.stats.received(action, h.c.ocpp(), true)
		return nil, rpc.Errorf(rpc.InternalError, "evse fleet: a CALLERROR on purpose (misbehave.callErrors)")
	}
	if h.link.draw(h.mis.LateAnswers) {
		t := time.NewTimer(h.mis.LateBy.D())
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	answer, err := h.inner.HandleCall(ctx, action, payload)
	var callErr *rpc.Error
	h.stats.received(action, h.c.ocpp(), errors.As(err, &callErr))
	return answer, err
}
