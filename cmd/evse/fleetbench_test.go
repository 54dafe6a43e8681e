package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkFleetOfTheBinary runs `evse csms` and `evse fleet --count N`
// as two processes on loopback (N from EVSE_FLEET_BENCH_N, default
// 10000; EVSE_FLEET_BENCH_OCPP, the versions they offer, default 1.6)
// and reports:
//   - boot-s: from the fleet's start to every charge point Accepted, at
//     the ramp EVSE_FLEET_BENCH_RAMP (default 1000 a second);
//   - idle-cpu-%: the fleet process's CPU, in % of one core, over
//     EVSE_FLEET_BENCH_IDLE (default 30s) of idling with the appendix's
//     defaults (heartbeat 240 s, WebSocket ping 60 s);
//   - rss-KiB/charger: the fleet process's resident memory per charge
//     point when idle;
//   - disconnects: links that ended while idling (a ping timeout, say):
//     it must be 0.
//
// The two processes get the file-descriptor limit of this one (20000
// here): past about 19,000 charge points each side runs out.
func BenchmarkFleetOfTheBinary(b *testing.B) {
	n := envInt("EVSE_FLEET_BENCH_N", 10000)
	rate := envInt("EVSE_FLEET_BENCH_RAMP", 1000)
	idle := 30 * time.Second
	if d, err := time.ParseDuration(os.Getenv("EVSE_FLEET_BENCH_IDLE")); err == nil {
		idle = d
	}
	var bootS, cpu, rss, disconnects float64
	for b.Loop() {
		csms := exec.Command(evseBin, "csms", "--listen", "127.0.0.1:0", "--every", "1h")
		csmsOut, err := csms.StderrPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := csms.Start(); err != nil {
			b.Fatal(err)
		}
		url := firstLineWith(b, csmsOut, "listening at ", func(s string) string { return strings.TrimSuffix(strings.Fields(s)[0], "/<id>") })
		start := time.Now()
		args := []string{"fleet", "--csms", url, "--count", strconv.Itoa(n), "--data", b.TempDir(),
			"--listen", "127.0.0.1:0", "--ramp", strconv.Itoa(rate)}
		if v := os.Getenv("EVSE_FLEET_BENCH_OCPP"); v != "" {
			args = append(args, "--ocpp", v)
		}
		fleet := exec.Command(evseBin, args...)
		fleetOut, err := fleet.StderrPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := fleet.Start(); err != nil {
			b.Fatal(err)
		}
		api := firstLineWith(b, fleetOut, "API and /metrics on ", func(s string) string { return strings.Fields(s)[0] })
		go drain(fleetOut)
		for {
			var p struct {
				States map[string]int `json:"states"`
			}
			fetchJSON(b, api+"/api/v1/fleet", &p)
			if p.States["accepted"] == n {
				break
			}
			if time.Since(start) > 10*time.Minute {
				b.Fatalf("not all accepted after 10 minutes: %v", p.States)
			}
			time.Sleep(100 * time.Millisecond)
		}
		bootS = time.Since(start).Seconds()
		time.Sleep(5 * time.Second) // the boots' statuses
		var before struct {
			Disconnects int `json:"disconnects"`
		}
		fetchJSON(b, api+"/api/v1/report", &before)
		t0, c0 := time.Now(), cpuTime(b, fleet.Process.Pid)
		time.Sleep(idle)
		cpu = float64(cpuTime(b, fleet.Process.Pid)-c0) / float64(time.Since(t0)) * 100
		rss = float64(vmRSS(b, fleet.Process.Pid)) / float64(n)
		var after struct {
			Disconnects int            `json:"disconnects"`
			States      map[string]int `json:"states"`
		}
		fetchJSON(b, api+"/api/v1/report", &after)
		disconnects = float64(after.Disconnects - before.Disconnects)
		if after.States["accepted"] != n {
			b.Errorf("after idling: %v", after.States)
		}
		fleet.Process.Signal(syscall.SIGINT)
		fleet.Wait()
		csms.Process.Signal(syscall.SIGINT)
		csms.Wait()
	}
	b.ReportMetric(bootS, "boot-s")
	b.ReportMetric(cpu, "idle-cpu-%")
	b.ReportMetric(rss, "rss-KiB/charger")
	b.ReportMetric(disconnects, "disconnects")
}

// firstLineWith reads r until a line holds marker and returns what
// follows it, through get.
func firstLineWith(b *testing.B, r interface{ Read([]byte) (int, error) }, marker string, get func(string) string) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), marker); ok {
			return get(rest)
		}
	}
	b.Fatalf("no line with %q", marker)
	return ""
}

func drain(r interface{ Read([]byte) (int, error) }) {
	buf := make([]byte, 4096)
	for {
		if _, err := r.Read(buf); err != nil {
			return
		}
	}
}

func fetchJSON(b *testing.B, url string, v any) {
	if !strings.HasPrefix(url, "http") {
		url = "http://" + url
	}
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		b.Fatal(err)
	}
}

// cpuTime is a process's user and system CPU time so far.
func cpuTime(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	// The fields after the command's closing parenthesis: utime is the
	// 12th, stime the 13th of those (14 and 15 of the line).
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func envInt(name string, d int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return d
}
