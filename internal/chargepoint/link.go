package chargepoint

import (
	"context"
	"fmt"
	"time"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// link registers the charge point with the central system and keeps it
// registered: BootNotification, Heartbeat and the messages TriggerMessage
// asks for but StatusNotification and MeterValues, which the reporter and
// the core send. It returns when ctx ends.
func (cp *ChargePoint) link(ctx context.Context) {
	s := &session{cp: cp}
	var status ocpp16.RegistrationStatus
	var wait time.Duration
	for {
		if err := s.register(ctx, status, wait); err != nil {
			return // ctx ended
		}
		status, wait = s.accepted(ctx)
		if ctx.Err() != nil {
			return
		}
	}
}

// session is the state owned by the link goroutine.
type session struct {
	cp *ChargePoint
}

// register sends BootNotification until the central system accepts it,
// first waiting wait after an answer of status. It returns ctx's error when
// ctx ends first.
func (s *session) register(ctx context.Context, status ocpp16.RegistrationStatus, wait time.Duration) error {
	for {
		if wait > 0 {
			if err := s.waitToBoot(ctx, status, wait); err != nil {
				return err
			}
		}
		status, wait = s.boot(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if status == ocpp16.RegistrationStatusAccepted {
			return nil
		}
	}
}

// waitToBoot waits until the next BootNotification is due: after wait, at
// once when the central system triggers it, or when a connection comes up
// after a BootNotification that got no answer. Meanwhile, unless rejected,
// it sends what the central system triggers.
func (s *session) waitToBoot(ctx context.Context, status ocpp16.RegistrationStatus, wait time.Duration) error {
	t := s.cp.clock.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-t.C():
			return nil
		case <-s.cp.wake:
			n := s.cp.take()
			if n.connected && status == "" {
				return nil // the last one was lost on the way
			}
			if status == ocpp16.RegistrationStatusRejected {
				continue // send nothing but BootNotification
			}
			if n.boot {
				return nil
			}
			s.sendTriggered(ctx, n)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// boot sends one BootNotification and returns the registration status
// ("" without an answer) and how long to wait before the next one if it is
// not Accepted.
func (s *session) boot(ctx context.Context) (ocpp16.RegistrationStatus, time.Duration) {
	cp := s.cp
	m := cp.opts.Model
	req := ocpp16.BootNotificationRequest{
		ChargePointVendor:       m.Vendor,
		ChargePointModel:        m.Model,
		ChargePointSerialNumber: m.SerialNumber,
		ChargeBoxSerialNumber:   m.ChargeBoxSerialNumber,
		FirmwareVersion:         cp.firmwareVersion(),
		Iccid:                   m.ICCID,
		Imsi:                    m.IMSI,
		MeterType:               m.MeterType,
		MeterSerialNumber:       m.MeterSerialNumber,
	}
	var resp ocpp16.BootNotificationResponse
	if err := s.call(ctx, "BootNotification", &req, &resp); err != nil {
		if ctx.Err() == nil {
			cp.log.Warn("BootNotification got no valid answer", "err", err, "retry_in", cp.opts.BootRetry)
		}
		return "", cp.opts.BootRetry
	}
	if resp.Status == ocpp16.RegistrationStatusAccepted && resp.Interval > 0 {
		s.adoptHeartbeatInterval(resp.Interval) // before anything else may go out
	}
	cp.setRegistration(resp.Status)
	interval := time.Duration(resp.Interval) * time.Second
	switch resp.Status {
	case ocpp16.RegistrationStatusAccepted:
		cp.log.Info("registered with the central system", "heartbeat_interval", resp.Interval)
	default:
		if interval <= 0 {
			interval = cp.opts.BootRetry
		}
		cp.log.Info("central system did not accept the charge point", "status", resp.Status, "retry_in", interval)
	}
	return resp.Status, interval
}

// adoptHeartbeatInterval makes the interval of an accepted BootNotification
// the value of HeartbeatInterval, within the key's range.
func (s *session) adoptHeartbeatInterval(seconds int) {
	k, _ := s.cp.settings.Catalogue().Lookup("HeartbeatInterval")
	v := min(max(int64(seconds), k.Min), k.Max)
	if v != int64(seconds) {
		s.cp.log.Warn("heartbeat interval of BootNotification out of range; clamped", "interval", seconds, "used", v)
	}
	if _, err := s.cp.settings.Set("HeartbeatInterval", fmt.Sprint(v), config.ActorOCPP); err != nil {
		s.cp.log.Error("could not store the heartbeat interval", "err", err)
	}
}

// accepted runs the registered charge point until ctx ends, or until a
// triggered BootNotification is answered with another status than
// Accepted; it then returns that status and the wait before the next boot.
func (s *session) accepted(ctx context.Context) (ocpp16.RegistrationStatus, time.Duration) {
	cp := s.cp
	cp.reportInstalled(ctx) // after the boot into a new firmware
	interval := func() time.Duration { return time.Duration(cp.settings.Int("HeartbeatInterval")) * time.Second }
	hb := cp.clock.NewTimer(interval())
	defer hb.Stop()
	for {
		select {
		case <-hb.C():
			if cp.caller().Connected() {
				s.heartbeat(ctx)
			}
			hb.Reset(interval())
		case <-cp.wake:
			n := cp.take()
			if n.heartbeatChanged {
				hb.Stop()
				hb.Reset(interval())
			}
			if n.boot {
				status, wait := s.boot(ctx)
				if status != ocpp16.RegistrationStatusAccepted && status != "" {
					return status, wait
				}
			}
			s.sendTriggered(ctx, n)
		case <-ctx.Done():
			return "", 0
		}
	}
}

// sendTriggered sends the messages TriggerMessage asked for that the link
// sends, but BootNotification, which the caller handles.
func (s *session) sendTriggered(ctx context.Context, n news) {
	if n.heartbeat {
		s.heartbeat(ctx)
	}
	if n.diagnostics {
		s.call(ctx, "DiagnosticsStatusNotification",
			&ocpp16.DiagnosticsStatusNotificationRequest{Status: s.cp.diag.get()},
			&ocpp16.DiagnosticsStatusNotificationResponse{})
	}
	if n.firmware {
		s.call(ctx, "FirmwareStatusNotification",
			&ocpp16.FirmwareStatusNotificationRequest{Status: s.cp.fw.get()},
			&ocpp16.FirmwareStatusNotificationResponse{})
	}
}

func (s *session) heartbeat(ctx context.Context) {
	var resp ocpp16.HeartbeatResponse
	if err := s.call(ctx, "Heartbeat", &ocpp16.HeartbeatRequest{}, &resp); err != nil && ctx.Err() == nil {
		s.cp.log.Warn("Heartbeat failed", "err", err)
	}
}

// call sends one CALL and decodes its answer.
func (s *session) call(ctx context.Context, action string, req, resp any) error {
	return s.cp.call(ctx, action, req, resp)
}
