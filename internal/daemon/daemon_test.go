package daemon

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// BenchmarkIdleChargePoints runs charge points in one process against the
// test central system and reports the memory one idle, connected,
// registered charge point costs (heap and goroutine stacks, including the
// central system's side of its connection, which lives in this process
// too).
func BenchmarkIdleChargePoints(b *testing.B) {
	const n = 100
	csms := csmstest.New(csmstest.Options{})
	url, err := csms.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer csms.Close()
	var heap, stack float64
	for i := 0; b.Loop(); i++ {
		before := memStats()
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		mark := len(csms.Records())
		for j := range n {
			id := fmt.Sprintf("CP-%d-%d", i, j)
			dir := b.TempDir()
			wg.Go(func() {
				if err := Run(ctx, Options{CSMSURL: url, ID: id, DataDir: dir}); err != nil {
					b.Error(err)
				}
			})
		}
		wctx, wcancel := context.WithTimeout(ctx, time.Minute)
		for j := range n {
			id := fmt.Sprintf("CP-%d-%d", i, j)
			_, err := csms.WaitFor(wctx, mark, func(r csmstest.Record) bool {
				return r.ChargePoint == id && r.Dir == csmstest.ToChargePoint && r.Frame.Action == "StatusNotification"
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		wcancel()
		after := memStats()
		heap = float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / n
		stack = float64(int64(after.StackInuse)-int64(before.StackInuse)) / n
		cancel()
		wg.Wait()
	}
	b.ReportMetric(heap/1024, "heap-KiB/cp")
	b.ReportMetric(stack/1024, "stack-KiB/cp")
}

func memStats() runtime.MemStats {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m
}

// TestRunStopsAndLeavesNothingRunning runs a charge point in process until
// it has registered, stops it, and checks that Run returns and (through
// TestMain) that no goroutine is left.
func TestRunStopsAndLeavesNothingRunning(t *testing.T) {
	csms := csmstest.New(csmstest.Options{})
	url, err := csms.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer csms.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{CSMSURL: url, ID: "CP-D", DataDir: t.TempDir()}) }()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if _, err := csms.WaitFor(wctx, 0, csmstest.IsCall("CP-D", "StatusNotification")); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestRunRefusesAnIncompleteSetup(t *testing.T) {
	for _, o := range []Options{
		{ID: "CP", DataDir: t.TempDir()},
		{CSMSURL: "ws://127.0.0.1:1", DataDir: t.TempDir()},
		{CSMSURL: "ws://127.0.0.1:1", ID: "CP"},
		{CSMSURL: "http://127.0.0.1:1", ID: "CP", DataDir: t.TempDir()},
		{CSMSURL: "ws://127.0.0.1:1", ID: "CP", DataDir: t.TempDir(), CAFile: "/nonexistent.pem"},
	} {
		if err := Run(context.Background(), o); err == nil {
			t.Errorf("Run(%+v) started", o)
		}
	}
}
