package chargepoint

import (
	"strconv"
	"time"
)

// registration is the charge point's standing with the central system:
// BootNotification until it is Accepted, then heartbeats, and the
// messages a Trigger asks for. They go one at a time: triggers that come
// while one is out are sent once, after it.
type registration struct {
	status Registration
	// bootAt is when the next BootNotification is due (sent once
	// connected); zero: not before something asks for it.
	bootAt time.Time
	// out: one of these messages is out.
	out bool
	// lastLost: the last BootNotification got no answer (or none was
	// sent yet); the next goes as soon as a connection is up.
	lastLost bool
	// hbAt is when the next Heartbeat is due while Accepted.
	hbAt time.Time
	// Triggered messages waiting to be sent.
	heartbeat, firmwareStatus, signedFirmwareStatus, diagnosticsStatus, logStatus bool
	// firmware is the version installed last ("": the model's);
	// reportInstalled: Installed is to be told once Accepted.
	firmware        string
	reportInstalled bool
	// triggered: the next BootNotification answers a TriggerMessage.
	triggered bool
}

// heartbeatInterval is HeartbeatInterval.
func (c *Core) heartbeatInterval() time.Duration {
	return time.Duration(c.s.HeartbeatInterval) * time.Second
}

// linkUp: a BootNotification lost with the last connection goes at once.
func (r *registration) linkUp(c *Core) {
	if r.status != Accepted && r.lastLost {
		r.bootAt = c.now
	}
}

// next is when registration has something to do.
func (r *registration) next(c *Core) time.Time {
	var next time.Time
	if r.status == Accepted {
		next = r.hbAt
	}
	if c.connected && !r.out && !r.bootAt.IsZero() && (next.IsZero() || r.bootAt.Before(next)) {
		next = r.bootAt
	}
	return next
}

// sendRegistration sends what registration has due.
func (c *Core) sendRegistration() {
	r := &c.reg
	if r.status == Accepted && !r.hbAt.IsZero() && !c.now.Before(r.hbAt) {
		r.hbAt = c.now.Add(c.heartbeatInterval())
		r.heartbeat = r.heartbeat || c.connected // one due while offline is skipped
	}
	if !c.connected || r.out {
		return
	}
	send := func(body any, kind callKind) {
		r.out = true
		c.call(body, pendingCall{kind: kind})
	}
	switch {
	case !r.bootAt.IsZero() && !c.now.Before(r.bootAt):
		r.bootAt = time.Time{}
		id := c.cfg.Identity
		if r.firmware != "" {
			id.FirmwareVersion = r.firmware
		}
		reason := c.cfg.BootReason
		switch {
		case r.triggered:
			reason, r.triggered = BootTriggered, false
		case r.reportInstalled:
			reason = BootFirmwareUpdate
		case reason == "":
			reason = BootPowerUp
		}
		send(BootNotification{Identity: id, Reason: reason}, callBoot)
	case r.status == Rejected:
		// Nothing but BootNotification.
	case r.status == Accepted && r.reportInstalled:
		// After the boot into a new firmware.
		r.reportInstalled = false
		c.fw.status = FirmwareIdle
		c.record(FirmwareReported{})
		c.securityEvent(SecFirmwareUpdated, "Firmware "+r.firmware)
		send(FirmwareStatusNotification{Status: FirmwareInstalled, Signed: c.fw.signed, RequestID: c.fw.requestID}, callLink)
	case r.heartbeat:
		r.heartbeat = false
		send(Heartbeat{}, callHeartbeat)
	case r.diagnosticsStatus:
		r.diagnosticsStatus = false
		send(DiagnosticsStatusNotification{Status: c.diag.status}, callLink)
	case r.firmwareStatus:
		r.firmwareStatus = false
		send(FirmwareStatusNotification{Status: c.fw.status.plain()}, callLink)
	case r.signedFirmwareStatus:
		// The signed update's status while one is under way, else Idle.
		r.signedFirmwareStatus = false
		m := FirmwareStatusNotification{Status: FirmwareIdle, Signed: true}
		if c.fw.busy && c.fw.signed {
			m.Status, m.RequestID = c.fw.status, c.fw.requestID
		}
		send(m, callLink)
	case r.logStatus:
		// Uploading while a log upload is under way, else Idle.
		r.logStatus = false
		status, id := LogIdle, 0
		if c.diag.busy && c.diag.log != "" {
			status, id = LogUploading, c.diag.requestID
		}
		send(LogStatusNotification{Status: status, RequestID: id}, callLink)
	}
}

// bootAnswered takes the answer to BootNotification.
func (c *Core) bootAnswered(e Answered) {
	r := &c.reg
	r.out = false
	a, ok := e.Answer.(BootAnswer)
	r.lastLost = e.Failure != Delivered || !ok
	if r.lastLost {
		c.log.Warn("BootNotification got no valid answer", "err", e.Err, "retry_in", c.rules.BootRetry)
		if r.status != Accepted {
			r.bootAt = c.now.Add(c.rules.BootRetry)
		}
		return
	}
	if a.Status == Accepted {
		if a.Interval > 0 {
			c.adoptHeartbeatInterval(a.Interval)
		}
		if r.status != Accepted {
			c.rep.resendAll() // before Accepted is visible: every status goes out
		}
		r.status = Accepted
		r.hbAt = c.now.Add(c.heartbeatInterval())
		c.log.Info("registered with the central system", "heartbeat_interval", c.heartbeatInterval())
		return
	}
	wait := a.Interval
	if wait <= 0 {
		wait = c.rules.BootRetry
	}
	r.status = a.Status
	r.bootAt = c.now.Add(wait)
	r.hbAt = time.Time{}
	c.log.Info("central system did not accept the charge point", "status", a.Status, "retry_in", wait)
}

// adoptHeartbeatInterval makes the interval of an accepted
// BootNotification the value of HeartbeatInterval, within the key's
// range.
func (c *Core) adoptHeartbeatInterval(d time.Duration) {
	lo, hi := c.cfg.HeartbeatRange[0], c.cfg.HeartbeatRange[1]
	v := min(max(d, lo), hi)
	if v != d {
		c.log.Warn("heartbeat interval of BootNotification out of range; clamped", "interval", d, "used", v)
	}
	secs := int(v / time.Second)
	if secs == c.s.HeartbeatInterval {
		return
	}
	s := *c.s
	s.HeartbeatInterval = secs
	c.s = &s // at once; the stored value follows
	c.out.Settings = append(c.out.Settings, Setting{Key: "HeartbeatInterval", Value: strconv.Itoa(secs)})
}
