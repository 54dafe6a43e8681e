package chargepoint

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// Diagnostics is what GetDiagnostics needs beyond the charge point: its
// logs and a way to upload.
type Diagnostics interface {
	// Logs returns the log records from from to to (zero: no bound), as
	// JSON lines.
	Logs(from, to time.Time) []byte
	// Upload sends a file to location.
	Upload(ctx context.Context, location, name string, data []byte) error
}

var errNoDiagnostics = rpc.Errorf(rpc.NotSupported, "this charge point cannot upload diagnostics")

// getDiagnostics answers GetDiagnostics with the file's name; the archive
// is made and uploaded after the answer.
func (cp *ChargePoint) getDiagnostics(ctx context.Context, req *ocpp16.GetDiagnosticsRequest) (*ocpp16.GetDiagnosticsResponse, error) {
	if cp.opts.Diagnostics == nil {
		return nil, errNoDiagnostics
	}
	if !cp.diag.busy.CompareAndSwap(false, true) {
		cp.log.Warn("GetDiagnostics while an upload is under way: no file", "location", req.Location)
		return &ocpp16.GetDiagnosticsResponse{}, nil // no fileName: no diagnostics
	}
	now := cp.clock.Now().UTC()
	name := "evse-diagnostics-" + now.Format("20060102T150405Z") + ".tar.gz"
	var from, to time.Time
	if req.StartTime != nil {
		from = req.StartTime.Time
	}
	if req.StopTime != nil {
		to = req.StopTime.Time
	}
	retries, interval := 0, time.Duration(0)
	if req.Retries != nil {
		retries = max(*req.Retries, 0)
	}
	if req.RetryInterval != nil {
		interval = time.Duration(max(*req.RetryInterval, 0)) * time.Second
	}
	cp.log.Info("GetDiagnostics", "location", req.Location, "file", name)
	rpc.AfterAnswer(ctx, func() {
		cp.goAsync(func(ctx context.Context) {
			cp.uploadDiagnostics(ctx, req.Location, name, from, to, retries, interval)
		})
	})
	return &ocpp16.GetDiagnosticsResponse{FileName: name}, nil
}

// uploadDiagnostics makes the archive and uploads it, with retries.
func (cp *ChargePoint) uploadDiagnostics(ctx context.Context, location, name string, from, to time.Time, retries int, interval time.Duration) {
	data, err := cp.diagnosticsArchive(ctx, from, to)
	for attempt := 0; err == nil; attempt++ {
		cp.diagStatus(ctx, ocpp16.DiagnosticsStatusUploading)
		if err = cp.opts.Diagnostics.Upload(ctx, location, name, data); err == nil {
			cp.diag.busy.Store(false)
			cp.diagStatus(ctx, ocpp16.DiagnosticsStatusUploaded)
			cp.diag.status.CompareAndSwap(ocpp16.DiagnosticsStatusUploaded, ocpp16.DiagnosticsStatusIdle)
			return
		}
		cp.log.Warn("diagnostics upload failed", "attempt", attempt+1, "of", retries+1, "err", err)
		if attempt >= retries || !cp.sleepUntil(ctx, cp.clock.Now().Add(interval)) {
			break
		}
		err = nil
	}
	cp.log.Error("diagnostics not uploaded", "err", err)
	cp.diag.busy.Store(false)
	cp.diagStatus(ctx, ocpp16.DiagnosticsStatusUploadFailed)
	cp.diag.status.CompareAndSwap(ocpp16.DiagnosticsStatusUploadFailed, ocpp16.DiagnosticsStatusIdle)
}

// diagnosticsArchive is a tar.gz of the logs of the window, the charge
// point's state and its configuration (write-only keys left out).
func (cp *ChargePoint) diagnosticsArchive(ctx context.Context, from, to time.Time) ([]byte, error) {
	st, err := cp.Status(ctx)
	if err != nil {
		return nil, err
	}
	state, _ := json.MarshalIndent(st, "", "  ")
	var conf strings.Builder
	for _, v := range cp.settings.All() {
		if v.Key.Access == config.WriteOnly {
			continue
		}
		fmt.Fprintf(&conf, "%s=%s\n", v.Key.Name, v.Value)
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	now := cp.clock.Now()
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"log.jsonl", cp.opts.Diagnostics.Logs(from, to)},
		{"status.json", state},
		{"configuration.txt", []byte(conf.String())},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: now}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// diagStatus records and sends a DiagnosticsStatusNotification.
func (cp *ChargePoint) diagStatus(ctx context.Context, s ocpp16.DiagnosticsStatus) {
	cp.diag.status.Store(s)
	err := cp.call(ctx, "DiagnosticsStatusNotification", &ocpp16.DiagnosticsStatusNotificationRequest{Status: s},
		&ocpp16.DiagnosticsStatusNotificationResponse{})
	if err != nil && ctx.Err() == nil {
		cp.log.Warn("DiagnosticsStatusNotification not delivered", "status", s, "err", err)
	}
}
