package chargepoint

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// Fetcher downloads a file (UpdateFirmware's location).
type Fetcher interface {
	Fetch(ctx context.Context, url string) ([]byte, error)
}

// Firmware image format (docs/firmware.md): a header of lines, a blank
// line, the payload.
//
//	EVSE-FIRMWARE 1
//	version: 2.0.0
//	sha256: <64 hex digits of the payload>
const firmwareMagic = "EVSE-FIRMWARE 1"

// Meta keys of the firmware.
const (
	metaFirmwareVersion = "firmwareVersion"   // the version installed last, shown in BootNotification
	metaFirmwareReport  = "firmwareInstalled" // set: FirmwareStatusNotification Installed is due after boot
)

// ParseFirmware checks an image and returns its version.
func ParseFirmware(image []byte) (version string, err error) {
	header, payload, ok := bytes.Cut(image, []byte("\n\n"))
	if !ok {
		return "", errors.New("firmware: no header")
	}
	sc := bufio.NewScanner(bytes.NewReader(header))
	var sum string
	for i := 0; sc.Scan(); i++ {
		line := sc.Text()
		if i == 0 {
			if line != firmwareMagic {
				return "", fmt.Errorf("firmware: not an evse image (%.20q)", line)
			}
			continue
		}
		k, v, _ := strings.Cut(line, ": ")
		switch k {
		case "version":
			version = v
		case "sha256":
			sum = v
		}
	}
	if version == "" || len(version) > 50 {
		return "", errors.New("firmware: version missing or over 50 characters")
	}
	want, err := hex.DecodeString(sum)
	got := sha256.Sum256(payload)
	if err != nil || !bytes.Equal(want, got[:]) {
		return "", errors.New("firmware: checksum does not match")
	}
	return version, nil
}

// errNoFirmware answers UpdateFirmware where nothing can download.
var errNoFirmware = rpc.Errorf(rpc.NotSupported, "this charge point cannot download firmware")

// progress is the state of a firmware update or a diagnostics upload:
// whether one is under way, and the status TriggerMessage reports (idle
// when none has been set).
type progress[S ~string] struct {
	status atomic.Value // S
	busy   atomic.Bool
	idle   S
}

func (p *progress[S]) get() S {
	if s, ok := p.status.Load().(S); ok {
		return s
	}
	return p.idle
}

// updateFirmware answers UpdateFirmware: the download starts at
// retrieveDate, after the answer.
func (cp *ChargePoint) updateFirmware(ctx context.Context, req *ocpp16.UpdateFirmwareRequest) (*ocpp16.UpdateFirmwareResponse, error) {
	if cp.opts.Firmware == nil {
		return nil, errNoFirmware
	}
	if !cp.fw.busy.CompareAndSwap(false, true) {
		// OCPP gives UpdateFirmware no status to refuse with.
		cp.log.Warn("UpdateFirmware while an update is under way: ignored", "location", req.Location)
		return &ocpp16.UpdateFirmwareResponse{}, nil
	}
	retries, interval := 0, time.Duration(0)
	if req.Retries != nil {
		retries = max(*req.Retries, 0)
	}
	if req.RetryInterval != nil {
		interval = time.Duration(max(*req.RetryInterval, 0)) * time.Second
	}
	cp.log.Info("UpdateFirmware", "location", req.Location, "retrieve_date", req.RetrieveDate.Time, "retries", retries)
	// The first status follows the answer, never precedes it.
	rpc.AfterAnswer(ctx, func() {
		cp.goAsync(func(ctx context.Context) {
			defer cp.fw.busy.Store(false)
			cp.runFirmwareUpdate(ctx, req.Location, req.RetrieveDate.Time, retries, interval)
		})
	})
	return &ocpp16.UpdateFirmwareResponse{}, nil
}

// runFirmwareUpdate downloads, checks and installs: the new version is
// kept, and the charge point reboots into it.
func (cp *ChargePoint) runFirmwareUpdate(ctx context.Context, location string, at time.Time, retries int, interval time.Duration) {
	if !cp.sleepUntil(ctx, at) {
		return
	}
	var image []byte
	for attempt := 0; ; attempt++ {
		cp.firmwareStatus(ctx, ocpp16.FirmwareStatusDownloading)
		var err error
		if image, err = cp.opts.Firmware.Fetch(ctx, location); err == nil {
			break
		}
		cp.log.Warn("firmware download failed", "attempt", attempt+1, "of", retries+1, "err", err)
		if attempt >= retries || !cp.sleepUntil(ctx, cp.clock.Now().Add(interval)) {
			cp.fw.busy.Store(false) // a new UpdateFirmware may come as soon as this is told
			cp.firmwareStatus(ctx, ocpp16.FirmwareStatusDownloadFailed)
			cp.fw.status.CompareAndSwap(ocpp16.FirmwareStatusDownloadFailed, ocpp16.FirmwareStatusIdle)
			return
		}
	}
	cp.firmwareStatus(ctx, ocpp16.FirmwareStatusDownloaded)
	cp.firmwareStatus(ctx, ocpp16.FirmwareStatusInstalling)
	version, err := ParseFirmware(image)
	if err == nil {
		err = cp.store.Update(func(tx kv.Tx) error {
			if err := tx.Put(bucketMeta, metaFirmwareVersion, []byte(version)); err != nil {
				return err
			}
			return tx.Put(bucketMeta, metaFirmwareReport, []byte("1"))
		})
	}
	if err != nil {
		cp.log.Error("firmware not installed", "err", err)
		cp.fw.busy.Store(false)
		cp.firmwareStatus(ctx, ocpp16.FirmwareStatusInstallationFailed)
		cp.fw.status.CompareAndSwap(ocpp16.FirmwareStatusInstallationFailed, ocpp16.FirmwareStatusIdle)
		return
	}
	cp.log.Info("firmware installed; rebooting into it", "version", version)
	// As a Reset: transactions stop (reason Reboot), then the restart.
	cp.post(func(c *core) {
		for _, cn := range c.conns {
			if cn.tx != nil {
				c.stop(cn, ocpp16.ReasonReboot, "")
			}
		}
		select {
		case cp.reset <- ocpp16.ResetTypeHard:
		default:
		}
	})
}

// sleepUntil waits until t or ctx's end; it reports whether t came.
func (cp *ChargePoint) sleepUntil(ctx context.Context, t time.Time) bool {
	d := t.Sub(cp.clock.Now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := cp.clock.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C():
		return true
	case <-ctx.Done():
		return false
	}
}

// firmwareStatus records and sends a FirmwareStatusNotification.
func (cp *ChargePoint) firmwareStatus(ctx context.Context, s ocpp16.FirmwareStatus) {
	cp.fw.status.Store(s)
	err := cp.call(ctx, "FirmwareStatusNotification", &ocpp16.FirmwareStatusNotificationRequest{Status: s},
		&ocpp16.FirmwareStatusNotificationResponse{})
	if err != nil && ctx.Err() == nil {
		cp.log.Warn("FirmwareStatusNotification not delivered", "status", s, "err", err)
	}
}

// firmwareVersion is the version BootNotification shows: the one
// installed last, else the model's.
func (cp *ChargePoint) firmwareVersion() string {
	v := cp.opts.Model.FirmwareVersion
	cp.store.View(func(tx kv.Tx) error {
		if raw := tx.Get(bucketMeta, metaFirmwareVersion); raw != nil {
			v = string(raw)
		}
		return nil
	})
	return v
}

// reportInstalled sends FirmwareStatusNotification Installed once after
// the boot into a new firmware.
func (cp *ChargePoint) reportInstalled(ctx context.Context) {
	due := false
	cp.store.View(func(tx kv.Tx) error { due = tx.Get(bucketMeta, metaFirmwareReport) != nil; return nil })
	if !due {
		return
	}
	cp.firmwareStatus(ctx, ocpp16.FirmwareStatusInstalled)
	cp.fw.status.Store(ocpp16.FirmwareStatusIdle)
	if err := cp.store.Update(func(tx kv.Tx) error { return tx.Delete(bucketMeta, metaFirmwareReport) }); err != nil {
		cp.log.Error("firmware report flag not cleared", "err", err)
	}
}
