package certs

import (
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/kv"
)

// FuzzInstall feeds any bytes to what the charge point parses of
// certificates: it never panics, never installs what is not a
// certificate of its key, and never keeps a root that is not a CA.
func FuzzInstall(f *testing.F) {
	ca, err := csmstest.NewCA("fuzz CA", time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ca.PEM)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		s := New(&kv.Mem{})
		if err := s.InstallCertificate(raw, "", time.Now(), 10000); err == nil {
			// Only a certificate made for this store's key (new here) can
			// fit: random bytes never do.
			t.Fatalf("installed %q", raw)
		}
		if _, err := s.InstallRoot(raw, 20); err == nil {
			pool, err := s.Roots()
			if err != nil || pool == nil {
				t.Fatalf("a root was installed and cannot be read: %v", err)
			}
		}
	})
}
