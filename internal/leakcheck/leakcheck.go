// Package leakcheck finds goroutines a test binary left behind. Use it from
// TestMain:
//
//	func TestMain(m *testing.M) { leakcheck.Main(m) }
//
// After the tests pass, it waits up to five seconds for every goroutine
// running evse's code, the WebSocket library, HTTP, TLS, bbolt or the
// network poller to end, and fails the binary with their stacks if any is
// left.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// marks are what a leaked goroutine's stack contains.
var marks = []string{"github.com/evse-dev/evse/", "coder/websocket", "net/http.", "crypto/tls.", "internal/poll.", "go.etcd.io/bbolt"}

// Main runs the tests, then the check, and exits.
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaks := Wait(5 * time.Second); len(leaks) > 0 {
			fmt.Fprintf(os.Stderr, "leakcheck: %d goroutines leaked:\n\n%s\n", len(leaks), strings.Join(leaks, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// Wait returns the stacks of the goroutines still running evse's or its
// I/O libraries' code after giving them up to d to end.
func Wait(d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		leaks := Leaked()
		if len(leaks) == 0 || time.Now().After(deadline) {
			return leaks
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Leaked returns the stacks of the goroutines running evse's or its I/O
// libraries' code now, but the caller's and the test framework's.
func Leaked() []string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var leaks []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "internal/leakcheck.Leaked") || strings.Contains(g, "testing.(*M).") ||
			strings.Contains(g, "testing.tRunner") || strings.Contains(g, "TestMain") {
			continue
		}
		for _, mark := range marks {
			if strings.Contains(g, mark) {
				leaks = append(leaks, g)
				break
			}
		}
	}
	return leaks
}
