package runner

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/firmsign"
	"github.com/evse-dev/evse/internal/kv"
)

// Fetcher downloads a file (a firmware image).
type Fetcher interface {
	Fetch(ctx context.Context, url string) ([]byte, error)
}

// Diagnostics is what a diagnostics upload needs beyond the core: the
// logs and a way to upload.
type Diagnostics interface {
	// Logs returns the log records from from to to (zero: no bound), as
	// JSON lines.
	Logs(from, to time.Time) []byte
	// Upload sends a file to location.
	Upload(ctx context.Context, location, name string, data []byte) error
}

// heldJob is a job of the core waiting for the records of its Ready to
// be durable: a log upload must hold what was logged before it.
type heldJob struct {
	job   chargepoint.Job
	batch uint64
	gen   uint32
}

// startHeldJobs starts the held jobs whose records are durable; those of
// an earlier run of the software are dropped.
func (u *Unit) startHeldJobs(durable uint64) {
	kept := u.held[:0]
	for _, h := range u.held {
		switch {
		case h.gen != u.gen:
		case h.batch <= durable:
			u.startJob(h.job, h.gen)
		default:
			kept = append(kept, h)
		}
	}
	clear(u.held[len(kept):])
	u.held = kept
}

// startJob runs a job of the core in a goroutine that reports back; its
// outcome is for the run of the software gen only.
func (u *Unit) startJob(j chargepoint.Job, gen uint32) {
	if u.jobs == nil || u.ioCtx.Err() != nil {
		return // the runner is stopping
	}
	ctx := u.ioCtx
	u.jobs.Add(1)
	go func() {
		defer u.jobs.Done()
		var ev chargepoint.Event
		switch j := j.(type) {
		case chargepoint.Download:
			ev = u.download(ctx, j)
		case chargepoint.Upload:
			ev = u.upload(ctx, j)
		}
		if ctx.Err() == nil && ev != nil {
			u.enqueue(item{ev: ev, gen: gen})
		}
	}()
}

// download fetches and checks a firmware image.
func (u *Unit) download(ctx context.Context, j chargepoint.Download) chargepoint.Event {
	if u.opts.Firmware == nil {
		return chargepoint.Downloaded{Err: fmt.Errorf("this charge point cannot download firmware"), Seq: j.Seq}
	}
	image, err := u.opts.Firmware.Fetch(ctx, j.Location)
	if err != nil {
		return chargepoint.Downloaded{Err: err, Seq: j.Seq}
	}
	if s := j.Signature; s != nil {
		cert, err := firmsign.ParseCertificate(s.Certificate)
		if err == nil {
			err = firmsign.Verify(cert, s.Signature, image)
		}
		if err != nil {
			return chargepoint.Downloaded{BadSignature: err, Seq: j.Seq}
		}
	}
	version, err := chargepoint.ParseFirmware(image)
	if err != nil {
		return chargepoint.Downloaded{Bad: err, Seq: j.Seq}
	}
	return chargepoint.Downloaded{Version: version, Seq: j.Seq}
}

// upload makes the diagnostics archive and uploads it.
func (u *Unit) upload(ctx context.Context, j chargepoint.Upload) chargepoint.Event {
	if u.opts.Diagnostics == nil {
		return chargepoint.Uploaded{Err: fmt.Errorf("this charge point cannot upload diagnostics"), Seq: j.Seq}
	}
	var data []byte
	var err error
	if j.Log == chargepoint.SecurityLog {
		data, err = securityLogFile(u.store, j.From, j.To)
	} else {
		data, err = archive(u.opts.Diagnostics.Logs(j.From, j.To), j.Status, u.opts.Settings, u.r.opts.Clock.Now())
	}
	if err == nil {
		err = u.opts.Diagnostics.Upload(ctx, j.Location, j.Name, data)
	}
	return chargepoint.Uploaded{Err: err, Seq: j.Seq}
}

// securityLogFile is the security log of [from, to] as JSON lines.
func securityLogFile(store kv.Store, from, to time.Time) ([]byte, error) {
	entries, err := SecurityLog(store, from, to)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// archive is a tar.gz of the logs, the charge point's state and its
// configuration (write-only keys left out).
func archive(logs []byte, st chargepoint.Status, settings *config.Settings, now time.Time) ([]byte, error) {
	state, _ := json.MarshalIndent(st, "", "  ")
	var conf strings.Builder
	for _, v := range settings.All() {
		if v.Key.Access == config.WriteOnly {
			continue
		}
		fmt.Fprintf(&conf, "%s=%s\n", v.Key.Name, v.Value)
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"log.jsonl", logs},
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
