package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// TestSecurityProfile3ConnectsWithTheChargePointsOwnCertificate runs the
// real binary against a wss:// central system that verifies client
// certificates: the charge point's key is made on the unit, its CSR
// signed by the central system's CA, the certificate and the CA's root
// installed; it then connects under profile 3, known by its certificate.
// Without a certificate it refuses to start, saying why; a certificate
// for another key is refused.
func TestSecurityProfile3ConnectsWithTheChargePointsOwnCertificate(t *testing.T) {
	t.Parallel()
	ca, err := csmstest.NewCA("evse test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s := csmstest.New(csmstest.Options{})
	url, err := s.ListenTLS("127.0.0.1:0", ca, csmstest.TLSOptions{ClientCerts: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dir, files := t.TempDir(), t.TempDir()
	configure(t, dir, "SecurityProfile=3")
	if _, errOut, code := runEVSE(t, runArgs(url, "CP-TLS3", dir)...); code == 0 || !strings.Contains(errOut, "no charge point certificate") {
		t.Fatalf("profile 3 without a certificate: exit %d, %s", code, errOut)
	}

	csr, errOut, code := runEVSE(t, "cert", "csr", "--data", dir, "--id", "CP-TLS3", "--cpo", "ACME")
	if code != 0 || !strings.Contains(csr, "BEGIN CERTIFICATE REQUEST") {
		t.Fatalf("cert csr: %d %s", code, errOut)
	}
	signed, err := ca.SignCSR([]byte(csr), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		path := filepath.Join(files, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// A certificate of another key (another unit's CSR) is refused.
	otherDir := t.TempDir()
	otherCSR, _, _ := runEVSE(t, "cert", "csr", "--data", otherDir, "--id", "CP-OTHER")
	otherSigned, err := ca.SignCSR([]byte(otherCSR), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runEVSE(t, "cert", "install", "--data", dir, "--chargepoint", write("other.pem", otherSigned)); code == 0 || !strings.Contains(errOut, "not for this charge point's key") {
		t.Errorf("another key's certificate: exit %d, %s", code, errOut)
	}
	if _, errOut, code := runEVSE(t, "cert", "install", "--data", dir, "--chargepoint", write("cp.pem", signed)); code != 0 {
		t.Fatalf("cert install: %s", errOut)
	}
	if _, errOut, code := runEVSE(t, "cert", "install", "--data", dir, "--central-root", write("ca.pem", ca.PEM)); code != 0 {
		t.Fatalf("cert install --central-root: %s", errOut)
	}

	p := startEVSE(t, runArgs(url, "CP-TLS3", dir)...)
	waitCall(t, s, 0, "CP-TLS3", "BootNotification", 20*time.Second)
	if name, _ := s.ClientCertName("CP-TLS3"); name != "CP-TLS3" {
		t.Errorf("connected with a certificate named %q", name)
	}
	if pw, ok := s.Password("CP-TLS3"); ok && len(pw) > 0 {
		t.Error("profile 3 sent a Basic authentication password")
	}
	p.stop(os.Interrupt)
}
