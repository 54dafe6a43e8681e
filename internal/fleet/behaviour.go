package fleet

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/evse-dev/evse/internal/clock"
	"github.com/evse-dev/evse/internal/hw/sim"
)

// Behaviour is how cars and drivers use a group's charge points: the
// automatic transaction generator. Every draw comes from the fleet's
// seed and the charge point's id, so a fleet run again with the same
// seed sees the same cars, tags and stays.
type Behaviour struct {
	// PerHour is how many cars come to each connector in an hour, on
	// average (arrivals at random, a Poisson process). 0: none.
	PerHour float64 `yaml:"perHour"`
	// Daily, when set, is 24 factors by hour of the day (UTC) that
	// scale PerHour: a daily profile.
	Daily []float64 `yaml:"daily"`
	// EVs is the mix of cars; default one kind, the simulator's default
	// car (three phases, 32 A, 60 kWh at 20 %).
	EVs []EVKind `yaml:"evs"`
	// Authorize is how drivers start.
	Authorize Authorize `yaml:"authorize"`
	// Stay is how long a car stays plugged in, drawn evenly between Min
	// and Max. Default 30 min to 2 h.
	Stay struct {
		Min Duration `yaml:"min"`
		Max Duration `yaml:"max"`
	} `yaml:"stay"`
	// LeaveWhenFull: the driver comes back when the battery is full,
	// if that is before the stay ends.
	LeaveWhenFull bool `yaml:"leaveWhenFull"`
}

// EVKind is a kind of car and its share of the mix; the fields are
// the simulator's (see docs/api.md, plugging an EV), zero for its
// defaults.
type EVKind struct {
	Share           float64 `yaml:"share"`
	Phases          int     `yaml:"phases"`
	MaxCurrent      float64 `yaml:"maxCurrent"`
	CapacityWh      float64 `yaml:"capacityWh"`
	SoCPercent      float64 `yaml:"socPercent"`
	ResponseDelayMs int     `yaml:"responseDelayMs"`
	CableMaxCurrent float64 `yaml:"cableMaxCurrent"`
}

// EV is the simulator's car of the kind.
func (k EVKind) EV() sim.EV {
	return sim.EV{Phases: k.Phases, MaxCurrent: k.MaxCurrent, CapacityWh: k.CapacityWh, SoCPercent: k.SoCPercent,
		ResponseDelayMs: k.ResponseDelayMs, CableMaxCurrent: k.CableMaxCurrent}
}

// Authorize says how drivers start a session.
type Authorize struct {
	// Tags are the RFID cards drivers present, one drawn for each
	// session.
	Tags []string `yaml:"tags"`
	// RemoteStart is the share of drivers (0 to 1) who present no card
	// and wait for the central system to start them
	// (RemoteStartTransaction, as from an app).
	RemoteStart float64 `yaml:"remoteStart"`
	// Free: drivers only plug in (free charging, see the keys
	// FreeCharging and FreeChargingMode).
	Free bool `yaml:"free"`
}

func (b *Behaviour) check() error {
	switch {
	case b.PerHour < 0 || b.PerHour > 3600 || math.IsNaN(b.PerHour):
		return fmt.Errorf("perHour %g: want 0 to 3600", b.PerHour)
	case len(b.Daily) != 0 && len(b.Daily) != 24:
		return fmt.Errorf("daily has %d factors: want 24, one for each hour", len(b.Daily))
	case b.Authorize.RemoteStart < 0 || b.Authorize.RemoteStart > 1:
		return fmt.Errorf("authorize.remoteStart %g: want 0 to 1", b.Authorize.RemoteStart)
	case len(b.Authorize.Tags) > 100_000:
		return errors.New("authorize.tags: at most 100000")
	case b.PerHour > 0 && !b.Authorize.Free && len(b.Authorize.Tags) == 0 && b.Authorize.RemoteStart < 1:
		return errors.New("authorize: give tags, a remoteStart share of 1, or free")
	}
	for _, f := range b.Daily {
		if f < 0 || f > 100 || math.IsNaN(f) {
			return fmt.Errorf("daily factor %g: want 0 to 100", f)
		}
	}
	total := 0.0
	for i, k := range b.EVs {
		if err := k.EV().Validate(); err != nil {
			return fmt.Errorf("evs[%d]: %w", i, err)
		}
		if k.Share < 0 || math.IsNaN(k.Share) {
			return fmt.Errorf("evs[%d]: share %g", i, k.Share)
		}
		total += k.Share
	}
	if len(b.EVs) > 0 && total <= 0 {
		return errors.New("evs: the shares add up to 0")
	}
	if b.Stay.Min == 0 && b.Stay.Max == 0 {
		b.Stay.Min, b.Stay.Max = Duration(30*time.Minute), Duration(2*time.Hour)
	}
	if b.Stay.Min <= 0 || b.Stay.Max < b.Stay.Min {
		return fmt.Errorf("stay %s to %s: want 0 < min ≤ max", b.Stay.Min.D(), b.Stay.Max.D())
	}
	return nil
}

// peak is the highest rate of arrivals in a day, per connector and hour.
func (b Behaviour) peak() float64 {
	if len(b.Daily) == 0 {
		return b.PerHour
	}
	m := 0.0
	for _, f := range b.Daily {
		m = max(m, f)
	}
	return b.PerHour * m
}

// rateAt is the rate of arrivals at t, per connector and hour.
func (b Behaviour) rateAt(t time.Time) float64 {
	if len(b.Daily) == 0 {
		return b.PerHour
	}
	return b.PerHour * b.Daily[t.UTC().Hour()]
}

// Actions the generator takes at a connector.
type action int

const (
	arrive  action = iota // a car may come: plug in, or go by if taken
	present               // the driver presents a card
	leave                 // the driver unplugs (and takes the cable)
	full                  // check whether the car is full
)

// visit is one thing due at a connector.
type visit struct {
	at   time.Time
	c    *Charger
	conn int
	what action
	car  uint64 // the car it is for (present, leave, full)
}

type visits []visit

func (v visits) Len() int           { return len(v) }
func (v visits) Less(i, j int) bool { return v[i].at.Before(v[j].at) }
func (v visits) Swap(i, j int)      { v[i], v[j] = v[j], v[i] }
func (v *visits) Push(x any)        { *v = append(*v, x.(visit)) }
func (v *visits) Pop() any {
	old := *v
	x := old[len(old)-1]
	*v = old[:len(old)-1]
	return x
}

// generator plays the cars and drivers of the whole fleet from one
// goroutine.
type generator struct {
	clock  clock.Clock
	queue  visits
	stats  *Stats
	groups []Group
}

// connectorPlay is what the generator keeps of a connector: its own
// random stream and the car there.
type connectorPlay struct {
	rng     *rand.Rand
	plugged bool
	car     uint64 // counts the cars that came
}

// schedule puts the first arrivals of every charger whose group has cars.
func (g *generator) schedule(now time.Time, chargers []*Charger) {
	for _, c := range chargers {
		b := g.groups[c.group].Behaviour
		if b.peak() <= 0 {
			continue
		}
		for n := range c.plays {
			g.nextArrival(now, c, n+1)
		}
	}
}

// nextArrival schedules the next possible arrival at connector n: by
// thinning, at the peak rate, kept in proportion of the rate then.
func (g *generator) nextArrival(now time.Time, c *Charger, n int) {
	b := g.groups[c.group].Behaviour
	p := &c.plays[n-1]
	wait := time.Duration(p.rng.ExpFloat64() / b.peak() * float64(time.Hour))
	heap.Push(&g.queue, visit{at: now.Add(wait), c: c, conn: n, what: arrive})
}

// run plays until ctx ends.
func (g *generator) run(ctx context.Context) {
	t := g.clock.NewTimer(time.Hour)
	defer t.Stop()
	for {
		now := g.clock.Now()
		for len(g.queue) > 0 && !g.queue[0].at.After(now) {
			v := heap.Pop(&g.queue).(visit)
			g.do(now, v)
		}
		var tick <-chan time.Time
		if len(g.queue) > 0 {
			t.Stop()
			t.Reset(g.queue[0].at.Sub(now))
			tick = t.C()
		}
		select {
		case <-tick:
		case <-ctx.Done():
			return
		}
	}
}

// do carries out one visit and schedules what follows.
func (g *generator) do(now time.Time, v visit) {
	c, n := v.c, v.conn
	b := g.groups[c.group].Behaviour
	p := &c.plays[n-1]
	switch v.what {
	case arrive:
		g.nextArrival(now, c, n)
		if p.rng.Float64()*b.peak() >= b.rateAt(now) {
			return // thinned: fewer cars at this hour
		}
		if p.plugged || c.powerOff.Load() {
			g.stats.carsTurnedAway.Add(1)
			return
		}
		ev := pickEV(p.rng, b.EVs)
		if err := c.board.Plug(n, ev); err != nil {
			g.stats.carsTurnedAway.Add(1) // a cable left in a socket, say
			return
		}
		g.stats.cars.Add(1)
		p.plugged = true
		p.car++
		car := p.car
		stay := b.Stay.Min.D() + time.Duration(p.rng.Int64N(int64(b.Stay.Max.D()-b.Stay.Min.D())+1))
		heap.Push(&g.queue, visit{at: now.Add(stay), c: c, conn: n, what: leave, car: car})
		if b.LeaveWhenFull {
			heap.Push(&g.queue, visit{at: now.Add(time.Minute), c: c, conn: n, what: full, car: car})
		}
		switch {
		case b.Authorize.Free:
		case p.rng.Float64() < b.Authorize.RemoteStart:
			g.stats.remoteStarts.Add(1) // waits for the central system
		default:
			// Out of the car, to the reader: 2 to 10 s, and within the
			// first half of the stay.
			delay := min(2*time.Second+time.Duration(p.rng.Int64N(int64(8*time.Second))), stay/2)
			heap.Push(&g.queue, visit{at: now.Add(delay), c: c, conn: n, what: present, car: car})
		}
	case present:
		tags := b.Authorize.Tags
		if p.plugged && p.car == v.car && len(tags) > 0 {
			c.board.Present(tags[p.rng.IntN(len(tags))], n)
		}
	case full:
		if !p.plugged || p.car != v.car {
			return
		}
		snap, err := c.board.Snapshot(n)
		if err == nil && snap.EV != nil && snap.EV.SoCPercent >= 100 {
			heap.Push(&g.queue, visit{at: now, c: c, conn: n, what: leave, car: v.car})
			return
		}
		heap.Push(&g.queue, visit{at: now.Add(time.Minute), c: c, conn: n, what: full, car: v.car})
	case leave:
		if !p.plugged || p.car != v.car {
			return // gone already (full)
		}
		p.plugged = false
		c.board.Unplug(n)
		c.board.RemoveCable(n) // a socket's cable goes with the driver
	}
}

// pickEV draws a car of the mix.
func pickEV(rng *rand.Rand, kinds []EVKind) sim.EV {
	if len(kinds) == 0 {
		return sim.EV{}
	}
	total := 0.0
	for _, k := range kinds {
		total += k.Share
	}
	x := rng.Float64() * total
	for _, k := range kinds {
		if x < k.Share {
			return k.EV()
		}
		x -= k.Share
	}
	return kinds[len(kinds)-1].EV()
}
