package chargepoint

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Firmware image format (docs/firmware.md): a header of lines, a blank
// line, the payload.
//
//	EVSE-FIRMWARE 1
//	version: 2.0.0
//	sha256: <64 hex digits of the payload>
const firmwareMagic = "EVSE-FIRMWARE 1"

// BuildFirmware makes an image of payload with a version of 1 to 50
// characters, without control characters.
func BuildFirmware(version string, payload []byte) ([]byte, error) {
	if version == "" || len(version) > 50 {
		return nil, fmt.Errorf("firmware: version %q: 1 to 50 characters", version)
	}
	if strings.ContainsFunc(version, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, fmt.Errorf("firmware: version %q: no control characters", version)
	}
	sum := sha256.Sum256(payload)
	header := fmt.Sprintf("%s\nversion: %s\nsha256: %x\n\n", firmwareMagic, version, sum)
	return append([]byte(header), payload...), nil
}

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

// firmwareJob is a firmware update: downloads from at, with retries,
// then the install (at installAt for a signed update) and a reboot.
type firmwareJob struct {
	status   FirmwareStatus
	busy     bool
	out      bool // a Download is out
	location string
	// at is when the next download starts, zero: none due.
	at               time.Time
	attempt, retries int
	interval         time.Duration
	// signed: a SignedUpdateFirmware (or a Tracked update), told with its
	// requestID; signature is set for the signed ones only.
	signed    bool
	requestID int
	signature *FirmwareSignature
	// installAt is when a signed update's downloaded image is installed;
	// version is the image's, waiting for it.
	installAt time.Time
	version   string
	// seq numbers the downloads, so that the outcome of one a new
	// signed update canceled is not taken for the next.
	seq uint64
}

// updateFirmware starts an update; false when one is under way. A signed
// (or tracked) update cancels one under way instead (UpdateAccepted's
// AcceptedCanceled).
func (c *Core) updateFirmware(r UpdateFirmware) UpdateResult {
	j := &c.fw
	result := UpdateAccepted
	tracked := r.Signature != nil || r.Tracked
	if j.busy {
		if !tracked {
			// OCPP gives UpdateFirmware no status to refuse with.
			c.log.Warn("UpdateFirmware while an update is under way: ignored", "location", redacted(r.Location))
			return UpdateRejected
		}
		c.log.Info("SignedUpdateFirmware cancels the update under way", "location", redacted(j.location))
		result = UpdateAcceptedCanceled
	}
	c.log.Info("UpdateFirmware", "location", redacted(r.Location), "retrieve_date", r.At, "retries", r.Retries,
		"signed", r.Signature != nil, "request", r.RequestID, "install_date", r.InstallAt)
	*j = firmwareJob{status: j.status, busy: true, location: r.Location, at: r.At, retries: max(r.Retries, 0),
		interval: max(r.Interval, 0), signed: tracked, requestID: r.RequestID, signature: r.Signature,
		installAt: r.InstallAt, seq: j.seq + 1}
	if !j.at.After(c.now) {
		j.at = c.now // the first status follows the answer
	} else if j.signed {
		c.firmwareStatus(FirmwareDownloadScheduled)
	}
	return result
}

// firmwareStatus sets and tells the update's status: with
// SignedFirmwareStatusNotification for a signed update.
func (c *Core) firmwareStatus(s FirmwareStatus) {
	c.fw.status = s
	c.call(FirmwareStatusNotification{Status: s, Signed: c.fw.signed, RequestID: c.fw.requestID}, pendingCall{kind: callOther})
}

// next is when the update has something to do.
func (j *firmwareJob) next() time.Time {
	if !j.busy || j.out {
		return time.Time{}
	}
	if j.version != "" {
		return j.installAt
	}
	return j.at
}

func (j *firmwareJob) due(c *Core) {
	if !j.busy || j.out {
		return
	}
	if j.version != "" {
		if !c.now.Before(j.installAt) {
			c.install(j.version)
		}
		return
	}
	if j.at.IsZero() || c.now.Before(j.at) {
		return
	}
	j.at, j.out = time.Time{}, true
	c.firmwareStatus(FirmwareDownloading)
	c.out.Jobs = append(c.out.Jobs, Download{Location: j.location, Signature: j.signature, Seq: j.seq})
}

// firmwareFailed ends an update that failed with status s.
func (c *Core) firmwareFailed(s FirmwareStatus) {
	c.fw.busy = false // a new update may come as soon as this is told
	c.firmwareStatus(s)
	c.fw.status = FirmwareIdle
}

// downloaded takes the outcome of a download: tried again, given up, or
// checked (a signed image's signature first) and installed, now or at
// the signed update's install time.
func (c *Core) downloaded(e Downloaded) {
	j := &c.fw
	if !j.out || e.Seq != j.seq {
		return
	}
	j.out = false
	if e.Err != nil {
		j.attempt++
		c.log.Warn("firmware download failed", "attempt", j.attempt, "of", j.retries+1, "err", e.Err)
		if j.attempt <= j.retries {
			j.at = c.now.Add(j.interval)
			return
		}
		c.firmwareFailed(FirmwareDownloadFailed)
		return
	}
	c.firmwareStatus(FirmwareDownloaded)
	if j.signature != nil {
		if e.BadSignature != nil {
			// Never installed.
			c.log.Error("firmware signature does not verify; not installed", "err", e.BadSignature)
			c.securityEvent(SecInvalidFirmwareSignature, e.BadSignature.Error())
			c.firmwareFailed(FirmwareInvalidSignature)
			return
		}
		c.firmwareStatus(FirmwareSignatureVerified)
	}
	if e.Bad != nil {
		c.firmwareStatus(FirmwareInstalling)
		c.log.Error("firmware not installed", "err", e.Bad)
		failed := FirmwareInstallationFailed
		if j.signature != nil {
			failed = FirmwareInstallVerificationFailed
		}
		c.firmwareFailed(failed)
		return
	}
	if j.signed && j.installAt.After(c.now) {
		j.version = e.Version
		c.firmwareStatus(FirmwareInstallScheduled)
		return
	}
	c.install(e.Version)
}

// install installs a checked image and reboots into it: transactions
// stop (reason Reboot), as for a reset; Installed is told after the boot.
func (c *Core) install(version string) {
	j := &c.fw
	j.version = ""
	c.firmwareStatus(FirmwareInstalling)
	c.record(FirmwareKept{Version: version, Signed: j.signed, RequestID: j.requestID})
	c.log.Info("firmware installed; rebooting into it", "version", version)
	if j.signed {
		c.firmwareStatus(FirmwareInstallRebooting)
	}
	c.securityEvent(SecResetOrReboot, "Reboot into firmware "+version)
	c.reset(ReasonReboot, true)
}

// diagnosticsJob is a diagnostics upload (GetDiagnostics) or a log upload
// (GetLog), with retries.
type diagnosticsJob struct {
	status   DiagnosticsStatus
	busy     bool
	out      bool // an Upload is out
	location string
	name     string
	from, to time.Time
	// at is when the next upload starts, zero: none due.
	at               time.Time
	attempt, retries int
	interval         time.Duration
	// log is GetLog's type, "" for GetDiagnostics; requestID is GetLog's.
	log       LogType
	requestID int
	// seq numbers the uploads, so that the outcome of one a GetLog
	// canceled is not taken for the next.
	seq uint64
}

// getDiagnostics starts an upload and returns its file name; "" when one
// is under way.
func (c *Core) getDiagnostics(r GetDiagnostics) string {
	j := &c.diag
	if j.busy {
		c.log.Warn("GetDiagnostics while an upload is under way: no file", "location", redacted(r.Location))
		return "" // no fileName: no diagnostics
	}
	name := c.uploadName(DiagnosticsLog)
	c.log.Info("GetDiagnostics", "location", redacted(r.Location), "file", name)
	*j = diagnosticsJob{status: j.status, busy: true, location: r.Location, name: name, from: r.From, to: r.To,
		at: c.now, retries: max(r.Retries, 0), interval: max(r.Interval, 0), seq: j.seq}
	return name
}

// getLog starts a log upload; one under way (of GetLog or GetDiagnostics)
// is canceled: its outcome is not told.
func (c *Core) getLog(r GetLog) LogResult {
	j := &c.diag
	status := LogAccepted
	if j.busy {
		status = LogAcceptedCanceled
		c.log.Info("GetLog cancels the upload under way", "file", j.name)
		if j.out {
			j.seq++ // its outcome is for nothing now
			j.out = false
		}
	}
	name := c.uploadName(r.Type)
	c.log.Info("GetLog", "type", r.Type, "request", r.RequestID, "location", redacted(r.Location), "file", name)
	*j = diagnosticsJob{status: j.status, busy: true, location: r.Location, name: name, from: r.From, to: r.To,
		at: c.now, retries: max(r.Retries, 0), interval: max(r.Interval, 0), log: r.Type, requestID: r.RequestID, seq: j.seq}
	return LogResult{Status: status, FileName: name}
}

// diagnosticsStatus sets and tells the upload's status:
// DiagnosticsStatusNotification for GetDiagnostics, LogStatusNotification
// for GetLog.
func (c *Core) diagnosticsStatus(s DiagnosticsStatus) {
	c.diag.status = s
	if c.diag.log != "" {
		c.call(LogStatusNotification{Status: logStatus(s), RequestID: c.diag.requestID}, pendingCall{kind: callOther})
		return
	}
	c.call(DiagnosticsStatusNotification{Status: s}, pendingCall{kind: callOther})
}

// logStatus is an upload's status as LogStatusNotification tells it.
func logStatus(s DiagnosticsStatus) LogStatus {
	switch s {
	case DiagnosticsUploading:
		return LogUploading
	case DiagnosticsUploaded:
		return LogUploaded
	case DiagnosticsUploadFailed:
		return LogUploadFailure
	}
	return LogIdle
}

func (j *diagnosticsJob) due(c *Core) {
	if !j.busy || j.out || j.at.IsZero() || c.now.Before(j.at) {
		return
	}
	j.at, j.out = time.Time{}, true
	j.seq++
	c.diagnosticsStatus(DiagnosticsUploading)
	c.out.Jobs = append(c.out.Jobs, Upload{Location: j.location, Name: j.name, From: j.from, To: j.to, Status: c.status(),
		Log: j.log, Seq: j.seq})
}

// uploaded takes the outcome of an upload.
func (c *Core) uploaded(e Uploaded) {
	j := &c.diag
	if !j.out || e.Seq != j.seq {
		return
	}
	j.out = false
	if e.Err == nil {
		j.busy = false
		c.diagnosticsStatus(DiagnosticsUploaded)
		j.status = DiagnosticsIdle
		return
	}
	j.attempt++
	c.log.Warn("diagnostics upload failed", "attempt", j.attempt, "of", j.retries+1, "err", e.Err)
	if j.attempt <= j.retries {
		j.at = c.now.Add(j.interval)
		return
	}
	c.log.Error("diagnostics not uploaded", "err", e.Err)
	j.busy = false
	c.diagnosticsStatus(DiagnosticsUploadFailed)
	j.status = DiagnosticsIdle
}

// redacted is a location for the log: without a password in it.
func redacted(location string) string {
	u, err := url.Parse(location)
	if err != nil {
		return "(not a URL)"
	}
	return u.Redacted()
}

// uploadName is the file name of an upload of a log made now: the
// diagnostics archive, or the security log's JSON lines.
func (c *Core) uploadName(log LogType) string {
	at := c.now.UTC().Format("20060102T150405Z")
	if log == SecurityLog {
		return "evse-securitylog-" + at + ".jsonl"
	}
	return "evse-diagnostics-" + at + ".tar.gz"
}
