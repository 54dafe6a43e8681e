package runner

import (
	"container/heap"
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/kv"
)

// Options configure a [Runner]. Store is required; the zero value of the
// others works.
type Options struct {
	// Store keeps every unit's durable state (each in its part, see
	// Prefixed).
	Store kv.Store
	Clock clock.Clock
	// Logger gets the runner's and the cores' logs.
	Logger *slog.Logger
	// Rand returns a random duration in [0, n); default math/rand.
	Rand func(n time.Duration) time.Duration
	// StopGrace bounds how long Run goes on delivering the journal once
	// its context ends. Default 10 s (the cores themselves halt after
	// Rules.ResetFlush).
	StopGrace time.Duration
	// Synchronous makes a runner for a simulation in virtual time: it
	// starts no goroutine, writes records at once, and its units are
	// driven one step at a time with Unit.Drive instead of Run.
	Synchronous bool
}

// Runner steps the cores of one or many charge points in real time, on
// one goroutine, and does their I/O: it applies each step's actuations at
// once, writes the records in order off its goroutine (one write for the
// records of many charge points), sends the messages once their records
// are durable, and feeds the outcomes back. It owns every goroutine it
// starts.
type Runner struct {
	opts  Options
	log   *slog.Logger
	units []*Unit

	mu      sync.Mutex
	ready   []*Unit // units with work in their inbox
	durable uint64  // the last batch written
	stopped bool
	pending map[*waiter]bool // callers of Exec waiting
	wake    chan struct{}    // buffered 1

	writer *writer
	timers timerHeap
}

// New returns a runner; add units, then Run it.
func New(opts Options) *Runner {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = 10 * time.Second
	}
	if opts.Rand == nil {
		opts.Rand = func(n time.Duration) time.Duration {
			if n <= 0 {
				return 0
			}
			return rand.N(n)
		}
	}
	r := &Runner{opts: opts, log: opts.Logger, pending: map[*waiter]bool{}, wake: make(chan struct{}, 1)}
	r.writer = newWriter(opts.Store, opts.Clock, opts.Logger, r.noteDurable, r.noteTrouble)
	r.writer.synchronous = opts.Synchronous
	return r
}

// Add adds a charge point; it is restored from its store. Add before Run
// (a synchronous runner takes units at any time).
func (r *Runner) Add(opts UnitOptions) (*Unit, error) {
	u, err := newUnit(r, opts)
	if err != nil {
		return nil, err
	}
	r.units = append(r.units, u)
	return u, nil
}

// Remove forgets a unit of a synchronous runner (a charge point that lost
// its power: a new unit restored from the same store takes its place).
func (r *Runner) Remove(u *Unit) {
	r.units = slices.DeleteFunc(r.units, func(x *Unit) bool { return x == u })
	if u.heapIndex >= 0 {
		heap.Remove(&r.timers, u.heapIndex)
	}
}

// Drive steps a unit of a synchronous runner at now: through its first
// step if it has not started, a settings change, the hardware's pending
// events, evs, what its inbox holds, and time if its next wake-up has
// come. It returns when the records are written and the messages out.
func (u *Unit) Drive(now time.Time, evs ...chargepoint.Event) {
	if !u.started {
		u.started = true
		u.begin(now)
	}
	for round := 0; round < 4; round++ {
		var items []item
		if s := u.opts.Settings.Snapshot(); s != u.snapshot {
			items = append(items, item{ev: chargepoint.SettingsChanged{Settings: s}})
		}
		for drained := false; !drained; {
			select {
			case e := <-u.opts.Board.Events():
				items = append(items, item{hw: &e})
			default:
				drained = true
			}
		}
		if round == 0 {
			for _, ev := range evs {
				items = append(items, item{ev: ev})
			}
		}
		u.mu.Lock()
		items = append(items, u.inbox...)
		u.inbox = nil
		u.mu.Unlock()
		if !u.next.IsZero() && !now.Before(u.next) {
			items = append(items, item{ev: chargepoint.Tick{}})
		}
		if len(items) == 0 {
			return
		}
		u.step(now, items)
		u.flush(u.r.durable)
	}
}

// Next is when the unit's core wants to be stepped if nothing happens.
func (u *Unit) Next() time.Time { return u.next }

func (r *Runner) wakeUnit(u *Unit) {
	r.mu.Lock()
	if !u.queued {
		u.queued = true
		r.ready = append(r.ready, u)
	}
	r.mu.Unlock()
	r.poke()
}

func (r *Runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// noteTrouble tells every core that the store cannot write (err), or can
// again (nil).
func (r *Runner) noteTrouble(err error) {
	ev := chargepoint.StoreTrouble{}
	if err != nil {
		ev.Err = err.Error()
	}
	for _, u := range r.units {
		u.Post(ev)
	}
}

func (r *Runner) noteDurable(seq uint64) {
	r.mu.Lock()
	r.durable = max(r.durable, seq)
	r.mu.Unlock()
	r.poke()
}

func (r *Runner) track(w *waiter) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return false
	}
	r.pending[w] = true
	return true
}

func (r *Runner) untrack(w *waiter) {
	r.mu.Lock()
	delete(r.pending, w)
	r.mu.Unlock()
}

// Run runs the charge points until ctx ends. Then their transactions are
// stopped (reason Reboot) and the records written before it returns.
func (r *Runner) Run(ctx context.Context) error {
	wctx, stopWriter := context.WithCancel(context.Background())
	go r.writer.run(wctx)
	var wg sync.WaitGroup
	// The I/O outlives ctx: going down, the journal is still delivered.
	ictx, stopIO := context.WithCancel(context.WithoutCancel(ctx))
	for _, u := range r.units {
		u.startIO(ictx, &wg)
	}
	now := r.opts.Clock.Now()
	for _, u := range r.units {
		u.begin(now)
	}
	timer := r.opts.Clock.NewTimer(time.Hour)
	// loop turns until done says so (true), or stop or deadline comes.
	loop := func(stop <-chan struct{}, deadline <-chan time.Time, done func() bool) bool {
		for {
			r.turn()
			if done() {
				return true
			}
			timer.Stop()
			var tick <-chan time.Time
			if len(r.timers) > 0 {
				timer.Reset(max(r.timers[0].next.Sub(r.opts.Clock.Now()), 0))
				tick = timer.C()
			}
			select {
			case <-r.wake:
			case <-tick:
			case <-stop:
				return false
			case <-deadline:
				return false
			}
		}
	}
	loop(ctx.Done(), nil, func() bool { return false })
	// Going down: transactions stop and nothing new starts; what the
	// journal holds goes out while the links last, until every core has
	// halted (at most Rules.ResetFlush) or StopGrace has passed.
	now = r.opts.Clock.Now()
	for _, u := range r.units {
		u.shutdown(now)
	}
	grace := r.opts.Clock.NewTimer(r.opts.StopGrace)
	if !r.allDown() && !loop(nil, grace.C(), r.allDown) {
		r.log.Warn("stopping with messages not delivered", "after", r.opts.StopGrace)
	}
	grace.Stop()
	timer.Stop()
	stopWriter()
	<-r.writer.done
	stopIO()
	wg.Wait()
	for _, u := range r.units {
		if u.unwatch != nil {
			u.unwatch()
		}
	}
	r.mu.Lock()
	r.stopped = true
	waiting := r.pending
	r.pending = map[*waiter]bool{}
	r.mu.Unlock()
	for w := range waiting {
		w.mu.Lock()
		if !w.delivered {
			w.delivered, w.stopped = true, true
			close(w.done)
		}
		w.mu.Unlock()
	}
	return nil
}

// allDown reports whether every unit's core has halted for the shutdown.
func (r *Runner) allDown() bool {
	for _, u := range r.units {
		if !u.down {
			return false
		}
	}
	return true
}

// turn does what has come: the units' inboxes, what the writer made
// durable, and the timers due.
func (r *Runner) turn() {
	r.mu.Lock()
	ready := r.ready
	r.ready = nil
	durable := r.durable
	for _, u := range ready {
		u.queued = false
	}
	r.mu.Unlock()
	now := r.opts.Clock.Now()
	for _, u := range ready {
		u.work(now)
	}
	var due []*Unit
	for len(r.timers) > 0 && !r.timers[0].next.After(now) {
		due = append(due, heap.Pop(&r.timers).(*Unit))
	}
	for _, u := range due {
		u.step(now, []item{{ev: chargepoint.Tick{}}})
	}
	for _, u := range r.units {
		u.flush(durable)
	}
}

// startIO starts the unit's I/O: its hardware's events (a goroutine,
// unless the board can tell when it has some) and its link's sender.
func (u *Unit) startIO(ctx context.Context, wg *sync.WaitGroup) {
	if n, ok := u.opts.Board.(notifier); ok {
		n.Notify(u.takeBoardEvents)
		u.takeBoardEvents() // what came before
	} else {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case e := <-u.opts.Board.Events():
					u.enqueue(item{hw: &e})
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	u.unwatch = u.opts.Settings.Watch(func(config.Change) { u.enqueue(item{settings: true}) })
	if u.opts.Link != nil {
		u.sender = newSender(u, ctx, wg)
	}
	u.jobs = wg
	u.ioCtx = ctx
}

// notifier is a board that calls a function when it has events, instead
// of being watched by a goroutine of its own.
type notifier interface {
	// Notify sets the function; it must not block.
	Notify(func())
	// Flush moves events waiting for room into the events channel.
	Flush()
}

// takeBoardEvents moves a notifying board's events into the inbox, in
// the order they came (it runs on the goroutine that made them, under
// the inbox's lock, so that they keep their place among the unit's other
// work), and wakes the unit.
func (u *Unit) takeBoardEvents() {
	b := u.opts.Board.(notifier)
	u.mu.Lock()
	for took := true; took; {
		took = false
		for drained := false; !drained; {
			select {
			case e := <-u.opts.Board.Events():
				u.inbox = append(u.inbox, item{hw: &e})
				took = true
			default:
				drained = true
			}
		}
		b.Flush() // what waited for room in the channel
	}
	u.mu.Unlock()
	u.r.wakeUnit(u)
}

// begin is the core's first step.
func (u *Unit) begin(now time.Time) {
	var sensed []chargepoint.Sensed
	for i, h := range u.conns {
		s := chargepoint.Sensed{Connector: i + 1, Pilot: h.Pilot(), Fault: h.Fault(), CableMax: h.CableMax(), Cable: h.Cable()}
		u.sensed[i] = s.Pilot
		sensed = append(sensed, s)
	}
	u.step(now, []item{{ev: chargepoint.Started{Sensed: sensed}}})
}

// work takes the unit's inbox.
func (u *Unit) work(now time.Time) {
	u.mu.Lock()
	items := u.inbox
	u.inbox = nil
	u.mu.Unlock()
	if len(items) > 0 {
		u.step(now, items)
	}
}

// step steps the core through items, applying the actuations of each
// step at once, then hands its Ready to the writer and the outbox.
func (u *Unit) step(now time.Time, items []item) {
	now = now.Add(time.Duration(u.skew.Load()))
	meters := u.readMeters()
	for len(items) > 0 {
		it := items[0]
		items = items[1:]
		switch {
		case it.restart:
			u.restarting = true
			u.opts.Core.BootReason = it.reason
			continue
		case it.cut:
			u.cut()
			continue
		case u.dead || (it.gen != 0 && it.gen != u.gen):
			// No power, or the outcome of what an earlier run of the
			// software sent: nobody is there to hear it.
			if it.before != nil {
				it.before()
				u.failWaiters()
			}
			continue
		}
		if it.before != nil {
			it.before()
		}
		if it.written != 0 {
			delete(u.unwritten, it.written)
		}
		ev := it.ev
		switch {
		case it.hw != nil:
			ev = u.fromHardware(*it.hw)
		case it.settings:
			ev = chargepoint.SettingsChanged{Settings: u.opts.Settings.Snapshot()}
		}
		if ev == nil {
			continue
		}
		acts := u.core.Step(now, meters, ev)
		switch e := ev.(type) {
		case chargepoint.Sensed:
			u.sensed[e.Connector-1] = e.Pilot
		case chargepoint.SettingsChanged:
			u.snapshot = e.Settings
		}
		items = append(u.actuate(acts), items...)
	}
	if !u.dead {
		u.handle(u.core.Ready())
	}
}

// readMeters reads every connector's meter.
func (u *Unit) readMeters() []hw.Reading {
	m := make([]hw.Reading, len(u.conns))
	for i, h := range u.conns {
		m[i] = h.Meter()
	}
	return m
}

// fromHardware turns a hardware event into the core's: the connector's
// state read now, a tag with what the list and the cache know of it.
func (u *Unit) fromHardware(e hw.Event) chargepoint.Event {
	switch e.Kind {
	case hw.ConnectorChanged:
		if e.Connector < 1 || e.Connector > len(u.conns) {
			return nil
		}
		h := u.conns[e.Connector-1]
		pilot := e.Pilot
		if pilot == 0 {
			pilot = h.Pilot()
		}
		return chargepoint.Sensed{Connector: e.Connector, Pilot: pilot, Fault: h.Fault(), CableMax: h.CableMax(), Cable: h.Cable()}
	case hw.TagPresented:
		known, err := u.auth.Lookup(e.IDTag)
		if err != nil {
			u.log.Error("authorization data unreadable", "err", err)
		}
		return chargepoint.TagPresented{Connector: e.Connector, IDTag: e.IDTag, Known: known}
	}
	return nil // inputs are load management's
}

// actuate applies a step's actuations and returns the events they cause
// at once: a lock's outcome a command waits for, and a connector whose
// pilot answered a new offer (an EV asks for energy as soon as it is
// offered some).
func (u *Unit) actuate(acts []chargepoint.Actuation) []item {
	var follow []item
	touched := map[int]bool{}
	for _, a := range acts {
		if a.Connector < 1 || a.Connector > len(u.conns) {
			continue
		}
		h := u.conns[a.Connector-1]
		switch a.Kind {
		case chargepoint.Offer:
			h.Offer(a.Amps)
			touched[a.Connector] = true
		case chargepoint.Contactor:
			h.SetContactor(a.On)
			touched[a.Connector] = true
		case chargepoint.Phases:
			if sw, ok := h.(hw.PhaseSwitcher); ok {
				sw.SetPhases(a.Phases)
			}
			touched[a.Connector] = true
		case chargepoint.Lock:
			err := h.SetLock(a.On)
			if err != nil && a.For == 0 {
				u.log.Warn("cable lock did not move", "connector", a.Connector, "locked", a.On, "err", err)
			}
			if a.For != 0 {
				follow = append(follow, item{ev: chargepoint.LockResult{Connector: a.Connector, For: a.For, Err: err}})
			}
		}
	}
	for n := 1; n <= len(u.conns); n++ {
		if !touched[n] {
			continue
		}
		h := u.conns[n-1]
		if p := h.Pilot(); p != u.sensed[n-1] {
			follow = append(follow, item{ev: chargepoint.Sensed{Connector: n, Pilot: p, Fault: h.Fault(), CableMax: h.CableMax(), Cable: h.Cable()}})
		}
	}
	return follow
}

// handle takes a Ready: records and settings to the writer, messages to
// the outbox, jobs held until the records are durable, the next wake-up
// set.
func (u *Unit) handle(rd chargepoint.Ready) {
	if rd.Loads != nil {
		loads := slices.Clone(rd.Loads)
		u.loads.Store(&loads)
		select {
		case u.loadsChanged <- struct{}{}:
		default:
		}
	}
	u.registration.Store(u.core.Registration())
	u.journalDepth.Store(int64(u.core.Journal()))
	var settings []setting
	for _, s := range rd.Settings {
		settings = append(settings, setting{what: s.Key, apply: func() error {
			_, err := u.opts.Settings.Set(s.Key, s.Value, config.ActorOCPP)
			return err
		}})
	}
	b := u.r.writer.add(u.store, slices.Clone(rd.Records), settings)
	u.lastBatch = b
	for _, m := range rd.Messages {
		u.outbox = append(u.outbox, outMsg{msg: m, batch: b, gen: u.gen})
	}
	if rd.Halt != nil {
		u.outbox = append(u.outbox, outMsg{halt: rd.Halt, batch: b, gen: u.gen})
	}
	for _, j := range rd.Jobs {
		u.held = append(u.held, heldJob{job: j, batch: b, gen: u.gen})
	}
	u.next = rd.Next
	if !u.next.IsZero() {
		u.next = u.next.Add(-time.Duration(u.skew.Load())) // in the runner's time
	}
	u.r.timers.set(u)
}

// flush sends what the writer made durable, in order: a reply to its
// caller, a CALL to the link once the replies before it are written.
func (u *Unit) flush(durable uint64) {
	if u.restarting && u.lastBatch <= durable {
		u.rebuild(u.r.opts.Clock.Now())
	}
	if len(u.held) > 0 {
		u.startHeldJobs(durable)
	}
	if len(u.outbox) == 0 {
		return
	}
	// Answers to queries go at once, whatever waits before them.
	kept := u.outbox[:0]
	for _, m := range u.outbox {
		if m.msg.Now && m.msg.Reply != 0 {
			u.deliverNow(m.msg)
			continue
		}
		kept = append(kept, m)
	}
	clear(u.outbox[len(kept):])
	u.outbox = kept
	for len(u.outbox) > 0 {
		m := u.outbox[0]
		if m.batch > durable {
			if u.r.writer.troubled() {
				u.passBlocked()
			}
			return
		}
		switch {
		case m.halt != nil && m.halt.Shutdown:
			u.down = true // its records are durable: it may go
		case m.halt != nil:
			if len(u.unwritten) > 0 {
				return // the reply (to the Reset) is written first
			}
			if u.sender == nil {
				u.halt(*m.halt, m.gen)
				break
			}
			// Once the messages before it are out, or ResetFlush has
			// passed (one may wait for an answer that never comes):
			// whichever comes first tells it.
			u.sender.add(m)
			u.haltAfter(*m.halt, m.gen, u.core.Rules().ResetFlush)
		case m.msg.Reply != 0:
			u.deliver(m.msg)
		default:
			if len(u.unwritten) > 0 {
				return // the reply goes first
			}
			if u.sender == nil {
				// No central system: it fails as a lost connection.
				u.enqueue(item{ev: chargepoint.Answered{Call: m.msg.Call, Failure: chargepoint.Lost}})
			} else {
				u.sender.add(m)
			}
		}
		u.outbox = u.outbox[1:]
	}
}

// passBlocked sends, while the store cannot write, the statuses,
// heartbeats, BootNotifications and unjournaled security events behind
// the head of the outbox, up to
// the first reply or halt: the central system still hears the charge
// point, and that it is Faulted. Everything else keeps its order and
// waits for its records.
func (u *Unit) passBlocked() {
	if u.sender == nil || len(u.unwritten) > 0 {
		return
	}
	// The head too: it may itself be the status that says Faulted (its
	// batch held only another message's records, a checkpoint).
	kept := u.outbox[:0]
	for i, m := range u.outbox {
		if m.halt != nil || m.msg.Reply != 0 {
			kept = append(kept, u.outbox[i:]...)
			break
		}
		switch m.msg.Body.(type) {
		case chargepoint.StatusNotification, chargepoint.Heartbeat, chargepoint.BootNotification,
			chargepoint.SecurityEventNotification: // MemoryExhaustion, which the journal cannot keep
			u.sender.add(m)
		default:
			kept = append(kept, m)
		}
	}
	clear(u.outbox[len(kept):])
	u.outbox = kept
}

// haltAfter tells the halt after d if the sender has not by then.
func (u *Unit) haltAfter(h chargepoint.Halt, gen uint32, d time.Duration) {
	if u.jobs == nil || u.ioCtx.Err() != nil {
		u.halt(h, gen)
		return
	}
	t := u.r.opts.Clock.NewTimer(d)
	u.jobs.Add(1)
	go func() {
		defer u.jobs.Done()
		defer t.Stop()
		select {
		case <-t.C():
			u.halt(h, gen)
		case <-u.ioCtx.Done():
		}
	}()
}

// halt tells that the core of run gen halted: once for a run, and not
// for a run the software has left already.
func (u *Unit) halt(h chargepoint.Halt, gen uint32) {
	if gen != u.liveGen.Load() || u.haltTold.Swap(gen) == gen {
		return
	}
	select {
	case u.halted <- h:
	default:
	}
	if u.opts.OnHalt != nil {
		u.opts.OnHalt(h)
	}
}

// deliverNow gives a query's answer to its caller: nothing waits for it
// to be written.
func (u *Unit) deliverNow(m chargepoint.Message) {
	u.deliver(m)
	delete(u.unwritten, m.Reply)
}

// deliver gives a reply to its caller.
func (u *Unit) deliver(m chargepoint.Message) {
	w := u.waiters[m.Reply]
	delete(u.waiters, m.Reply)
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.abandoned || w.delivered {
		return
	}
	w.result, w.delivered = m.Body, true
	u.unwritten[m.Reply] = true
	close(w.done)
}

// shutdown stops the core's transactions: it halts once their
// messages are delivered (or Rules.ResetFlush has passed).
func (u *Unit) shutdown(now time.Time) {
	if u.dead {
		u.down = true // without power: nothing to stop
		return
	}
	halted := u.core.Halted() // for a reset: it is down already
	u.step(now, []item{{ev: chargepoint.Shutdown{}}})
	u.down = u.down || halted
}

// timerHeap orders the units by their next wake-up.
type timerHeap []*Unit

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIndex, h[j].heapIndex = i, j
}
func (h *timerHeap) Push(x any) {
	u := x.(*Unit)
	u.heapIndex = len(*h)
	*h = append(*h, u)
}
func (h *timerHeap) Pop() any {
	old := *h
	u := old[len(old)-1]
	*h = old[:len(old)-1]
	u.heapIndex = -1
	return u
}

// set places a unit by its next wake-up (none: out of the heap).
func (h *timerHeap) set(u *Unit) {
	switch {
	case u.next.IsZero() && u.heapIndex >= 0:
		heap.Remove(h, u.heapIndex)
	case u.next.IsZero():
	case u.heapIndex >= 0:
		heap.Fix(h, u.heapIndex)
	default:
		heap.Push(h, u)
	}
}
