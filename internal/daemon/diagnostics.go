package daemon

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// logRing keeps the last log records, as JSON lines with their time, for
// GetDiagnostics.
type logRing struct {
	mu    sync.Mutex
	recs  []logRec // oldest first
	bytes int      // the size of recs' lines
}

type logRec struct {
	at   time.Time
	line []byte
}

// The ring keeps the last ringSize records, and at most ringBytes of them:
// whatever is logged, the ring's memory is bounded.
const (
	ringSize  = 5000
	ringBytes = 4 << 20
)

func newLogRing() *logRing { return &logRing{} }

func (l *logRing) add(at time.Time, line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, logRec{at, bytes.Clone(line)})
	l.bytes += len(line)
	drop := 0
	for len(l.recs)-drop > ringSize || (l.bytes > ringBytes && len(l.recs)-drop > 1) {
		l.bytes -= len(l.recs[drop].line)
		l.recs[drop] = logRec{}
		drop++
	}
	if drop > 0 {
		l.recs = append(l.recs[:0], l.recs[drop:]...)
	}
}

// size is the number of records and of bytes the ring holds.
func (l *logRing) size() (records, bytes int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recs), l.bytes
}

// Logs returns the records from from to to (zero: no bound), oldest first.
func (l *logRing) Logs(from, to time.Time) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []byte
	for _, r := range l.recs {
		if (!from.IsZero() && r.at.Before(from)) || (!to.IsZero() && r.at.After(to)) {
			continue
		}
		out = append(out, r.line...)
	}
	return out
}

// ringHandler is a slog.Handler that keeps every record of level Info and
// up in the ring (whatever the console's level) and passes what the inner
// handler wants to it.
type ringHandler struct {
	inner slog.Handler
	ring  *logRing
	wrap  func(slog.Handler) slog.Handler // the attributes and groups added so far
}

func newRingHandler(inner slog.Handler, ring *logRing) slog.Handler {
	return ringHandler{inner: inner, ring: ring, wrap: func(h slog.Handler) slog.Handler { return h }}
}

func (h ringHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.inner.Enabled(ctx, l)
}

func (h ringHandler) Handle(ctx context.Context, r slog.Record) error {
	var buf bytes.Buffer
	h.wrap(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})).Handle(ctx, r)
	h.ring.add(r.Time, buf.Bytes())
	if h.inner.Enabled(ctx, r.Level) {
		return h.inner.Handle(ctx, r)
	}
	return nil
}

func (h ringHandler) WithAttrs(as []slog.Attr) slog.Handler {
	wrap := h.wrap
	return ringHandler{inner: h.inner.WithAttrs(as), ring: h.ring, wrap: func(j slog.Handler) slog.Handler { return wrap(j).WithAttrs(as) }}
}

func (h ringHandler) WithGroup(name string) slog.Handler {
	wrap := h.wrap
	return ringHandler{inner: h.inner.WithGroup(name), ring: h.ring, wrap: func(j slog.Handler) slog.Handler { return wrap(j).WithGroup(name) }}
}

// diagnostics gives GetDiagnostics the log ring and an HTTP(S) upload.
type diagnostics struct {
	*logRing
	client *http.Client
}

func newDiagnostics(ring *logRing, tlsConfig *tls.Config) diagnostics {
	return diagnostics{logRing: ring, client: newHTTPClient(tlsConfig)}
}

// Upload PUTs the file to location over HTTP(S), or stores it there over
// FTP; at location/name when location ends in a slash.
func (d diagnostics) Upload(ctx context.Context, location, name string, data []byte) error {
	if strings.HasPrefix(location, "ftp://") {
		return ftpUpload(ctx, location, name, data)
	}
	if !strings.HasPrefix(location, "http://") && !strings.HasPrefix(location, "https://") {
		return fmt.Errorf("diagnostics: %q: only http, https and ftp uploads are supported", location)
	}
	if strings.HasSuffix(location, "/") {
		location += name
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, location, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/gzip")
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("PUT %s: %s", location, resp.Status)
	}
	return nil
}

// Services are what a charge point's software uses beyond its core and
// its link: a logger that keeps its last records for GetDiagnostics
// (every logged string capped), firmware downloads and diagnostics
// uploads. A fleet makes them for each of its charge points.
type Services struct {
	Logger      *slog.Logger
	Firmware    httpFetcher
	Diagnostics diagnostics
}

// NewServices returns the services of charge point id, logging through
// base; client makes the downloads and uploads (nil: a new one for
// tlsConfig).
func NewServices(base *slog.Logger, id string, client *http.Client, tlsConfig *tls.Config) Services {
	if client == nil {
		client = newHTTPClient(tlsConfig)
	}
	ring := newLogRing()
	log := slog.New(newCapHandler(newRingHandler(base.Handler(), ring))).With("cp", id)
	return Services{Logger: log, Firmware: httpFetcher{client: client}, Diagnostics: diagnostics{logRing: ring, client: client}}
}

// NewHTTPClient is the client of firmware downloads and diagnostics
// uploads, for tlsConfig (nil: the system's roots).
func NewHTTPClient(tlsConfig *tls.Config) *http.Client { return newHTTPClient(tlsConfig) }

// RecentLog returns the last n records, oldest first, each a JSON line
// (the charger's page shows them).
func (l *logRing) RecentLog(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	from := max(len(l.recs)-n, 0)
	out := make([]string, 0, len(l.recs)-from)
	for _, r := range l.recs[from:] {
		out = append(out, strings.TrimRight(string(r.line), "\n"))
	}
	return out
}

// RecentLog returns the charge point's last n log records.
func (s Services) RecentLog(n int) []string { return s.Diagnostics.logRing.RecentLog(n) }
