package v16

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/chargepoint/runner"
	"github.com/evse-dev/evse/internal/chargepoint/station"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// HandleCall answers one CALL of the central system (rpc.Handler): the
// configuration and the local list here, everything that bears on
// charging as a command of the core.
func (cp *ChargePoint) HandleCall(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	a, ok := ocpp16.Lookup(action)
	if !ok {
		return nil, rpc.Errorf(rpc.NotImplemented, "unknown action %q", action)
	}
	if a.Initiator == ocpp16.InitiatorChargePoint {
		return nil, rpc.Errorf(rpc.NotSupported, "%s is sent by a charge point, not to one", action)
	}
	if cp.Unit().Registration() == chargepoint.Rejected {
		// While rejected the charge point sends nothing but
		// BootNotification, answers included.
		cp.log.Warn("central system sent a CALL while it rejects the charge point; not answering", "action", action)
		return nil, rpc.ErrNoAnswer
	}
	req, notes, err := ocpp16.DecodeFromPeer(action, ocpp16.Request, payload)
	if err != nil {
		cp.SecurityIncident(chargepoint.SecurityIncident{Type: chargepoint.SecInvalidMessages, TechInfo: fmt.Sprintf("%s: %v", action, err)})
		return nil, err
	}
	if len(notes) > 0 {
		cp.readLeniently(action, notes)
	}
	var resp any
	switch r := req.(type) {
	case *ocpp16.GetConfigurationRequest:
		resp, err = cp.getConfiguration(r)
	case *ocpp16.ChangeConfigurationRequest:
		resp = cp.changeConfiguration(r)
	case *ocpp16.ClearCacheRequest:
		resp = cp.clearCache()
	case *ocpp16.GetLocalListVersionRequest:
		resp, err = cp.getLocalListVersion()
	case *ocpp16.SendLocalListRequest:
		resp = cp.sendLocalList(r)
	case *ocpp16.DataTransferRequest:
		resp = &ocpp16.DataTransferResponse{Status: ocpp16.DataTransferStatusUnknownVendorId}
	case *ocpp16.UpdateFirmwareRequest:
		if cp.opts.Firmware == nil {
			return nil, rpc.Errorf(rpc.NotSupported, "this charge point cannot download firmware")
		}
		if only, rerr := cp.SignedFirmwareOnly(); rerr != nil || only {
			// With a manufacturer root installed, only signed firmware.
			return nil, rpc.Errorf(rpc.NotSupported, "this charge point takes signed firmware only (SignedUpdateFirmware)")
		}
		resp, err = cp.command(ctx, updateFirmware(r))
	case *ocpp16.SignedUpdateFirmwareRequest:
		if cp.opts.Firmware == nil {
			return nil, rpc.Errorf(rpc.NotSupported, "this charge point cannot download firmware")
		}
		resp, err = cp.signedUpdateFirmware(ctx, r)
	case *ocpp16.GetDiagnosticsRequest:
		if cp.opts.Diagnostics == nil {
			return nil, rpc.Errorf(rpc.NotSupported, "this charge point cannot upload diagnostics")
		}
		resp, err = cp.command(ctx, getDiagnostics(r))
	case *ocpp16.GetCompositeScheduleRequest:
		resp, err = cp.getCompositeSchedule(ctx, r)
	case *ocpp16.GetLogRequest:
		if cp.opts.Diagnostics == nil {
			return nil, rpc.Errorf(rpc.NotSupported, "this charge point cannot upload logs")
		}
		resp, err = cp.command(ctx, getLog(r))
	case *ocpp16.ExtendedTriggerMessageRequest:
		resp, err = cp.extendedTrigger(ctx, r)
	case *ocpp16.CertificateSignedRequest:
		resp = cp.certificateSigned(ctx, r)
	case *ocpp16.InstallCertificateRequest:
		resp = cp.installCertificate(r)
	case *ocpp16.GetInstalledCertificateIdsRequest:
		resp, err = cp.installedCertificates(r)
	case *ocpp16.DeleteCertificateRequest:
		resp = cp.deleteCertificate(r)
	default:
		cmd, answer, ok := cp.toCommand(req)
		if !ok {
			return nil, rpc.Errorf(rpc.NotSupported, "%s is not supported by this charge point yet", action)
		}
		if cmd == nil {
			resp = answer(nil)
			break
		}
		var res any
		if res, err = cp.Exec(ctx, cmd); err == nil {
			resp = answer(res)
		}
	}
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return nil, fmt.Errorf("v16: encode %s answer: %w", action, err)
	}
	return out, nil
}

// command runs a command whose answer is rendered by answerOf.
func (cp *ChargePoint) command(ctx context.Context, c commandOf) (any, error) {
	res, err := cp.Exec(ctx, c.cmd)
	if err != nil {
		return nil, err
	}
	return c.answer(res), nil
}

type commandOf struct {
	cmd    any
	answer func(any) any
}

// toCommand maps a CALL to a command of the core and the rendering of its
// reply; a nil command answers at once with answer(nil).
func (cp *ChargePoint) toCommand(req any) (cmd any, answer func(any) any, ok bool) {
	switch r := req.(type) {
	case *ocpp16.RemoteStartTransactionRequest:
		rs := chargepoint.RemoteStart{IDTag: r.IdTag}
		if r.ConnectorId != nil {
			rs.Connector = *r.ConnectorId
			if rs.Connector < 1 {
				return nil, func(any) any {
					return &ocpp16.RemoteStartTransactionResponse{Status: ocpp16.RemoteStartStopStatusRejected}
				}, true
			}
		}
		if r.ChargingProfile != nil {
			p, err := profile(*r.ChargingProfile)
			if err != nil {
				cp.log.Info("RemoteStartTransaction rejected: its charging profile", "why", err)
				return nil, func(any) any {
					return &ocpp16.RemoteStartTransactionResponse{Status: ocpp16.RemoteStartStopStatusRejected}
				}, true
			}
			rs.Profile = &p
		}
		known, err := cp.Unit().Auth().Lookup(r.IdTag)
		if err != nil {
			cp.log.Error("authorization data unreadable", "err", err)
		}
		rs.Known = known
		return rs, func(res any) any {
			status := ocpp16.RemoteStartStopStatusRejected
			if r, _ := res.(chargepoint.RemoteStartResult); r.Accepted {
				status = ocpp16.RemoteStartStopStatusAccepted
			}
			return &ocpp16.RemoteStartTransactionResponse{Status: status}
		}, true
	case *ocpp16.RemoteStopTransactionRequest:
		return chargepoint.RemoteStop{TransactionID: r.TransactionId}, func(res any) any {
			status := ocpp16.RemoteStartStopStatusRejected
			if ok, _ := res.(bool); ok {
				status = ocpp16.RemoteStartStopStatusAccepted
			}
			return &ocpp16.RemoteStopTransactionResponse{Status: status}
		}, true
	case *ocpp16.ResetRequest:
		return chargepoint.Reset{Hard: r.Type == ocpp16.ResetTypeHard}, func(any) any {
			return &ocpp16.ResetResponse{Status: ocpp16.ResetStatusAccepted}
		}, true
	case *ocpp16.ChangeAvailabilityRequest:
		return chargepoint.ChangeAvailability{Connector: r.ConnectorId, Operative: r.Type == ocpp16.AvailabilityTypeOperative},
			func(res any) any {
				return &ocpp16.ChangeAvailabilityResponse{Status: ocpp16.AvailabilityStatus(res.(chargepoint.AvailabilityResult))}
			}, true
	case *ocpp16.UnlockConnectorRequest:
		return chargepoint.Unlock{Connector: r.ConnectorId}, func(res any) any {
			return &ocpp16.UnlockConnectorResponse{Status: ocpp16.UnlockStatus(res.(chargepoint.UnlockResult))}
		}, true
	case *ocpp16.ReserveNowRequest:
		return chargepoint.ReserveNow{Reservation: chargepoint.Reservation{ID: r.ReservationId, Connector: r.ConnectorId,
				IDTag: r.IdTag, Parent: r.ParentIdTag, Expiry: r.ExpiryDate.Time}}, func(res any) any {
				return &ocpp16.ReserveNowResponse{Status: ocpp16.ReservationStatus(res.(chargepoint.ReserveResult))}
			}, true
	case *ocpp16.CancelReservationRequest:
		return chargepoint.CancelReservation{ID: r.ReservationId}, func(res any) any {
			if b, _ := res.(bool); b {
				return &ocpp16.CancelReservationResponse{Status: ocpp16.CancelReservationStatusAccepted}
			}
			return &ocpp16.CancelReservationResponse{Status: ocpp16.CancelReservationStatusRejected}
		}, true
	case *ocpp16.SetChargingProfileRequest:
		rejected := func(any) any { return &ocpp16.SetChargingProfileResponse{Status: ocpp16.ChargingProfileStatusRejected} }
		p, err := profile(r.CsChargingProfiles)
		if err != nil {
			cp.log.Info("SetChargingProfile rejected", "connector", r.ConnectorId, "id", r.CsChargingProfiles.ChargingProfileId, "why", err)
			return nil, rejected, true
		}
		return chargepoint.SetProfile{Connector: r.ConnectorId, Profile: p}, func(res any) any {
			if res.(chargepoint.ProfileResult).Why != "" {
				return rejected(nil)
			}
			return &ocpp16.SetChargingProfileResponse{Status: ocpp16.ChargingProfileStatusAccepted}
		}, true
	case *ocpp16.ClearChargingProfileRequest:
		c := chargepoint.ClearProfiles{ID: r.Id, Connector: r.ConnectorId, StackLevel: r.StackLevel}
		if r.ChargingProfilePurpose != "" {
			c.Purpose = purposes[r.ChargingProfilePurpose]
		}
		return c, func(res any) any {
			if res.(int) == 0 {
				return &ocpp16.ClearChargingProfileResponse{Status: ocpp16.ClearChargingProfileStatusUnknown}
			}
			return &ocpp16.ClearChargingProfileResponse{Status: ocpp16.ClearChargingProfileStatusAccepted}
		}, true
	case *ocpp16.TriggerMessageRequest:
		rejected := func(any) any { return &ocpp16.TriggerMessageResponse{Status: ocpp16.TriggerMessageStatusRejected} }
		t := chargepoint.Trigger{Message: chargepoint.TriggerMessage(r.RequestedMessage), Connector: -1}
		if r.ConnectorId != nil {
			if *r.ConnectorId < 0 {
				return nil, rejected, true
			}
			t.Connector = *r.ConnectorId
		}
		return t, func(res any) any {
			return &ocpp16.TriggerMessageResponse{Status: ocpp16.TriggerMessageStatus(res.(chargepoint.TriggerResult))}
		}, true
	}
	return nil, nil, false
}

func updateFirmware(r *ocpp16.UpdateFirmwareRequest) commandOf {
	u := chargepoint.UpdateFirmware{Location: r.Location, At: r.RetrieveDate.Time}
	u.Retries, u.Interval = station.Retries(r.Retries, r.RetryInterval)
	// OCPP gives UpdateFirmware no status: the answer is empty either way.
	return commandOf{cmd: u, answer: func(any) any { return &ocpp16.UpdateFirmwareResponse{} }}
}

func getDiagnostics(r *ocpp16.GetDiagnosticsRequest) commandOf {
	g := chargepoint.GetDiagnostics{Location: r.Location}
	if r.StartTime != nil {
		g.From = r.StartTime.Time
	}
	if r.StopTime != nil {
		g.To = r.StopTime.Time
	}
	g.Retries, g.Interval = station.Retries(r.Retries, r.RetryInterval)
	return commandOf{cmd: g, answer: func(res any) any {
		return &ocpp16.GetDiagnosticsResponse{FileName: res.(string)} // none: no diagnostics
	}}
}

func getLog(r *ocpp16.GetLogRequest) commandOf {
	g := station.GetLog(string(r.LogType), r.RequestId, r.Log.RemoteLocation, r.Log.OldestTimestamp, r.Log.LatestTimestamp,
		r.Retries, r.RetryInterval)
	return commandOf{cmd: g, answer: func(res any) any {
		l := res.(chargepoint.LogResult)
		return &ocpp16.GetLogResponse{Status: ocpp16.LogStatus(l.Status), Filename: l.FileName}
	}}
}

func (cp *ChargePoint) getConfiguration(req *ocpp16.GetConfigurationRequest) (*ocpp16.GetConfigurationResponse, error) {
	settings := cp.opts.Settings
	if maxKeys := settings.Snapshot().GetConfigurationMaxKeys; len(req.Key) > maxKeys {
		return nil, rpc.Errorf(rpc.OccurenceConstraintViolation,
			"%d keys requested, GetConfigurationMaxKeys is %d", len(req.Key), maxKeys)
	}
	resp := &ocpp16.GetConfigurationResponse{}
	if len(req.Key) == 0 {
		for _, v := range settings.All() {
			if v.Key.OverOCPP16() {
				resp.ConfigurationKey = append(resp.ConfigurationKey, keyValue(v))
			}
		}
		return resp, nil
	}
	for _, name := range req.Key {
		v, err := settings.Get(name)
		if err != nil || !v.Key.OverOCPP16() {
			resp.UnknownKey = append(resp.UnknownKey, name)
			continue
		}
		resp.ConfigurationKey = append(resp.ConfigurationKey, keyValue(v))
	}
	return resp, nil
}

// keyValue is a key as GetConfiguration shows it: write-only keys without
// their value.
func keyValue(v config.Value) ocpp16.KeyValue {
	kv := ocpp16.KeyValue{Key: v.Key.Name, Readonly: v.Key.Access == config.ReadOnly}
	if v.Key.Access != config.WriteOnly {
		val := v.Value
		kv.Value = &val
	}
	return kv
}

func (cp *ChargePoint) changeConfiguration(req *ocpp16.ChangeConfigurationRequest) *ocpp16.ChangeConfigurationResponse {
	var res config.Result
	err := fmt.Errorf("%q: %w", req.Key, config.ErrUnknownKey)
	if k, ok := cp.opts.Settings.Catalogue().Lookup(req.Key); !ok || k.OverOCPP16() {
		res, err = cp.opts.Settings.Set(req.Key, req.Value, config.ActorOCPP)
	}
	status := ocpp16.ConfigurationStatusAccepted
	switch {
	case err == nil && res.Effect == config.Reboot:
		status = ocpp16.ConfigurationStatusRebootRequired
	case err == nil:
	case errors.Is(err, config.ErrUnknownKey):
		status = ocpp16.ConfigurationStatusNotSupported
	case errors.Is(err, config.ErrReadOnly), errors.Is(err, config.ErrInvalid):
		status = ocpp16.ConfigurationStatusRejected
	default:
		cp.log.Error("ChangeConfiguration could not be stored", "key", req.Key, "err", err)
		status = ocpp16.ConfigurationStatusRejected
	}
	if err != nil {
		cp.log.Info("ChangeConfiguration refused", "key", req.Key, "status", status, "reason", err)
	} else {
		cp.log.Info("configuration changed", "key", res.Key.Name, "status", status)
	}
	return &ocpp16.ChangeConfigurationResponse{Status: status}
}

func (cp *ChargePoint) clearCache() *ocpp16.ClearCacheResponse {
	if err := cp.Unit().Auth().ClearCache(); err != nil {
		cp.log.Error("ClearCache failed", "err", err)
		return &ocpp16.ClearCacheResponse{Status: ocpp16.ClearCacheStatusRejected}
	}
	return &ocpp16.ClearCacheResponse{Status: ocpp16.ClearCacheStatusAccepted}
}

// getLocalListVersion answers GetLocalListVersion: 0 for an empty list, -1
// while the list is disabled (LocalAuthListEnabled off).
func (cp *ChargePoint) getLocalListVersion() (*ocpp16.GetLocalListVersionResponse, error) {
	if !cp.opts.Settings.Snapshot().LocalAuthListEnabled {
		return &ocpp16.GetLocalListVersionResponse{ListVersion: -1}, nil
	}
	v, _, err := cp.Unit().Auth().ListInfo()
	if err != nil {
		return nil, err
	}
	return &ocpp16.GetLocalListVersionResponse{ListVersion: v}, nil
}

// sendLocalList answers SendLocalList: NotSupported while the list is
// disabled, Failed for more entries than SendLocalListMaxLength, and the
// list's own verdict on the update otherwise (runner.AuthStore.UpdateList).
func (cp *ChargePoint) sendLocalList(req *ocpp16.SendLocalListRequest) *ocpp16.SendLocalListResponse {
	s := cp.opts.Settings.Snapshot()
	answer := func(st ocpp16.UpdateStatus) *ocpp16.SendLocalListResponse {
		return &ocpp16.SendLocalListResponse{Status: st}
	}
	if !s.LocalAuthListEnabled {
		return answer(ocpp16.UpdateStatusNotSupported)
	}
	if len(req.LocalAuthorizationList) > s.SendLocalListMaxLength {
		return answer(ocpp16.UpdateStatusFailed)
	}
	u := runner.ListUpdate{Full: req.UpdateType == ocpp16.UpdateTypeFull, Version: req.ListVersion,
		MaxLength: s.LocalAuthListMaxLength, Entries: make([]runner.ListEntry, len(req.LocalAuthorizationList))}
	for i, e := range req.LocalAuthorizationList {
		u.Entries[i].IDTag = e.IdTag
		if e.IdTagInfo != nil {
			info := authInfo(*e.IdTagInfo)
			u.Entries[i].Info = &info
		}
	}
	status, err := cp.Unit().Auth().UpdateList(u)
	if err != nil {
		cp.log.Error("SendLocalList not applied", "err", err)
	}
	cp.log.Info("local list updated", "type", req.UpdateType, "version", req.ListVersion, "entries", len(req.LocalAuthorizationList), "status", status)
	return answer(ocpp16.UpdateStatus(status))
}

// getCompositeSchedule answers GetCompositeSchedule in A (the only unit
// this charge point supports; W is Rejected), for at most a week. For a
// connector: what its profiles allow, its share of the
// ChargePointMaxProfile and the hardware maximum; where no profile
// limits it, the hardware maximum. For connector 0: the most the charge
// point may draw, the connectors' schedules summed under the
// ChargePointMaxProfile. A period of one phase is reported as such only
// where the connector can switch to one phase
// (ConnectorSwitch3to1PhaseSupported On); else it is honoured as a
// current limit only and reported with three. The core only copies the
// profiles: the computation does not hold up charging.
func (cp *ChargePoint) getCompositeSchedule(ctx context.Context, req *ocpp16.GetCompositeScheduleRequest) (*ocpp16.GetCompositeScheduleResponse, error) {
	rejected := &ocpp16.GetCompositeScheduleResponse{Status: ocpp16.GetCompositeScheduleStatusRejected}
	if req.ChargingRateUnit != "" && req.ChargingRateUnit != ocpp16.ChargingRateUnitTypeA || req.Duration < 0 {
		return rejected, nil
	}
	res, err := cp.Exec(ctx, chargepoint.CompositeRequest{Connector: req.ConnectorId})
	if err != nil {
		return nil, err
	}
	in, _ := res.(*chargepoint.CompositeInputs)
	if in == nil || len(in.Stacks) == 0 {
		return rejected, nil
	}
	dur := chargepoint.CompositeDuration(req.Duration)
	periods := in.Schedule(req.ConnectorId, dur)
	seconds := int(dur / time.Second)
	sched := &ocpp16.ChargingSchedule{Duration: &seconds, StartSchedule: &ocpp16.DateTime{Time: in.Start},
		ChargingRateUnit: ocpp16.ChargingRateUnitTypeA}
	for _, p := range periods {
		per := ocpp16.ChargingSchedulePeriod{StartPeriod: int(p.Start / time.Second), Limit: math.Floor(p.Limit*10) / 10}
		if p.Phases != 3 {
			ph := p.Phases
			per.NumberPhases = &ph
		}
		sched.ChargingSchedulePeriod = append(sched.ChargingSchedulePeriod, per)
	}
	if len(periods) > 0 && periods[0].MinRate > 0 {
		m := periods[0].MinRate
		sched.MinChargingRate = &m
	}
	id := req.ConnectorId
	return &ocpp16.GetCompositeScheduleResponse{Status: ocpp16.GetCompositeScheduleStatusAccepted,
		ConnectorId: &id, ScheduleStart: &ocpp16.DateTime{Time: in.Start}, ChargingSchedule: sched}, nil
}
