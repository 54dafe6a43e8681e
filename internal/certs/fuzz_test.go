package certs

import (
	"bytes"
	"crypto"
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

// FuzzCertificateSigned feeds CertificateSigned's chain, seeded with a
// good one of the charge point's key and a renewal's: whatever is
// accepted is a chain for this charge point's name and one of its keys,
// and the certificate in use afterwards matches the key in use.
func FuzzCertificateSigned(f *testing.F) {
	ca, err := csmstest.NewCA("fuzz CA", time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	seed := New(&kv.Mem{})
	csr, err := seed.CSR("CP-F", "ACME")
	if err != nil {
		f.Fatal(err)
	}
	renewal, err := seed.RenewalCSR("CP-F", "ACME")
	if err != nil {
		f.Fatal(err)
	}
	var keys [2][]byte
	seed.kv.View(func(tx kv.Tx) error {
		keys[0], keys[1] = bytes.Clone(tx.Get(bucket, keyCPKey)), bytes.Clone(tx.Get(bucket, keyCPNext))
		return nil
	})
	for _, c := range [][]byte{csr, renewal} {
		signed, err := ca.SignCSR(c, time.Hour)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(signed)
		f.Add(append(signed, ca.PEM...))
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, raw []byte) {
		mem := &kv.Mem{}
		mem.Update(func(tx kv.Tx) error {
			tx.Put(bucket, keyCPKey, keys[0])
			return tx.Put(bucket, keyCPNext, keys[1])
		})
		s := New(mem)
		if err := s.InstallCertificate(raw, "CP-F", now, 10000); err != nil {
			return
		}
		c, err := s.Certificate()
		if err != nil {
			t.Fatalf("installed, and no certificate to use: %v", err)
		}
		if c.Leaf.Subject.CommonName != "CP-F" || !publicKeysEqual(c.Leaf.PublicKey, c.PrivateKey.(crypto.Signer).Public()) {
			t.Fatalf("installed a certificate of %q that is not the key's in use", c.Leaf.Subject.CommonName)
		}
	})
}
