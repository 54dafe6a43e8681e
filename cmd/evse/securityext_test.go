package main

import (
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/firmsign"
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

// renewingCSMS is a central system of opts on wss:// with ca's server
// certificate, asking for client certificates and signing the CSRs of
// SignCertificate with ca; closed when the test ends.
func renewingCSMS(t *testing.T, ca *csmstest.CA, opts csmstest.Options) (*csmstest.Server, string) {
	t.Helper()
	s := csmstest.New(opts)
	url, err := s.ListenTLS("127.0.0.1:0", ca, csmstest.TLSOptions{ClientCerts: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.SignCSRs(ca, time.Hour)
	return s, url
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
	s, url := renewingCSMS(t, ca, csmstest.Options{})
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

// waitOutput waits for a line of p's standard error holding s, and
// returns it.
func waitOutput(t *testing.T, p *process, s string, d time.Duration) string {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		for _, l := range strings.Split(p.errOut.String(), "\n") {
			if strings.Contains(l, s) {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %v", s, d)
		}
	}
}

// TestProfile3OnOneMachineWithEvseCSMS follows docs/security.md: evse
// csms --tls DIR keeps a CA, evse cert sign signs the charge point's CSR
// with it, and evse run connects under profile 3 with the certificate.
// The second start of evse csms reads the same CA.
func TestProfile3OnOneMachineWithEvseCSMS(t *testing.T) {
	t.Parallel()
	caDir, dir := filepath.Join(t.TempDir(), "ca"), t.TempDir()
	csms := startEVSE(t, "csms", "--tls", caDir, "--listen", "127.0.0.1:0", "--every", "100ms")
	line := waitOutput(t, csms, "listening at wss://", 10*time.Second)
	url := strings.TrimSuffix(strings.Fields(line[strings.Index(line, "wss://"):])[0], "/<id>")
	root := filepath.Join(caDir, "ca.pem")
	if !strings.Contains(csms.errOut.String(), root) {
		t.Errorf("evse csms does not name the root to install:\n%s", csms.errOut)
	}

	csr, errOut, code := runEVSE(t, "cert", "csr", "--data", dir, "--id", "CP-ONE")
	if code != 0 {
		t.Fatal(errOut)
	}
	csrFile, certFile := filepath.Join(t.TempDir(), "cp.csr"), filepath.Join(t.TempDir(), "cp.pem")
	os.WriteFile(csrFile, []byte(csr), 0o644)
	if _, errOut, code := runEVSE(t, "cert", "sign", "--ca", t.TempDir(), csrFile); code == 0 || !strings.Contains(errOut, "ca.pem") {
		t.Errorf("cert sign without a CA: exit %d, %s", code, errOut)
	}
	signed, errOut, code := runEVSE(t, "cert", "sign", "--ca", caDir, "--days", "30", csrFile)
	if code != 0 || !strings.Contains(signed, "BEGIN CERTIFICATE") {
		t.Fatalf("cert sign: %d %s", code, errOut)
	}
	os.WriteFile(certFile, []byte(signed), 0o644)
	for _, args := range [][]string{{"--chargepoint", certFile}, {"--central-root", root}} {
		if _, errOut, code := runEVSE(t, append([]string{"cert", "install", "--data", dir}, args...)...); code != 0 {
			t.Fatal(errOut)
		}
	}
	configure(t, dir, "SecurityProfile=3")
	p := startEVSE(t, runArgs(url, "CP-ONE", dir)...)
	waitOutput(t, p, "registered with the central system", 20*time.Second)
	waitOutput(t, csms, " 1 connected", 10*time.Second)
	p.stop(os.Interrupt)
	csms.stop(os.Interrupt)

	again := startEVSE(t, "csms", "--tls", caDir, "--listen", "127.0.0.1:0")
	waitOutput(t, again, "listening at wss://", 10*time.Second)
	if strings.Contains(again.errOut.String(), "made a CA") {
		t.Error("the second start made a new CA")
	}
	again.stop(os.Interrupt)
}

// TestCertificatesAndSignedFirmwareOverTLSWithTheRealBinary runs the real
// binary under profile 3: the central system installs a manufacturer
// root (InstallCertificate), lists the roots (GetInstalledCertificateIds)
// and updates the firmware with SignedUpdateFirmware. A firmware signed by
// a certificate of another root is refused at once (InvalidCertificate,
// nothing downloaded); a forged signature is found after the download
// (InvalidSignature, nothing installed); each is told as a security
// event. The rightly signed one is installed at installDateTime and the
// charge point reboots into it. Then DeleteCertificate: the manufacturer
// root goes, an unknown one is NotFound, the last central system root is
// kept (Failed).
func TestCertificatesAndSignedFirmwareOverTLSWithTheRealBinary(t *testing.T) {
	t.Parallel()
	ca, err := csmstest.NewCA("evse test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	maker, err := csmstest.NewCA("the manufacturer", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := csmstest.NewCA("someone else", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	good := firmwareImage("8.0.0", "signed code")
	forged := firmwareImage("8.0.0", "evil code")
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fw/good":
			w.Write(good)
		case "/fw/forged":
			w.Write(forged)
		default:
			http.NotFound(w, r)
		}
	}))
	defer web.Close()
	s := csmstest.New(csmstest.Options{})
	url, err := s.ListenTLS("127.0.0.1:0", ca, csmstest.TLSOptions{ClientCerts: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dir := t.TempDir()
	readyProfile3(t, ca, dir, "CP-SFW")
	p := startEVSE(t, runArgs(url, "CP-SFW", dir)...)
	defer p.stop(os.Interrupt)
	waitCall(t, s, 0, "CP-SFW", "StatusNotification", 20*time.Second)

	install, _ := json.Marshal(map[string]string{"certificateType": "ManufacturerRootCertificate", "certificate": string(maker.PEM)})
	if a := mustCall(t, s, "CP-SFW", "InstallCertificate", string(install)); a["status"] != "Accepted" {
		t.Fatalf("InstallCertificate: %v", a)
	}
	ids := mustCall(t, s, "CP-SFW", "GetInstalledCertificateIds", `{"certificateType":"ManufacturerRootCertificate"}`)
	hashes, _ := ids["certificateHashData"].([]any)
	if ids["status"] != "Accepted" || len(hashes) != 1 {
		t.Fatalf("GetInstalledCertificateIds: %v", ids)
	}

	signedStatuses := func(mark int, id string, want ...string) int {
		t.Helper()
		for _, st := range want {
			r, err := s.WaitFor(ctxFor(t, 15*time.Second), mark, func(r csmstest.Record) bool {
				return csmstest.IsCall("CP-SFW", "SignedFirmwareStatusNotification")(r) &&
					string(r.Frame.Payload) == `{"status":"`+st+`","requestId":`+id+`}`
			})
			if err != nil {
				t.Fatalf("no SignedFirmwareStatusNotification %s of request %s: %v", st, id, err)
			}
			mark = r.Seq
		}
		return mark
	}
	update := func(id int, location string, signer *csmstest.CA, image []byte, install time.Time) map[string]any {
		t.Helper()
		cert, key, err := signer.FirmwareSigner(time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		signature, err := firmsign.Sign(key, image)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(map[string]any{"requestId": id, "firmware": map[string]any{
			"location": web.URL + location, "retrieveDateTime": time.Now().UTC().Format(time.RFC3339),
			"installDateTime": install.UTC().Format(time.RFC3339), "signingCertificate": string(cert), "signature": signature}})
		return mustCall(t, s, "CP-SFW", "SignedUpdateFirmware", string(body))
	}

	mark := len(s.Records())
	if a := update(1, "/fw/good", stranger, good, time.Now()); a["status"] != "InvalidCertificate" {
		t.Errorf("a signing certificate of another root: %v", a)
	}
	waitSecurityEvent(t, s, mark, "CP-SFW", "InvalidFirmwareSigningCertificate")

	mark = len(s.Records())
	if a := update(2, "/fw/forged", maker, good, time.Now()); a["status"] != "Accepted" {
		t.Fatalf("a forged firmware's update: %v", a)
	}
	signedStatuses(mark, "2", "Downloading", "Downloaded", "InvalidSignature")
	waitSecurityEvent(t, s, mark, "CP-SFW", "InvalidFirmwareSignature")

	mark = len(s.Records())
	if a := update(3, "/fw/good", maker, good, time.Now().Add(2*time.Second)); a["status"] != "Accepted" {
		t.Fatalf("the good firmware's update: %v", a)
	}
	mark = signedStatuses(mark, "3", "Downloading", "Downloaded", "SignatureVerified", "InstallScheduled", "Installing", "InstallRebooting")
	boot := waitCall(t, s, mark, "CP-SFW", "BootNotification", 20*time.Second)
	if !strings.Contains(string(boot.Frame.Payload), `"firmwareVersion":"8.0.0"`) {
		t.Errorf("rebooted into %s", boot.Frame.Payload)
	}
	signedStatuses(boot.Seq, "3", "Installed")
	waitSecurityEvent(t, s, boot.Seq, "CP-SFW", "FirmwareUpdated")

	root := hashes[0].(map[string]any)
	unknown := maps.Clone(root)
	unknown["serialNumber"] = "abcdef"
	for _, c := range []struct {
		hash map[string]any
		want string
	}{{root, "Accepted"}, {unknown, "NotFound"}} {
		body, _ := json.Marshal(map[string]any{"certificateHashData": c.hash})
		if a := mustCall(t, s, "CP-SFW", "DeleteCertificate", string(body)); a["status"] != c.want {
			t.Errorf("DeleteCertificate %v: %v, want %s", c.hash["serialNumber"], a, c.want)
		}
	}
	cs := mustCall(t, s, "CP-SFW", "GetInstalledCertificateIds", `{"certificateType":"CentralSystemRootCertificate"}`)
	last, _ := cs["certificateHashData"].([]any)
	if len(last) != 1 {
		t.Fatalf("central system roots: %v", cs)
	}
	body, _ := json.Marshal(map[string]any{"certificateHashData": last[0]})
	if a := mustCall(t, s, "CP-SFW", "DeleteCertificate", string(body)); a["status"] != "Failed" {
		t.Errorf("deleting the last central system root: %v, want Failed", a)
	}
	noViolations(t, s)
}

// firmwareImage makes an evse firmware image (docs/firmware.md).
func firmwareImage(version, payload string) []byte {
	img, err := chargepoint.BuildFirmware(version, []byte(payload))
	if err != nil {
		panic(err)
	}
	return img
}
