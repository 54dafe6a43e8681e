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
func vmRSS(b testing.TB, pid int) int {
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

// BenchmarkDLMLatency runs a master and one slave as real evse processes
// on loopback and reports, as medians over the iterations: ready-ms, from
// plugging a car into the slave (the local API's answer) to the slave
// offering it current, which includes the free-charging session's start;
// and limit-ms, from the master's answer to a ChangeConfiguration of the
// operator limits to the slave offering the new share. Both are seen by
// polling the slave's local API every 2 ms, which adds up to that much.
func BenchmarkDLMLatency(b *testing.B) {
	s, url := newCSMS(b, csmstest.Options{})
	_, site := startSite(b, url, 1, "DlmPhase1Limit=32", "DlmPhase2Limit=32", "DlmPhase3Limit=32",
		"DlmOperatorPhase1Limit=32", "DlmOperatorPhase2Limit=32", "DlmOperatorPhase3Limit=32")
	m, slave := site[0], site[1]
	wait := func(what string, cond func(float64) bool) time.Duration {
		start := time.Now()
		for time.Since(start) < 20*time.Second {
			if a, _ := slave.offered(b); cond(a) {
				return time.Since(start)
			}
			time.Sleep(2 * time.Millisecond)
		}
		b.Fatalf("%s: not within 20 s", what)
		return 0
	}
	waitOffers(b, site, 15*time.Second, "slave online", func([]float64) bool {
		_, st := m.offered(b)
		return strings.Contains(st, "1 slaves online")
	})
	var ready, limit []time.Duration
	setLimit := func(a int) {
		for p := 1; p <= 3; p++ {
			if _, err := csmsCall(b, s, "DLM-M", "ChangeConfiguration", fmt.Sprintf(`{"key":"DlmOperatorPhase%dLimit","value":"%d"}`, p, a)); err != nil {
				b.Fatal(err)
			}
		}
	}
	i := 0
	for b.Loop() {
		apiDo(b, "POST", slave.base+"/connectors/1/plug", `{"phases":3,"maxCurrent":32}`)
		ready = append(ready, wait("current offered", func(a float64) bool { return a >= 6 }))
		want := []float64{20, 32}[i%2]
		wait("settled", func(a float64) bool { return a == 32 })
		setLimit(int(want))
		if want == 32 {
			setLimit(20)
			wait("lowered", func(a float64) bool { return a == 20 })
			setLimit(32)
		}
		limit = append(limit, wait("limit followed", func(a float64) bool { return a == want }))
		setLimit(32)
		apiDo(b, "POST", slave.base+"/connectors/1/unplug", "")
		wait("unplugged", func(a float64) bool { return a == 0 })
		i++
	}
	b.ReportMetric(float64(median(ready).Microseconds())/1000, "ready-ms")
	b.ReportMetric(float64(median(limit).Microseconds())/1000, "limit-ms")
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}

// BenchmarkLocalListRSS installs a local list of LocalAuthListMaxLength
// (1,000,000) entries in a running evse, by SendLocalList over OCPP (one
// Full and 22 Differential updates of 45,000), and reports the process's
// resident memory before and after (aim: under 64 MB more).
func BenchmarkLocalListRSS(b *testing.B) {
	for b.Loop() {
		s, url := newCSMS(b, csmstest.Options{})
		dir := b.TempDir()
		if out, errOut, code := runEVSE(b, "config", "set", "--data", dir, "LocalAuthListEnabled=true"); code != 0 {
			b.Fatalf("config set: %s%s", out, errOut)
		}
		p := startEVSE(b, runArgs(url, "CP-LIST", dir)...)
		waitCall(b, s, 0, "CP-LIST", "StatusNotification", 10*time.Second)
		time.Sleep(500 * time.Millisecond)
		before := vmRSS(b, p.cmd.Process.Pid)
		const size, chunk = 1_000_000, 45_000
		for first, v := 0, 1; first < size; first, v = first+chunk, v+1 {
			kind := "Differential"
			if first == 0 {
				kind = "Full"
			}
			var sb strings.Builder
			fmt.Fprintf(&sb, `{"listVersion":%d,"updateType":%q,"localAuthorizationList":[`, v, kind)
			for i := first; i < min(first+chunk, size); i++ {
				if i > first {
					sb.WriteByte(',')
				}
				fmt.Fprintf(&sb, `{"idTag":"TAG%016d","idTagInfo":{"status":"Accepted"}}`, i)
			}
			sb.WriteString("]}")
			answer, err := csmsCall(b, s, "CP-LIST", "SendLocalList", sb.String())
			if err != nil || answer["status"] != "Accepted" {
				b.Fatalf("SendLocalList %d: %v, %v", v, answer, err)
			}
		}
		if v, err := csmsCall(b, s, "CP-LIST", "GetLocalListVersion", `{}`); err != nil || v["listVersion"] != float64(23) {
			b.Fatalf("GetLocalListVersion: %v, %v", v, err)
		}
		time.Sleep(time.Second)
		after := vmRSS(b, p.cmd.Process.Pid)
		b.ReportMetric(float64(before)/1024, "rss-empty-MiB")
		b.ReportMetric(float64(after)/1024, "rss-1M-MiB")
		b.ReportMetric(float64(after-before)/1024, "more-MiB")
		p.stop(syscall.SIGTERM)
	}
}

// BenchmarkGetCompositeSchedule255 asks the real binary for a day's
// composite schedule over 255 stacked TxDefaultProfiles (the appendix's
// ChargeProfileMaxStackLevel and MaxChargingProfilesInstalled) of 24
// periods each, over the WebSocket, in OCPP 1.6 and in 2.0.1 (one
// composite-schedule engine serves both). baseline-ms is the same
// request over one profile, measured in the same run.
func BenchmarkGetCompositeSchedule255(b *testing.B) {
	day := time.Now().Truncate(time.Hour)
	// A version's SetChargingProfile of a profile, its request of the
	// schedule, and its profile of a stack level.
	type version struct {
		name, ocpp string
		set        func(prof string) string
		ask        string
		profile    func(id, level int, validTo string, periods []string) string
	}
	for _, v := range []version{
		{name: "1.6", ocpp: "1.6",
			set: func(prof string) string { return fmt.Sprintf(`{"connectorId":1,"csChargingProfiles":%s}`, prof) },
			ask: `{"connectorId":1,"duration":86400}`,
			profile: func(id, level int, validTo string, periods []string) string {
				return chargingProfile(id, level, "TxDefaultProfile", day, fmt.Sprintf(`"validTo":%q,`, validTo), periods...)
			}},
		{name: "2.0.1", ocpp: "2.0.1",
			set: func(prof string) string { return fmt.Sprintf(`{"evseId":1,"chargingProfile":%s}`, prof) },
			ask: `{"evseId":1,"duration":86400}`,
			profile: func(id, level int, validTo string, periods []string) string {
				var ps []string
				for _, p := range periods {
					at, limit, _ := strings.Cut(p, ":")
					ps = append(ps, fmt.Sprintf(`{"startPeriod":%s,"limit":%s}`, at, limit))
				}
				return fmt.Sprintf(`{"id":%d,"stackLevel":%d,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute","validTo":%q,`+
					`"chargingSchedule":[{"id":%d,"startSchedule":%q,"chargingRateUnit":"A","chargingSchedulePeriod":[%s]}]}`,
					id, level, validTo, id, day.UTC().Format(time.RFC3339), strings.Join(ps, ","))
			}},
	} {
		b.Run(v.name, func(b *testing.B) {
			opts := csmstest.Options{}
			if v.ocpp == "2.0.1" {
				opts.Subprotocols = []string{csmstest.OCPP201}
			}
			s, url := newCSMS(b, opts)
			p := startEVSE(b, runArgs(url, "CP-CS", b.TempDir(), "--ocpp", v.ocpp)...)
			defer p.stop(syscall.SIGTERM)
			waitCall(b, s, 0, "CP-CS", "StatusNotification", 10*time.Second)
			install := func(level int) {
				var periods []string
				for h := range 24 {
					periods = append(periods, fmt.Sprintf("%d:%d", h*3600+level, 6+(level+h)%26))
				}
				// The higher levels end earlier, so that every level
				// decides somewhere in the day.
				validTo := day.Add(time.Duration(12+level%12) * time.Hour).UTC().Format(time.RFC3339)
				a := mustCall(b, s, "CP-CS", "SetChargingProfile", v.set(v.profile(level+1, level, validTo, periods)))
				if a["status"] != "Accepted" {
					b.Fatalf("profile %d: %v", level, a)
				}
			}
			ask := func() time.Duration {
				start := time.Now()
				a := mustCall(b, s, "CP-CS", "GetCompositeSchedule", v.ask)
				if a["status"] != "Accepted" {
					b.Fatalf("GetCompositeSchedule: %v", a)
				}
				return time.Since(start)
			}
			install(0)
			var base time.Duration
			for range 20 {
				base += ask()
			}
			for level := 1; level < 255; level++ {
				install(level)
			}
			for b.Loop() {
				ask()
			}
			b.ReportMetric(float64(base.Microseconds())/20/1000, "baseline-ms")
		})
	}
}

// vmHWM reads a process's peak resident set size in KiB.
func vmHWM(b testing.TB, pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.Fields(rest)[0])
			return n
		}
	}
	b.Fatal("no VmHWM")
	return 0
}

// hostileFrame is a CALL whose payload is an array of n bytes of small
// numbers, `[0,0,0,…]`: valid JSON, the wrong type, and the worst case of
// a validator that builds the payload in memory.
func hostileFrame(id string, n int) []byte {
	f := make([]byte, 0, n+64)
	f = append(f, `[2,"`+id+`","DataTransfer",[0`...)
	for len(f) < n-4 {
		f = append(f, ",0"...)
	}
	return append(f, "]]"...)
}

// BenchmarkHostileFramePeakRSS sends the real evse run frames of
// `[0,0,0,…]` (one, then a burst of 20) and reports its peak resident
// memory above its idle peak, in MiB and in frames: what a hostile central
// system can make it hold.
func BenchmarkHostileFramePeakRSS(b *testing.B) {
	for _, size := range []int{1 << 20, 4 << 20, 8 << 20} {
		for _, burst := range []int{1, 20} {
			b.Run(fmt.Sprintf("%dMiB-x%d", size>>20, burst), func(b *testing.B) {
				var extra float64
				for b.Loop() {
					csms := csmstest.New(csmstest.Options{})
					url, err := csms.Listen("127.0.0.1:0")
					if err != nil {
						b.Fatal(err)
					}
					cmd := exec.Command(evseBin, runArgs(url, "CP-HOSTILE", b.TempDir())...)
					if err := cmd.Start(); err != nil {
						b.Fatal(err)
					}
					ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
					_, err = csms.WaitFor(ctx, 0, func(r csmstest.Record) bool {
						return r.Dir == csmstest.ToChargePoint && r.Frame.Action == "StatusNotification"
					})
					if err == nil {
						time.Sleep(300 * time.Millisecond)
					}
					base := vmHWM(b, cmd.Process.Pid)
					for i := 0; err == nil && i < burst; i++ {
						err = csms.SendRaw(ctx, "CP-HOSTILE", hostileFrame(fmt.Sprint("h", i), size))
					}
					if err == nil {
						last := fmt.Sprint("h", burst-1)
						_, err = csms.WaitFor(ctx, 0, func(r csmstest.Record) bool {
							return r.Dir == csmstest.FromChargePoint && r.Frame.ID == last
						})
					}
					cancel()
					peak := vmHWM(b, cmd.Process.Pid)
					cmd.Process.Signal(syscall.SIGTERM)
					cmd.Wait()
					csms.Close()
					if err != nil {
						b.Fatal(err)
					}
					extra = float64(peak-base) / 1024
				}
				b.ReportMetric(extra, "peak-extra-MiB")
				b.ReportMetric(extra/float64(size>>20), "frames")
			})
		}
	}
}
