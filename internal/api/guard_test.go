package api

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRefusedHostsCannotFloodTheLog: a stranger sending requests for
// another host gets 421 each time, and the log a warning at most once
// every 10 s (it is the diagnostics ring too).
func TestRefusedHostsCannotFloodTheLog(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	h := Guard{Loopback: true}.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), log)
	for range 1000 {
		r := httptest.NewRequest("GET", "/api/v1/status", nil)
		r.Host = "attacker.example"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusMisdirectedRequest {
			t.Fatalf("status %d, want 421", w.Code)
		}
	}
	if n := strings.Count(logged.String(), "\n"); n != 1 {
		t.Errorf("1000 refused requests logged %d lines, want 1:\n%s", n, logged.String())
	}
}
