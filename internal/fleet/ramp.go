package fleet

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// ramp spaces the fleet's connection attempts: each waits a random part
// of the jitter, then for a token. Tokens are handed out to whoever waits
// at that moment, on a schedule of one every 1/rate that is never saved
// up for more than a millisecond, and never more than rate of them within
// any second (a hard cap over the last rate tokens' times). So the central
// system sees at most the rate of attempts a second, however many charge
// points want to connect at once, and a stall of the process is not
// followed by a burst.
type ramp struct {
	interval time.Duration
	perSec   int // the cap: tokens in any second
	jitter   time.Duration
	tokens   chan time.Time // a token is the time it is handed out
	// waiting counts those waiting for a token; while none do, run
	// sleeps (an idle fleet wakes for nothing).
	waiting atomic.Int64
	demand  chan struct{} // buffered 1

	mu  sync.Mutex
	rng *rand.Rand
}

func newRamp(r Ramp, seed uint64) *ramp {
	return &ramp{interval: time.Duration(float64(time.Second) / r.Rate), perSec: max(int(r.Rate), 1), jitter: r.Jitter.D(),
		tokens: make(chan time.Time), demand: make(chan struct{}, 1), rng: rand.New(rand.NewPCG(seed, 0x7a3d))}
}

// run hands out the tokens until ctx ends.
func (r *ramp) run(ctx context.Context) {
	recent := make([]time.Time, r.perSec) // the last perSec tokens' times, a ring
	oldest := 0
	var next time.Time // the schedule's next slot
	for {
		if r.waiting.Load() == 0 {
			select {
			case <-r.demand:
			case <-ctx.Done():
				return
			}
		}
		now := time.Now()
		if floor := now.Add(-time.Millisecond); next.Before(floor) {
			next = floor // slots missed while nobody waited are gone
		}
		at := next
		if capAt := recent[oldest].Add(time.Second); capAt.After(at) {
			at = capAt
		}
		if err := sleep(ctx, time.Until(at)); err != nil {
			return
		}
		now = time.Now()
		select {
		case r.tokens <- now:
			recent[oldest] = now
			oldest = (oldest + 1) % len(recent)
			next = next.Add(r.interval)
		case <-r.demand: // a new waiter: offer again
		case <-ctx.Done():
			return
		}
	}
}

// wait returns when the caller may make its attempt, or ctx's error.
func (r *ramp) wait(ctx context.Context) error {
	_, err := r.take(ctx)
	return err
}

// take waits for a token and returns the time it was handed out at.
func (r *ramp) take(ctx context.Context) (time.Time, error) {
	r.mu.Lock()
	var j time.Duration
	if r.jitter > 0 {
		j = time.Duration(r.rng.Int64N(int64(r.jitter)))
	}
	r.mu.Unlock()
	if err := sleep(ctx, j); err != nil {
		return time.Time{}, err
	}
	r.waiting.Add(1)
	defer r.waiting.Add(-1)
	select {
	case r.demand <- struct{}{}:
	default:
	}
	select {
	case at := <-r.tokens:
		return at, nil
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
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
