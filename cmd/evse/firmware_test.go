package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// TestUpdateFirmwareWithTheRealBinary serves a firmware image over HTTP
// on loopback: the charge point reports Downloading, Downloaded and
// Installing, reboots in place with the new version in its
// BootNotification, and reports Installed. An address that answers 404
// ends in DownloadFailed.
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
	noViolations(t, s)
}
