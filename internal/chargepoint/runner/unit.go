package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/kv"
)

// UnitOptions describe one charge point for a runner. Core, Settings,
// Board and Store are required.
type UnitOptions struct {
	// ID names the charge point in logs.
	ID   string
	Core chargepoint.Config
	// Settings are the charge point's; the core follows their changes.
	Settings *config.Settings
	Board    hw.Board
	// Store is the charge point's part of the runner's store (see
	// Prefixed); nil: the runner's store itself.
	Store kv.Store
	// Link sends the core's CALLs; nil: the charge point has no central
	// system (a simulation), and the core never sees a link.
	Link Link
	// Legacy converts a store of an earlier layout; nil: none.
	Legacy Legacy
	// Firmware downloads images; nil: no firmware updates.
	Firmware Fetcher
	// Diagnostics gives uploads their logs and a way up; nil: none.
	Diagnostics Diagnostics
	// ReplaySpread is the longest random wait before the journal is
	// replayed after a reconnect. Default 10 s.
	ReplaySpread time.Duration
	// CallTimeout bounds each of the core's CALLs. Default 60 s.
	CallTimeout time.Duration
	// OnHalt, when set, is told why the core halted, as Halted is; it
	// must not block.
	OnHalt func(chargepoint.Halt)
}

// Unit is one charge point as a runner drives it: its core and the I/O
// around it. Its methods are safe for concurrent use.
type Unit struct {
	opts  UnitOptions
	r     *Runner
	log   *slog.Logger
	store kv.Store
	auth  *AuthStore
	conns []hw.Connector

	// Owned by the runner's goroutine.
	core *chargepoint.Core
	// down: the core halted for the shutdown, its records durable.
	down   bool
	sensed []hw.PilotState // what the core was last told, per connector
	outbox []outMsg
	// held are jobs waiting for their records (heldJob).
	held []heldJob
	// replies out to their callers and not yet written to the central
	// system: the CALLs after them wait.
	unwritten map[uint64]bool
	waiters   map[uint64]*waiter
	next      time.Time
	heapIndex int
	started   bool
	snapshot  *config.Snapshot // the settings the core last saw

	// inbox holds the unit's work for the runner.
	mu     sync.Mutex
	inbox  []item
	queued bool // the unit is in the runner's ready list

	// Published for other goroutines.
	registration atomic.Value // chargepoint.Registration
	journalDepth atomic.Int64
	loads        atomic.Pointer[[]chargepoint.Load]
	loadsChanged chan struct{}
	halted       chan chargepoint.Halt // buffered 1
	lastCmd      atomic.Uint64

	sender *sender
	// jobs counts the unit's I/O goroutines; ioCtx ends them.
	jobs  *sync.WaitGroup
	ioCtx context.Context
	// unwatch stops the unit's watch of its settings.
	unwatch func()

	// skew is added to the time the core sees, in ns (see SetSkew).
	skew atomic.Int64

	// Restarts, owned by the runner's goroutine. gen counts the runs of
	// the software: what an earlier one sent is not heard by the next.
	gen        uint32
	liveGen    atomic.Uint32 // gen, for other goroutines
	haltTold   atomic.Uint32 // the run whose halt was told
	dead       bool          // the power is off: the core is gone
	restarting bool          // a restart waits for lastBatch to be durable
	lastBatch  uint64        // the last batch of records handed to the writer
}

// outMsg is a message (or the halt) waiting for its batch to be durable.
type outMsg struct {
	msg   chargepoint.Message
	halt  *chargepoint.Halt
	batch uint64
	gen   uint32 // the run of the software that sent it
}

// waiter is a command's caller waiting for the reply.
type waiter struct {
	mu        sync.Mutex
	result    any
	done      chan struct{}
	delivered bool // result is set and done closed
	abandoned bool // the caller left: the reply goes nowhere
	stopped   bool // the runner stopped first
}

func newUnit(r *Runner, opts UnitOptions) (*Unit, error) {
	switch {
	case opts.Settings == nil:
		return nil, errors.New("runner: no settings")
	case opts.Board == nil:
		return nil, errors.New("runner: no hardware")
	}
	if n := opts.Settings.Snapshot().NumberOfConnectors; n != len(opts.Board.Connectors()) || n != opts.Core.Connectors {
		return nil, fmt.Errorf("runner: NumberOfConnectors is %d but the hardware has %d", n, len(opts.Board.Connectors()))
	}
	if opts.ReplaySpread <= 0 {
		opts.ReplaySpread = 10 * time.Second
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 60 * time.Second
	}
	store := opts.Store
	if store == nil {
		store = r.opts.Store
	}
	log := r.log
	if opts.ID != "" && len(r.units) > 0 {
		log = log.With("cp", opts.ID)
	}
	opts.Core.Logger = log
	u := &Unit{opts: opts, r: r, log: log, store: store, auth: NewAuthStore(store), conns: opts.Board.Connectors(),
		unwritten: map[uint64]bool{}, waiters: map[uint64]*waiter{}, heapIndex: -1, gen: 1,
		loadsChanged: make(chan struct{}, 1), halted: make(chan chargepoint.Halt, 1)}
	u.registration.Store(chargepoint.NotRegistered)
	u.liveGen.Store(u.gen)
	restored, err := restore(store, opts.Core.Connectors, opts.Legacy)
	if err != nil {
		return nil, err
	}
	u.snapshot = opts.Settings.Snapshot()
	if u.core, err = chargepoint.New(opts.Core, u.snapshot, restored); err != nil {
		return nil, err
	}
	u.sensed = make([]hw.PilotState, len(u.conns))
	return u, nil
}

// Auth is the unit's local list and cache.
func (u *Unit) Auth() *AuthStore { return u.auth }

// Store is the unit's store.
func (u *Unit) Store() kv.Store { return u.store }

// Registration is the status of the last BootNotification answer.
func (u *Unit) Registration() chargepoint.Registration {
	return u.registration.Load().(chargepoint.Registration)
}

// Loads returns every connector's load with the current drawn now.
func (u *Unit) Loads() []Load {
	states := u.loads.Load()
	out := make([]Load, len(u.conns))
	for i, h := range u.conns {
		out[i] = Load{Load: chargepoint.Load{Connector: i + 1}, Drawn: h.Meter().Current}
		if states != nil && i < len(*states) {
			out[i].Load = (*states)[i]
		}
	}
	return out
}

// Load is a connector's load with the current drawn on its phases L1,
// L2, L3, in A.
type Load struct {
	chargepoint.Load
	Drawn [3]float64
}

// LoadsChanged delivers a value when a connector's readiness or offer
// changed (not for drawn current, which moves all the time: poll Loads).
func (u *Unit) LoadsChanged() <-chan struct{} { return u.loadsChanged }

// Halted delivers why the core halted (a reset or a new firmware).
func (u *Unit) Halted() <-chan chargepoint.Halt { return u.halted }

// Post hands an event to the core; it never blocks.
func (u *Unit) Post(ev chargepoint.Event) { u.enqueue(item{ev: ev}) }

// LinkUp tells the core that the connection to the central system is up
// (again); the journal's replay waits a random part of ReplaySpread.
func (u *Unit) LinkUp() {
	u.Post(chargepoint.LinkUp{ReplayDelay: u.r.opts.Rand(u.opts.ReplaySpread)})
}

// LinkUpToNewServer is LinkUp to another central system than the last:
// the core registers with it anew.
func (u *Unit) LinkUpToNewServer() {
	u.Post(chargepoint.LinkUp{ReplayDelay: u.r.opts.Rand(u.opts.ReplaySpread), NewServer: true})
}

// LinkDown tells the core that the connection is down.
func (u *Unit) LinkDown() { u.Post(chargepoint.LinkDown{}) }

// item is one thing for the runner's goroutine to do for a unit.
type item struct {
	ev chargepoint.Event
	// hw is a hardware event to turn into the core's.
	hw *hw.Event
	// before runs first, on the runner's goroutine.
	before func()
	// written is a reply that reached the central system.
	written uint64
	// settings: the settings changed.
	settings bool
	// gen, when not zero, is the run of the software the item is for
	// (an answer to what it sent); another run does not see it.
	gen uint32
	// restart starts the software again from the store; cut takes the
	// power away (see Restart and PowerCut).
	restart, cut bool
	// reason is a restart's boot reason.
	reason chargepoint.BootReason
}

func (u *Unit) enqueue(it item) {
	u.mu.Lock()
	u.inbox = append(u.inbox, it)
	u.mu.Unlock()
	u.r.wakeUnit(u)
}

// ErrStopped: the runner has stopped.
var ErrStopped = errors.New("runner: stopped")

// Exec hands a command to the core and waits for its reply, which comes
// once the records it follows are durable. The core's CALLs after the
// reply wait until release is called: call it when the reply has been
// written to the central system (or at once when it goes nowhere).
func (u *Unit) Exec(ctx context.Context, cmd any) (result any, release func(), err error) {
	id := u.lastCmd.Add(1)
	w := &waiter{done: make(chan struct{})}
	if !u.r.track(w) {
		return nil, func() {}, ErrStopped
	}
	defer u.r.untrack(w)
	u.enqueue(item{before: func() { u.waiters[id] = w }, ev: chargepoint.Command{ID: id, Cmd: cmd}})
	select {
	case <-w.done:
	case <-ctx.Done():
		w.mu.Lock()
		if !w.delivered {
			w.abandoned = true
			w.mu.Unlock()
			return nil, func() {}, ctx.Err()
		}
		w.mu.Unlock()
	}
	if w.stopped {
		return nil, func() {}, ErrStopped
	}
	release = func() { u.enqueue(item{written: id}) }
	if err, ok := w.result.(error); ok {
		release()
		return nil, func() {}, err
	}
	return w.result, release, nil
}

// Do runs a command whose reply goes nowhere (the local API's).
func (u *Unit) Do(ctx context.Context, cmd any) (any, error) {
	res, release, err := u.Exec(ctx, cmd)
	release()
	return res, err
}

// Restart starts the charge point's software again, as a reboot does:
// once every record it handed over is durable, a new core is restored
// from the store and starts (BootNotification and all). After a reset
// the core had halted cleanly; after PowerCut, the transactions it had
// open end with PowerLoss. The hardware, and the EVs plugged into it,
// live on. The caller reconnects the link.
//
// reason is why it starts, for BootNotification: BootRemoteReset after a
// reset, BootPowerUp when the power comes back.
func (u *Unit) Restart(reason chargepoint.BootReason) {
	u.enqueue(item{restart: true, reason: reason})
}

// PowerCut takes the power away, as a kill -9 or a pulled fuse does: the
// core is dropped as it stands, mid-step; what it had handed to the
// writer may still land, nothing else of it is done; the contactors
// open. Until Restart the unit hears nothing. The caller drops the link.
func (u *Unit) PowerCut() { u.enqueue(item{cut: true}) }

// cut drops the core (see PowerCut).
func (u *Unit) cut() {
	if u.dead {
		return
	}
	u.dead = true
	u.restarting = false
	for _, h := range u.conns {
		h.Offer(0)
		h.SetContactor(false)
	}
	u.outbox = nil
	if u.sender != nil {
		u.sender.clear()
	}
	u.failWaiters()
	u.next = time.Time{}
	u.r.timers.set(u)
	u.registration.Store(chargepoint.NotRegistered)
}

// rebuild restores a new core from the store and starts it (see Restart).
func (u *Unit) rebuild(now time.Time) {
	u.restarting = false
	restored, err := restore(u.store, u.opts.Core.Connectors, u.opts.Legacy)
	var core *chargepoint.Core
	if err == nil {
		core, err = chargepoint.New(u.opts.Core, u.opts.Settings.Snapshot(), restored)
	}
	if err != nil {
		u.log.Error("the software does not start again: the store is unreadable", "err", err)
		u.cut()
		return
	}
	u.gen++
	u.liveGen.Store(u.gen)
	u.core, u.snapshot = core, u.opts.Settings.Snapshot()
	u.dead, u.down = false, false
	u.outbox = nil
	clear(u.unwritten)
	if u.sender != nil {
		u.sender.clear()
	}
	u.failWaiters()
	select { // a halt told before is the past run's
	case <-u.halted:
	default:
	}
	u.registration.Store(chargepoint.NotRegistered)
	u.begin(now)
	if c, ok := u.opts.Link.(interface{ Connected() bool }); ok && c.Connected() {
		u.LinkUp()
	}
}

// failWaiters tells the callers of Exec waiting on the dropped core that
// it stopped.
func (u *Unit) failWaiters() {
	for id, w := range u.waiters {
		delete(u.waiters, id)
		w.mu.Lock()
		if !w.delivered {
			w.delivered, w.stopped = true, true
			close(w.done)
		}
		w.mu.Unlock()
	}
}

// SetSkew sets the core's clock off by d from the runner's (a clock that
// drifted or was set wrong): the core stamps its messages and reckons its
// timers in that time.
func (u *Unit) SetSkew(d time.Duration) {
	u.skew.Store(int64(d))
	u.Post(chargepoint.Tick{}) // its timers, seen from the new time
}

// JournalDepth is how many transaction messages wait in the journal for
// the central system's confirmation.
func (u *Unit) JournalDepth() int { return int(u.journalDepth.Load()) }
