package api

import (
	"crypto/subtle"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"
)

// Guard says who may use the API. Every request must name this machine in
// its Host header (a web page that rebinds its own name to this address
// cannot reach the API); a browser's cross-origin request that changes
// anything is refused; and with a Token, a request must carry it.
type Guard struct {
	// Token, when set, is required as "Authorization: Bearer <token>":
	// the API of a charge point listening beyond loopback needs one.
	Token string
	// Loopback: the API listens on loopback only, so the Host header must
	// name a loopback address (or localhost).
	Loopback bool
}

// Protect wraps h with the guard.
func (g Guard) Protect(h http.Handler, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hostname, _ := os.Hostname()
	csrf := http.NewCrossOriginProtection()
	inner := csrf.Handler(h)
	warn := &rateLimited{log: log}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.hostAllowed(r.Host, hostname) {
			warn.warn("local API: request for another host refused", "host", r.Host, "remote", r.RemoteAddr)
			fail(w, http.StatusMisdirectedRequest, "this API answers for this machine only, not %q", r.Host)
			return
		}
		if g.Token != "" {
			if q := r.URL.Query().Get("token"); q != "" && r.Method == http.MethodGet && g.tokenIs(q) {
				// A browser's way in: the token once in the address,
				// then in a cookie only this site sends.
				http.SetCookie(w, &http.Cookie{Name: cookieName(r), Value: q, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
				u := *r.URL
				query := u.Query()
				query.Del("token")
				u.RawQuery = query.Encode()
				http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
				return
			}
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok {
				if c, err := r.Cookie(cookieName(r)); err == nil {
					got, ok = c.Value, true
				}
			}
			if !ok || !g.tokenIs(got) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="evse"`)
				fail(w, http.StatusUnauthorized, "a token is needed: Authorization: Bearer <token>, or in a browser ?token=<token> once (evse api-token --data DIR shows it)")
				return
			}
		}
		inner.ServeHTTP(w, r)
	})
}

// hostAllowed reports whether a Host header names this machine: an IP
// address (a loopback one when the API listens on loopback), localhost,
// or the machine's own name.
func (g Guard) hostAllowed(host, hostname string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimSuffix(strings.Trim(host, "[]"), "."), ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		return !g.Loopback || ip.Unmap().IsLoopback()
	}
	host = strings.ToLower(host)
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if g.Loopback || hostname == "" {
		return false
	}
	hostname = strings.ToLower(hostname)
	return host == hostname || host == hostname+".local"
}

// rateLimited logs a warning a stranger can cause at most once every 10
// s, with the number left out since: nobody can flood the log (and the
// diagnostics ring) through the API.
type rateLimited struct {
	log  *slog.Logger
	mu   sync.Mutex
	at   time.Time
	skip int
}

func (l *rateLimited) warn(msg string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := time.Now(); now.Sub(l.at) >= 10*time.Second {
		if l.skip > 0 {
			args = append(args, "not_logged_since", l.skip)
		}
		l.log.Warn(msg, args...)
		l.at, l.skip = now, 0
		return
	}
	l.skip++
}

// cookieName is the cookie that keeps a browser's token once given (see
// Protect): one for each port, as browsers send a host's cookies to all
// its ports (two evse processes on one host keep their own).
func cookieName(r *http.Request) string {
	_, port, err := net.SplitHostPort(r.Host)
	if err != nil || port == "" {
		port = "80"
	}
	return "evse_token_" + port
}

func (g Guard) tokenIs(got string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(g.Token)) == 1
}
