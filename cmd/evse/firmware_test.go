package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/ftptest"
)

// TestUpdateFirmwareWithTheRealBinary serves a firmware image over HTTP
// on loopback: the charge point reports Downloading, Downloaded and
// Installing, reboots in place with the new version in its
// BootNotification, and reports Installed. An address that answers 404
// ends in DownloadFailed. A second update comes over FTP.
func TestUpdateFirmwareWithTheRealBinary(t *testing.T) {
	t.Parallel()
	payload := "the new firmware"
	sum := sha256.Sum256([]byte(payload))
	img := "EVSE-FIRMWARE 1\nversion: 7.0.0\nsha256: " + hex.EncodeToString(sum[:]) + "\n\n" + payload
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/fw/7.0.0" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(img))
	}))
	defer web.Close()
	s, url := newCSMS(t, csmstest.Options{})
	startEVSE(t, runArgs(url, "CP-FW", t.TempDir())...)
	waitCall(t, s, 0, "CP-FW", "StatusNotification", 10*time.Second)
	now := time.Now().UTC().Format(time.RFC3339)
	statusesFrom := func(mark int, want ...string) {
		t.Helper()
		for _, st := range want {
			r, err := s.WaitFor(ctxFor(t, 15*time.Second), mark, func(r csmstest.Record) bool {
				return csmstest.IsCall("CP-FW", "FirmwareStatusNotification")(r) && string(r.Frame.Payload) == `{"status":"`+st+`"}`
			})
			if err != nil {
				t.Fatalf("no FirmwareStatusNotification %s: %v", st, err)
			}
			mark = r.Seq
		}
	}
	mark := len(s.Records())
	mustCall(t, s, "CP-FW", "UpdateFirmware", `{"location":"`+web.URL+`/fw/missing","retrieveDate":"`+now+`"}`)
	statusesFrom(mark, "Downloading", "DownloadFailed")

	mark = len(s.Records())
	mustCall(t, s, "CP-FW", "UpdateFirmware", `{"location":"`+web.URL+`/fw/7.0.0","retrieveDate":"`+now+`"}`)
	statusesFrom(mark, "Downloading", "Downloaded", "Installing")
	boot := waitCall(t, s, mark, "CP-FW", "BootNotification", 15*time.Second)
	var req struct {
		FirmwareVersion string `json:"firmwareVersion"`
	}
	json.Unmarshal(boot.Frame.Payload, &req)
	if req.FirmwareVersion != "7.0.0" {
		t.Fatalf("BootNotification after the update: %s", boot.Frame.Payload)
	}
	statusesFrom(boot.Seq, "Installed")

	// The same over FTP.
	ftpd, err := ftptest.Start("fw", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer ftpd.Close()
	payload = "the newer firmware"
	sum = sha256.Sum256([]byte(payload))
	ftpd.Put("/fw/7.0.1", []byte("EVSE-FIRMWARE 1\nversion: 7.0.1\nsha256: "+hex.EncodeToString(sum[:])+"\n\n"+payload))
	mark = len(s.Records())
	mustCall(t, s, "CP-FW", "UpdateFirmware", `{"location":"`+ftpd.URL("/fw/7.0.1")+`","retrieveDate":"`+now+`"}`)
	statusesFrom(mark, "Downloading", "Downloaded", "Installing")
	boot = waitCall(t, s, mark, "CP-FW", "BootNotification", 15*time.Second)
	json.Unmarshal(boot.Frame.Payload, &req)
	if req.FirmwareVersion != "7.0.1" {
		t.Fatalf("BootNotification after the FTP update: %s", boot.Frame.Payload)
	}
	statusesFrom(boot.Seq, "Installed")
	noViolations(t, s)
}

// TestGetDiagnosticsWithTheRealBinary: the charge point uploads a tar.gz
// by HTTP PUT to a server on loopback, named as it answered, holding its
// log (what it logged at boot included), its status and its
// configuration; an upload refused by the server ends in UploadFailed.
// The same over FTP.
func TestGetDiagnosticsWithTheRealBinary(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	uploads := map[string][]byte{}
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || strings.HasPrefix(r.URL.Path, "/refuse/") {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		uploads[path.Base(r.URL.Path)] = b
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	defer web.Close()
	s, url := newCSMS(t, csmstest.Options{})
	startEVSE(t, runArgs(url, "CP-DIAG", t.TempDir())...)
	waitCall(t, s, 0, "CP-DIAG", "StatusNotification", 10*time.Second)
	diag := func(location, want string) string {
		t.Helper()
		mark := len(s.Records())
		a := mustCall(t, s, "CP-DIAG", "GetDiagnostics", `{"location":"`+location+`"}`)
		for _, st := range []string{"Uploading", want} {
			r, err := s.WaitFor(ctxFor(t, 10*time.Second), mark, func(r csmstest.Record) bool {
				return csmstest.IsCall("CP-DIAG", "DiagnosticsStatusNotification")(r) && string(r.Frame.Payload) == `{"status":"`+st+`"}`
			})
			if err != nil {
				t.Fatalf("no DiagnosticsStatusNotification %s: %v", st, err)
			}
			mark = r.Seq
		}
		name, _ := a["fileName"].(string)
		return name
	}
	name := diag(web.URL+"/diag/", "Uploaded")
	mu.Lock()
	data := uploads[name]
	mu.Unlock()
	if data == nil {
		t.Fatalf("no upload named %q (got %v)", name, len(uploads))
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	got := map[string]string{}
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		b, _ := io.ReadAll(tr)
		got[h.Name] = string(b)
	}
	if !strings.Contains(got["log.jsonl"], "registered with the central system") ||
		!strings.Contains(got["status.json"], `"registration": "Accepted"`) ||
		!strings.Contains(got["configuration.txt"], "NumberOfConnectors=1") {
		t.Errorf("archive: %v", got)
	}
	diag(web.URL+"/refuse/", "UploadFailed")

	// Over FTP: to a directory, and refused for a wrong password.
	ftpd, err := ftptest.Start("diag", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer ftpd.Close()
	name = diag(ftpd.URL("/in/"), "Uploaded")
	if b, ok := ftpd.File("/in/" + name); !ok || len(b) == 0 {
		t.Errorf("no FTP upload named %q", name)
	}
	diag(strings.Replace(ftpd.URL("/in/"), ":pw@", ":wrong@", 1), "UploadFailed")
	noViolations(t, s)
}
