package main

import (
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/model"
)

func TestConfigSetAndGetAsInstaller(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, errOut, code := runEVSE(t, "config", "set", "--data", dir,
		"NumberOfConnectors=2", "ConnectorPhaseRotationMaxLength=2", "ConnectorPhaseRotation=1.RST,2.STR",
		"DlmInput1CurrOffsetPhase1=-6", "FreeChargingMode=with ocpp full any rfid")
	if code != 0 {
		t.Fatalf("config set: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"NumberOfConnectors=2\n", "ConnectorPhaseRotation=1.RST,2.STR\n",
		"DlmInput1CurrOffset Phase1=-6\n", "FreeChargingMode=5\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("config set output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runEVSE(t, "config", "set", "--data", dir, "DlmMode=1")
	if code != 0 || !strings.Contains(out, "DlmMode=1 (takes effect at the next start)") {
		t.Errorf("reboot key: exit %d, %s", code, out)
	}
	out, _, code = runEVSE(t, "config", "get", "--data", dir, "NumberOfConnectors", "dlminput1curroffset phase1", "HeartBeatInterval")
	if code != 0 || out != "NumberOfConnectors=2\nDlmInput1CurrOffset Phase1=-6\nHeartBeatInterval=240\n" {
		t.Errorf("config get: exit %d:\n%s", code, out)
	}
	all, _, _ := runEVSE(t, "config", "get", "--data", dir)
	if n, want := strings.Count(all, "\n"), catalogueSize(t); n != want {
		t.Errorf("config get lists %d keys, the catalogue has %d", n, want)
	}

	// A bad value: exit 1, a clear message, nothing changed (not even
	// the good pair before it).
	before, _, _ := runEVSE(t, "config", "get", "--data", dir)
	_, errOut, code = runEVSE(t, "config", "set", "--data", dir, "ConnectionTimeOut=60", "DlmOperatorPhase1Limit=17")
	if code != 1 || !strings.Contains(errOut, "DlmOperatorPhase1Limit") || !strings.Contains(errOut, "above DlmPhase1Limit") {
		t.Errorf("bad value: exit %d: %s", code, errOut)
	}
	for _, bad := range [][]string{{"NoSuchKey=1"}, {"DlmState=x"}, {"HeartbeatInterval"}, {"HeartbeatInterval=5"}} {
		_, errOut, code = runEVSE(t, append([]string{"config", "set", "--data", dir}, bad...)...)
		if code != 1 || errOut == "" {
			t.Errorf("config set %v: exit %d, stderr %q", bad, code, errOut)
		}
	}
	after, _, _ := runEVSE(t, "config", "get", "--data", dir)
	if before != after {
		t.Errorf("refused config set changed the store")
	}
	_, errOut, code = runEVSE(t, "config", "get", "--data", filepath.Join(dir, "typo"))
	if code != 1 || !strings.Contains(errOut, "no store") {
		t.Errorf("get from a missing store: exit %d: %s", code, errOut)
	}
	_, errOut, code = runEVSE(t, "config", "get", "--data", dir, "NoSuchKey")
	if code != 1 || !strings.Contains(errOut, "unknown configuration key") {
		t.Errorf("get unknown key: exit %d: %s", code, errOut)
	}
}

func TestConfigRefusesAStoreInUse(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	dir := t.TempDir()
	p := startEVSE(t, runArgs(url, "CP-LOCK", dir)...)
	waitCall(t, s, 0, "CP-LOCK", "BootNotification", 10*time.Second)
	_, errOut, code := runEVSE(t, "config", "get", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "in use") || !strings.Contains(errOut, "stop it first") {
		t.Errorf("config get on a running charge point: exit %d: %s", code, errOut)
	}
	p.stop(syscall.SIGTERM)
	if _, errOut, code = runEVSE(t, "config", "get", "--data", dir, "DlmState"); code != 0 {
		t.Errorf("config get after stop: exit %d: %s", code, errOut)
	}
}

const testKey = "00112233445566778899aabbccddeeff"

func TestRunSecurityProfile1SendsBasicAuth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, errOut, code := runEVSE(t, "config", "set", "--data", dir, "AuthorizationKey="+testKey, "SecurityProfile=1"); code != 0 {
		t.Fatal(errOut)
	}
	password := []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	s, url := newCSMS(t, csmstest.Options{Passwords: map[string][]byte{"CP-AUTH": password}})
	startEVSE(t, runArgs(url, "CP-AUTH", dir)...)
	waitCall(t, s, 0, "CP-AUTH", "BootNotification", 10*time.Second)

	// The wrong password: refused with a clear log line, nothing sent.
	dir2 := t.TempDir()
	runEVSE(t, "config", "set", "--data", dir2, "AuthorizationKey=ffeeddccbbaa99887766554433221100", "SecurityProfile=1")
	s2, url2 := newCSMS(t, csmstest.Options{Passwords: map[string][]byte{"CP-AUTH": password}})
	p2 := startEVSE(t, runArgs(url2, "CP-AUTH", dir2)...)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p2.errOut.String(), "refused the credentials") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(p2.errOut.String(), "refused the credentials") {
		t.Error("no clear error for a refused password")
	}
	if len(s2.Records()) != 0 {
		t.Error("frames exchanged without the right password")
	}

	// Profile 1 without a key cannot be set.
	_, errOut, code := runEVSE(t, "config", "set", "--data", t.TempDir(), "SecurityProfile=1")
	if code != 1 || !strings.Contains(errOut, "needs an AuthorizationKey") {
		t.Errorf("profile 1 without a key: exit %d: %s", code, errOut)
	}
}

func TestRunSecurityProfile2OverTLSWithAGivenCA(t *testing.T) {
	t.Parallel()
	password := []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	csms := csmstest.New(csmstest.Options{Passwords: map[string][]byte{"CP-TLS": password}})
	srv := httptest.NewUnstartedServer(csms)
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(func() { csms.Close(); srv.Close() })
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	wss := "wss" + strings.TrimPrefix(srv.URL, "https") + "/ocpp"

	dir := t.TempDir()
	if _, errOut, code := runEVSE(t, "config", "set", "--data", dir, "AuthorizationKey="+testKey, "SecurityProfile=2"); code != 0 {
		t.Fatal(errOut)
	}
	startEVSE(t, runArgs(wss, "CP-TLS", dir, "--ca", ca)...)
	waitCall(t, csms, 0, "CP-TLS", "BootNotification", 10*time.Second)

	// Profile 2 refuses a ws:// URL.
	dir2 := t.TempDir()
	runEVSE(t, "config", "set", "--data", dir2, "AuthorizationKey="+testKey, "SecurityProfile=2")
	_, errOut, code := runEVSE(t, runArgs("ws://127.0.0.1:1/ocpp", "CP-TLS", dir2)...)
	if code != 1 || !strings.Contains(errOut, "TLS is required") {
		t.Errorf("profile 2 with ws://: exit %d: %s", code, errOut)
	}
}

func TestDemoShowsTheConfigurationTour(t *testing.T) {
	t.Parallel()
	p := startEVSE(t, "demo")
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(p.out.String(), "# done;") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	out := p.out.String()
	for _, want := range []string{
		`CP→CSMS CALL       BootNotification`,
		`CSMS→CP CALLRESULT BootNotification             {"status":"Accepted"`,
		`OccurenceConstraintViolation`,
		`{"unknownKey":["NoSuchKey"]}`,
		`{"status":"Rejected"}`,
		`{"status":"NotSupported"}`,
		`{"status":"RebootRequired"}`,
		`CSMS→CP CALL       SetChargingProfile`,
		`# done;`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	composite := false
	for _, line := range strings.Split(out, "\n") {
		composite = composite || strings.Contains(line, "CALLRESULT GetCompositeSchedule") && strings.Contains(line, `"limit":10`)
	}
	if !composite {
		t.Error("demo output lacks a composite schedule of 10 A")
	}
	if strings.Contains(out, "schema violation") {
		t.Error("demo shows a schema violation")
	}
	// Another charge point on the demo's central system: its frames say
	// whose they are.
	m := regexp.MustCompile(`central system at (ws://\S+),`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the demo does not print its central system's URL:\n%s", out)
	}
	other := startEVSE(t, runArgs(m[1], "OTHER-CP", t.TempDir())...)
	for !strings.Contains(p.out.String(), "OTHER-CP→CSMS CALL       BootNotification") && time.Now().Before(deadline.Add(10*time.Second)) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(p.out.String(), "OTHER-CP→CSMS CALL       BootNotification") || !strings.Contains(p.out.String(), "CSMS→OTHER-CP CALLRESULT BootNotification") {
		t.Error("the demo prints another charge point's frames without its id")
	}
	other.stop(syscall.SIGTERM)
	if err := p.stop(syscall.SIGINT); err != nil {
		t.Errorf("demo exit after Ctrl-C: %v", err)
	}
}

// TestDemoSiteSharesTheSite runs evse demo --site until three cars share
// the site: a third of 32 A each on the grid phase they all load, and the
// one-phase car counted on its grid phase only; over OCPP 1.6 and 2.0.1.
func TestDemoSiteSharesTheSite(t *testing.T) {
	t.Parallel()
	for _, version := range []string{"1.6", "2.0.1"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			demoSiteShares(t, version)
		})
	}
}

// demoSiteShares is TestDemoSiteSharesTheSite over one OCPP version.
func demoSiteShares(t *testing.T, version string) {
	p := startEVSE(t, "demo", "--site", "--ocpp", version)
	deadline := time.Now().Add(60 * time.Second)
	// S2's one-phase car is wired to grid L2, which carries all three.
	want := "3 charging, 0 waiting; L1 21.2/32.0 A, L2 31.8/32.0 A, L3 21.2/32.0 A"
	for !strings.Contains(p.out.String(), want) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	out := p.out.String()
	if !strings.Contains(out, want) {
		t.Fatalf("no line %q in:\n%s", want, out)
	}
	if !strings.Contains(out, "SITE-S2 Charging      offered 10.6 A") {
		t.Errorf("the slave's car is not offered its share")
	}
	if err := p.stop(syscall.SIGINT); err != nil {
		t.Errorf("exit after Ctrl-C: %v", err)
	}
}

// TestSiteCommandWritesTraceAndPlotAndFlagsAnOverload runs evse site on
// the documented example (clean: exit 0, a trace, an SVG) and on a site
// whose standalone master charges a car outside DLM (over the limit:
// exit 3 and the times named).
func TestSiteCommandWritesTraceAndPlotAndFlagsAnOverload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	trace, plot := filepath.Join(dir, "day.jsonl"), filepath.Join(dir, "day.svg")
	out, errOut, code := runEVSE(t, "site", "--scenario", "../../docs/site-example.json", "--trace", trace, "--plot", plot)
	if code != 0 || !strings.Contains(out, "no phase over what was available") {
		t.Fatalf("example: exit %d\n%s%s", code, out, errOut)
	}
	if b, err := os.ReadFile(plot); err != nil || !strings.HasPrefix(string(b), "<svg") {
		t.Errorf("plot: %v, %.20q", err, b)
	}
	if b, err := os.ReadFile(trace); err != nil || strings.Count(string(b), "\n") < 10 {
		t.Errorf("trace: %v, %d lines", err, strings.Count(string(b), "\n"))
	}
	over := filepath.Join(dir, "over.json")
	os.WriteFile(over, []byte(`{"duration":"10m","chargers":[{"id":"M","mode":2},{"id":"S","mode":4}],
		"events":[{"at":"1s","charger":"M","connector":1,"plug":{}},{"at":"2s","charger":"S","connector":1,"plug":{}}]}`), 0o644)
	out, errOut, code = runEVSE(t, "site", "--scenario", over, "--trace", filepath.Join(dir, "over.jsonl"))
	if code != 3 || !strings.Contains(out, "OVER LIMIT: L1 offered over what is available") {
		t.Fatalf("overload: exit %d, want 3\n%s%s", code, out, errOut)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"duration":"10m","chargers":[{"id":"S","mode":3}]}`), 0o644)
	if _, errOut, code = runEVSE(t, "site", "--scenario", bad, "--trace", filepath.Join(dir, "bad.jsonl")); code != 1 || !strings.Contains(errOut, "slaves without a master") {
		t.Fatalf("bad scenario: exit %d: %s", code, errOut)
	}
}

// TestTheTraceNeverShowsASecret: evse run --trace prints every frame, but
// the value of a write-only key set over OCPP (AuthorizationKey,
// DlmSiteKey, in any case) is shown as [secret], in the trace and in the
// logs.
func TestTheTraceNeverShowsASecret(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	p := startEVSE(t, append(runArgs(url, "CP-SECRET", t.TempDir()), "--trace")...)
	waitCall(t, s, 0, "CP-SECRET", "BootNotification", 10*time.Second)
	const key, siteKey = "0123456789abcdef0123456789abcdef", "a-long-enough-site-secret-42"
	mustCall(t, s, "CP-SECRET", "ChangeConfiguration", `{"key":"AuthorizationKey","value":"`+key+`"}`)
	mustCall(t, s, "CP-SECRET", "ChangeConfiguration", `{"key":"dlmsitekey","value":"`+siteKey+`"}`)
	mustCall(t, s, "CP-SECRET", "ChangeConfiguration", `{"key":"HeartbeatInterval","value":"77"}`)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.out.String(), `"77"`) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	out := p.out.String() + p.errOut.String()
	if !strings.Contains(out, `"77"`) {
		t.Fatalf("the trace does not show the frames:\n%s", out)
	}
	for _, secret := range []string{key, siteKey} {
		if strings.Contains(out, secret) {
			t.Errorf("the output shows the secret %q:\n%s", secret, out)
		}
	}
	if strings.Count(p.out.String(), "[secret]") < 2 {
		t.Errorf("the secrets are not shown as [secret]:\n%s", p.out.String())
	}
}

// TestConfigSetSaysWhatItDid: clearing DlmSiteKey says so (it does not
// claim it is set), a short site key is refused, and lowering a phase
// limit names the operator limit it lowered with it.
func TestConfigSetSaysWhatItDid(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, errOut, code := runEVSE(t, "config", "set", "--data", dir, "DlmSiteKey=0123456789abcdef-site")
	if code != 0 || !strings.Contains(out, "DlmSiteKey=(set, write-only)") {
		t.Errorf("setting the site key: %q %s", out, errOut)
	}
	out, errOut, code = runEVSE(t, "config", "set", "--data", dir, "DlmSiteKey=")
	if code != 0 || !strings.Contains(out, "DlmSiteKey=(cleared)") {
		t.Errorf("clearing the site key: %q %s", out, errOut)
	}
	if _, errOut, code = runEVSE(t, "config", "set", "--data", dir, "DlmSiteKey=abc"); code == 0 || !strings.Contains(errOut, "16 characters") {
		t.Errorf("a three-character site key: exit %d, %s", code, errOut)
	}
	runEVSE(t, "config", "set", "--data", dir, "DlmPhase1Limit=32", "DlmOperatorPhase1Limit=32")
	out, errOut, code = runEVSE(t, "config", "set", "--data", dir, "DlmPhase1Limit=20")
	if code != 0 || !strings.Contains(out, "DlmOperatorPhase1Limit=20 (changed with DlmPhase1Limit)") {
		t.Errorf("lowering DlmPhase1Limit: %q %s", out, errOut)
	}
}

// TestABadCentralSystemURLIsRefusedAtOnce: a URL evse cannot use is
// refused before anything starts or is made, saying what a URL looks like
// (it was retried for ever, or reported by the URL parser).
func TestABadCentralSystemURLIsRefusedAtOnce(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ url, want string }{
		{"127.0.0.1:9", "want ws://host:port/path"},
		{"ws://127.0.0.1:99999/ocpp", "port 99999 is not 1 to 65535"},
		{"http://127.0.0.1:9/ocpp", "want ws://host:port/path"},
		{"ws:///ocpp", "no host"},
	} {
		dir := filepath.Join(t.TempDir(), "data")
		_, errOut, code := runEVSE(t, "run", "--csms", c.url, "--id", "CP", "--data", dir, "--listen", "off")
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("--csms %s: exit %d, %q, want %q", c.url, code, errOut, c.want)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("--csms %s: the data directory was made", c.url)
		}
	}
}

// TestTheSiteDocsSampleIsCurrent: docs/site.md shows what its command
// prints (but the time it took), and docs/site-example.svg is the plot that
// command draws. EVSE_UPDATE_DOCS=1 rewrites the picture.
func TestTheSiteDocsSampleIsCurrent(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/site.md")
	if err != nil {
		t.Fatal(err)
	}
	// The command and its output are the first two code blocks.
	blocks := strings.Split(string(doc), "```")
	if len(blocks) < 4 {
		t.Fatal("docs/site.md has no command and output blocks")
	}
	command := strings.Fields(strings.TrimPrefix(strings.TrimSpace(blocks[1]), "sh"))
	if len(command) < 4 || command[0] != "go" || command[2] != "./cmd/evse" {
		t.Fatalf("docs/site.md's command: %v", command)
	}
	dir := t.TempDir()
	var args []string
	for _, a := range command[3:] {
		switch {
		case strings.HasPrefix(a, "docs/"):
			a = "../../" + a
		case strings.HasPrefix(a, "/tmp/"):
			a = filepath.Join(dir, filepath.Base(a))
		}
		args = append(args, a)
	}
	out, errOut, code := runEVSE(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errOut)
	}
	took := regexp.MustCompile(` in [0-9.]+[mµn]?s;`)
	normalize := func(s string) string {
		s = strings.ReplaceAll(s, dir+"/", "/tmp/")
		return strings.TrimSpace(took.ReplaceAllString(s, " in …;"))
	}
	if got, want := normalize(out), normalize(blocks[3]); got != want {
		t.Errorf("docs/site.md shows\n%s\nthe command prints\n%s", want, got)
	}
	plot, err := os.ReadFile(filepath.Join(dir, "day.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("EVSE_UPDATE_DOCS") != "" {
		if err := os.WriteFile("../../docs/site-example.svg", plot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if kept, _ := os.ReadFile("../../docs/site-example.svg"); string(kept) != string(plot) {
		t.Error("docs/site-example.svg is not the plot the example draws: EVSE_UPDATE_DOCS=1 go test -run SiteDocsSample ./cmd/evse")
	}
}

// TestSiteWithoutLoadManagementAndCompared: a site of chargers without
// DLM has no limit to keep: evse site gives its peaks and exits 0 (it
// printed OVER LIMIT and exited 3); --compare runs a DLM site's day also
// without, and gives both.
func TestSiteWithoutLoadManagementAndCompared(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.json")
	os.WriteFile(plain, []byte(`{"duration":"2h","chargers":[{"id":"A","mode":0},{"id":"B","mode":0}],
		"events":[{"at":"1m","charger":"A","connector":1,"plug":{}},{"at":"2m","charger":"B","connector":1,"plug":{}}]}`), 0o600)
	out, errOut, code := runEVSE(t, "site", "--scenario", plain, "--trace", filepath.Join(dir, "t.jsonl"))
	if code != 0 || !strings.Contains(out, "no load management on this site") || !strings.Contains(out, "peak L1 64.0 A") || strings.Contains(out, "OVER LIMIT") {
		t.Errorf("a site without DLM: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runEVSE(t, "site", "--scenario", "../../docs/site-example.json", "--trace", filepath.Join(dir, "c.jsonl"),
		"--plot", filepath.Join(dir, "c.svg"), "--compare")
	if code != 0 || !strings.Contains(out, "without load management: ") || !strings.Contains(out, "with load management: peak L1 32.0 A") {
		t.Errorf("--compare: exit %d\n%s%s", code, out, errOut)
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "c.svg"))
	if !strings.Contains(string(svg), "drawn without load management (red)") || !strings.Contains(string(svg), "the meter fails") {
		t.Error("the compared plot lacks the day without or the events")
	}
}

// TestSiteStopsOnCtrlCAndChecksItsOutputsFirst: a month of many chargers
// stops within seconds of SIGINT; an output path that cannot be written
// fails before the simulation.
func TestSiteStopsOnCtrlCAndChecksItsOutputsFirst(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(`{"duration":"720h","chargers":[{"id":"M","mode":1}`)
	for i := range 200 {
		fmt.Fprintf(&b, `,{"id":"S%d","mode":4}`, i)
	}
	b.WriteString(`],"events":[`)
	for i := range 200 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"at":"%dm","charger":"S%d","connector":1,"plug":{"capacityWh":1000000}}`, i+1, i)
	}
	b.WriteString(`]}`)
	long := filepath.Join(dir, "long.json")
	os.WriteFile(long, []byte(b.String()), 0o600)
	began := time.Now()
	_, errOut, code := runEVSE(t, "site", "--scenario", long, "--trace", filepath.Join(dir, "t.jsonl"), "--plot", "/nonexistent/dir/p.svg")
	if code == 0 || !strings.Contains(errOut, "/nonexistent/dir/p.svg") || time.Since(began) > 5*time.Second {
		t.Errorf("a plot path that cannot be written: exit %d after %v: %s", code, time.Since(began), errOut)
	}
	p := startEVSE(t, "site", "--scenario", long, "--trace", filepath.Join(dir, "t.jsonl"))
	time.Sleep(2 * time.Second)
	began = time.Now()
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("evse site still runs 10 s after Ctrl-C")
	}
	t.Logf("stopped %v after Ctrl-C", time.Since(began).Round(time.Millisecond))
	if !strings.Contains(p.errOut.String(), "stopped at") {
		t.Errorf("it does not say where it stopped: %s", p.errOut.String())
	}
}

// catalogueSize is the number of keys of the neutral unit's catalogue.
func catalogueSize(t *testing.T) int {
	t.Helper()
	cat, err := config.NewCatalogue(model.Default().ConfigDefaults())
	if err != nil {
		t.Fatal(err)
	}
	return len(cat.Keys())
}
