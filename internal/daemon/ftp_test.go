package daemon

import (
	"bytes"
	"context"
	"net"
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

// TestAnFTPServerThatGoesSilentDoesNotHoldTheChargePoint: a server that
// greets and then says nothing more is given up when the context ends,
// not after the library's own (absent) timeouts.
func TestAnFTPServerThatGoesSilentDoesNotHoldTheChargePoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("220 hello\r\n"))
		<-done
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	returned := make(chan error, 1)
	go func() {
		_, err := ftpFetch(ctx, "ftp://"+ln.Addr().String()+"/fw.bin", 1<<20)
		returned <- err
	}()
	select {
	case err := <-returned:
		if err == nil {
			t.Fatal("a silent server gave a file")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ftpFetch still waiting 10 s after its context ended")
	}
}

// TestFTPPathsFollowRFC1738: a URL's path is relative to the login
// directory, %2F makes it absolute, ;type= is dropped, and a host without
// a port uses 21.
func TestFTPPathsFollowRFC1738(t *testing.T) {
	s, err := ftptest.Start("cp", "p@ss word")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := "ftp://cp:p%40ss%20word@" + s.Addr()
	for _, c := range []struct{ url, stored string }{
		{base + "/in/a.bin", "/in/a.bin"},
		{base + "/%2Fabs/b.bin", "/abs/b.bin"},
		{base + "/c.bin;type=i", "/c.bin"},
		{base + "/dir/", "/dir/named.bin"},
	} {
		if err := ftpUpload(ctx, c.url, "named.bin", []byte(c.url)); err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if got, _ := s.File(c.stored); string(got) != c.url {
			t.Errorf("%s: stored at %s: %q", c.url, c.stored, got)
		}
	}
	if _, _, _, err := ftpSession(ctx, "ftp://cp@[::1"); err == nil {
		t.Error("a bad host: no error")
	}
}
