package v16

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/store"
)

// listOf is a SendLocalList payload of n entries named from first on.
func listOf(version, first, n int, full bool) json.RawMessage {
	type info struct {
		Status string `json:"status"`
	}
	type entry struct {
		IDTag string `json:"idTag"`
		Info  info   `json:"idTagInfo"`
	}
	kind := "Differential"
	if full {
		kind = "Full"
	}
	req := struct {
		Version int     `json:"listVersion"`
		Type    string  `json:"updateType"`
		List    []entry `json:"localAuthorizationList"`
	}{version, kind, make([]entry, n)}
	for i := range n {
		req.List[i] = entry{fmt.Sprintf("TAG%016d", first+i), info{"Accepted"}}
	}
	raw, _ := json.Marshal(req)
	return raw
}

// listChargePoint is a charge point on a real bbolt store with the local
// list enabled; it does not run (SendLocalList needs no core).
func listChargePoint(b *testing.B) (*ChargePoint, *store.DB) {
	db, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	cat, _ := config.NewCatalogue(nil)
	settings, err := config.Open(cat, &config.MemStorage{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	settings.Set("LocalAuthListEnabled", "true", config.ActorInstaller)
	cp, err := New(Options{Settings: settings, Board: sim.New(sim.Options{Connectors: 1}), Store: db})
	if err != nil {
		b.Fatal(err)
	}
	return cp, db
}

func send(b *testing.B, cp *ChargePoint, payload json.RawMessage) {
	out, err := cp.HandleCall(context.Background(), "SendLocalList", payload)
	if err != nil || string(out) != `{"status":"Accepted"}` {
		b.Fatalf("SendLocalList: %s, %v", out, err)
	}
}

// BenchmarkSendLocalList45000 applies a Full list of SendLocalListMaxLength
// entries, durably (bbolt commits with fsync before the answer).
func BenchmarkSendLocalList45000(b *testing.B) {
	cp, _ := listChargePoint(b)
	payloads := [2]json.RawMessage{listOf(1, 0, 45000, true), listOf(2, 45000, 45000, true)}
	i := 0
	for b.Loop() {
		send(b, cp, payloads[i%2])
		i++
	}
}

// BenchmarkLocalListLookup1M looks tags up in a list of
// LocalAuthListMaxLength entries (built by one Full and 22 Differential
// updates of 45,000), as an authorization does, and reports the median
// and the 99th percentile.
func BenchmarkLocalListLookup1M(b *testing.B) {
	cp, _ := listChargePoint(b)
	const size, chunk = 1_000_000, 45_000
	for first, v := 0, 1; first < size; first, v = first+chunk, v+1 {
		send(b, cp, listOf(v, first, min(chunk, size-first), first == 0))
	}
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		tag := fmt.Sprintf("TAG%016d", rand.IntN(size))
		start := time.Now()
		known, _ := cp.Unit().Auth().Lookup(tag)
		e := known.List
		times = append(times, time.Since(start))
		if e == nil || e.Status != "Accepted" {
			b.Fatalf("%s not found", tag)
		}
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds())/1000, "p50-µs")
	b.ReportMetric(float64(times[len(times)*99/100].Nanoseconds())/1000, "p99-µs")
}
