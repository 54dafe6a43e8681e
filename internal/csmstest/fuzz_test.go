package csmstest

import (
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/kv"
)

// FuzzSignCSR feeds SignCertificate's CSR to the test central system's
// CA (evse csms --tls takes it from any charge point): it never panics,
// and what it signs is one certificate, of the CA, for the CSR's subject.
func FuzzSignCSR(f *testing.F) {
	ca, err := NewCA("fuzz CA", time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	csr, err := certs.New(&kv.Mem{}).CSR("CP-F", "ACME")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(csr)
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		signed, err := ca.SignCSR(raw, time.Hour)
		if err != nil {
			return
		}
		block, rest := pem.Decode(signed)
		if block == nil || len(rest) != 0 {
			t.Fatalf("signed %q", signed)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckSignatureFrom(ca.cert); err != nil {
			t.Fatalf("not signed by the CA: %v", err)
		}
	})
}
