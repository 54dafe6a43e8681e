package chargepoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// HandleCall answers one CALL of the central system (rpc.Handler).
func (cp *ChargePoint) HandleCall(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	a, ok := ocpp16.Lookup(action)
	if !ok {
		return nil, rpc.Errorf(rpc.NotImplemented, "unknown action %q", action)
	}
	if a.Initiator == ocpp16.InitiatorChargePoint {
		return nil, rpc.Errorf(rpc.NotSupported, "%s is sent by a charge point, not to one", action)
	}
	if cp.Registration() == ocpp16.RegistrationStatusRejected {
		// While rejected the charge point sends nothing but
		// BootNotification, answers included.
		cp.log.Warn("central system sent a CALL while it rejects the charge point; not answering", "action", action)
		return nil, rpc.ErrNoAnswer
	}
	req, err := ocpp16.DecodeRequest(action, payload)
	if err != nil {
		return nil, err
	}
	var resp any
	switch r := req.(type) {
	case *ocpp16.GetConfigurationRequest:
		resp, err = cp.getConfiguration(r)
	case *ocpp16.ChangeConfigurationRequest:
		resp = cp.changeConfiguration(r)
	case *ocpp16.TriggerMessageRequest:
		resp = cp.triggerMessage(ctx, r)
	case *ocpp16.RemoteStartTransactionRequest:
		resp, err = cp.remoteStart(ctx, r)
	case *ocpp16.RemoteStopTransactionRequest:
		resp, err = cp.remoteStop(ctx, r)
	case *ocpp16.ResetRequest:
		resp, err = cp.resetRequested(ctx, r)
	case *ocpp16.ChangeAvailabilityRequest:
		resp, err = cp.changeAvailability(ctx, r)
	case *ocpp16.UnlockConnectorRequest:
		resp, err = cp.unlockConnector(ctx, r)
	case *ocpp16.ClearCacheRequest:
		resp, err = cp.clearCache()
	case *ocpp16.GetLocalListVersionRequest:
		resp, err = cp.getLocalListVersion()
	case *ocpp16.SendLocalListRequest:
		resp, err = cp.sendLocalList(r)
	case *ocpp16.ReserveNowRequest:
		resp, err = cp.reserveNow(ctx, r)
	case *ocpp16.CancelReservationRequest:
		resp, err = cp.cancelReservation(ctx, r)
	case *ocpp16.UpdateFirmwareRequest:
		resp, err = cp.updateFirmware(ctx, r)
	case *ocpp16.GetDiagnosticsRequest:
		resp, err = cp.getDiagnostics(ctx, r)
	case *ocpp16.SetChargingProfileRequest:
		resp, err = cp.setChargingProfile(ctx, r)
	case *ocpp16.ClearChargingProfileRequest:
		resp, err = cp.clearChargingProfile(ctx, r)
	case *ocpp16.GetCompositeScheduleRequest:
		resp, err = cp.getCompositeSchedule(ctx, r)
	case *ocpp16.DataTransferRequest:
		resp = &ocpp16.DataTransferResponse{Status: ocpp16.DataTransferStatusUnknownVendorId}
	default:
		return nil, rpc.Errorf(rpc.NotSupported, "%s is not supported by this charge point yet", action)
	}
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return nil, fmt.Errorf("chargepoint: encode %s answer: %w", action, err)
	}
	return out, nil
}

func (cp *ChargePoint) getConfiguration(req *ocpp16.GetConfigurationRequest) (*ocpp16.GetConfigurationResponse, error) {
	if maxKeys := cp.settings.Int("GetConfigurationMaxKeys"); len(req.Key) > maxKeys {
		return nil, rpc.Errorf(rpc.OccurenceConstraintViolation,
			"%d keys requested, GetConfigurationMaxKeys is %d", len(req.Key), maxKeys)
	}
	resp := &ocpp16.GetConfigurationResponse{}
	if len(req.Key) == 0 {
		for _, v := range cp.settings.All() {
			if v.Key.Section != config.Local {
				resp.ConfigurationKey = append(resp.ConfigurationKey, keyValue(v))
			}
		}
		return resp, nil
	}
	for _, name := range req.Key {
		v, err := cp.settings.Get(name)
		if err != nil || v.Key.Section == config.Local {
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
	res, err := cp.settings.Set(req.Key, req.Value, config.ActorOCPP)
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

func (cp *ChargePoint) triggerMessage(ctx context.Context, req *ocpp16.TriggerMessageRequest) *ocpp16.TriggerMessageResponse {
	if req.ConnectorId != nil {
		if n := *req.ConnectorId; n < 0 || n > cp.settings.Int("NumberOfConnectors") {
			return &ocpp16.TriggerMessageResponse{Status: ocpp16.TriggerMessageStatusRejected}
		}
	}
	connector := -1
	if req.ConnectorId != nil {
		connector = *req.ConnectorId
	}
	var send func()
	switch req.RequestedMessage {
	case ocpp16.MessageTriggerBootNotification:
		send = func() { cp.note(func(n *news) { n.boot = true }) }
	case ocpp16.MessageTriggerHeartbeat:
		send = func() { cp.note(func(n *news) { n.heartbeat = true }) }
	case ocpp16.MessageTriggerDiagnosticsStatusNotification:
		send = func() { cp.note(func(n *news) { n.diagnostics = true }) }
	case ocpp16.MessageTriggerFirmwareStatusNotification:
		send = func() { cp.note(func(n *news) { n.firmware = true }) }
	case ocpp16.MessageTriggerStatusNotification:
		if cp.freeMode() == 0 {
			return &ocpp16.TriggerMessageResponse{Status: ocpp16.TriggerMessageStatusRejected} // no statuses in this mode
		}
		send = func() { cp.reporter.force(connector) }
	case ocpp16.MessageTriggerMeterValues:
		if m := cp.freeMode(); m >= 0 && m <= 2 {
			return &ocpp16.TriggerMessageResponse{Status: ocpp16.TriggerMessageStatusRejected} // no meter values in these modes
		}
		send = func() { cp.post(func(c *core) { c.triggeredMeterValues(connector) }) }
	default:
		return &ocpp16.TriggerMessageResponse{Status: ocpp16.TriggerMessageStatusNotImplemented}
	}
	// The requested message follows the answer, never precedes it.
	rpc.AfterAnswer(ctx, send)
	return &ocpp16.TriggerMessageResponse{Status: ocpp16.TriggerMessageStatusAccepted}
}
