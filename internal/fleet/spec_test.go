package fleet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/evse-dev/evse/internal/csmstest"
)

// TestFleetFilesAreCheckedWithClearErrors: each bad file is refused
// with a message naming what is wrong.
func TestFleetFilesAreCheckedWithClearErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"no groups", "ramp: {rate: 5}\n", "no groups"},
		{"unknown field", "groups: [{name: a, count: 1, colour: red}]\n", "colour"},
		{"count 0", "groups: [{name: a, count: 0}]\n", "count 0"},
		{"too many", "groups: [{name: a, count: 300000}]\n", "want 1 to 200000"},
		{"id without n", "groups: [{name: a, count: 2, id: CP}]\n", "has no {n}"},
		{"same ids", "groups: [{name: a, count: 2, id: 'X{n}'}, {name: b, count: 2, id: 'X{n}'}]\n", `"X1" in groups a and b`},
		{"bad key", "groups: [{name: a, count: 1, keys: {HeartbeatInterval: soon}}]\n", "HeartbeatInterval"},
		{"unknown key", "groups: [{name: a, count: 1, keys: {NoSuchKey: '1'}}]\n", "NoSuchKey"},
		{"profile without key", "groups: [{name: a, count: 1, security: {profile: 1}}]\n", "needs an authorizationKey"},
		{"bad authorization key", "groups: [{name: a, count: 1, security: {profile: 1, authorizationKey: zz}}]\n", "authorizationKey"},
		{"profile 4", "groups: [{name: a, count: 1, security: {profile: 4}}]\n", "want 0 to 3"},
		{"profile 3 without ca", "groups: [{name: a, count: 1, security: {profile: 3}}]\n", "needs a ca"},
		{"ca below profile 3", "groups: [{name: a, count: 1, security: {profile: 0, ca: ca}}]\n", "for profile 3"},
		{"missing ca", "groups: [{name: a, count: 1, security: {profile: 3, ca: nope}}]\n", "nope"},
		{"no way to start", "groups: [{name: a, count: 1, behaviour: {perHour: 2}}]\n", "give tags"},
		{"bad daily", "groups: [{name: a, count: 1, behaviour: {perHour: 2, daily: [1, 2], authorize: {free: true}}}]\n", "want 24"},
		{"bad ev", "groups: [{name: a, count: 1, behaviour: {perHour: 2, authorize: {free: true}, evs: [{share: 1, phases: 2}]}}]\n", "phases"},
		{"bad stay", "groups: [{name: a, count: 1, behaviour: {perHour: 2, authorize: {free: true}, stay: {min: 2h, max: 1h}}}]\n", "stay"},
		{"bad duration", "groups: [{name: a, count: 1, behaviour: {perHour: 2, authorize: {free: true}, stay: {min: soon, max: 1h}}}]\n", "soon"},
		{"bad share", "groups: [{name: a, count: 1, misbehave: {callErrors: 2}}]\n", "share 2"},
		{"bad fault", "groups: [{name: a, count: 1}]\nfaults: [{at: 1m, kind: meteor}]\n", `kind "meteor"`},
		{"power cut without for", "groups: [{name: a, count: 1}]\nfaults: [{at: 1m, kind: power-cut}]\n", "needs a for"},
		{"fault of no group", "groups: [{name: a, count: 1}]\nfaults: [{at: 1m, kind: drop-links, group: b}]\n", `no group "b"`},
		{"bad ramp", "ramp: {rate: -1}\ngroups: [{name: a, count: 1}]\n", "ramp rate"},
		{"missing model", "groups: [{name: a, count: 1, model: nope.json}]\n", "nope.json"},
		{"unknown ocpp version", "groups: [{name: a, count: 1, ocpp: [2.0, 1.6]}]\n", `OCPP version "2.0": 1.6 or 2.0.1`},
		{"ocpp version twice", "groups: [{name: a, count: 1, ocpp: '1.6,ocpp1.6'}]\n", "given twice"},
		{"no ocpp version", "groups: [{name: a, count: 1, ocpp: []}]\n", "ocpp: no version"},
		{"ocpp as a map", "groups: [{name: a, count: 1, ocpp: {v: 1.6}}]\n", "want a list of versions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "fleet.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadSpec(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadSpec = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

// TestIDsFollowTheirPattern: {n} and {n:0W}.
func TestIDsFollowTheirPattern(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		n       int
		want    string
	}{{"CP-{n:05}", 7, "CP-00007"}, {"{n}", 12, "12"}, {"site-{n:03}-b", 1234, "site-1234-b"}} {
		if got := (Group{ID: tc.pattern}).id(tc.n); got != tc.want {
			t.Errorf("%s with %d = %q, want %q", tc.pattern, tc.n, got, tc.want)
		}
	}
}

// TestShardsTakeEveryChargePointOnce: whatever the fleet and the number
// of shards, every charge point is in exactly one shard.
func TestShardsTakeEveryChargePointOnce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		groups := rapid.IntRange(1, 4).Draw(t, "groups")
		s := Spec{}
		for g := range groups {
			s.Groups = append(s.Groups, Group{Name: fmt.Sprint("g", g), Count: rapid.IntRange(1, 300).Draw(t, "count"), ID: fmt.Sprintf("G%d-{n}", g)})
		}
		if err := s.check(""); err != nil {
			t.Fatal(err)
		}
		n := rapid.IntRange(1, 12).Draw(t, "shards")
		seen := map[string]int{}
		for i := range n {
			for _, m := range s.members(Shard{i, n}) {
				seen[m.id]++
			}
		}
		all := s.members(Shard{0, 1})
		if len(seen) != len(all) {
			t.Fatalf("%d ids in the shards, %d in the fleet", len(seen), len(all))
		}
		for id, k := range seen {
			if k != 1 {
				t.Fatalf("%s in %d shards", id, k)
			}
		}
	})
}

func TestParseShard(t *testing.T) {
	for _, ok := range []string{"", "0/1", "2/3"} {
		if _, err := ParseShard(ok); err != nil {
			t.Errorf("ParseShard(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"3/3", "-1/3", "1", "a/b", "0/0", "1/20000"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
}

// TestTheRampNeverHandsOutMoreThanItsRate: many waiters at once, at
// several rates: no second holds more than rate of the times tokens were
// handed out at, and the rate is reached.
func TestTheRampNeverHandsOutMoreThanItsRate(t *testing.T) {
	for _, rate := range []float64{50, 400, 1500} {
		r := newRamp(Ramp{Rate: rate}, 1)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { r.run(ctx); close(done) }()
		n := int(rate * 1.5)
		times := make(chan time.Time, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if at, err := r.take(ctx); err == nil {
					times <- at
				}
			})
		}
		wg.Wait()
		cancel()
		<-done
		close(times)
		var ts []time.Time
		for tm := range times {
			ts = append(ts, tm)
		}
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		most := csmstest.MostInASecond(ts)
		took := ts[len(ts)-1].Sub(ts[0])
		t.Logf("rate %g: %d tokens in %s, at most %d in a second", rate, len(ts), took, most)
		if most > int(rate) {
			t.Errorf("rate %g: %d tokens in one second", rate, most)
		}
		if want := time.Duration(float64(n-1) / rate * 1.25 * float64(time.Second)); took > want {
			t.Errorf("rate %g: %d tokens took %s, want about %s", rate, n, took, want)
		}
	}
}
