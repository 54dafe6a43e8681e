package v16

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// TestCertificateManagement: InstallCertificate, GetInstalledCertificateIds
// and DeleteCertificate on the certificates of the charge point's store,
// with the security whitepaper's refusals: not a CA certificate
// (Rejected), the store full (Rejected), the last central system root
// (Failed), one that is not there (NotFound).
func TestCertificateManagement(t *testing.T) {
	var roots []*csmstest.CA
	for i := range 21 {
		ca, err := csmstest.NewCA("CA "+string(rune('A'+i)), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, ca)
	}
	synctest.Test(t, func(t *testing.T) {
		cp, _, stop := start(t, newFakeCSMS(), nil)
		defer stop()
		synctest.Wait()
		install := func(use ocpp16.CertificateUse, pem string) string {
			raw, _ := json.Marshal(ocpp16.InstallCertificateRequest{CertificateType: use, Certificate: pem})
			out, err := call(t, cp, "InstallCertificate", string(raw))
			if err != nil {
				t.Fatal(err)
			}
			var r ocpp16.InstallCertificateResponse
			json.Unmarshal([]byte(out), &r)
			return string(r.Status)
		}
		ids := func(use ocpp16.CertificateUse) ocpp16.GetInstalledCertificateIdsResponse {
			out, err := call(t, cp, "GetInstalledCertificateIds", `{"certificateType":"`+string(use)+`"}`)
			if err != nil {
				t.Fatal(err)
			}
			var r ocpp16.GetInstalledCertificateIdsResponse
			json.Unmarshal([]byte(out), &r)
			return r
		}
		remove := func(h ocpp16.CertificateHashData) string {
			raw, _ := json.Marshal(ocpp16.DeleteCertificateRequest{CertificateHashData: h})
			out, err := call(t, cp, "DeleteCertificate", string(raw))
			if err != nil {
				t.Fatal(err)
			}
			var r ocpp16.DeleteCertificateResponse
			json.Unmarshal([]byte(out), &r)
			return string(r.Status)
		}
		cs, mf := ocpp16.CertificateUseCentralSystemRootCertificate, ocpp16.CertificateUseManufacturerRootCertificate

		if r := ids(cs); r.Status != ocpp16.GetInstalledCertificateStatusNotFound {
			t.Errorf("no roots yet: %+v", r)
		}
		if st := install(cs, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"); st != "Rejected" {
			t.Errorf("a broken certificate: %s", st)
		}
		if st := install(cs, string(roots[0].PEM)); st != "Accepted" {
			t.Fatalf("a root: %s", st)
		}
		r := ids(cs)
		if r.Status != ocpp16.GetInstalledCertificateStatusAccepted || len(r.CertificateHashData) != 1 || len(r.CertificateHashData[0].IssuerNameHash) != 64 {
			t.Fatalf("the installed root: %+v", r)
		}
		first := r.CertificateHashData[0]
		if st := remove(first); st != "Failed" {
			t.Errorf("deleting the last central system root: %s, want Failed", st)
		}
		if st := install(mf, string(roots[1].PEM)); st != "Accepted" {
			t.Fatalf("a manufacturer root: %s", st)
		}
		if st := remove(ids(mf).CertificateHashData[0]); st != "Accepted" {
			t.Errorf("deleting the manufacturer root: %s", st)
		}
		unknown := first
		unknown.SerialNumber = strings.Repeat("f", 20)
		if st := remove(unknown); st != "NotFound" {
			t.Errorf("deleting one not there: %s", st)
		}
		for _, ca := range roots[1:20] { // CertificateStoreMaxLength is 20
			if st := install(cs, string(ca.PEM)); st != "Accepted" {
				t.Fatalf("root %s: %s", ca.PEM[:40], st)
			}
		}
		if st := install(cs, string(roots[20].PEM)); st != "Rejected" {
			t.Errorf("a 21st root: %s, want Rejected", st)
		}
		if st := remove(first); st != "Accepted" {
			t.Errorf("deleting a root that is not the last: %s", st)
		}
		if n := len(ids(cs).CertificateHashData); n != 19 {
			t.Errorf("%d roots left, want 19", n)
		}
	})
}
