package fleet

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// ramp spaces the fleet's connection attempts: each waits a random part
// of the jitter, then for a token; tokens are handed out at the rate, to
// whoever waits at that moment, and are not saved up. So no second sees
// more than the rate of attempts, however many charge points want to
// connect at once, and a stall of the process is not followed by a
// burst.
type ramp struct {
	tick   time.Duration
	perTik int // tokens a tick
	jitter time.Duration
	tokens chan struct{}
	// waiting counts those waiting for a token; while none do, run does
	// not tick (an idle fleet wakes for nothing).
	waiting atomic.Int64
	demand  chan struct{} // buffered 1

	mu  sync.Mutex
	rng *rand.Rand
}

func newRamp(r Ramp, seed uint64) *ramp {
	interval := time.Duration(float64(time.Second) / r.Rate)
	tick, per := interval, 1
	if tick < time.Millisecond { // fast rates: a few tokens a millisecond
		tick = time.Millisecond
		per = max(int(r.Rate/1000), 1)
	}
	return &ramp{tick: tick, perTik: per, jitter: r.Jitter.D(), tokens: make(chan struct{}), demand: make(chan struct{}, 1),
		rng: rand.New(rand.NewPCG(seed, 0x7a3d))}
}

// run hands out the tokens until ctx ends.
func (r *ramp) run(ctx context.Context) {
	t := time.NewTicker(r.tick)
	defer t.Stop()
	for {
		if r.waiting.Load() == 0 {
			t.Stop()
			select {
			case <-r.demand:
			case <-ctx.Done():
				return
			}
			t.Reset(r.tick)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		for range r.perTik {
			select {
			case r.tokens <- struct{}{}:
			default: // nobody waits: the token is lost
			}
		}
	}
}

// wait returns when the caller may make its attempt, or ctx's error.
func (r *ramp) wait(ctx context.Context) error {
	r.mu.Lock()
	var j time.Duration
	if r.jitter > 0 {
		j = time.Duration(r.rng.Int64N(int64(r.jitter)))
	}
	r.mu.Unlock()
	if err := sleep(ctx, j); err != nil {
		return err
	}
	r.waiting.Add(1)
	defer r.waiting.Add(-1)
	select {
	case r.demand <- struct{}{}:
	default:
	}
	select {
	case <-r.tokens:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
