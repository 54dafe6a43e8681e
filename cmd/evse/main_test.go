package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/leakcheck"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// evseBin is the evse binary the integration tests run, built once.
var evseBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "evse-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	evseBin = filepath.Join(dir, "evse")
	build := exec.Command("go", "build", "-o", evseBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building evse:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if leaks := leakcheck.Wait(5 * time.Second); code == 0 && len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "%d goroutines leaked:\n\n%s\n", len(leaks), strings.Join(leaks, "\n\n"))
		code = 1
	}
	os.Exit(code)
}

// process is a running evse binary.
type process struct {
	t      testing.TB
	cmd    *exec.Cmd
	out    *syncBuffer // stdout
	errOut *syncBuffer // stderr
	done   chan struct{}
	err    error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startEVSE starts the binary with args; the test's cleanup kills it if it
// is still running and logs its output when the test failed.
func startEVSE(t testing.TB, args ...string) *process {
	t.Helper()
	return startEVSEWith(t, nil, args...)
}

// startEVSEWith starts the binary with env added to the test's
// environment.
func startEVSEWith(t testing.TB, env []string, args ...string) *process {
	t.Helper()
	p := &process{t: t, cmd: exec.Command(evseBin, args...), out: &syncBuffer{}, errOut: &syncBuffer{}, done: make(chan struct{})}
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.errOut
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("evse %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), p.out, p.errOut)
		}
	})
	return p
}

// stop sends sig and waits for the process to exit, failing after 10 s.
func (p *process) stop(sig os.Signal) error {
	p.t.Helper()
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return p.err
	case <-time.After(10 * time.Second):
		p.t.Fatalf("evse did not exit within 10 s of %v", sig)
		return nil
	}
}

// runEVSE runs the binary to completion (at most a minute) and returns its
// output and exit code.
func runEVSE(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, evseBin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// newCSMS starts a test central system on loopback.
// mustRunEVSE runs the binary to its end and returns its standard output,
// failing on a non-zero exit.
func mustRunEVSE(t testing.TB, args ...string) string {
	t.Helper()
	out, errOut, code := runEVSE(t, args...)
	if code != 0 {
		t.Fatalf("evse %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// writeFileIn writes a file of dir and returns its path.
func writeFileIn(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newCA makes a test CA valid for an hour.
func newCA(t testing.TB, name string) *csmstest.CA {
	t.Helper()
	ca, err := csmstest.NewCA(name, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func newCSMS(t testing.TB, opts csmstest.Options) (*csmstest.Server, string) {
	t.Helper()
	s := csmstest.New(opts)
	url, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, url
}

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitCall waits for a CALL of action from cp recorded at or after from.
func waitCall(t testing.TB, s *csmstest.Server, from int, cp, action string, d time.Duration) csmstest.Record {
	t.Helper()
	r, err := s.WaitFor(ctxFor(t, d), from, csmstest.IsCall(cp, action))
	if err != nil {
		t.Fatalf("no %s from %s: %v", action, cp, err)
	}
	return r
}

// csmsCall sends a CALL and returns the answer payload decoded into a map.
func csmsCall(t testing.TB, s *csmstest.Server, cp, action, payload string) (map[string]any, error) {
	t.Helper()
	raw, err := s.Call(ctxFor(t, 10*time.Second), cp, action, json.RawMessage(payload))
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s answer %s: %v", action, raw, err)
	}
	return out, nil
}

// noViolations fails the test if the charge point sent anything that breaks
// the OCPP 1.6 schemas.
func noViolations(t testing.TB, s *csmstest.Server) {
	t.Helper()
	for _, r := range s.Records() {
		if r.Dir == csmstest.FromChargePoint && r.Invalid != "" {
			t.Errorf("charge point sent an invalid frame %s: %s", r.Raw, r.Invalid)
		}
	}
}

func callErrorCode(err error) rpc.ErrorCode {
	if e, ok := err.(*rpc.Error); ok {
		return e.Code
	}
	return ""
}

// apiURL waits for the process to log its local API address and returns
// the API's base URL.
func (p *process) apiURL(t testing.TB) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(p.errOut.String(), "\n") {
			if !strings.Contains(line, `msg="local API listening"`) {
				continue
			}
			if _, addr, ok := strings.Cut(line, "addr="); ok {
				return "http://" + strings.Fields(addr)[0]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the local API did not start")
	return ""
}

// apiDo sends a request to the local API and decodes the JSON answer.
func apiDo(t testing.TB, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// waitAPIStatus polls the local API's status until cond holds, failing
// the test with what after d.
func waitAPIStatus(t testing.TB, base string, d time.Duration, what string, cond func(st map[string]any) bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		_, st := apiDo(t, "GET", base+"/status", "")
		if cond(st) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; status %v", what, d, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Conditions on a status for waitAPIStatus.
func disconnected(st map[string]any) bool { return st["connected"] == false }
func drained(st map[string]any) bool      { return st["journal"] == float64(0) && st["connected"] == true }
