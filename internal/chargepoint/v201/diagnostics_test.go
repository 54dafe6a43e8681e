package v201

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint/station"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp201"
)

// fakeDiagnostics keeps what is uploaded, after failing a number of times.
type fakeDiagnostics struct {
	mu       sync.Mutex
	fails    int
	from, to time.Time
	names    []string
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
	if f.fails > 0 {
		f.fails--
		return errors.New("503")
	}
	f.names = append(f.names, name)
	return nil
}

// logStatuses are the LogStatusNotifications sent, "status/requestId".
func logStatuses(t *testing.T, csms *fakeCSMS) string {
	var out []string
	for _, c := range csms.sent("LogStatusNotification") {
		n := decode[ocpp201.LogStatusNotificationRequest](t, c)
		s := string(n.Status)
		if n.RequestId != nil {
			s += fmt.Sprintf("/%d", *n.RequestId)
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// N01: GetLog of the diagnostics log (its time window) and of the
// security log, with retries, LogStatusNotification through Uploading to
// Uploaded (or UploadFailure once the retries are spent), and a second
// GetLog canceling the first.
func TestN01GetLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		d := &fakeDiagnostics{fails: 1}
		r := startRig(t, csms, map[string]string{"MeterValueSampleInterval": "0"}, &kv.Mem{},
			func(o *station.Options) { o.Diagnostics = d })
		defer r.stop()
		synctest.Wait()
		a := mustCall(t, r.cp, "GetLog", `{"logType":"DiagnosticsLog","requestId":7,"retries":2,"retryInterval":30,
			"log":{"remoteLocation":"https://up.example/logs","oldestTimestamp":"2025-01-01T00:00:00Z","latestTimestamp":"2025-01-02T00:00:00Z"}}`)
		if status(a) != "Accepted" || !strings.HasPrefix(fmt.Sprint(a["filename"]), "evse-diagnostics-") {
			t.Fatalf("GetLog: %v", a)
		}
		time.Sleep(time.Minute)
		if got := logStatuses(t, csms); got != "Uploading/7 Uploading/7 Uploaded/7" {
			t.Errorf("statuses %q, want one failed attempt then the upload", got)
		}
		d.mu.Lock()
		window := d.from.Format(time.DateOnly) + "/" + d.to.Format(time.DateOnly)
		d.mu.Unlock()
		if window != "2025-01-01/2025-01-02" {
			t.Errorf("the log's window: %s", window)
		}

		// An upload that never succeeds: UploadFailure after its retries;
		// a GetLog meanwhile cancels it.
		d.mu.Lock()
		d.fails = 100
		d.mu.Unlock()
		if a := mustCall(t, r.cp, "GetLog", `{"logType":"SecurityLog","requestId":8,"retries":5,"retryInterval":600,"log":{"remoteLocation":"https://up.example/"}}`); status(a) != "Accepted" {
			t.Fatalf("GetLog 8: %v", a)
		}
		time.Sleep(time.Second)
		if a := mustCall(t, r.cp, "GetLog", `{"logType":"SecurityLog","requestId":9,"retries":1,"retryInterval":10,"log":{"remoteLocation":"https://up.example/"}}`); status(a) != "AcceptedCanceled" {
			t.Fatalf("GetLog 9 over 8: %v", a)
		}
		time.Sleep(time.Minute)
		if got := logStatuses(t, csms); !strings.HasSuffix(got, "Uploading/8 Uploading/9 Uploading/9 UploadFailure/9") {
			t.Errorf("statuses %q", got)
		}
		// TriggerMessage LogStatusNotification: Idle once nothing uploads.
		if a := mustCall(t, r.cp, "TriggerMessage", `{"requestedMessage":"LogStatusNotification"}`); status(a) != "Accepted" {
			t.Fatalf("TriggerMessage: %v", a)
		}
		time.Sleep(time.Second)
		if got := logStatuses(t, csms); !strings.HasSuffix(got, "UploadFailure/9 Idle") {
			t.Errorf("triggered: %q", got)
		}
	})
}

// N01: a station without a way to upload answers GetLog NotSupported.
func TestN01GetLogWithoutUploads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, r := quietRig(t, nil)
		defer r.stop()
		_, err := call(t, r.cp, "GetLog", `{"logType":"DiagnosticsLog","requestId":1,"log":{"remoteLocation":"https://up.example/"}}`)
		if err == nil || !strings.Contains(err.Error(), "NotSupported") {
			t.Errorf("GetLog without uploads: %v", err)
		}
	})
}
