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
		png := read(t, ctx, "screenshot", chromedp.FullScreenshot(80))
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "page-charger.jpg"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p.stop(syscall.SIGTERM)
}
