package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// fsyncDelay is how long the slow disk takes for each fdatasync and fsync.
const fsyncDelay = time.Second

// slowDisk returns the command that runs a program with every fdatasync
// and fsync delayed by d (strace's fault injection; bbolt commits with
// fdatasync on Linux), or skips the test where strace is missing or may
// not trace.
func slowDisk(t *testing.T, d time.Duration) []string {
	t.Helper()
	path, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed: no slow disk to run on")
	}
	us := strconv.FormatInt(d.Microseconds(), 10)
	cmd := []string{path, "-f", "--seccomp-bpf", "-qq", "-e", "trace=fdatasync,fsync",
		"-e", "inject=fdatasync:delay_enter=" + us, "-e", "inject=fsync:delay_enter=" + us, "-o", "/dev/null"}
	if out, err := exec.Command(path, "-f", "-qq", "-o", "/dev/null", "true").CombinedOutput(); err != nil {
		t.Skipf("strace cannot trace here (is ptrace permitted?): %v: %s", err, out)
	}
	if out, err := exec.Command(cmd[0], append(cmd[1:], "true")...).CombinedOutput(); err != nil {
		t.Skipf("this strace cannot delay syscalls (%s): %v: %s", strings.Join(cmd, " "), err, out)
	}
	return cmd
}

// startEVSEUnder starts the binary with args under the command wrap (nil:
// directly), in a process group of its own. The test's cleanup kills the
// binary, then the wrapper, and logs their output when the test failed.
func startEVSEUnder(t *testing.T, wrap []string, args ...string) *process {
	t.Helper()
	if wrap == nil {
		return startEVSE(t, args...)
	}
	argv := append(append(append([]string{}, wrap[1:]...), evseBin), args...)
	p := &process{t: t, cmd: exec.Command(wrap[0], argv...), out: &syncBuffer{}, errOut: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.errOut
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		// The binary first: strace reaps it and exits, and nothing is
		// left to whoever adopts orphans.
		for _, pid := range children(p.cmd.Process.Pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) // the group
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s evse %s\nstdout:\n%s\nstderr:\n%s", wrap[0], strings.Join(args, " "), p.out, p.errOut)
		}
	})
	return p
}

// put sends a PUT to the local API. It is apiDo for a goroutine that
// may outlive the process: it reports what went wrong instead of failing
// the test.
func put(url, body string) error {
	req, err := http.NewRequest("PUT", url, strings.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT %s: %s %s", url, resp.Status, raw)
	}
	return nil
}

// children returns the process ids of pid's children.
func children(pid int) []int {
	files, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var out []int
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(raw)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// hardware returns connector 1's hardware state from the local API,
// which reads the hardware alone (not the charging core, whose answers
// wait for the store).
func hardware(t *testing.T, base string) (offered float64, contactor bool) {
	t.Helper()
	code, s := apiDo(t, "GET", base+"/connectors/1", "")
	if code != 200 {
		t.Fatalf("reading the hardware: %d %v", code, s)
	}
	offered, _ = s["offeredA"].(float64)
	contactor, _ = s["contactorClosed"].(bool)
	return offered, contactor
}

// TestAFaultCutsTheCurrentAtOnceOnASlowDisk runs the binary on a disk
// whose every fdatasync takes a second, and on a normal one: a connector
// fault in a charging session opens the contactor and drops the offer
// within milliseconds, while a write is under way, since the hardware is
// driven before the records are written. On the slow disk, what waits
// for a write (a configuration change, the StopTransaction) is still
// waiting a second later, so the disk was slow indeed; on the normal one
// the StopTransaction follows with reason Other.
func TestAFaultCutsTheCurrentAtOnceOnASlowDisk(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		slow bool
	}{
		{name: "normal disk"},
		{name: "slow disk", slow: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var wrap []string
			if tc.slow {
				wrap = slowDisk(t, fsyncDelay)
			}
			id := "CP-DISK-" + strings.ReplaceAll(tc.name, " ", "-")
			s, url := newCSMS(t, csmstest.Options{})
			defer noViolations(t, s)
			began := time.Now()
			p := startEVSEUnder(t, wrap, runArgs(url, id, t.TempDir())...)
			// On the slow disk a start takes some ten writes.
			base := p.apiURL(t) + "/api/v1"
			waitCall(t, s, 0, id, "StatusNotification", 20*time.Second)
			if code, body := apiDo(t, "POST", base+"/connectors/1/plug", `{"phases":3,"maxCurrent":32,"capacityWh":80000}`); code != 200 {
				t.Fatalf("plug: %d %v", code, body)
			}
			if code, _ := apiDo(t, "POST", base+"/rfid", `{"idTag":"CARD-1"}`); code != 202 {
				t.Fatalf("rfid: %d", code)
			}
			start := waitCall(t, s, 0, id, "StartTransaction", 20*time.Second)
			deadline := time.Now().Add(10 * time.Second)
			for {
				offered, contactor := hardware(t, base)
				if offered > 0 && contactor {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not charging: offer %v A, contactor closed %v", offered, contactor)
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Logf("charging %v after the start", time.Since(began).Round(time.Millisecond))

			// A configuration change, a write to the disk; while it is
			// under way, the fault, then the hardware read as fast as the
			// API answers.
			changed := make(chan error, 1)
			go func() { changed <- put(base+"/config/GetConfigurationMaxKeys", `{"value":"20"}`) }()
			time.Sleep(200 * time.Millisecond) // the change reaches the disk
			faulted := time.Now()
			if code, body := apiDo(t, "POST", base+"/connectors/1/fault", `{"errorCode":"GroundFailure"}`); code != 200 {
				t.Fatalf("fault: %d %v", code, body)
			}
			var cut time.Duration
			reads := 0
			for {
				offered, contactor := hardware(t, base)
				reads++
				if offered == 0 && !contactor {
					cut = time.Since(faulted)
					break
				}
				if time.Since(faulted) > 5*time.Second {
					t.Fatalf("the current is not cut 5 s after the fault: offer %v A, contactor closed %v", offered, contactor)
				}
			}
			writing := len(changed) == 0
			t.Logf("fault to current cut: %v (%d reads; the configuration change under way: %v)",
				cut.Round(100*time.Microsecond), reads, writing)
			if cut > 300*time.Millisecond {
				t.Errorf("the current was cut %v after the fault, want within 300 ms", cut)
			}

			if tc.slow {
				// The disk is slow indeed: what waits for a write waits
				// its fdatasync. The configuration change, under way when
				// the current was cut, has not returned, nor has the
				// StopTransaction left (on a normal disk it leaves within
				// the 200 ms between two transaction messages).
				slow := fsyncDelay * 9 / 10
				time.Sleep(time.Until(faulted.Add(slow)))
				if !writing || len(changed) > 0 {
					t.Errorf("a configuration change returned within %v: the disk is not slow", slow)
				}
				if slices.ContainsFunc(s.Records()[start.Seq:], csmstest.IsCall(id, "StopTransaction")) {
					t.Errorf("the StopTransaction left within %v of the fault: its record did not wait for the disk", slow)
				}
				return // the rest of the session takes a second a write
			}
			if err := <-changed; err != nil {
				t.Error(err)
			}
			stop := waitCall(t, s, start.Seq, id, "StopTransaction", 10*time.Second)
			t.Logf("fault to StopTransaction: %v", stop.Time.Sub(faulted).Round(time.Millisecond))
			if !strings.Contains(string(stop.Frame.Payload), `"reason":"Other"`) {
				t.Errorf("StopTransaction %s, want reason Other", stop.Frame.Payload)
			}
		})
	}
}
