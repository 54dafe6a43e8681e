package main

import (
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// readyProfile3 readies a charge point's data for security profile 3
// with ca: its key made in its store, its CSR signed, the certificate and
// the CA's root installed.
func readyProfile3(t *testing.T, ca *csmstest.CA, dir, id string) {
	t.Helper()
	csr, errOut, code := runEVSE(t, "cert", "csr", "--data", dir, "--id", id, "--cpo", "ACME")
	if code != 0 {
		t.Fatalf("cert csr: %s", errOut)
	}
	signed, err := ca.SignCSR([]byte(csr), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	files := t.TempDir()
	cp, root := filepath.Join(files, "cp.pem"), filepath.Join(files, "ca.pem")
	if err := os.WriteFile(cp, signed, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--chargepoint", cp}, {"--central-root", root}} {
		if _, errOut, code := runEVSE(t, append([]string{"cert", "install", "--data", dir}, args...)...); code != 0 {
			t.Fatal(errOut)
		}
	}
	configure(t, dir, "SecurityProfile=3")
}

// waitSecurityEvent waits for a SecurityEventNotification of a type from
// cp, recorded at or after from.
func waitSecurityEvent(t *testing.T, s *csmstest.Server, from int, cp, typ string) csmstest.Record {
	t.Helper()
	r, err := s.WaitFor(ctxFor(t, 10*time.Second), from, func(r csmstest.Record) bool {
		return csmstest.IsCall(cp, "SecurityEventNotification")(r) && strings.Contains(string(r.Frame.Payload), `"type":"`+typ+`"`)
	})
	if err != nil {
		t.Fatalf("no SecurityEventNotification %s from %s: %v", typ, cp, err)
	}
	return r
}

// TestTheChargePointCertificateIsRenewedOverOCPP (the whitepaper's A02,
// the OCA's TC_074 and TC_077) runs the real binary under profile 3
// against a wss:// central system that is also its CA: on
// ExtendedTriggerMessage SignChargePointCertificate the charge point makes
// a new key and sends its CSR; the CA's certificate comes back with
// CertificateSigned, and the charge point reconnects with it. A chain
// over CertificateSignedMaxChainSize, an expired certificate, one for
// another name and one for another key are rejected, each told as an
// InvalidChargePointCertificate security event, and the charge point
// keeps the certificate it has.
func TestTheChargePointCertificateIsRenewedOverOCPP(t *testing.T) {
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
	s.SignCSRs(ca, time.Hour)
	dir := t.TempDir()
	readyProfile3(t, ca, dir, "CP-RENEW")
	configure(t, dir, "CertificateSignedMaxChainSize=2000") // an installer's setting; the good chain is under 1,000 bytes
	p := startEVSE(t, runArgs(url, "CP-RENEW", dir)...)
	defer p.stop(os.Interrupt)
	waitCall(t, s, 0, "CP-RENEW", "StatusNotification", 20*time.Second)
	first, _ := s.ClientCert("CP-RENEW")
	if first == nil {
		t.Fatal("connected without a client certificate")
	}

	mark := len(s.Records())
	if a := mustCall(t, s, "CP-RENEW", "ExtendedTriggerMessage", `{"requestedMessage":"SignChargePointCertificate"}`); a["status"] != "Accepted" {
		t.Fatalf("ExtendedTriggerMessage: %v", a)
	}
	sign := waitCall(t, s, mark, "CP-RENEW", "SignCertificate", 10*time.Second)
	var csr struct{ CSR string }
	json.Unmarshal(sign.Frame.Payload, &csr)
	if !strings.Contains(csr.CSR, "BEGIN CERTIFICATE REQUEST") {
		t.Fatalf("SignCertificate %s", sign.Frame.Payload)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, ok := s.ClientCert("CP-RENEW"); ok && c != nil && c.SerialNumber.Cmp(first.SerialNumber) != 0 {
			if c.Subject.CommonName != "CP-RENEW" || c.PublicKey.(*ecdsa.PublicKey).Equal(first.PublicKey) {
				t.Errorf("reconnected with %v, want a certificate for CP-RENEW and a new key", c.Subject)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no reconnection with a new certificate within 20 s")
		}
	}

	// The refusals: a CSR of this charge point's new key, signed wrongly.
	var mu sync.Mutex
	var lastCSR string
	s.Respond("SignCertificate", func(_ string, payload json.RawMessage) (json.RawMessage, *rpc.Error) {
		var req struct{ CSR string }
		json.Unmarshal(payload, &req)
		mu.Lock()
		lastCSR = req.CSR
		mu.Unlock()
		return json.RawMessage(`{"status":"Accepted"}`), nil
	})
	mark = len(s.Records())
	mustCall(t, s, "CP-RENEW", "ExtendedTriggerMessage", `{"requestedMessage":"SignChargePointCertificate"}`)
	waitCall(t, s, mark, "CP-RENEW", "SignCertificate", 10*time.Second)
	mu.Lock()
	csrPEM := []byte(lastCSR)
	mu.Unlock()
	good, err := ca.SignCSR(csrPEM, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := ca.SignCSR(csrPEM, -30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	otherCSR, _, _ := runEVSE(t, "cert", "csr", "--data", t.TempDir(), "--id", "CP-RENEW")
	otherKey, err := ca.SignCSR([]byte(otherCSR), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	otherName, _, _ := runEVSE(t, "cert", "csr", "--data", t.TempDir(), "--id", "CP-OTHER")
	otherNamed, err := ca.SignCSR([]byte(otherName), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, chain := range map[string]string{
		"a chain over CertificateSignedMaxChainSize": string(good) + strings.Repeat(string(ca.PEM), 3),
		"an expired certificate":                     string(expired),
		"a certificate for another key":              string(otherKey),
		"a certificate for another name":             string(otherNamed),
	} {
		mark := len(s.Records())
		body, _ := json.Marshal(map[string]string{"certificateChain": chain})
		if a := mustCall(t, s, "CP-RENEW", "CertificateSigned", string(body)); a["status"] != "Rejected" {
			t.Errorf("%s: %v, want Rejected", name, a)
			continue
		}
		waitSecurityEvent(t, s, mark, "CP-RENEW", "InvalidChargePointCertificate")
	}
	if c, ok := s.ClientCert("CP-RENEW"); !ok || c == nil || c.Subject.CommonName != "CP-RENEW" {
		t.Errorf("after the refusals: connected %v with %v", ok, c)
	}
	noViolations(t, s)
}

// TestGetLogUploadsTheSecurityLogWithTheRealBinary: GetLog SecurityLog
// uploads the security log (the start and a refused message in it) by
// HTTP PUT, told with LogStatusNotification and its requestId; GetLog
// DiagnosticsLog uploads the diagnostics archive; ExtendedTriggerMessage
// LogStatusNotification tells Idle when nothing is uploading.
func TestGetLogUploadsTheSecurityLogWithTheRealBinary(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	uploads := map[string][]byte{}
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		uploads[path.Base(r.URL.Path)] = b
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	defer web.Close()
	s, url := newCSMS(t, csmstest.Options{})
	p := startEVSE(t, runArgs(url, "CP-LOG", t.TempDir())...)
	defer p.stop(os.Interrupt)
	waitCall(t, s, 0, "CP-LOG", "StatusNotification", 10*time.Second)
	waitSecurityEvent(t, s, 0, "CP-LOG", "StartupOfTheDevice")
	// A CALL that breaks its schema: an InvalidMessages event, logged.
	if _, err := csmsCall(t, s, "CP-LOG", "Reset", `{"type":"Sideways"}`); err == nil {
		t.Fatal("a Reset of type Sideways was taken")
	}
	getLog := func(logType string, id int) string {
		t.Helper()
		mark := len(s.Records())
		a := mustCall(t, s, "CP-LOG", "GetLog", `{"logType":"`+logType+`","requestId":`+itoa(id)+`,"log":{"remoteLocation":"`+web.URL+`/logs/"}}`)
		if a["status"] != "Accepted" {
			t.Fatalf("GetLog %s: %v", logType, a)
		}
		for _, st := range []string{"Uploading", "Uploaded"} {
			r, err := s.WaitFor(ctxFor(t, 10*time.Second), mark, func(r csmstest.Record) bool {
				return csmstest.IsCall("CP-LOG", "LogStatusNotification")(r) &&
					string(r.Frame.Payload) == `{"status":"`+st+`","requestId":`+itoa(id)+`}`
			})
			if err != nil {
				t.Fatalf("no LogStatusNotification %s: %v", st, err)
			}
			mark = r.Seq
		}
		name, _ := a["filename"].(string)
		mu.Lock()
		defer mu.Unlock()
		if uploads[name] == nil {
			t.Fatalf("no upload named %q", name)
		}
		return string(uploads[name])
	}
	security := getLog("SecurityLog", 41)
	if !strings.Contains(security, `"type":"StartupOfTheDevice"`) || !strings.Contains(security, `"type":"InvalidMessages"`) {
		t.Errorf("the security log uploaded:\n%s", security)
	}
	if diag := getLog("DiagnosticsLog", 42); !strings.HasPrefix(diag, "\x1f\x8b") {
		t.Errorf("the diagnostics log is no gzip archive: %.20q", diag)
	}
	mark := len(s.Records())
	mustCall(t, s, "CP-LOG", "ExtendedTriggerMessage", `{"requestedMessage":"LogStatusNotification"}`)
	if r := waitCall(t, s, mark, "CP-LOG", "LogStatusNotification", 10*time.Second); string(r.Frame.Payload) != `{"status":"Idle"}` {
		t.Errorf("triggered LogStatusNotification %s, want Idle", r.Frame.Payload)
	}
	noViolations(t, s)
}
