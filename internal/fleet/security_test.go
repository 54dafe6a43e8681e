package fleet

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/csmstest"
)

// newTLSCSMS starts the test central system on loopback over TLS with
// the certificates of a new CA, kept in a directory as evse csms keeps
// it; with clientCerts it requires charge point certificates the CA
// signed (security profile 3).
func newTLSCSMS(t *testing.T, clientCerts bool) (csms *csmstest.Server, url string, ca *csmstest.CA, caDir string) {
	t.Helper()
	ca, err := csmstest.NewCA("fleet test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	caDir = t.TempDir()
	if err := ca.Save(caDir); err != nil {
		t.Fatal(err)
	}
	csms = csmstest.New(csmstest.Options{})
	url, err = csms.ListenTLS("127.0.0.1:0", ca, csmstest.TLSOptions{ClientCerts: clientCerts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { csms.Close() })
	return csms, url, ca, caDir
}

// clientKeys returns the public key (PKIX DER) and serial number of the
// client certificate each charge point presents now.
func clientKeys(t *testing.T, csms *csmstest.Server, ids []string) map[string]*x509.Certificate {
	t.Helper()
	out := map[string]*x509.Certificate{}
	for _, id := range ids {
		cert, ok := csms.ClientCert(id)
		if !ok || cert == nil {
			t.Fatalf("%s: connected %v, with no client certificate", id, ok)
		}
		out[id] = cert
	}
	return out
}

func publicKey(t *testing.T, c *x509.Certificate) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(c.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestAGroupOfSecurityProfile3ConnectsEachWithItsOwnCertificate: the
// charge points of a profile-3 group connect to a central system that
// requires client certificates, each with its own key and a certificate
// for its id; started again on the same store they keep their keys and
// certificates; and a renewal over OCPP gives one of them a new key, with
// which it connects again.
func TestAGroupOfSecurityProfile3ConnectsEachWithItsOwnCertificate(t *testing.T) {
	t.Parallel()
	csms, url, ca, caDir := newTLSCSMS(t, true)
	spec := Spec{Ramp: Ramp{Rate: 1000}, Groups: []Group{{Name: "tls", Count: 3, ID: "T-{n}",
		Keys: map[string]string{"CpoName": "Fleet CPO"}, Security: Security{Profile: 3, CA: caDir}}}}
	if err := spec.check(""); err != nil {
		t.Fatal(err)
	}
	ids := []string{"T-1", "T-2", "T-3"}
	data := t.TempDir()

	f, stop := runFleet(t, Options{CSMSURL: url, Spec: spec, DataDir: data})
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == 3 })
	first := clientKeys(t, csms, ids)
	var keys [][]byte
	for _, id := range ids {
		c := first[id]
		if c.Subject.CommonName != id || !slices.Equal(c.Subject.Organization, []string{"Fleet CPO"}) {
			t.Errorf("%s presented a certificate for %v", id, c.Subject)
		}
		k := publicKey(t, c)
		if slices.ContainsFunc(keys, func(o []byte) bool { return bytes.Equal(o, k) }) {
			t.Errorf("%s has the key of another charge point", id)
		}
		keys = append(keys, k)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return csms.ConnectedCount() == 0 })

	f, stop = runFleet(t, Options{CSMSURL: url, Spec: spec, DataDir: data})
	defer stop()
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == 3 })
	again := clientKeys(t, csms, ids)
	for _, id := range ids {
		if !bytes.Equal(publicKey(t, again[id]), publicKey(t, first[id])) || again[id].SerialNumber.Cmp(first[id].SerialNumber) != 0 {
			t.Errorf("%s started again with another key or certificate", id)
		}
	}

	csms.SignCSRs(ca, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answer, err := csms.Call(ctx, "T-2", "ExtendedTriggerMessage", json.RawMessage(`{"requestedMessage":"SignChargePointCertificate"}`))
	if err != nil || !strings.Contains(string(answer), "Accepted") {
		t.Fatalf("ExtendedTriggerMessage: %s %v", answer, err)
	}
	old := publicKey(t, first["T-2"])
	waitFor(t, func() bool {
		c, _ := csms.ClientCert("T-2")
		return c != nil && !bytes.Equal(publicKey(t, c), old)
	})
	renewed, _ := csms.ClientCert("T-2")
	if renewed.Subject.CommonName != "T-2" {
		t.Errorf("the renewed certificate is for %q", renewed.Subject.CommonName)
	}
	for _, id := range []string{"T-1", "T-3"} {
		if c, _ := csms.ClientCert(id); c == nil || !bytes.Equal(publicKey(t, c), publicKey(t, first[id])) {
			t.Errorf("%s changed its key with T-2's renewal", id)
		}
	}
}

// TestAFleetChargerRefusesSecurityProfile3WithoutACertificate: over
// wss://, the central system cannot raise a charger of a profile-2 group,
// which has no certificate, to profile 3 (it would lock the charger
// out).
func TestAFleetChargerRefusesSecurityProfile3WithoutACertificate(t *testing.T) {
	t.Parallel()
	const key = "00112233445566778899aabbccddeeff"
	csms, url, ca, _ := newTLSCSMS(t, false)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Ramp: Ramp{Rate: 1000}, Groups: []Group{{Name: "p2", Count: 1, ID: "P2-{n}",
		Security: Security{Profile: 2, AuthorizationKey: key}}}}
	if err := spec.check(""); err != nil {
		t.Fatal(err)
	}
	f, stop := runFleet(t, Options{CSMSURL: url, Spec: spec, DataDir: t.TempDir(), CAFile: caFile})
	defer stop()
	waitFor(t, func() bool { return f.Progress().States[StateAccepted] == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answer, err := csms.Call(ctx, "P2-1", "ChangeConfiguration", json.RawMessage(`{"key":"SecurityProfile","value":"3"}`))
	if err != nil || !strings.Contains(string(answer), "Rejected") {
		t.Errorf("SecurityProfile=3 on a charger without a certificate: %s %v", answer, err)
	}
	c, _ := f.Charger("P2-1")
	if _, err := c.settings.Set("SecurityProfile", "3", config.ActorOCPP); err == nil || !strings.Contains(err.Error(), "needs the charge point's certificate") {
		t.Errorf("SecurityProfile=3 without a certificate: %v, want a refusal naming the certificate", err)
	}
	if p := c.settings.Snapshot().SecurityProfile; p != 2 {
		t.Errorf("SecurityProfile %d after the refusals", p)
	}
}

// TestAProfile3GroupNeedsWSS: a profile-3 group is refused a ws://
// central system, with a message that says why.
func TestAProfile3GroupNeedsWSS(t *testing.T) {
	ca, err := csmstest.NewCA("fleet test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := ca.Save(dir); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Groups: []Group{{Name: "tls", Count: 1, Security: Security{Profile: 3, CA: dir}}}}
	if err := spec.check(""); err != nil {
		t.Fatal(err)
	}
	_, err = New(Options{CSMSURL: "ws://127.0.0.1:1/ocpp", Spec: spec, DataDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "needs a wss://") {
		t.Errorf("New = %v, want a refusal naming wss://", err)
	}
}
