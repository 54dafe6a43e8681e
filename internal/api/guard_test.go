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

// TestABrowserKeepsTheTokenOfThisPortOnly: ?token= sets a cookie named
// after the port (two evse processes on one host keep theirs), redirects
// to the address without it, and the cookie then lets requests in.
func TestABrowserKeepsTheTokenOfThisPortOnly(t *testing.T) {
	h := Guard{Token: "secret-token"}.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("in")) }), nil)
	r := httptest.NewRequest("GET", "/?token=secret-token&x=1", nil)
	r.Host = "127.0.0.1:8081"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	cookies := w.Result().Cookies()
	if w.Code != http.StatusSeeOther || len(cookies) != 1 || cookies[0].Name != "evse_token_8081" || !cookies[0].HttpOnly {
		t.Fatalf("?token=: %d, cookies %v", w.Code, cookies)
	}
	if loc := w.Header().Get("Location"); strings.Contains(loc, "token") {
		t.Errorf("redirected to %q: the token stays in the address", loc)
	}
	for _, tc := range []struct {
		port string
		want int
	}{{"8081", 200}, {"8080", 401}} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = "127.0.0.1:" + tc.port
		r.AddCookie(&http.Cookie{Name: "evse_token_8081", Value: "secret-token"})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("the cookie of :8081 on :%s: %d, want %d", tc.port, w.Code, tc.want)
		}
	}
}
