package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// BenchmarkIdleRunRSS starts the real evse run binary, waits until it has
// registered and reported its statuses, and reports its resident memory
// (VmRSS from /proc) while idle.
func BenchmarkIdleRunRSS(b *testing.B) {
	var rss float64
	for b.Loop() {
		csms := csmstest.New(csmstest.Options{})
		url, err := csms.Listen("127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(evseBin, runArgs(url, "CP-RSS", b.TempDir())...)
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = csms.WaitFor(ctx, 0, func(r csmstest.Record) bool {
			return r.Dir == csmstest.ToChargePoint && r.Frame.Action == "StatusNotification"
		})
		cancel()
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			b.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond) // let start-up settle
		rss = float64(vmRSS(b, cmd.Process.Pid))
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		csms.Close()
	}
	b.ReportMetric(rss/1024, "rss-MiB")
}

// vmRSS reads a process's resident set size in KiB.
func vmRSS(b *testing.B, pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(rest)[0])
			return n
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
