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

// TestARaisedProfileThatCannotConnectFallsBack: the central system raises
// a charge point from profile 2 to 3, but serves only Basic
// authentication: after a few failed attempts the charge point goes back
// to profile 2, connects again with its password, and says so.
func TestARaisedProfileThatCannotConnectFallsBack(t *testing.T) {
	t.Parallel()
	ca, err := csmstest.NewCA("evse test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	const key = "00112233445566778899aabbccddeeff"
	password := []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	s := csmstest.New(csmstest.Options{Passwords: map[string][]byte{"CP-FALL": password}})
	url, err := s.ListenTLS("127.0.0.1:0", ca, csmstest.TLSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dir, files := t.TempDir(), t.TempDir()
	csr, errOut, code := runEVSE(t, "cert", "csr", "--data", dir, "--id", "CP-FALL")
	if code != 0 {
		t.Fatal(errOut)
	}
	signed, err := ca.SignCSR([]byte(csr), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(files, "cp.pem")
	root := filepath.Join(files, "ca.pem")
	os.WriteFile(cp, signed, 0o644)
	os.WriteFile(root, ca.PEM, 0o644)
	for _, args := range [][]string{{"--chargepoint", cp}, {"--central-root", root}} {
		if _, errOut, code := runEVSE(t, append([]string{"cert", "install", "--data", dir}, args...)...); code != 0 {
			t.Fatal(errOut)
		}
	}
	configure(t, dir, "AuthorizationKey="+key, "SecurityProfile=2")
	p := startEVSE(t, runArgs(url, "CP-FALL", dir)...)
	waitCall(t, s, 0, "CP-FALL", "StatusNotification", 20*time.Second)
	if a := mustCall(t, s, "CP-FALL", "ChangeConfiguration", `{"key":"SecurityProfile","value":"3"}`); a["status"] != "Accepted" {
		t.Fatalf("raising to 3: %v", a)
	}
	// It tries profile 3 (refused: no password), goes back, and connects
	// again with its password (a reconnection: no BootNotification).
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(p.errOut.String(), "back to the previous one") || !s.Connected("CP-FALL"); {
		if time.Now().After(deadline) {
			t.Fatal("no fallback and reconnection within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pw, ok := s.Password("CP-FALL"); !ok || string(pw) != string(password) {
		t.Errorf("back on profile 2 without its password")
	}
	got, err := csmsCall(t, s, "CP-FALL", "GetConfiguration", `{"key":["SecurityProfile"]}`)
	if err != nil {
		t.Fatal(err)
	}
	if v := keyValues(t, got)["SecurityProfile"]["value"]; v != "2" {
		t.Errorf("after the fallback SecurityProfile is %v, want 2", v)
	}
	// The central system is told, with a SecurityEventNotification.
	told, err := s.WaitFor(ctxFor(t, 10*time.Second), 0, func(r csmstest.Record) bool {
		return csmstest.IsCall("CP-FALL", "SecurityEventNotification")(r) &&
			strings.Contains(string(r.Frame.Payload), "ReconfigurationOfSecurityParameters")
	})
	if err != nil {
		t.Fatalf("the fallback was not told: %v", err)
	}
	if !strings.Contains(string(told.Frame.Payload), "back to 2") {
		t.Errorf("the fallback told as %s", told.Frame.Payload)
	}
	p.stop(os.Interrupt)
}

// TestTheDemoRunsSecurityProfile3: evse demo --security 3 serves wss://
// with client certificates, and its charge point registers under profile
// 3 and goes through the tour.
func TestTheDemoRunsSecurityProfile3(t *testing.T) {
	t.Parallel()
	p := startEVSE(t, "demo", "--security", "3")
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(p.out.String(), `CALLRESULT BootNotification`); {
		if time.Now().After(deadline) {
			t.Fatalf("no BootNotification answered within 60 s:\n%s", p.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out := p.out.String()
	if !strings.Contains(out, "wss://") || !strings.Contains(out, "security profile 3") || !strings.Contains(out, `{"status":"Accepted"`) {
		t.Errorf("demo --security 3:\n%s", out)
	}
	p.stop(os.Interrupt)
	if _, errOut, code := runEVSE(t, "demo", "--security", "2"); code == 0 || !strings.Contains(errOut, "plays 0 and 3") {
		t.Errorf("--security 2: exit %d, %s", code, errOut)
	}
}
