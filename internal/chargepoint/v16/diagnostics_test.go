package v16

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// fakeDiagnostics keeps what is uploaded, after failing a number of times.
type fakeDiagnostics struct {
	mu       sync.Mutex
	fails    int
	from, to time.Time
	name     string
	data     []byte
	tries    int
}

func (f *fakeDiagnostics) Logs(from, to time.Time) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.from, f.to = from, to
	return []byte(`{"msg":"a log line"}` + "\n")
}

func (f *fakeDiagnostics) Upload(ctx context.Context, location, name string, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries++
	if f.fails > 0 {
		f.fails--
		return errors.New("503")
	}
	f.name, f.data = name, data
	return nil
}

func diagStatuses(t *testing.T, csms *fakeCSMS) string {
	var out []string
	for _, c := range csms.sent("DiagnosticsStatusNotification") {
		out = append(out, string(decode[ocpp16.DiagnosticsStatusNotificationRequest](t, c).Status))
	}
	return strings.Join(out, " ")
}

// files lists an archive's files and their contents.
func files(t *testing.T, data []byte) map[string]string {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = string(b)
	}
}

func TestGetDiagnosticsUploadsAnArchiveWithRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		d := &fakeDiagnostics{fails: 1}
		r := startRig(t, csms, nil, &kv.Mem{}, func(o *Options) { o.Diagnostics = d })
		defer r.stop()
		synctest.Wait()
		r.settings.Set("AuthorizationKey", "00112233445566778899aabbccddeeff", 1)
		out, err := call(t, r.cp, "GetDiagnostics", `{"location":"http://up/","retries":2,"retryInterval":30,"startTime":"2000-01-01T00:00:00Z","stopTime":"2000-01-02T00:00:00Z"}`)
		if err != nil || !strings.Contains(out, `"fileName":"evse-diagnostics-`) {
			t.Fatalf("GetDiagnostics: %s, %v", out, err)
		}
		time.Sleep(time.Minute)
		if got := diagStatuses(t, csms); got != "Uploading Uploading Uploaded" {
			t.Errorf("statuses %q", got)
		}
		if d.tries != 2 || !strings.Contains(out, d.name) {
			t.Errorf("%d tries, file %q (answered %s)", d.tries, d.name, out)
		}
		if d.from.IsZero() || d.to.Sub(d.from) != 24*time.Hour {
			t.Errorf("log window %v .. %v", d.from, d.to)
		}
		f := files(t, d.data)
		if f["log.jsonl"] == "" || !strings.Contains(f["status.json"], `"connectors"`) ||
			!strings.Contains(f["configuration.txt"], "HeartbeatInterval=") {
			t.Errorf("archive: %v", f)
		}
		if strings.Contains(f["configuration.txt"], "AuthorizationKey") || strings.Contains(f["configuration.txt"], "00112233") {
			t.Error("the archive reveals the AuthorizationKey")
		}
	})
}

func TestGetDiagnosticsReportsAFailedUpload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		d := &fakeDiagnostics{fails: 9}
		r := startRig(t, csms, nil, &kv.Mem{}, func(o *Options) { o.Diagnostics = d })
		defer r.stop()
		synctest.Wait()
		call(t, r.cp, "GetDiagnostics", `{"location":"http://up/","retries":1,"retryInterval":10}`)
		time.Sleep(time.Minute)
		if got := diagStatuses(t, csms); got != "Uploading Uploading UploadFailed" {
			t.Errorf("statuses %q", got)
		}
		call(t, r.cp, "TriggerMessage", `{"requestedMessage":"DiagnosticsStatusNotification"}`)
		time.Sleep(time.Second)
		if got := diagStatuses(t, csms); !strings.HasSuffix(got, "UploadFailed Idle") {
			t.Errorf("triggered after the failure: %q", got)
		}
	})
}
