package fleet

import (
	"context"
	"fmt"
	"os"
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
// Both include the central system's side of each connection.
// EVSE_FLEET_BENCH_N sets the count (default 1000).
func BenchmarkIdleFleetMemory(b *testing.B) {
	n := envInt("EVSE_FLEET_BENCH_N", 1000)
	csms := csmstest.New(csmstest.Options{Forget: true})
	url, err := csms.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer csms.Close()
	var perCP, perBare, goroutinesCP, goroutinesBare float64
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
		g0 = runtime.NumGoroutine()
		before = memStats()
		spec, err := Simple(n, fmt.Sprintf("M%d-", i))
		if err != nil {
			b.Fatal(err)
		}
		spec.Ramp.Rate = 2000
		f, err := New(Options{CSMSURL: url, Spec: spec, DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		fctx, fcancel := context.WithCancel(context.Background())
		ran := make(chan error, 1)
		go func() { ran <- f.Run(fctx) }()
		waitFor(b, func() bool { return f.Progress().States[StateAccepted] == n })
		time.Sleep(time.Second) // the boot's statuses, answered
		after = memStats()
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
	}
	b.ReportMetric(perCP/1024, "KiB/charger")
	b.ReportMetric(perBare/1024, "KiB/bare-conn")
	b.ReportMetric(perCP/perBare, "ratio")
	b.ReportMetric(goroutinesCP, "goroutines/charger")
	b.ReportMetric(goroutinesBare, "goroutines/bare-conn")
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
