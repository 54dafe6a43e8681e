package chargepoint

import (
	"math"
	"time"

	"github.com/evse-dev/evse/internal/hw"
)

// evDoneAfter: an EV that has left its offer unused (pilot B under PWM)
// this long is done charging; it is no longer ready for load management
// until it is unplugged, a new transaction starts, or evRetryAfter has
// passed (an EV with a departure timer may want current later: it is
// offered again, and is done again if it still leaves it unused).
const (
	evDoneAfter  = 30 * time.Second
	evRetryAfter = 15 * time.Minute
)

// switchWait bounds how long a phase switch waits for the EV to stop
// drawing after its offer went to 0; then the contactor opens anyway.
const switchWait = 5 * time.Second

// Load is what load management needs to know of one connector.
type Load struct {
	Connector int
	// Ready: a session may charge here (authorized, plugged, no fault)
	// and its EV has not finished.
	Ready bool
	// Applied is the current offered now (PWM), in A per phase.
	Applied float64
	// Drawn is the current drawn on the connector's phases L1, L2, L3.
	Drawn [3]float64
}

// loadState is what the core publishes of a connector for Loads.
type loadState struct {
	ready   bool
	applied float64
}

// Loads returns every connector's load. It does not wait for the core.
func (cp *ChargePoint) Loads() []Load {
	states := cp.loads.Load()
	hwc := cp.opts.Board.Connectors()
	out := make([]Load, len(hwc))
	for i, h := range hwc {
		out[i] = Load{Connector: i + 1, Drawn: h.Meter().Current}
		if states != nil && i < len(*states) {
			out[i].Ready, out[i].Applied = (*states)[i].ready, (*states)[i].applied
		}
	}
	return out
}

// LoadsChanged delivers a value when a connector's readiness or offer
// changed (not for drawn current, which moves all the time: poll Loads).
func (cp *ChargePoint) LoadsChanged() <-chan struct{} { return cp.loadsChanged }

// SetLimits caps connectors' offers: load management's shares. A
// connector not named keeps its cap; a negative amount removes it. An
// offer under hw.MinCurrent is no offer.
func (cp *ChargePoint) SetLimits(limits map[int]float64) {
	cp.post(func(c *core) {
		for _, cn := range c.conns {
			if a, ok := limits[cn.id]; ok {
				cn.limit = a
			}
		}
	})
}

// SetPhases sets how many phases (1 or 3) connectors' sessions may use,
// on hardware that can switch (hw.PhaseSwitcher); a connector not named
// keeps its setting.
func (cp *ChargePoint) SetPhases(phases map[int]int) {
	cp.post(func(c *core) {
		for _, cn := range c.conns {
			if p, ok := phases[cn.id]; ok && (p == 1 || p == 3) {
				cn.wantPhases = p
			}
		}
	})
}

// switchPhases switches a connector's phases when load management asked
// for it, never under load: the offer goes to nothing first, and the
// contactor opens and switches once the EV has stopped drawing (or
// switchWait has passed).
func (c *core) switchPhases(cn *connector, now time.Time) {
	sw, ok := cn.hw.(hw.PhaseSwitcher)
	want := c.targetPhases(cn)
	if !ok || want == 0 || want == cn.phasesNow || want == 3 && cn.phasesNow == 0 {
		cn.switchSince = time.Time{}
		return
	}
	if cn.switchSince.IsZero() {
		cn.switchSince = now
	}
	if cn.offered > 0 {
		cn.offered = 0
		cn.hw.Offer(0)
	}
	r := cn.hw.Meter()
	if max(r.Current[0], r.Current[1], r.Current[2]) >= 1 && now.Sub(cn.switchSince) < switchWait {
		return // the EV is still following the 0 offer
	}
	cn.hw.SetContactor(false)
	sw.SetPhases(want)
	c.cp.log.Info("phases switched", "connector", cn.id, "phases", want)
	cn.phasesNow, cn.switchSince = want, time.Time{}
}

// offerFor is what a connector offers its EV now: the model's maximum,
// under load management's cap and the charging schedule.
func (c *core) offerFor(cn *connector) float64 {
	if t := cn.tx; t == nil || t.Deauthorized || cn.fault != "" || !cn.pilot.Plugged() || !cn.switchSince.IsZero() {
		return 0
	}
	offer := float64(c.cp.opts.Model.MaxCurrent)
	if cn.limit >= 0 {
		offer = math.Min(offer, cn.limit)
	}
	offer = cn.scheduleCap(offer)
	if offer < hw.MinCurrent {
		return 0
	}
	return offer
}

// ready tells load management whether connector cn wants current, and
// notes when its EV leaves an offer unused.
func (c *core) ready(cn *connector, now time.Time) bool {
	t := cn.tx
	if t == nil || t.Deauthorized || cn.fault != "" || !cn.pilot.Plugged() {
		cn.idleSince, cn.evDone = time.Time{}, false
		return false
	}
	switch {
	case cn.evDone && now.Sub(cn.doneAt) >= evRetryAfter:
		cn.evDone, cn.idleSince = false, time.Time{}
		c.cp.log.Info("offering current again to an EV that was done", "connector", cn.id)
	case cn.offered < hw.MinCurrent || cn.pilot.Charging():
		cn.idleSince = time.Time{}
	case cn.idleSince.IsZero():
		cn.idleSince = now
	case now.Sub(cn.idleSince) >= evDoneAfter && !cn.evDone:
		cn.evDone, cn.doneAt = true, now
		c.cp.log.Info("EV left its offer unused: done charging", "connector", cn.id)
	}
	return !cn.evDone
}

// publishLoads makes the connectors' loads visible to Loads and signals a
// change.
func (c *core) publishLoads(now time.Time) {
	states := make([]loadState, len(c.conns))
	changed := false
	old := c.cp.loads.Load()
	for i, cn := range c.conns {
		states[i] = loadState{ready: c.ready(cn, now), applied: cn.offered}
		if old == nil || (*old)[i] != states[i] {
			changed = true
		}
	}
	if !changed {
		return
	}
	c.cp.loads.Store(&states)
	select {
	case c.cp.loadsChanged <- struct{}{}:
	default:
	}
}

// loadDeadline is when a connector's EV counts as done if nothing
// changes before.
func (cn *connector) loadDeadline() time.Time {
	switch {
	case !cn.switchSince.IsZero():
		return cn.switchSince.Add(switchWait)
	case cn.evDone:
		return cn.doneAt.Add(evRetryAfter)
	case cn.idleSince.IsZero():
		return time.Time{}
	}
	return cn.idleSince.Add(evDoneAfter)
}
