package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/evse-dev/evse/internal/csmstest"
)

// chromium finds the browser the page tests drive: Debian's chromium
// (.ci/run installs it), or $EVSE_CHROMIUM.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("EVSE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("SKIP: no chromium to test the pages in (apt-get install chromium; .ci/run does)")
	return ""
}

// newBrowser starts a headless Chromium for the test and returns its
// tab; the test's cleanup stops it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 1600),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // start it
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// browse runs browser steps within 30 s, failing the test with what was
// asked.
func browse(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// read runs one browser action that returns a value, within 30 s.
func read[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// waitText polls an element until its text holds want.
func waitText(t *testing.T, ctx context.Context, sel, want string) string {
	t.Helper()
	var s string
	for deadline := time.Now().Add(20 * time.Second); ; {
		// The element may be between two swaps: not found is tried again.
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		got, err := chromedp.Run(rctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if err == nil {
			s = got
		}
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q does not hold %q within 20 s", sel, s, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestThePageChangesAKeyThatIsKeptAfterARestart edits a key in the
// charger's page in Chromium: a refused value shows its reason next to
// the field and changes nothing; a good one is saved, and the page of the
// restarted charge point shows it.
func TestThePageChangesAKeyThatIsKeptAfterARestart(t *testing.T) {
	ctx := newBrowser(t)
	_, url := newCSMS(t, csmstest.Options{})
	dir := t.TempDir()
	p := startEVSE(t, runArgs(url, "CP-PAGE", dir)...)
	base := p.apiURL(t)
	browse(t, ctx, "open the page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("v-MeterValueSampleInterval")))

	browse(t, ctx, "type a refused value", chromedp.SetValue(chromedp.ID("v-MeterValueSampleInterval"), "-5"),
		chromedp.Click(chromedp.CSS("#key-MeterValueSampleInterval button")))
	reason := waitText(t, ctx, "#m-MeterValueSampleInterval", "invalid value")
	t.Logf("refused: %s", reason)
	if code, v := apiDo(t, "GET", base+"/api/v1/config/MeterValueSampleInterval", ""); code != 200 || v["value"] != "60" {
		t.Errorf("after a refused value the key is %v (%d), want 60", v["value"], code)
	}

	browse(t, ctx, "type a good value", chromedp.SetValue(chromedp.ID("v-MeterValueSampleInterval"), "30"),
		chromedp.Click(chromedp.CSS("#key-MeterValueSampleInterval button")))
	waitText(t, ctx, "#m-MeterValueSampleInterval", "saved")

	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p = startEVSE(t, runArgs(url, "CP-PAGE", dir)...)
	base = p.apiURL(t)
	browse(t, ctx, "open the restarted charge point's page", chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("v-MeterValueSampleInterval")))
	value := read(t, ctx, "the value", chromedp.Value(chromedp.ID("v-MeterValueSampleInterval")))
	if value != "30" {
		t.Errorf("after a restart the page shows MeterValueSampleInterval %q, want 30", value)
	}
	p.stop(syscall.SIGTERM)
}

// TestACarPluggedThroughThePageChargesLive plugs a car in and presents a
// card through the page: the session appears in the status without a
// reload, and the chart gets new points as the car draws.
func TestACarPluggedThroughThePageChargesLive(t *testing.T) {
	ctx := newBrowser(t)
	_, url := newCSMS(t, csmstest.Options{})
	p := startEVSE(t, runArgs(url, "CP-LIVE", t.TempDir())...)
	base := p.apiURL(t)
	browse(t, ctx, "open the page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("plug-1")))
	waitText(t, ctx, "#registration", "Accepted")
	if kb := pageWeight(t, ctx, "the charger's page") / 1024; kb > 200 {
		t.Errorf("the charger's page weighs %d KB, want at most 200", kb)
	}
	points := func() int {
		a := read(t, ctx, "chart points", chromedp.AttributeValue(chromedp.ID("chart-box"), "data-points"))
		n, _ := strconv.Atoi(a.Value)
		return n
	}
	before := points()
	browse(t, ctx, "plug a car in", chromedp.SetValue(chromedp.ID("max-1"), "16"), chromedp.Click(chromedp.ID("plug-1")))
	waitText(t, ctx, "#hw-result", "plug done")
	browse(t, ctx, "present a card", chromedp.SetValue(chromedp.ID("tag"), "CARD-1"), chromedp.Click(chromedp.ID("present")))
	waitText(t, ctx, "#conn-1 .session", "CARD-1")
	waitText(t, ctx, "#conn-1 .state", "Charging")
	for deadline := time.Now().Add(20 * time.Second); points() < before+3; {
		if time.Now().After(deadline) {
			t.Fatalf("the chart has %d points after 20 s of charging, had %d", points(), before)
		}
		time.Sleep(200 * time.Millisecond)
	}
	drawn := read(t, ctx, "the chart's last L1", chromedp.Evaluate[float64](`(function(){var d=window.evseChart.data[1];return d[d.length-1]})()`))
	if drawn < 15 || drawn > 16.01 {
		t.Errorf("the chart's last L1 point is %g A, want the car's 16 A", drawn)
	}
	if os.Getenv("EVSE_UPDATE_DOCS") != "" {
		read(t, ctx, "to the top", chromedp.Evaluate[any](`window.scrollTo(0, 0)`))
		png := read(t, ctx, "screenshot", chromedp.CaptureScreenshot())
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "page-charger.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p.stop(syscall.SIGTERM)
}

// fleetAPI waits for evse fleet to print its API's address.
func (p *process) fleetAPI(t *testing.T) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, rest, ok := strings.Cut(p.errOut.String(), "API and /metrics on "); ok {
			return strings.Fields(rest)[0]
		}
	}
	t.Fatal("evse fleet did not tell its API's address")
	return ""
}

// TestTheFleetDashboardFindsTheFaultedChargers runs a fleet of 1,000 and,
// in its dashboard in Chromium, cuts the power of a share through the
// fault controls, filters the table to them, and opens one's own page.
func TestTheFleetDashboardFindsTheFaultedChargers(t *testing.T) {
	ctx := newBrowser(t)
	_, url := newCSMS(t, csmstest.Options{Forget: true})
	p := startEVSE(t, "fleet", "--csms", url, "--count", "1000", "--ramp", "2000", "--data", t.TempDir(), "--listen", "127.0.0.1:0")
	base := p.fleetAPI(t)
	browse(t, ctx, "open the dashboard", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("fault-apply")))
	waitText(t, ctx, "#total-accepted", "1000")
	if kb := pageWeight(t, ctx, "the fleet dashboard") / 1024; kb > 200 {
		t.Errorf("the fleet dashboard weighs %d KB, want at most 200", kb)
	}
	browse(t, ctx, "cut the power of 2 %", chromedp.SetValue(chromedp.ID("fault-kind"), "power-cut"),
		chromedp.SetValue(chromedp.ID("fault-share"), "0.02"), chromedp.SetValue(chromedp.ID("fault-for"), "10m"),
		chromedp.Click(chromedp.ID("fault-apply")))
	result := waitText(t, ctx, "#fault-result", "charge points hit")
	var hit int
	if _, err := firstNumber(result, &hit); err != nil || hit == 0 {
		t.Fatalf("fault result %q", result)
	}
	waitText(t, ctx, "#total-power-off", strconv.Itoa(hit))
	browse(t, ctx, "filter by state", chromedp.SetValue(chromedp.ID("f-state"), "power-off"),
		chromedp.Click(chromedp.CSS("#filters button")))
	count := waitText(t, ctx, "#table-count", "of "+strconv.Itoa(hit))
	rows := read(t, ctx, "rows", chromedp.Evaluate[int](`document.querySelectorAll("#chargers tbody tr").length`))
	states := read(t, ctx, "states", chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#chargers tbody tr td:nth-child(3)")).map(e => e.textContent).join(",")`))
	t.Logf("%d hit; the table: %s, %d rows", hit, count, rows)
	if rows != min(hit, 50) || strings.Count(states, "power-off") != rows {
		t.Errorf("the filtered table has %d rows (%s), want %d power-off ones", rows, states, min(hit, 50))
	}
	// Follow the first row's link (read, then opened: a click could land
	// on a row the filter's second swap replaces).
	href := read(t, ctx, "the first row's link", chromedp.Evaluate[string](`document.querySelector("#chargers tbody tr a").getAttribute("href")`))
	browse(t, ctx, "open a charger's page", chromedp.Navigate(base+href), chromedp.WaitVisible(chromedp.ID("status-live")))
	waitText(t, ctx, "#status-live", "not running") // no power
	if os.Getenv("EVSE_UPDATE_DOCS") != "" {
		browse(t, ctx, "back", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("chargers")))
		png := read(t, ctx, "screenshot", chromedp.CaptureScreenshot())
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "page-fleet.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p.stop(syscall.SIGINT)
}

// firstNumber reads the first number of a text.
func firstNumber(s string, n *int) (int, error) {
	fields := strings.Fields(strings.ReplaceAll(s, ":", " "))
	for _, f := range fields {
		if v, err := strconv.Atoi(f); err == nil {
			*n = v
			return 1, nil
		}
	}
	return 0, os.ErrNotExist
}

// TestTheSiteReportOpensFromAFile writes the report of the docs' example
// day (with the day without load management) and opens it from the disk
// in Chromium, with no server: three charts of the day, the events, a
// row per car, and the cursor showing a car's draw and state.
func TestTheSiteReportOpensFromAFile(t *testing.T) {
	ctx := newBrowser(t)
	dir := t.TempDir()
	report := filepath.Join(dir, "day.html")
	out, errOut, code := runEVSE(t, "site", "--scenario", "../../docs/site-example.json", "--trace", filepath.Join(dir, "day.jsonl"),
		"--report", report, "--compare")
	if code != 0 {
		t.Fatalf("evse site: exit %d\n%s\n%s", code, out, errOut)
	}
	browse(t, ctx, "open the report", chromedp.Navigate("file://"+report), chromedp.WaitVisible(chromedp.ID("cars")))
	charts := read(t, ctx, "charts", chromedp.Evaluate[int](`window.evseReport.length`))
	pageWeight(t, ctx, "the site report of the docs' example day")
	points := read(t, ctx, "points", chromedp.Evaluate[int](`window.evseReport[0].data[0].length`))
	cars := read(t, ctx, "cars", chromedp.Evaluate[int](`document.querySelectorAll("#cars tbody tr").length`))
	events := read(t, ctx, "events", chromedp.Evaluate[int](`document.querySelectorAll("#events li").length`))
	t.Logf("%d charts of %d instants, %d cars, %d events", charts, points, cars, events)
	if charts != 3 || points < 10 || cars == 0 || events == 0 {
		t.Errorf("the report shows %d charts of %d instants, %d cars, %d events", charts, points, cars, events)
	}
	// Hover the middle of L1's chart: the legend tells each car's draw
	// and state.
	legend := read(t, ctx, "hover", chromedp.Evaluate[string](`(function(){var u=window.evseReport[0];
		u.setCursor({left: u.bbox.width/devicePixelRatio/2, top: 20});
		return u.root.querySelector(".u-legend").textContent})()`))
	if !strings.Contains(legend, " A (") {
		t.Errorf("the legend under the cursor shows no car's draw and state: %q", legend)
	}
	if os.Getenv("EVSE_UPDATE_DOCS") != "" {
		png := read(t, ctx, "screenshot", chromedp.CaptureScreenshot())
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "page-site-report.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// pageWeight logs what the open page weighs (the document and every
// resource it loaded, as transferred, or as decoded from a file) and when
// it first rendered, and returns the weight in bytes.
func pageWeight(t *testing.T, ctx context.Context, name string) int {
	t.Helper()
	type weight struct {
		Bytes int     `json:"bytes"`
		FCP   float64 `json:"fcp"`
	}
	w := read(t, ctx, "weight", chromedp.Evaluate[weight](`(function(){
		var n = performance.getEntriesByType("navigation")[0], b = (n.transferSize || n.decodedBodySize);
		performance.getEntriesByType("resource").forEach(function(r){ b += (r.transferSize || r.decodedBodySize); });
		var p = performance.getEntriesByName("first-contentful-paint")[0];
		return {bytes: b, fcp: p ? p.startTime : -1};
	})()`))
	t.Logf("%s: %.0f KB, first contentful paint after %.0f ms", name, float64(w.Bytes)/1024, w.FCP)
	return w.Bytes
}

// TestAMastersPageChartsItsSite: the page of a DLM master shows what it
// offered and had available on each grid phase over time.
func TestAMastersPageChartsItsSite(t *testing.T) {
	ctx := newBrowser(t)
	_, url := newCSMS(t, csmstest.Options{})
	dir := t.TempDir()
	configure(t, dir, "DlmMode=2", "DlmSiteKey=0123456789abcdef0123", "DlmPort="+strconv.Itoa(freePort(t)))
	p := startEVSE(t, runArgs(url, "CP-MASTER", dir)...)
	base := p.apiURL(t)
	browse(t, ctx, "open the page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("chart-box")))
	waitText(t, ctx, "#dlm-state", "Master")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		n := read(t, ctx, "site chart", chromedp.Evaluate[int](`window.evseSiteChart ? window.evseSiteChart.data[0].length : 0`))
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the master's page charts %d instants of its site after 20 s", n)
		}
	}
	available := read(t, ctx, "available", chromedp.Evaluate[float64](`(function(){var d=window.evseSiteChart.data[4];return d[d.length-1]})()`))
	if available <= 0 {
		t.Errorf("the site chart shows %g A available on L1", available)
	}
	p.stop(syscall.SIGTERM)
}

// TestADisplayMessageShowsLiveOnThePage: a message the central system
// sets over 2.0.1 appears on the open page, as the charger's display,
// without a reload; its markup is text, not elements of the page.
func TestADisplayMessageShowsLiveOnThePage(t *testing.T) {
	ctx := newBrowser(t)
	s, url := newCSMS(t, csmstest.Options{Subprotocols: []string{csmstest.OCPP201}})
	p := startEVSE(t, runArgs(url, "CP-DISPLAY", t.TempDir(), "--ocpp", "2.0.1")...)
	defer p.stop(syscall.SIGTERM)
	base := p.apiURL(t)
	waitCall(t, s, 0, "CP-DISPLAY", "BootNotification", 10*time.Second)
	browse(t, ctx, "open the page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("display-none")))
	set := `{"message":{"id":7,"priority":"AlwaysFront",` +
		`"message":{"format":"UTF8","content":"Closed <b>at 22:00</b><img src=x onerror=\"document.title='hacked'\">"}}}`
	if a := mustCall(t, s, "CP-DISPLAY", "SetDisplayMessage", set); a["status"] != "Accepted" {
		t.Fatalf("SetDisplayMessage: %v", a)
	}
	waitText(t, ctx, "#display-7", "Closed <b>at 22:00</b><img")
	elements := read(t, ctx, "elements in the message", chromedp.Evaluate[int](`document.querySelectorAll("#display-7 *").length`))
	title := read(t, ctx, "the title", chromedp.Evaluate[string](`document.title`))
	if elements != 0 || strings.Contains(title, "hacked") {
		t.Errorf("the message's markup became the page's: %d elements in it, title %q", elements, title)
	}
}
