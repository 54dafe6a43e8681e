package v201

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/chargepoint/station"
	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/firmsign"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp201"
)

// image is a firmware image of a version.
func image(version, payload string) []byte {
	img, err := chargepoint.BuildFirmware(version, []byte(payload))
	if err != nil {
		panic(err)
	}
	return img
}

// fakeFetcher serves an image after failing a number of times.
type fakeFetcher struct {
	mu    sync.Mutex
	fails int
	image []byte
	// hold, when set, makes each fetch wait for it to close.
	hold    chan struct{}
	fetches int
}

func (f *fakeFetcher) Fetch(ctx context.Context, url string) ([]byte, error) {
	f.mu.Lock()
	f.fetches++
	hold := f.hold
	f.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails > 0 {
		f.fails--
		return nil, errors.New("connection refused")
	}
	return f.image, nil
}

// firmwareStatuses lists the FirmwareStatusNotifications sent, as
// "status/requestId" ("status" without one).
func firmwareStatuses(t *testing.T, csms *fakeCSMS) string {
	var out []string
	for _, c := range csms.sent("FirmwareStatusNotification") {
		r := decode[ocpp201.FirmwareStatusNotificationRequest](t, c)
		s := string(r.Status)
		if r.RequestId != nil {
			s += fmt.Sprintf("/%d", *r.RequestId)
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// securityEventTypes lists the types of the SecurityEventNotifications sent.
func securityEventTypes(t *testing.T, csms *fakeCSMS) string {
	var out []string
	for _, c := range csms.sent("SecurityEventNotification") {
		out = append(out, decode[ocpp201.SecurityEventNotificationRequest](t, c).Type)
	}
	return strings.Join(out, " ")
}

// signImage makes a signing certificate of ca, valid for a day from an
// hour ago, and signs img with its key.
func signImage(t *testing.T, ca *csmstest.CA, img []byte) (string, string) {
	t.Helper()
	cert, key, err := ca.FirmwareSigner(time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	signature, err := firmsign.Sign(key, img)
	if err != nil {
		t.Fatal(err)
	}
	return string(cert), signature
}

// updateFirmware is an UpdateFirmware request's payload.
func updateFirmware(t *testing.T, id int, cert, signature string, retrieve, install time.Time, retries int) string {
	t.Helper()
	r := ocpp201.UpdateFirmwareRequest{RequestId: id, Firmware: ocpp201.Firmware{Location: "http://fw/9.9.9",
		RetrieveDateTime: ocpp201.DateTime{Time: retrieve}, SigningCertificate: cert, Signature: signature}}
	if !install.IsZero() {
		r.Firmware.InstallDateTime = &ocpp201.DateTime{Time: install}
	}
	if retries > 0 {
		interval := 60
		r.Retries, r.RetryInterval = &retries, &interval
	}
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestL01SecureFirmwareUpdate: a signed firmware is installed only when
// its signing certificate comes from an installed manufacturer root and
// its signature matches the image. Every status is told with the request
// id; the install waits for installDateTime; Installed follows the
// reboot, whose BootNotification says FirmwareUpdate. A forged signature
// is InvalidSignature, a certificate of another root InvalidCertificate,
// each with its security event.
func TestL01SecureFirmwareUpdate(t *testing.T) {
	img := image("9.9.9", "new code")
	for _, c := range []struct {
		name               string
		signer             func(t *testing.T, maker, other *csmstest.CA) (string, string)
		answer, statuses   string
		installs           bool
		securityEventTypes string
	}{
		{name: "signed by the manufacturer", answer: "Accepted", installs: true,
			signer:             func(t *testing.T, maker, _ *csmstest.CA) (string, string) { return signImage(t, maker, img) },
			statuses:           "DownloadScheduled/7 Downloading/7 Downloaded/7 SignatureVerified/7 InstallScheduled/7 Installing/7 InstallRebooting/7",
			securityEventTypes: "StartupOfTheDevice ResetOrReboot"},
		{name: "a forged signature", answer: "Accepted",
			signer: func(t *testing.T, maker, _ *csmstest.CA) (string, string) {
				cert, _ := signImage(t, maker, img)
				_, forged := signImage(t, maker, image("6.6.6", "evil code"))
				return cert, forged
			},
			statuses:           "DownloadScheduled/7 Downloading/7 Downloaded/7 InvalidSignature/7",
			securityEventTypes: "StartupOfTheDevice InvalidFirmwareSignature"},
		{name: "a certificate of another root", answer: "InvalidCertificate",
			signer:             func(t *testing.T, _, other *csmstest.CA) (string, string) { return signImage(t, other, img) },
			securityEventTypes: "StartupOfTheDevice InvalidFirmwareSigningCertificate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				maker, err := csmstest.NewCA("the manufacturer", 10*24*time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				other, err := csmstest.NewCA("someone else", 10*24*time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				store := &kv.Mem{}
				if _, err := certs.New(store).InstallRootOf(certs.ManufacturerRoot, maker.PEM, 10); err != nil {
					t.Fatal(err)
				}
				csms := newFakeCSMS(t)
				csms.answer("FirmwareStatusNotification", `{}`)
				f := &fakeFetcher{image: img}
				withFirmware := func(o *station.Options) { o.Firmware = f }
				r := startRig(t, csms, nil, store, withFirmware)
				synctest.Wait()
				cert, signature := c.signer(t, maker, other)
				now := time.Now()
				a := mustCall(t, r.cp, "UpdateFirmware", updateFirmware(t, 7, cert, signature, now.Add(10*time.Minute), now.Add(time.Hour), 0))
				if status(a) != c.answer {
					t.Fatalf("UpdateFirmware: %v, want %s", a, c.answer)
				}
				time.Sleep(50 * time.Minute)
				select {
				case <-r.done:
					t.Fatal("installed before installDateTime")
				default:
				}
				time.Sleep(time.Hour)
				select {
				case <-r.done:
					if !c.installs {
						t.Fatal("the station rebooted into a firmware it must refuse")
					}
				default:
					if c.installs {
						t.Fatal("not installed an hour after installDateTime")
					}
				}
				r.stop()
				if got := firmwareStatuses(t, csms); got != c.statuses {
					t.Errorf("statuses %q, want %q", got, c.statuses)
				}
				if got := securityEventTypes(t, csms); got != c.securityEventTypes {
					t.Errorf("security events %q, want %q", got, c.securityEventTypes)
				}
				if !c.installs {
					if c.answer != "Accepted" && f.fetches > 0 {
						t.Error("downloaded a firmware whose certificate was refused")
					}
					return
				}
				csms2 := newFakeCSMS(t)
				csms2.answer("FirmwareStatusNotification", `{}`)
				r2 := startRig(t, csms2, nil, store, withFirmware)
				time.Sleep(time.Minute)
				r2.stop()
				boot := decode[ocpp201.BootNotificationRequest](t, csms2.sent("BootNotification")[0])
				if boot.ChargingStation.FirmwareVersion != "9.9.9" || boot.Reason != ocpp201.BootReasonFirmwareUpdate {
					t.Errorf("rebooted into %q for %s, want 9.9.9 for FirmwareUpdate", boot.ChargingStation.FirmwareVersion, boot.Reason)
				}
				if got := firmwareStatuses(t, csms2); got != "Installed/7" {
					t.Errorf("after the reboot: %q, want Installed/7", got)
				}
				if got := securityEventTypes(t, csms2); got != "StartupOfTheDevice FirmwareUpdated" {
					t.Errorf("security events after the reboot: %q", got)
				}
			})
		})
	}
}

// TestL01AnUpdateReplacesOneUnderWay: an UpdateFirmware while another
// downloads is AcceptedCanceled and the first's outcome is not told;
// TriggerMessage FirmwareStatusNotification tells the update's status
// with its request id while one is under way, Idle without one after.
// A signature without a signing certificate is Rejected.
func TestL01AnUpdateReplacesOneUnderWay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		csms.answer("FirmwareStatusNotification", `{}`)
		f := &fakeFetcher{image: image("9.9.9", "new code"), hold: make(chan struct{})}
		r := startRig(t, csms, nil, &kv.Mem{}, func(o *station.Options) { o.Firmware = f })
		defer r.stop()
		synctest.Wait()
		now := time.Now()
		if a := mustCall(t, r.cp, "UpdateFirmware", updateFirmware(t, 1, "", "c2lnbmF0dXJl", now, time.Time{}, 0)); status(a) != "Rejected" {
			t.Fatalf("a signature without a certificate: %v", a)
		}
		if a := mustCall(t, r.cp, "UpdateFirmware", updateFirmware(t, 1, "", "", now, now.Add(24*time.Hour), 0)); status(a) != "Accepted" {
			t.Fatalf("the first update: %v", a)
		}
		synctest.Wait()
		if a := mustCall(t, r.cp, "TriggerMessage", `{"requestedMessage":"FirmwareStatusNotification"}`); status(a) != "Accepted" {
			t.Fatalf("TriggerMessage: %v", a)
		}
		synctest.Wait()
		if a := mustCall(t, r.cp, "UpdateFirmware", updateFirmware(t, 2, "", "", now.Add(time.Hour), now.Add(24*time.Hour), 0)); status(a) != "AcceptedCanceled" {
			t.Fatalf("the second update: %v, want AcceptedCanceled", a)
		}
		synctest.Wait()
		close(f.hold) // the first download ends now: its outcome is for nothing
		synctest.Wait()
		time.Sleep(2 * time.Hour)
		if a := mustCall(t, r.cp, "TriggerMessage", `{"requestedMessage":"FirmwareStatusNotification"}`); status(a) != "Accepted" {
			t.Fatalf("TriggerMessage: %v", a)
		}
		synctest.Wait()
		want := "Downloading/1 Downloading/1 DownloadScheduled/2 Downloading/2 Downloaded/2 InstallScheduled/2 InstallScheduled/2"
		if got := firmwareStatuses(t, csms); got != want {
			t.Errorf("statuses %q,\nwant %q", got, want)
		}
	})
}

// TestL02NonSecureFirmwareUpdate: without manufacturer roots an update
// without a signature is downloaded, retried retries times, and installed
// with every status told with its request id; once a manufacturer root
// is installed, such an update is Rejected and downloads nothing.
func TestL02NonSecureFirmwareUpdate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &kv.Mem{}
		csms := newFakeCSMS(t)
		csms.answer("FirmwareStatusNotification", `{}`)
		f := &fakeFetcher{image: image("9.9.9", "new code"), fails: 1}
		r := startRig(t, csms, nil, store, func(o *station.Options) { o.Firmware = f })
		synctest.Wait()
		if a := mustCall(t, r.cp, "UpdateFirmware", updateFirmware(t, 3, "", "", time.Now(), time.Time{}, 2)); status(a) != "Accepted" {
			t.Fatalf("UpdateFirmware: %v", a)
		}
		time.Sleep(5 * time.Minute)
		<-r.done
		r.stop()
		if got, want := firmwareStatuses(t, csms), "Downloading/3 Downloading/3 Downloaded/3 Installing/3 InstallRebooting/3"; got != want {
			t.Errorf("statuses %q, want %q", got, want)
		}

		maker, err := csmstest.NewCA("the manufacturer", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		csms2 := newFakeCSMS(t)
		csms2.answer("FirmwareStatusNotification", `{}`)
		r2 := startRig(t, csms2, nil, store, func(o *station.Options) { o.Firmware = f })
		defer r2.stop()
		synctest.Wait()
		raw, _ := json.Marshal(ocpp201.InstallCertificateRequest{CertificateType: ocpp201.InstallCertificateUseManufacturerRootCertificate,
			Certificate: string(maker.PEM)})
		if a := mustCall(t, r2.cp, "InstallCertificate", string(raw)); status(a) != "Accepted" {
			t.Fatalf("InstallCertificate: %v", a)
		}
		fetches := f.fetches
		a := mustCall(t, r2.cp, "UpdateFirmware", updateFirmware(t, 4, "", "", time.Now(), time.Time{}, 0))
		if status(a) != "Rejected" || a["statusInfo"].(map[string]any)["reasonCode"] != "SignatureRequired" {
			t.Fatalf("an unsigned update with a manufacturer root: %v", a)
		}
		time.Sleep(time.Hour)
		if f.fetches != fetches || firmwareStatuses(t, csms2) != "Installed/3" {
			t.Errorf("a refused update: %d fetches, statuses %q", f.fetches-fetches, firmwareStatuses(t, csms2))
		}
	})
}

// TestM03M04M05CertificateManagement: InstallCertificate of CSMS and
// manufacturer roots (a V2G or MO root Rejected: no ISO 15118 here; not
// a CA certificate Rejected), GetInstalledCertificateIds by type and for
// all, DeleteCertificate (NotFound for none, Failed for the last CSMS
// root), over the store 1.6 uses.
func TestM03M04M05CertificateManagement(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var roots []*csmstest.CA
		for i := range 3 {
			ca, err := csmstest.NewCA(fmt.Sprintf("CA %d", i), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			roots = append(roots, ca)
		}
		store := &kv.Mem{}
		csms := newFakeCSMS(t)
		r := startRig(t, csms, nil, store)
		defer r.stop()
		synctest.Wait()
		install := func(use ocpp201.InstallCertificateUse, pem string) string {
			raw, _ := json.Marshal(ocpp201.InstallCertificateRequest{CertificateType: use, Certificate: pem})
			return status(mustCall(t, r.cp, "InstallCertificate", string(raw)))
		}
		ids := func(types ...ocpp201.GetCertificateIdUse) ocpp201.GetInstalledCertificateIdsResponse {
			raw, _ := json.Marshal(ocpp201.GetInstalledCertificateIdsRequest{CertificateType: types})
			out, err := call(t, r.cp, "GetInstalledCertificateIds", string(raw))
			if err != nil {
				t.Fatal(err)
			}
			var resp ocpp201.GetInstalledCertificateIdsResponse
			json.Unmarshal([]byte(out), &resp)
			return resp
		}
		remove := func(h ocpp201.CertificateHashData) string {
			raw, _ := json.Marshal(ocpp201.DeleteCertificateRequest{CertificateHashData: h})
			return status(mustCall(t, r.cp, "DeleteCertificate", string(raw)))
		}
		csmsRoot, mfRoot := ocpp201.GetCertificateIdUseCSMSRootCertificate, ocpp201.GetCertificateIdUseManufacturerRootCertificate

		if got := ids(); got.Status != ocpp201.GetInstalledCertificateStatusNotFound || got.CertificateHashDataChain != nil {
			t.Errorf("nothing installed: %+v", got)
		}
		if st := install(ocpp201.InstallCertificateUseCSMSRootCertificate, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"); st != "Rejected" {
			t.Errorf("a broken certificate: %s", st)
		}
		for _, use := range []ocpp201.InstallCertificateUse{ocpp201.InstallCertificateUseV2GRootCertificate, ocpp201.InstallCertificateUseMORootCertificate} {
			if st := install(use, string(roots[2].PEM)); st != "Rejected" {
				t.Errorf("a %s: %s, want Rejected", use, st)
			}
		}
		if st := install(ocpp201.InstallCertificateUseCSMSRootCertificate, string(roots[0].PEM)); st != "Accepted" {
			t.Fatalf("a CSMS root: %s", st)
		}
		if st := install(ocpp201.InstallCertificateUseManufacturerRootCertificate, string(roots[1].PEM)); st != "Accepted" {
			t.Fatalf("a manufacturer root: %s", st)
		}
		all := ids()
		if all.Status != ocpp201.GetInstalledCertificateStatusAccepted || len(all.CertificateHashDataChain) != 2 ||
			all.CertificateHashDataChain[0].CertificateType != csmsRoot || all.CertificateHashDataChain[1].CertificateType != mfRoot {
			t.Fatalf("all: %+v", all)
		}
		if got := ids(ocpp201.GetCertificateIdUseV2GRootCertificate, ocpp201.GetCertificateIdUseV2GCertificateChain); got.Status != ocpp201.GetInstalledCertificateStatusNotFound {
			t.Errorf("V2G: %+v", got)
		}
		first := all.CertificateHashDataChain[0].CertificateHashData
		if got := ids(csmsRoot, csmsRoot); len(got.CertificateHashDataChain) != 1 || got.CertificateHashDataChain[0].CertificateHashData != first {
			t.Errorf("the CSMS roots: %+v", got)
		}
		if st := remove(first); st != "Failed" {
			t.Errorf("the last CSMS root: %s, want Failed", st)
		}
		unknown := first
		unknown.SerialNumber = strings.Repeat("f", 20)
		if st := remove(unknown); st != "NotFound" {
			t.Errorf("one not installed: %s, want NotFound", st)
		}
		sha512 := first
		sha512.HashAlgorithm = ocpp201.HashAlgorithmSHA512
		if st := remove(sha512); st != "NotFound" {
			t.Errorf("by another hash algorithm: %s, want NotFound", st)
		}
		if st := remove(all.CertificateHashDataChain[1].CertificateHashData); st != "Accepted" {
			t.Errorf("the manufacturer root: %s", st)
		}
		if got := ids(mfRoot); got.Status != ocpp201.GetInstalledCertificateStatusNotFound {
			t.Errorf("the manufacturer root is still listed: %+v", got)
		}
		pool, err := certs.New(store).Roots()
		if err != nil || pool == nil || !pool.Equal(roots[0].Pool()) {
			t.Errorf("the CSMS roots the transport trusts: %v", err)
		}
	})
}

// TestA02CertificateRenewalOver201: TriggerMessage
// SignChargingStationCertificate makes a new key whose CSR goes with
// SignCertificate for a ChargingStationCertificate; the CA's certificate
// for it comes back with CertificateSigned and replaces the station's.
// One that does not fit is Rejected with the 2.0.1 security event
// InvalidChargingStationCertificate; a V2GCertificate is Rejected.
func TestA02CertificateRenewalOver201(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ca, err := csmstest.NewCA("the CSO's CA", 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		store := &kv.Mem{}
		csms := newFakeCSMS(t)
		csms.answer("SignCertificate", `{"status":"Accepted"}`)
		reconnects := 0
		r := startRig(t, csms, nil, store, func(o *station.Options) { o.OnCertificate = func() { reconnects++ } })
		defer r.stop()
		synctest.Wait()
		if a := mustCall(t, r.cp, "TriggerMessage", `{"requestedMessage":"SignChargingStationCertificate"}`); status(a) != "Accepted" {
			t.Fatalf("TriggerMessage: %v", a)
		}
		synctest.Wait()
		sent := csms.sent("SignCertificate")
		if len(sent) != 1 {
			t.Fatalf("%d SignCertificate", len(sent))
		}
		req := decode[ocpp201.SignCertificateRequest](t, sent[0])
		if req.CertificateType != ocpp201.CertificateSigningUseChargingStationCertificate || !strings.Contains(req.Csr, "CERTIFICATE REQUEST") {
			t.Fatalf("SignCertificate: %+v", req)
		}
		signed := func(chain string, use ocpp201.CertificateSigningUse) map[string]any {
			raw, _ := json.Marshal(ocpp201.CertificateSignedRequest{CertificateChain: chain, CertificateType: use})
			return mustCall(t, r.cp, "CertificateSigned", string(raw))
		}
		good, err := ca.SignCSR([]byte(req.Csr), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		expired, err := ca.SignCSR([]byte(req.Csr), -time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if a := signed(string(good), ocpp201.CertificateSigningUseV2GCertificate); status(a) != "Rejected" {
			t.Errorf("a V2GCertificate: %v", a)
		}
		if a := signed(string(expired), ocpp201.CertificateSigningUseChargingStationCertificate); status(a) != "Rejected" {
			t.Errorf("an expired certificate: %v", a)
		}
		time.Sleep(time.Minute)
		if got := securityEventTypes(t, csms); !strings.Contains(got, "InvalidChargingStationCertificate") {
			t.Errorf("security events %q, want InvalidChargingStationCertificate", got)
		}
		if _, err := certs.New(store).Certificate(); err == nil {
			t.Fatal("a refused certificate was installed")
		}
		if a := signed(string(good), ""); status(a) != "Accepted" {
			t.Fatalf("the CA's certificate: %v", a)
		}
		installed, err := certs.New(store).Certificate()
		if err != nil || installed.Leaf == nil || installed.Leaf.Subject.CommonName != "CS-1" {
			t.Fatalf("the station's certificate: %v", err)
		}
		if reconnects != 1 {
			t.Errorf("%d reconnections with the new certificate, want 1", reconnects)
		}
	})
}

// A03: at security profile 3, a station whose certificate expires within
// 30 days renews it of its own accord (SignCertificate), once a day until
// a new certificate is installed; one whose certificate has longer to
// run does not.
func TestA03TheStationRenewsACertificateAboutToExpire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ca, err := csmstest.NewCA("the CSO's CA", 400*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		store := &kv.Mem{}
		csms := newFakeCSMS(t)
		csms.answer("SignCertificate", `{"status":"Accepted"}`)
		r := startRig(t, csms, map[string]string{"SecurityProfile": "3"}, store)
		defer r.stop()
		synctest.Wait()
		install := func(valid time.Duration) {
			t.Helper()
			csr, err := certs.New(store).RenewalCSR("CS-1", "")
			if err != nil {
				t.Fatal(err)
			}
			chain, err := ca.SignCSR(csr, valid)
			if err != nil {
				t.Fatal(err)
			}
			if err := certs.New(store).InstallCertificate(chain, "CS-1", time.Now(), 10000); err != nil {
				t.Fatal(err)
			}
		}
		install(90 * 24 * time.Hour)
		time.Sleep(2 * 24 * time.Hour)
		if n := len(csms.sent("SignCertificate")); n != 0 {
			t.Fatalf("%d SignCertificate with 88 days to run", n)
		}
		install(20 * 24 * time.Hour)
		time.Sleep(12 * time.Hour)
		sent := csms.sent("SignCertificate")
		if len(sent) != 1 {
			t.Fatalf("%d SignCertificate with 20 days to run, want 1", len(sent))
		}
		if req := decode[ocpp201.SignCertificateRequest](t, sent[0]); !strings.Contains(req.Csr, "CERTIFICATE REQUEST") {
			t.Errorf("SignCertificate: %+v", req)
		}
		// No certificate came: the next day's look asks again; once a
		// new one is in, no more.
		time.Sleep(24 * time.Hour)
		if n := len(csms.sent("SignCertificate")); n != 2 {
			t.Errorf("%d SignCertificate a day later without a new certificate, want 2", n)
		}
		install(90 * 24 * time.Hour)
		time.Sleep(3 * 24 * time.Hour)
		if n := len(csms.sent("SignCertificate")); n != 2 {
			t.Errorf("%d SignCertificate after the new certificate, want still 2", n)
		}
	})
}

// A02.FR.17/18: without a CertificateSigned, SignCertificate goes again
// CertSigningWaitMinimum later, the wait doubling, CertSigningRepeatTimes
// times; a certificate that comes ends the asking.
func TestA02SignCertificateIsAskedAgainWithoutCertificateSigned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ca, err := csmstest.NewCA("the CSO's CA", 400*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		csms := newFakeCSMS(t)
		csms.answer("SignCertificate", `{"status":"Accepted"}`)
		r := startRig(t, csms, map[string]string{"CertSigningWaitMinimum": "10", "CertSigningRepeatTimes": "2"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		if a := mustCall(t, r.cp, "TriggerMessage", `{"requestedMessage":"SignChargingStationCertificate"}`); status(a) != "Accepted" {
			t.Fatalf("TriggerMessage: %v", a)
		}
		time.Sleep(time.Hour)
		var at []string
		for _, c := range csms.sent("SignCertificate") {
			at = append(at, (c.at - csms.sent("SignCertificate")[0].at).Round(time.Second).String())
		}
		if got := strings.Join(at, " "); got != "0s 10s 30s" {
			t.Errorf("SignCertificate at %s, want 0s 10s 30s", got)
		}

		// A certificate after the first ask: no second.
		before := len(csms.sent("SignCertificate"))
		mustCall(t, r.cp, "TriggerMessage", `{"requestedMessage":"SignChargingStationCertificate"}`)
		synctest.Wait()
		sent := csms.sent("SignCertificate")
		req := decode[ocpp201.SignCertificateRequest](t, sent[len(sent)-1])
		chain, err := ca.SignCSR([]byte(req.Csr), 90*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(ocpp201.CertificateSignedRequest{CertificateChain: string(chain)})
		if a := mustCall(t, r.cp, "CertificateSigned", string(raw)); status(a) != "Accepted" {
			t.Fatalf("CertificateSigned: %v", a)
		}
		time.Sleep(time.Hour)
		if n := len(csms.sent("SignCertificate")) - before; n != 1 {
			t.Errorf("%d SignCertificate after a certificate came, want the one", n)
		}
	})
}
