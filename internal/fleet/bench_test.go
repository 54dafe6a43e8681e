package fleet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/evse-dev/evse/internal/csmstest"
)

// BenchmarkIdleFleetMemory boots a fleet against the test central system
// in this process and reports the memory one idle, connected, accepted
// charge point costs (heap and goroutine stacks), and, in the same run,
// the memory of a bare coder/websocket connection to the same central
// system (with the reader every live connection needs): the baseline.
// Both include the central system's side of each connection. Then, in
// the same run, a fleet of as many charge points speaking OCPP 2.0.1:
// ratio-2.0.1/1.6 is its memory per charge point over the 1.6 one's.
// EVSE_FLEET_BENCH_N sets the count (default 1000).
func BenchmarkIdleFleetMemory(b *testing.B) {
	n := envInt("EVSE_FLEET_BENCH_N", 1000)
	csms := csmstest.New(csmstest.Options{Forget: true, Subprotocols: []string{csmstest.OCPP201, csmstest.OCPP16}})
	url, err := csms.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer csms.Close()
	var perCP, perBare, per201, goroutinesCP, goroutinesBare, goroutines201 float64
	for i := 0; b.Loop(); i++ {
		// The baseline.
		g0 := runtime.NumGoroutine()
		before := memStats()
		ctx, cancel := context.WithCancel(context.Background())
		var conns []*websocket.Conn
		done := make(chan struct{}, n)
		for j := range n {
			c, _, err := websocket.Dial(ctx, fmt.Sprintf("%s/BARE-%d-%d", url, i, j), &websocket.DialOptions{Subprotocols: []string{"ocpp1.6"}})
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, c)
			go func() { c.Read(ctx); done <- struct{}{} }()
		}
		after := memStats()
		perBare = float64(int64(after.HeapInuse+after.StackInuse)-int64(before.HeapInuse+before.StackInuse)) / float64(n)
		goroutinesBare = float64(runtime.NumGoroutine()-g0) / float64(n)
		cancel()
		for _, c := range conns {
			c.CloseNow()
		}
		for range n {
			<-done
		}
		waitFor(b, func() bool { return csms.ConnectedCount() == 0 })

		// The fleet.
		spec, err := Simple(n, fmt.Sprintf("M%d-", i))
		if err != nil {
			b.Fatal(err)
		}
		spec.Ramp.Rate = 2000
		perCP, goroutinesCP = idleFleet(b, csms, Options{CSMSURL: url, Spec: spec})

		// The same fleet over OCPP 2.0.1.
		spec, err = Simple(n, fmt.Sprintf("N%d-", i))
		if err != nil {
			b.Fatal(err)
		}
		spec.Ramp.Rate = 2000
		spec.Groups[0].OCPP = Versions{csmstest.OCPP201}
		per201, goroutines201 = idleFleet(b, csms, Options{CSMSURL: url, Spec: spec})
	}
	b.ReportMetric(perCP/1024, "KiB/charger")
	b.ReportMetric(perBare/1024, "KiB/bare-conn")
	b.ReportMetric(perCP/perBare, "ratio")
	b.ReportMetric(goroutinesCP, "goroutines/charger")
	b.ReportMetric(goroutinesBare, "goroutines/bare-conn")
	b.ReportMetric(per201/1024, "KiB/charger-2.0.1")
	b.ReportMetric(per201/perCP, "ratio-2.0.1/1.6")
	b.ReportMetric(goroutines201, "goroutines/charger-2.0.1")
}

// BenchmarkIdleFleetMemoryProfile3 is BenchmarkIdleFleetMemory over
// TLS: the memory of an idle charge point at security profile 0 over
// wss:// (no client certificate) and at profile 3 (its own key and
// certificate), each against a central system of its own.
func BenchmarkIdleFleetMemoryProfile3(b *testing.B) {
	n := envInt("EVSE_FLEET_BENCH_N", 1000)
	ca, err := csmstest.NewCA("bench CA", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := ca.Save(dir); err != nil {
		b.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	var perWSS, perP3, goroutinesWSS, goroutinesP3 float64
	for i := 0; b.Loop(); i++ {
		for _, profile := range []int{0, 3} {
			csms := csmstest.New(csmstest.Options{Forget: true})
			url, err := csms.ListenTLS("127.0.0.1:0", ca, csmstest.TLSOptions{ClientCerts: profile == 3})
			if err != nil {
				b.Fatal(err)
			}
			spec := Spec{Ramp: Ramp{Rate: 2000}, Groups: []Group{{Name: "g", Count: n, ID: fmt.Sprintf("P%d-%d-{n:05}", profile, i)}}}
			if profile == 3 {
				spec.Groups[0].Security = Security{Profile: 3, CA: dir}
			}
			if err := spec.check(""); err != nil {
				b.Fatal(err)
			}
			per, goroutines := idleFleet(b, csms, Options{CSMSURL: url, Spec: spec, CAFile: caFile})
			if profile == 3 {
				perP3, goroutinesP3 = per, goroutines
			} else {
				perWSS, goroutinesWSS = per, goroutines
			}
			csms.Close()
		}
	}
	b.ReportMetric(perWSS/1024, "KiB/charger-wss")
	b.ReportMetric(perP3/1024, "KiB/charger-profile3")
	b.ReportMetric(goroutinesWSS, "goroutines/charger-wss")
	b.ReportMetric(goroutinesP3, "goroutines/charger-profile3")
}

// idleFleet runs the fleet of opts against csms until every charge point
// is accepted and idle, and returns the memory (heap and stacks, in
// bytes) and the goroutines each costs, the central system's side of its
// connection included. opts.DataDir is a temporary directory.
func idleFleet(b *testing.B, csms *csmstest.Server, opts Options) (perCP, goroutinesCP float64) {
	n := len(opts.Spec.members(Shard{}))
	g0 := runtime.NumGoroutine()
	before := memStats()
	opts.DataDir = b.TempDir()
	f, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	fctx, fcancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- f.Run(fctx) }()
	waitFor(b, func() bool { return f.Progress().States[StateAccepted] == n })
	time.Sleep(time.Second) // the boot's statuses, answered
	after := memStats()
	if path := os.Getenv("EVSE_FLEET_HEAPPROFILE"); path != "" {
		writeHeapProfile(b, path)
	}
	perCP = float64(int64(after.HeapInuse+after.StackInuse)-int64(before.HeapInuse+before.StackInuse)) / float64(n)
	goroutinesCP = float64(runtime.NumGoroutine()-g0) / float64(n)
	fcancel()
	if err := <-ran; err != nil {
		b.Fatal(err)
	}
	waitFor(b, func() bool { return csms.ConnectedCount() == 0 })
	return perCP, goroutinesCP
}

func memStats() runtime.MemStats {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m
}

// waitFor polls cond for up to 2 minutes.
func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(2 * time.Minute); !cond(); {
		if time.Now().After(deadline) {
			tb.Fatal("condition not met within 2 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeHeapProfile writes the heap as it is now (to see what a charge
// point holds: EVSE_FLEET_HEAPPROFILE=FILE, with -memprofilerate 512).
func writeHeapProfile(tb testing.TB, path string) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		tb.Fatal(err)
	}
}
