package v16

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/firmsign"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// signedStatuses lists the SignedFirmwareStatusNotifications sent, as
// "status/requestId".
func signedStatuses(t *testing.T, csms *fakeCSMS) string {
	var out []string
	for _, c := range csms.sent("SignedFirmwareStatusNotification") {
		r := decode[ocpp16.SignedFirmwareStatusNotificationRequest](t, c)
		s := string(r.Status)
		if r.RequestId != nil {
			s += fmt.Sprintf("/%d", *r.RequestId)
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// signedUpdate is a SignedUpdateFirmware request's payload.
func signedUpdate(t *testing.T, id int, certPEM []byte, signature string, retrieve, install time.Time) string {
	t.Helper()
	f := ocpp16.Firmware{Location: "http://fw/9.9.9", RetrieveDateTime: ocpp16.DateTime{Time: retrieve},
		SigningCertificate: string(certPEM), Signature: signature}
	if !install.IsZero() {
		f.InstallDateTime = &ocpp16.DateTime{Time: install}
	}
	raw, err := json.Marshal(ocpp16.SignedUpdateFirmwareRequest{RequestId: id, Firmware: f})
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// A signed firmware is installed only when its signing certificate comes
// from an installed manufacturer root and its signature matches the
// image; every status is told with the request id, the install waits for
// installDateTime, and Installed follows the reboot.
func TestSignedFirmwareIsVerifiedBeforeItIsInstalled(t *testing.T) {
	img := image("9.9.9", "new code")
	for _, c := range []struct {
		name string
		// signer picks the signing certificate and the signature.
		signer             func(t *testing.T, maker, other *csmstest.CA) ([]byte, string)
		answer, statuses   string
		installs           bool
		securityLogEntries string
	}{
		{name: "signed by the manufacturer", answer: "Accepted", installs: true,
			signer:   func(t *testing.T, maker, _ *csmstest.CA) ([]byte, string) { return sign(t, maker, time.Time{}, img) },
			statuses: "Downloading/7 Downloaded/7 SignatureVerified/7 InstallScheduled/7 Installing/7 InstallRebooting/7"},
		{name: "a forged signature", answer: "Accepted",
			signer: func(t *testing.T, maker, _ *csmstest.CA) ([]byte, string) {
				return sign(t, maker, time.Time{}, image("6.6.6", "evil code"))
			},
			statuses:           "Downloading/7 Downloaded/7 InvalidSignature/7",
			securityLogEntries: "InvalidFirmwareSignature"},
		{name: "a certificate of another root", answer: "InvalidCertificate",
			signer:             func(t *testing.T, _, other *csmstest.CA) ([]byte, string) { return sign(t, other, time.Time{}, img) },
			securityLogEntries: "InvalidFirmwareSigningCertificate"},
		{name: "an expired certificate", answer: "InvalidCertificate",
			signer: func(t *testing.T, maker, _ *csmstest.CA) ([]byte, string) {
				return sign(t, maker, time.Now().Add(-48*time.Hour), img)
			},
			securityLogEntries: "InvalidFirmwareSigningCertificate"},
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
				csms := newFakeCSMS()
				f := &fakeFetcher{image: img}
				r := startRig(t, csms, nil, store, func(o *Options) { o.Firmware = f })
				synctest.Wait()
				cert, signature := c.signer(t, maker, other)
				now := time.Now()
				out, err := call(t, r.cp, "SignedUpdateFirmware", signedUpdate(t, 7, cert, signature, now, now.Add(time.Hour)))
				if err != nil || out != fmt.Sprintf(`{"status":%q}`, c.answer) {
					t.Fatalf("SignedUpdateFirmware: %s, %v, want %s", out, err, c.answer)
				}
				time.Sleep(30 * time.Minute)
				select {
				case <-r.done:
					t.Fatal("installed before installDateTime")
				default:
				}
				time.Sleep(time.Hour)
				select {
				case <-r.done:
					if !c.installs {
						t.Fatal("the charge point rebooted into a firmware it must refuse")
					}
				default:
					if c.installs {
						t.Fatal("not installed an hour after installDateTime")
					}
				}
				r.stop()
				if got := signedStatuses(t, csms); got != c.statuses {
					t.Errorf("statuses %q, want %q", got, c.statuses)
				}
				if len(csms.sent("FirmwareStatusNotification")) != 0 {
					t.Error("a signed update told FirmwareStatusNotification")
				}
				if want := c.securityLogEntries; want != "" {
					if log := strings.Join(securityLog(t, store), "|"); !strings.Contains(log, want) {
						t.Errorf("security log %q, want %s", log, want)
					}
				}
				if !c.installs {
					if len(f.at) > 0 && c.answer != "Accepted" {
						t.Error("downloaded a firmware whose certificate was refused")
					}
					return
				}
				csms2 := newFakeCSMS()
				r2 := startRig(t, csms2, nil, store, func(o *Options) { o.Firmware = f })
				time.Sleep(time.Minute)
				r2.stop()
				if boot := decode[ocpp16.BootNotificationRequest](t, csms2.sent("BootNotification")[0]); boot.FirmwareVersion != "9.9.9" {
					t.Errorf("rebooted into %q, want 9.9.9", boot.FirmwareVersion)
				}
				if got := signedStatuses(t, csms2); got != "Installed/7" {
					t.Errorf("after the reboot: %q, want Installed/7", got)
				}
				if got := securityEvents(t, csms2); len(got) != 2 || !strings.HasPrefix(got[1], "FirmwareUpdated@") {
					t.Errorf("security events after the reboot: %v, want the start and FirmwareUpdated", got)
				}
			})
		})
	}
}

// sign makes a signing certificate of ca (valid from notBefore for a
// day; zero: from now) and signs img with its key.
func sign(t *testing.T, ca *csmstest.CA, notBefore time.Time, img []byte) ([]byte, string) {
	t.Helper()
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-time.Minute)
	}
	cert, key, err := ca.FirmwareSigner(notBefore, notBefore.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	signature, err := firmsign.Sign(key, img)
	if err != nil {
		t.Fatal(err)
	}
	return cert, signature
}

// Once a manufacturer root is installed, the charge point takes signed
// firmware only: UpdateFirmware is NotSupported and downloads nothing.
func TestAManufacturerRootRefusesUnsignedFirmware(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &kv.Mem{}
		csms := newFakeCSMS()
		f := &fakeFetcher{image: image("9.9.9", "new code")}
		r := startRig(t, csms, nil, store, func(o *Options) { o.Firmware = f })
		defer r.stop()
		synctest.Wait()
		update := `{"location":"http://fw/9.9.9","retrieveDate":"2000-01-01T00:00:00Z"}`
		maker, err := csmstest.NewCA("the manufacturer", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := certs.New(store).InstallRootOf(certs.ManufacturerRoot, maker.PEM, 10); err != nil {
			t.Fatal(err)
		}
		_, err = call(t, r.cp, "UpdateFirmware", update)
		var e *rpc.Error
		if !errors.As(err, &e) || e.Code != rpc.NotSupported {
			t.Fatalf("UpdateFirmware with a manufacturer root: %v, want NotSupported", err)
		}
		time.Sleep(time.Minute)
		if len(f.at) != 0 {
			t.Error("downloaded an unsigned firmware")
		}
	})
}

// TriggerMessage FirmwareStatusNotification (1.6's) during a signed
// update tells a 1.6 status, the nearest: DownloadScheduled is Idle.
func TestAPlainFirmwareTriggerDuringASignedUpdateTellsA16Status(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		maker, err := csmstest.NewCA("the manufacturer", 10*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		store := &kv.Mem{}
		if _, err := certs.New(store).InstallRootOf(certs.ManufacturerRoot, maker.PEM, 10); err != nil {
			t.Fatal(err)
		}
		csms := newFakeCSMS()
		img := image("9.9.9", "new code")
		r := startRig(t, csms, nil, store, func(o *Options) { o.Firmware = &fakeFetcher{image: img} })
		defer r.stop()
		synctest.Wait()
		cert, signature := sign(t, maker, time.Time{}, img)
		call(t, r.cp, "SignedUpdateFirmware", signedUpdate(t, 7, cert, signature, time.Now().Add(time.Hour), time.Time{}))
		call(t, r.cp, "TriggerMessage", `{"requestedMessage":"FirmwareStatusNotification"}`)
		time.Sleep(time.Second)
		if got := firmwareStatuses(t, csms); got != "Idle" {
			t.Errorf("triggered FirmwareStatusNotification %q, want Idle", got)
		}
		if got := signedStatuses(t, csms); got != "DownloadScheduled/7" {
			t.Errorf("signed statuses %q", got)
		}
	})
}
