package v16

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// image makes a firmware image of a version.
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
	at    []time.Time
}

func (f *fakeFetcher) Fetch(ctx context.Context, url string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.at = append(f.at, time.Now())
	if f.fails > 0 {
		f.fails--
		return nil, errors.New("connection refused")
	}
	return f.image, nil
}

func firmwareStatuses(t *testing.T, csms *fakeCSMS) string {
	var out []string
	for _, c := range csms.sent("FirmwareStatusNotification") {
		out = append(out, string(decode[ocpp16.FirmwareStatusNotificationRequest](t, c).Status))
	}
	return strings.Join(out, " ")
}

func TestParseFirmwareChecksTheImage(t *testing.T) {
	good := image("2.0.0", "payload bytes")
	if v, err := chargepoint.ParseFirmware(good); err != nil || v != "2.0.0" {
		t.Fatalf("good image: %q, %v", v, err)
	}
	for name, img := range map[string][]byte{
		"no header":    []byte("payload"),
		"other magic":  []byte("ELF\nversion: 1\n\npayload"),
		"no version":   []byte("EVSE-FIRMWARE 1" + "\nsha256: 00\n\npayload"),
		"bad checksum": append(image("2.0.0", "payload")[:len(image("2.0.0", "payload"))-1], 'X'),
	} {
		if _, err := chargepoint.ParseFirmware(img); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestUpdateFirmwareDownloadsWithRetriesInstallsAndReboots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &kv.Mem{}
		csms := newFakeCSMS()
		f := &fakeFetcher{fails: 2, image: image("9.9.9", "new code")}
		r := startRig(t, csms, nil, store, func(o *Options) { o.Firmware = f })
		synctest.Wait()
		start := time.Now()
		at := start.Add(time.Hour).UTC().Format(time.RFC3339)
		if out, err := call(t, r.cp, "UpdateFirmware", fmt.Sprintf(`{"location":"http://fw/9.9.9","retrieveDate":%q,"retries":3,"retryInterval":60}`, at)); err != nil || out != `{}` {
			t.Fatalf("UpdateFirmware: %s, %v", out, err)
		}
		time.Sleep(3 * time.Hour)
		<-r.done // the charge point rebooted into the new firmware
		r.stop()
		if r.runErr != ErrReset {
			t.Fatalf("Run returned %v, want ErrReset", r.runErr)
		}
		if len(f.at) != 3 || f.at[0].Sub(start) != time.Hour || f.at[2].Sub(f.at[1]) != time.Minute {
			t.Errorf("downloads at %v, want at 1 h then every 60 s", f.at)
		}
		if got := firmwareStatuses(t, csms); got != "Downloading Downloading Downloading Downloaded Installing" {
			t.Errorf("statuses %q", got)
		}
		// After the reboot: the new version, and Installed once.
		csms2 := newFakeCSMS()
		r2 := startRig(t, csms2, nil, store, func(o *Options) { o.Firmware = f })
		defer r2.stop()
		time.Sleep(time.Minute)
		boot := decode[ocpp16.BootNotificationRequest](t, csms2.sent("BootNotification")[0])
		if boot.FirmwareVersion != "9.9.9" {
			t.Errorf("BootNotification firmwareVersion %q, want 9.9.9", boot.FirmwareVersion)
		}
		if got := firmwareStatuses(t, csms2); got != "Installed" {
			t.Errorf("after the reboot: %q, want Installed", got)
		}
		call(t, r2.cp, "TriggerMessage", `{"requestedMessage":"FirmwareStatusNotification"}`)
		time.Sleep(time.Second)
		if got := firmwareStatuses(t, csms2); got != "Installed Idle" {
			t.Errorf("triggered: %q, want Idle after Installed", got)
		}
	})
}

func TestAFailedDownloadOrABadImageInstallsNothing(t *testing.T) {
	for _, c := range []struct {
		name  string
		f     *fakeFetcher
		wants string
	}{
		{"download fails", &fakeFetcher{fails: 5}, "Downloading Downloading DownloadFailed"},
		{"bad image", &fakeFetcher{image: []byte("not firmware")}, "Downloading Downloaded Installing InstallationFailed"},
	} {
		synctest.Test(t, func(t *testing.T) {
			csms := newFakeCSMS()
			r := startRig(t, csms, nil, &kv.Mem{}, func(o *Options) { o.Firmware = c.f })
			defer r.stop()
			synctest.Wait()
			call(t, r.cp, "UpdateFirmware", `{"location":"http://fw/x","retrieveDate":"2000-01-01T00:00:00Z","retries":1,"retryInterval":30}`)
			time.Sleep(5 * time.Minute)
			if got := firmwareStatuses(t, csms); got != c.wants {
				t.Errorf("%s: %q, want %q", c.name, got, c.wants)
			}
			select {
			case <-r.done:
				t.Errorf("%s: the charge point rebooted", c.name)
			default:
			}
			if boot := decode[ocpp16.BootNotificationRequest](t, csms.sent("BootNotification")[0]); boot.FirmwareVersion == "x" {
				t.Errorf("%s: version changed", c.name)
			}
		})
	}
}
