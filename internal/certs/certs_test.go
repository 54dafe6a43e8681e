package certs

import (
	"bytes"
	"crypto"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/kv"
)

// TestTheKeyIsMadeOnceAndCertificatesAreChecked: the key is made the
// first time and kept; a certificate must be for it and valid now; roots
// must be CA certificates, and are bounded; junk is refused.
func TestTheKeyIsMadeOnceAndCertificatesAreChecked(t *testing.T) {
	ca, err := csmstest.NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s := New(&kv.Mem{})
	if _, err := s.Certificate(); err != ErrNoCertificate {
		t.Errorf("no certificate yet: %v", err)
	}
	csr1, err := s.CSR("CP-1", "ACME")
	if err != nil {
		t.Fatal(err)
	}
	csr2, _ := s.CSR("CP-1", "ACME")
	signed1, err := ca.SignCSR(csr1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	signed2, err := ca.SignCSR(csr2, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	// Both CSRs are of the one key: either certificate fits it.
	for _, c := range [][]byte{signed1, signed2} {
		if err := s.InstallCertificate(c, "", now, 10000); err != nil {
			t.Errorf("the key's certificate: %v", err)
		}
	}
	cert, err := s.Certificate()
	if err != nil || cert.Leaf.Subject.CommonName != "CP-1" || cert.Leaf.Subject.Organization[0] != "ACME" {
		t.Errorf("the installed certificate: %v %v", cert.Leaf, err)
	}
	other := New(&kv.Mem{})
	otherCSR, _ := other.CSR("CP-2", "")
	otherSigned, _ := ca.SignCSR(otherCSR, time.Hour)
	for name, tc := range map[string]struct {
		raw  []byte
		at   time.Time
		want string
	}{
		"another key's":     {otherSigned, now, "not for this charge point's key"},
		"not valid yet":     {signed1, now.Add(-time.Hour), "not now"},
		"expired":           {signed1, now.Add(2 * time.Hour), "not now"},
		"no PEM":            {[]byte("hello"), now, "no PEM certificate"},
		"a key, not a cert": {[]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), now, "not a CERTIFICATE"},
		"too long a chain":  {[]byte(strings.Repeat(string(signed1), MaxChain+1)), now, "more than"},
		"too big":           {[]byte(strings.Repeat("A", MaxPEM+1)), now, "at most"},
	} {
		if err := s.InstallCertificate(tc.raw, "", tc.at, 1<<20); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if n, err := s.InstallRoot(ca.PEM, 20); err != nil || n != 1 {
		t.Errorf("a root: %d, %v", n, err)
	}
	if _, err := s.InstallRoot(signed1, 20); err == nil || !strings.Contains(err.Error(), "not a CA") {
		t.Errorf("a leaf as a root: %v", err)
	}
	if _, err := s.InstallRoot([]byte(strings.Repeat(string(ca.PEM), 20)), 20); err == nil {
		t.Errorf("more than %d roots were kept", 20)
	}
	if pool, err := s.Roots(); err != nil || pool == nil {
		t.Errorf("roots: %v", err)
	}
}

// TestTheKeysBoundWhatIsInstalled: CertificateSignedMaxChainSize bounds a
// chain in bytes, CertificateStoreMaxLength the roots kept.
func TestTheKeysBoundWhatIsInstalled(t *testing.T) {
	ca, err := csmstest.NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s := New(&kv.Mem{})
	csr, _ := s.CSR("CP-1", "")
	signed, _ := ca.SignCSR(csr, time.Hour)
	if err := s.InstallCertificate(signed, "", time.Now(), len(signed)-1); err == nil || !strings.Contains(err.Error(), "CertificateSignedMaxChainSize") {
		t.Errorf("a chain over the key's size: %v", err)
	}
	if _, err := s.InstallRoot([]byte(strings.Repeat(string(ca.PEM), 3)), 2); err == nil {
		t.Error("3 roots kept under CertificateStoreMaxLength 2")
	}
}

// A renewal (SignCertificate) makes a new key; the current key and
// certificate stay in use until a certificate for the new key is
// installed, which then replaces both.
func TestARenewalSwitchesKeysOnlyWhenItsCertificateIsInstalled(t *testing.T) {
	ca, err := csmstest.NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s := New(&kv.Mem{})
	first, _ := s.CSR("CP-1", "ACME")
	firstSigned, _ := ca.SignCSR(first, time.Hour)
	if err := s.InstallCertificate(firstSigned, "CP-1", now, 10000); err != nil {
		t.Fatal(err)
	}
	renewal, err := s.RenewalCSR("CP-1", "ACME")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Certificate(); !bytes.Equal(c.Certificate[0], mustLeaf(t, firstSigned)) {
		t.Error("a renewal without its certificate changed the certificate in use")
	}
	renewed, _ := ca.SignCSR(renewal, time.Hour)
	if err := s.InstallCertificate(renewed, "CP-2", now, 10000); err == nil || !strings.Contains(err.Error(), "not for this charge point") {
		t.Errorf("a certificate for another name: %v", err)
	}
	other, _ := csmstest.NewCA("other CA", time.Hour)
	chain := append(append([]byte{}, renewed...), other.PEM...)
	if err := s.InstallCertificate(chain, "CP-1", now, 10000); err == nil || !strings.Contains(err.Error(), "not signed by the next") {
		t.Errorf("a chain whose leaf the next does not sign: %v", err)
	}
	if err := s.InstallCertificate(renewed, "CP-1", now, 10000); err != nil {
		t.Fatalf("the renewal's certificate: %v", err)
	}
	c, err := s.Certificate()
	if err != nil || !bytes.Equal(c.Certificate[0], mustLeaf(t, renewed)) {
		t.Fatalf("the renewed certificate is not in use: %v", err)
	}
	if !publicKeysEqual(c.Leaf.PublicKey, c.PrivateKey.(crypto.Signer).Public()) {
		t.Error("the certificate in use is not for the key in use")
	}
	if err := s.InstallCertificate(firstSigned, "CP-1", now, 10000); err == nil {
		t.Error("the old key's certificate still fits after the renewal")
	}
}

func mustLeaf(t *testing.T, chainPEM []byte) []byte {
	t.Helper()
	chain, err := parseChain(chainPEM, MaxChain)
	if err != nil {
		t.Fatal(err)
	}
	return chain[0].Raw
}

// TestManufacturerRoots: the manufacturer roots read back as installed,
// apart from the central system's.
func TestManufacturerRoots(t *testing.T) {
	s := New(&kv.Mem{})
	if roots, err := s.ManufacturerRoots(); err != nil || roots != nil {
		t.Fatalf("none installed: %v, %v", roots, err)
	}
	mf, err := csmstest.NewCA("manufacturer", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := csmstest.NewCA("central system", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.InstallRootOf(ManufacturerRoot, mf.PEM, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InstallRoot(cs.PEM, 10); err != nil {
		t.Fatal(err)
	}
	roots, err := s.ManufacturerRoots()
	if err != nil || len(roots) != 1 || roots[0].Subject.CommonName != "manufacturer" {
		t.Fatalf("%v, %v", roots, err)
	}
}

// TestARenewalCanBeRevertedAndAnOlderOneIsRefused: the pair a renewal
// replaced is kept until the new one is kept or reverted; a certificate
// for a renewal a newer one replaced is refused.
func TestARenewalCanBeRevertedAndAnOlderOneIsRefused(t *testing.T) {
	ca, err := csmstest.NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s := New(&kv.Mem{})
	first, _ := s.CSR("CP-1", "")
	firstSigned, _ := ca.SignCSR(first, time.Hour)
	if err := s.InstallCertificate(firstSigned, "CP-1", now, 10000); err != nil {
		t.Fatal(err)
	}
	older, _ := s.RenewalCSR("CP-1", "")
	newer, _ := s.RenewalCSR("CP-1", "")
	olderSigned, _ := ca.SignCSR(older, time.Hour)
	if err := s.InstallCertificate(olderSigned, "CP-1", now, 10000); err == nil {
		t.Error("a certificate for a renewal a newer one replaced was installed")
	}
	newerSigned, _ := ca.SignCSR(newer, time.Hour)
	if err := s.InstallCertificate(newerSigned, "CP-1", now, 10000); err != nil {
		t.Fatal(err)
	}
	if trial, _ := s.RenewalOnTrial(); !trial {
		t.Error("the renewal is not on trial")
	}
	if reverted, err := s.RevertRenewal(); !reverted || err != nil {
		t.Fatalf("RevertRenewal: %v %v", reverted, err)
	}
	c, err := s.Certificate()
	if err != nil || !bytes.Equal(c.Certificate[0], mustLeaf(t, firstSigned)) {
		t.Errorf("after the revert, the first certificate is not in use: %v", err)
	}
	if trial, _ := s.RenewalOnTrial(); trial {
		t.Error("still on trial after the revert")
	}
	if reverted, _ := s.RevertRenewal(); reverted {
		t.Error("reverted twice")
	}
}
