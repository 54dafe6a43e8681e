package daemon

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/ftptest"
)

// TestFTPUploadsAndDownloadsOverLoopback: diagnostics go up by STOR (to
// a directory with their own name, or to a file), firmware comes down by
// RETR; a wrong password, a missing file and a file over the limit are
// errors.
func TestFTPUploadsAndDownloadsOverLoopback(t *testing.T) {
	s, err := ftptest.Start("cp", "secret")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := diagnostics{}
	payload := bytes.Repeat([]byte("log line\n"), 10000)
	if err := d.Upload(ctx, s.URL("/upload/"), "diag.tar.gz", payload); err != nil {
		t.Fatalf("upload to a directory: %v", err)
	}
	if got, ok := s.File("/upload/diag.tar.gz"); !ok || !bytes.Equal(got, payload) {
		t.Errorf("stored %d bytes (%t), want %d", len(got), ok, len(payload))
	}
	if err := d.Upload(ctx, s.URL("/exact.bin"), "ignored", []byte("x")); err != nil {
		t.Fatalf("upload to a file: %v", err)
	}
	if got, _ := s.File("/exact.bin"); string(got) != "x" {
		t.Errorf("exact name: %q", got)
	}
	s.Put("/fw/image.bin", []byte("firmware image"))
	f := newHTTPFetcher(nil)
	got, err := f.Fetch(ctx, s.URL("/fw/image.bin"))
	if err != nil || string(got) != "firmware image" {
		t.Fatalf("fetch: %q %v", got, err)
	}
	for _, c := range []struct {
		name string
		err  error
	}{
		{"a wrong password", d.Upload(ctx, strings.Replace(s.URL("/up/"), "secret", "wrong", 1), "a", []byte("a"))},
		{"a missing file", func() error { _, err := f.Fetch(ctx, s.URL("/fw/none.bin")); return err }()},
		{"a file over the limit", func() error { _, err := ftpFetch(ctx, s.URL("/fw/image.bin"), 4); return err }()},
		{"not a URL", d.Upload(ctx, "ftp://", "a", nil)},
	} {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
