package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// TestL01M03M05A02SecurityOver201AtProfile3 runs the real binary with
// --ocpp 2.0.1 under security profile 3 against a wss:// CSMS speaking
// 2.0.1 only, which is also its CA, with strict validation of every
// frame. M05: the CSMS installs a manufacturer root (a V2G root is
// Rejected); M03: it lists the roots with their types. L01: an image
// built and signed with evse firmware build and sign is installed at its
// installDateTime, with every FirmwareStatusNotification carrying the
// requestId, and the station reboots into it (BootNotification reason
// FirmwareUpdate, then Installed); the same firmware object pointing at
// another image is InvalidSignature, with its security event. A02: on
// TriggerMessage SignChargingStationCertificate the station sends its CSR
// with SignCertificate, the CA's certificate comes back with
// CertificateSigned and the station reconnects with it. M04: the
// manufacturer root is deleted, the last CSMS root is not (Failed).
func TestL01M03M05A02SecurityOver201AtProfile3(t *testing.T) {
	t.Parallel()
	const id = "CS-SEC201"
	ca, maker := newCA(t, "evse test CA"), newCA(t, "the manufacturer")
	work := t.TempDir()
	write := func(name string, data []byte) string { return writeFileIn(t, work, name, data) }
	run := func(args ...string) string { return mustRunEVSE(t, args...) }
	images := map[string][]byte{}
	for name, version := range map[string]string{"good": "8.0.1", "evil": "6.6.6"} {
		images[name] = []byte(run("firmware", "build", "--version", version, write(name+".bin", []byte(name+" code"))))
	}
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		img, ok := images[strings.TrimPrefix(r.URL.Path, "/fw/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(img)
	}))
	defer web.Close()
	signerPEM, signerKey, err := maker.FirmwareSigner(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(signerKey)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := write("signer.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	certFile, rootFile := write("signer.pem", signerPEM), write("root.pem", maker.PEM)
	goodImage := write("good.img", images["good"])
	// firmware is UpdateFirmware's firmware object for the good image,
	// signed by the real binary, downloaded from location.
	firmware := func(location string, install time.Time) json.RawMessage {
		t.Helper()
		return json.RawMessage(run("firmware", "sign", "--key", keyFile, "--cert", certFile, "--root", rootFile, "--json",
			"--location", web.URL+location, "--install", install.UTC().Format(time.RFC3339), goodImage))
	}

	s, url := renewingCSMS(t, ca, csmstest.Options{Subprotocols: []string{csmstest.OCPP201}})
	dir := t.TempDir()
	readyProfile3(t, ca, dir, id)
	p := startEVSE(t, runArgs(url, id, dir, "--ocpp", "2.0.1")...)
	defer p.stop(os.Interrupt)
	waitCall(t, s, 0, id, "StatusNotification", 20*time.Second)

	install := func(typ string, pem []byte) string {
		body, _ := json.Marshal(map[string]string{"certificateType": typ, "certificate": string(pem)})
		return fmt.Sprint(mustCall(t, s, id, "InstallCertificate", string(body))["status"])
	}
	if st := install("ManufacturerRootCertificate", maker.PEM); st != "Accepted" {
		t.Fatalf("InstallCertificate ManufacturerRootCertificate: %s", st)
	}
	if st := install("V2GRootCertificate", maker.PEM); st != "Rejected" {
		t.Errorf("InstallCertificate V2GRootCertificate: %s, want Rejected", st)
	}
	ids := mustCall(t, s, id, "GetInstalledCertificateIds", `{}`)
	chains, _ := ids["certificateHashDataChain"].([]any)
	if ids["status"] != "Accepted" || len(chains) != 2 {
		t.Fatalf("GetInstalledCertificateIds: %v", ids)
	}
	byType := map[string]any{}
	for _, c := range chains {
		c := c.(map[string]any)
		byType[c["certificateType"].(string)] = c["certificateHashData"]
	}
	if byType["CSMSRootCertificate"] == nil || byType["ManufacturerRootCertificate"] == nil {
		t.Fatalf("GetInstalledCertificateIds: %v", chains)
	}

	statuses := func(mark, request int, want ...string) int {
		t.Helper()
		for _, st := range want {
			r, err := s.WaitFor(ctxFor(t, 15*time.Second), mark, func(r csmstest.Record) bool {
				return csmstest.IsCall(id, "FirmwareStatusNotification")(r) &&
					string(r.Frame.Payload) == fmt.Sprintf(`{"status":%q,"requestId":%d}`, st, request)
			})
			if err != nil {
				t.Fatalf("no FirmwareStatusNotification %s of request %d: %v", st, request, err)
			}
			mark = r.Seq
		}
		return mark
	}
	update := func(request int, fw json.RawMessage) string {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"requestId": request, "firmware": fw})
		return fmt.Sprint(mustCall(t, s, id, "UpdateFirmware", string(body))["status"])
	}

	mark := len(s.Records())
	if st := update(2, firmware("/fw/evil", time.Now())); st != "Accepted" {
		t.Fatalf("the forged firmware's update: %s", st)
	}
	statuses(mark, 2, "Downloading", "Downloaded", "InvalidSignature")
	waitSecurityEvent(t, s, mark, id, "InvalidFirmwareSignature")

	mark = len(s.Records())
	if st := update(3, firmware("/fw/good", time.Now().Add(2*time.Second))); st != "Accepted" {
		t.Fatalf("the good firmware's update: %s", st)
	}
	mark = statuses(mark, 3, "Downloading", "Downloaded", "SignatureVerified", "InstallScheduled", "Installing", "InstallRebooting")
	boot := waitCall(t, s, mark, id, "BootNotification", 20*time.Second)
	var b struct {
		Reason          string
		ChargingStation struct{ FirmwareVersion string }
	}
	json.Unmarshal(boot.Frame.Payload, &b)
	if b.Reason != "FirmwareUpdate" || b.ChargingStation.FirmwareVersion != "8.0.1" {
		t.Errorf("rebooted: %s", boot.Frame.Payload)
	}
	statuses(boot.Seq, 3, "Installed")
	waitSecurityEvent(t, s, boot.Seq, id, "FirmwareUpdated")
	waitCall(t, s, boot.Seq, id, "StatusNotification", 20*time.Second)

	first, _ := s.ClientCert(id)
	if first == nil {
		t.Fatal("connected without a client certificate")
	}
	mark = len(s.Records())
	if a := mustCall(t, s, id, "TriggerMessage", `{"requestedMessage":"SignChargingStationCertificate"}`); a["status"] != "Accepted" {
		t.Fatalf("TriggerMessage SignChargingStationCertificate: %v", a)
	}
	sign := waitCall(t, s, mark, id, "SignCertificate", 10*time.Second)
	if !strings.Contains(string(sign.Frame.Payload), `"certificateType":"ChargingStationCertificate"`) {
		t.Errorf("SignCertificate %s", sign.Frame.Payload)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, ok := s.ClientCert(id); ok && c != nil && c.SerialNumber.Cmp(first.SerialNumber) != 0 {
			if c.Subject.CommonName != id {
				t.Errorf("reconnected with %v", c.Subject)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no reconnection with a renewed certificate within 20 s")
		}
	}

	remove := func(hash any) string {
		body, _ := json.Marshal(map[string]any{"certificateHashData": hash})
		return fmt.Sprint(mustCall(t, s, id, "DeleteCertificate", string(body))["status"])
	}
	if st := remove(byType["ManufacturerRootCertificate"]); st != "Accepted" {
		t.Errorf("DeleteCertificate of the manufacturer root: %s", st)
	}
	if st := remove(byType["CSMSRootCertificate"]); st != "Failed" {
		t.Errorf("DeleteCertificate of the last CSMS root: %s, want Failed", st)
	}
	noViolations(t, s)
}
