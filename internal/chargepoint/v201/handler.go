package v201

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/devicemodel"
	"github.com/evse-dev/evse/internal/netprofile"
	"github.com/evse-dev/evse/internal/ocpp201"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
	"github.com/evse-dev/evse/internal/smartcharging"
)

// HandleCall answers one CALL of the CSMS (rpc.Handler): the device model
// here, everything that bears on charging as a command of the core.
func (cp *ChargePoint) HandleCall(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	a, ok := ocpp201.Lookup(action)
	if !ok {
		return nil, rpc.Errorf(rpc.NotImplemented, "unknown action %q", action)
	}
	if !a.SentBy(ocpp201.InitiatorCSMS) {
		return nil, rpc.Errorf(rpc.NotSupported, "%s is sent by a charging station, not to one", action)
	}
	if cp.Station.Registration() == chargepoint.Rejected {
		cp.log.Warn("CSMS sent a CALL while it rejects the charging station; not answering", "action", action)
		return nil, rpc.ErrNoAnswer
	}
	req, _, err := ocpp201.DecodeFromPeer(action, ocpp201.Request, payload)
	if err != nil {
		cp.SecurityIncident(chargepoint.SecurityIncident{Type: chargepoint.SecInvalidMessages, TechInfo: fmt.Sprintf("%s: %v", action, err)})
		return nil, err
	}
	var resp any
	switch r := req.(type) {
	case *ocpp201.GetVariablesRequest:
		resp, err = cp.getVariables(ctx, r)
	case *ocpp201.SetVariablesRequest:
		resp, err = cp.setVariables(ctx, r)
	case *ocpp201.GetBaseReportRequest:
		resp = cp.getBaseReport(ctx, r)
	case *ocpp201.GetReportRequest:
		resp = cp.getReport(ctx, r)
	case *ocpp201.ClearCacheRequest:
		status := ocpp201.ClearCacheStatusAccepted
		if err := cp.Unit().Auth().ClearCache(); err != nil {
			cp.log.Error("ClearCache failed", "err", err)
			status = ocpp201.ClearCacheStatusRejected
		}
		resp = &ocpp201.ClearCacheResponse{Status: status}
	case *ocpp201.DataTransferRequest:
		resp = &ocpp201.DataTransferResponse{Status: ocpp201.DataTransferStatusUnknownVendorId}
	case *ocpp201.RequestStartTransactionRequest:
		resp, err = cp.requestStart(ctx, r)
	case *ocpp201.RequestStopTransactionRequest:
		resp, err = cp.requestStop(ctx, r)
	case *ocpp201.ResetRequest:
		resp, err = cp.reset(ctx, r)
	case *ocpp201.ChangeAvailabilityRequest:
		resp, err = cp.changeAvailability(ctx, r)
	case *ocpp201.UnlockConnectorRequest:
		resp, err = cp.unlock(ctx, r)
	case *ocpp201.TriggerMessageRequest:
		resp, err = cp.trigger(ctx, r)
	case *ocpp201.SetChargingProfileRequest:
		resp, err = cp.setChargingProfile(ctx, r)
	case *ocpp201.GetChargingProfilesRequest:
		resp, err = cp.getChargingProfiles(ctx, r)
	case *ocpp201.ClearChargingProfileRequest:
		resp, err = cp.clearChargingProfile(ctx, r)
	case *ocpp201.GetCompositeScheduleRequest:
		resp, err = cp.getCompositeSchedule(ctx, r)
	case *ocpp201.ReserveNowRequest:
		resp, err = cp.reserveNow(ctx, r)
	case *ocpp201.CancelReservationRequest:
		resp, err = cp.cancelReservation(ctx, r)
	case *ocpp201.GetLocalListVersionRequest:
		resp, err = cp.getLocalListVersion()
	case *ocpp201.SendLocalListRequest:
		resp = cp.sendLocalList(r)
	case *ocpp201.SetDisplayMessageRequest:
		resp, err = cp.setDisplayMessage(ctx, r)
	case *ocpp201.GetDisplayMessagesRequest:
		resp, err = cp.getDisplayMessages(ctx, r)
	case *ocpp201.ClearDisplayMessageRequest:
		resp, err = cp.clearDisplayMessage(r)
	case *ocpp201.GetTransactionStatusRequest:
		resp, err = cp.transactionStatus(ctx, r)
	case *ocpp201.GetLogRequest:
		if cp.opts.Diagnostics == nil {
			return nil, rpc.Errorf(rpc.NotSupported, "this charging station cannot upload logs")
		}
		resp, err = cp.getLog(ctx, r)
	case *ocpp201.SetVariableMonitoringRequest:
		if len(payload) > monitorBytes {
			return nil, rpc.Errorf(rpc.FormatViolation, "%d bytes, BytesPerMessage is %d", len(payload), monitorBytes)
		}
		resp, err = cp.setVariableMonitoring(ctx, r)
	case *ocpp201.ClearVariableMonitoringRequest:
		if len(payload) > monitorBytes {
			return nil, rpc.Errorf(rpc.FormatViolation, "%d bytes, BytesPerMessage is %d", len(payload), monitorBytes)
		}
		resp, err = cp.clearVariableMonitoring(r)
	case *ocpp201.SetMonitoringBaseRequest:
		resp = cp.setMonitoringBase(r)
	case *ocpp201.SetMonitoringLevelRequest:
		resp = cp.setMonitoringLevel(r)
	case *ocpp201.GetMonitoringReportRequest:
		resp = cp.getMonitoringReport(ctx, r)
	case *ocpp201.CustomerInformationRequest:
		resp, err = cp.customerInformation(ctx, r)
	case *ocpp201.SetNetworkProfileRequest:
		if cp.opts.SetNetworkProfile == nil {
			return nil, rpc.Errorf(rpc.NotSupported, "%s is not supported by this charging station", action)
		}
		resp = cp.setNetworkProfile(r)
	case *ocpp201.UpdateFirmwareRequest:
		if cp.opts.Firmware == nil {
			return nil, rpc.Errorf(rpc.NotSupported, "this charging station cannot download firmware")
		}
		resp, err = cp.updateFirmware(ctx, r)
	case *ocpp201.InstallCertificateRequest:
		resp = cp.installCertificate(r)
	case *ocpp201.GetInstalledCertificateIdsRequest:
		resp, err = cp.installedCertificates(r)
	case *ocpp201.DeleteCertificateRequest:
		resp = cp.deleteCertificate(r)
	case *ocpp201.CertificateSignedRequest:
		resp = cp.certificateSigned(ctx, r)
	default:
		return nil, rpc.Errorf(rpc.NotSupported, "%s is not supported by this charging station yet", action)
	}
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return nil, fmt.Errorf("v201: encode %s answer: %w", action, err)
	}
	return out, nil
}

// itemsPerMessage bounds GetVariables and SetVariables
// (DeviceDataCtrlr.ItemsPerMessage, the key GetConfigurationMaxKeys).
func (cp *ChargePoint) itemsPerMessage() int {
	return cp.opts.Settings.Snapshot().GetConfigurationMaxKeys
}

// getVariables answers GetVariables from the settings, through the
// device model, and from the station's state for the physical
// components: the attribute asked for (Actual when none is), or
// NotSupportedAttributeType for one the variable has not (the device
// model's variables have Actual only).
func (cp *ChargePoint) getVariables(ctx context.Context, r *ocpp201.GetVariablesRequest) (*ocpp201.GetVariablesResponse, error) {
	if n, most := len(r.GetVariableData), cp.itemsPerMessage(); n > most {
		return nil, rpc.Errorf(rpc.OccurrenceConstraintViolation, "%d variables asked, ItemsPerMessage is %d", n, most)
	}
	resp := &ocpp201.GetVariablesResponse{}
	readLive := cp.liveOnce(ctx)
	for _, d := range r.GetVariableData {
		res := ocpp201.GetVariableResult{AttributeType: d.AttributeType, Component: d.Component, Variable: d.Variable}
		if liveComponent(d.Component) {
			live, err := readLive()
			if err != nil {
				return nil, err
			}
			lv, ok, known := findLive(live, d.Component, d.Variable)
			value, has := lv.attr(d.AttributeType)
			switch {
			case !known:
				res.AttributeStatus = ocpp201.GetVariableStatusUnknownComponent
			case !ok:
				res.AttributeStatus = ocpp201.GetVariableStatusUnknownVariable
			case !has:
				res.AttributeStatus = ocpp201.GetVariableStatusNotSupportedAttributeType
			default:
				res.AttributeStatus, res.AttributeValue = ocpp201.GetVariableStatusAccepted, &value
			}
			resp.GetVariableResult = append(resp.GetVariableResult, res)
			continue
		}
		v, ok, known := cp.find(d.Component, d.Variable)
		switch {
		case !known:
			res.AttributeStatus = ocpp201.GetVariableStatusUnknownComponent
		case !ok:
			res.AttributeStatus = ocpp201.GetVariableStatusUnknownVariable
		case d.AttributeType != "" && d.AttributeType != ocpp201.AttributeActual:
			res.AttributeStatus = ocpp201.GetVariableStatusNotSupportedAttributeType
		default:
			if v.Key == "" {
				s := v.Read("")
				res.AttributeStatus, res.AttributeValue = ocpp201.GetVariableStatusAccepted, &s
				break
			}
			value, err := cp.opts.Settings.Get(v.Key)
			switch {
			case err != nil:
				return nil, fmt.Errorf("v201: GetVariables %s: %w", v.Key, err)
			case value.Key.Access == config.WriteOnly:
				res.AttributeStatus = ocpp201.GetVariableStatusRejected
			default:
				s := v.Read(value.Value)
				res.AttributeStatus, res.AttributeValue = ocpp201.GetVariableStatusAccepted, &s
			}
		}
		resp.GetVariableResult = append(resp.GetVariableResult, res)
	}
	return resp, nil
}

// find looks a variable up; a component of an EVSE is none this model has.
func (cp *ChargePoint) find(c ocpp201.Component, v ocpp201.Variable) (variable devicemodel.Variable, ok, known bool) {
	if c.Evse != nil || c.Instance != "" {
		return devicemodel.Variable{}, false, false
	}
	return cp.model.Find(c.Name, v.Name, v.Instance)
}

// setVariables answers SetVariables: each value is set as the CSMS's
// (ActorOCPP), with the key's checks; RebootRequired for a key that
// applies at the next boot.
func (cp *ChargePoint) setVariables(ctx context.Context, r *ocpp201.SetVariablesRequest) (*ocpp201.SetVariablesResponse, error) {
	if n, most := len(r.SetVariableData), cp.itemsPerMessage(); n > most {
		return nil, rpc.Errorf(rpc.OccurrenceConstraintViolation, "%d variables to set, ItemsPerMessage is %d", n, most)
	}
	resp := &ocpp201.SetVariablesResponse{}
	readLive := cp.liveOnce(ctx)
	for _, d := range r.SetVariableData {
		res := ocpp201.SetVariableResult{AttributeType: d.AttributeType, Component: d.Component, Variable: d.Variable}
		if liveComponent(d.Component) {
			live, err := readLive()
			if err != nil {
				return nil, err
			}
			res.AttributeStatus, res.AttributeStatusInfo = setLive(live, d)
			resp.SetVariableResult = append(resp.SetVariableResult, res)
			continue
		}
		v, ok, known := cp.find(d.Component, d.Variable)
		switch {
		case !known:
			res.AttributeStatus = ocpp201.SetVariableStatusUnknownComponent
		case !ok:
			res.AttributeStatus = ocpp201.SetVariableStatusUnknownVariable
		case d.AttributeType != "" && d.AttributeType != ocpp201.AttributeActual:
			res.AttributeStatus = ocpp201.SetVariableStatusNotSupportedAttributeType
		default:
			res.AttributeStatus, res.AttributeStatusInfo = cp.set(v, d.AttributeValue)
		}
		resp.SetVariableResult = append(resp.SetVariableResult, res)
	}
	return resp, nil
}

// setLive answers a SetVariables of a physical component's variable,
// which is read-only: Rejected, once the component, the variable and the
// attribute are known.
func setLive(live []liveVariable, d ocpp201.SetVariableData) (ocpp201.SetVariableStatus, *ocpp201.StatusInfo) {
	lv, ok, known := findLive(live, d.Component, d.Variable)
	_, has := lv.attr(d.AttributeType)
	switch {
	case !known:
		return ocpp201.SetVariableStatusUnknownComponent, nil
	case !ok:
		return ocpp201.SetVariableStatusUnknownVariable, nil
	case !has:
		return ocpp201.SetVariableStatusNotSupportedAttributeType, nil
	}
	return ocpp201.SetVariableStatusRejected, &ocpp201.StatusInfo{ReasonCode: "ReadOnly"}
}

// set sets one variable's key.
func (cp *ChargePoint) set(v devicemodel.Variable, value string) (ocpp201.SetVariableStatus, *ocpp201.StatusInfo) {
	if v.Key == "" {
		return ocpp201.SetVariableStatusRejected, &ocpp201.StatusInfo{ReasonCode: "ReadOnly"}
	}
	keyValue, ok := v.ToKey(value)
	if !ok {
		return ocpp201.SetVariableStatusRejected, &ocpp201.StatusInfo{ReasonCode: "InvalidValue"}
	}
	res, err := cp.opts.Settings.Set(v.Key, keyValue, config.ActorOCPP)
	var invalid *config.ValueError
	switch {
	case errors.Is(err, config.ErrReadOnly), errors.Is(err, config.ErrNotStored):
		return ocpp201.SetVariableStatusRejected, &ocpp201.StatusInfo{ReasonCode: "ReadOnly"}
	case errors.As(err, &invalid), errors.Is(err, config.ErrInvalid):
		info := &ocpp201.StatusInfo{ReasonCode: "InvalidValue", AdditionalInfo: truncate(err.Error(), 512)}
		return ocpp201.SetVariableStatusRejected, info
	case err != nil:
		cp.log.Error("SetVariables failed", "key", v.Key, "err", err)
		return ocpp201.SetVariableStatusRejected, &ocpp201.StatusInfo{ReasonCode: "InternalError"}
	case res.Effect == config.Reboot:
		return ocpp201.SetVariableStatusRebootRequired, nil
	}
	return ocpp201.SetVariableStatusAccepted, nil
}

// truncate cuts s to at most n bytes (a field's maxLength).
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// requestStart answers RequestStartTransaction as the core's remote start.
func (cp *ChargePoint) requestStart(ctx context.Context, r *ocpp201.RequestStartTransactionRequest) (any, error) {
	rejected := &ocpp201.RequestStartTransactionResponse{Status: ocpp201.RequestStartStopStatusRejected}
	id := r.RemoteStartId
	rs := chargepoint.RemoteStart{IDTag: r.IdToken.IdToken, RemoteStartID: &id, TokenType: string(r.IdToken.Type)}
	if r.EvseId != nil {
		if *r.EvseId < 1 {
			return rejected, nil
		}
		rs.Connector = *r.EvseId
	}
	if r.ChargingProfile != nil {
		// F01.FR.08–11: a TxProfile without a transactionId, for the
		// transaction about to start; the core checks it as any profile.
		p, err := coreProfile(*r.ChargingProfile)
		if err != nil || p.Purpose != smartcharging.Tx || p.TransactionID != nil {
			cp.log.Info("RequestStartTransaction rejected: its charging profile", "purpose", r.ChargingProfile.ChargingProfilePurpose, "err", err)
			return rejected, nil
		}
		rs.Profile = &p
	}
	known, err := cp.Unit().Auth().LookupToken(rs.IDTag, rs.TokenType)
	if err != nil {
		cp.log.Error("authorization data unreadable", "err", err)
	}
	rs.Known = known
	out, err := cp.Exec(ctx, rs)
	if err != nil {
		return nil, err
	}
	res, _ := out.(chargepoint.RemoteStartResult)
	if !res.Accepted {
		return rejected, nil
	}
	resp := &ocpp201.RequestStartTransactionResponse{Status: ocpp201.RequestStartStopStatusAccepted}
	if res.Waiting != 0 {
		// A transaction started at plug-in waits for this driver: the
		// answer names it.
		resp.TransactionId = TransactionID(res.Waiting)
	}
	return resp, nil
}

// requestStop answers RequestStopTransaction for a transaction of this
// station.
func (cp *ChargePoint) requestStop(ctx context.Context, r *ocpp201.RequestStopTransactionRequest) (any, error) {
	rejected := &ocpp201.RequestStopTransactionResponse{Status: ocpp201.RequestStartStopStatusRejected}
	local, ok := localOf(r.TransactionId)
	if !ok {
		return rejected, nil
	}
	res, err := cp.Exec(ctx, chargepoint.RemoteStop{TransactionID: int(local)})
	if err != nil {
		return nil, err
	}
	if ok, _ := res.(bool); !ok {
		return rejected, nil
	}
	return &ocpp201.RequestStopTransactionResponse{Status: ocpp201.RequestStartStopStatusAccepted}, nil
}

// reset answers Reset: Immediate stops the transactions and restarts;
// OnIdle restarts at once when nothing charges, else it is Scheduled for
// when the last transaction ends (none starts meanwhile). A reset of one
// EVSE is Rejected.
func (cp *ChargePoint) reset(ctx context.Context, r *ocpp201.ResetRequest) (any, error) {
	if r.EvseId != nil {
		return &ocpp201.ResetResponse{Status: ocpp201.ResetStatusRejected}, nil
	}
	res, err := cp.Exec(ctx, chargepoint.Reset{Hard: r.Type == ocpp201.ResetImmediate, OnIdle: r.Type == ocpp201.ResetOnIdle})
	if err != nil {
		return nil, err
	}
	if res.(chargepoint.ResetResult) == chargepoint.ResetScheduled {
		return &ocpp201.ResetResponse{Status: ocpp201.ResetStatusScheduled}, nil
	}
	return &ocpp201.ResetResponse{Status: ocpp201.ResetStatusAccepted}, nil
}

// changeAvailability answers ChangeAvailability of the station (no EVSE)
// or of an EVSE.
func (cp *ChargePoint) changeAvailability(ctx context.Context, r *ocpp201.ChangeAvailabilityRequest) (any, error) {
	c := chargepoint.ChangeAvailability{Operative: r.OperationalStatus == ocpp201.OperationalStatusOperative}
	if r.Evse != nil {
		if r.Evse.ConnectorId != nil && *r.Evse.ConnectorId != 1 {
			// Each EVSE has one connector.
			return &ocpp201.ChangeAvailabilityResponse{Status: ocpp201.ChangeAvailabilityStatusRejected}, nil
		}
		c.Connector = r.Evse.Id
	}
	res, err := cp.Exec(ctx, c)
	if err != nil {
		return nil, err
	}
	return &ocpp201.ChangeAvailabilityResponse{Status: ocpp201.ChangeAvailabilityStatus(res.(chargepoint.AvailabilityResult))}, nil
}

// unlock answers UnlockConnector.
func (cp *ChargePoint) unlock(ctx context.Context, r *ocpp201.UnlockConnectorRequest) (any, error) {
	if r.ConnectorId != 1 || r.EvseId < 1 || r.EvseId > cp.opts.Settings.Snapshot().NumberOfConnectors {
		return &ocpp201.UnlockConnectorResponse{Status: ocpp201.UnlockStatusUnknownConnector}, nil
	}
	// F05: a transaction keeps its cable locked; RequestStopTransaction
	// ends it first.
	st, err := cp.Status(ctx)
	if err != nil {
		return nil, err
	}
	if c := st.Connectors; r.EvseId < len(c) && c[r.EvseId].Transaction != nil {
		return &ocpp201.UnlockConnectorResponse{Status: ocpp201.UnlockStatusOngoingAuthorizedTransaction}, nil
	}
	res, err := cp.Exec(ctx, chargepoint.Unlock{Connector: r.EvseId})
	if err != nil {
		return nil, err
	}
	status := ocpp201.UnlockStatusUnlockFailed
	if res.(chargepoint.UnlockResult) == chargepoint.Unlocked {
		status = ocpp201.UnlockStatusUnlocked
	}
	return &ocpp201.UnlockConnectorResponse{Status: status}, nil
}

// trigger answers TriggerMessage for the messages the core can send.
func (cp *ChargePoint) trigger(ctx context.Context, r *ocpp201.TriggerMessageRequest) (any, error) {
	t := chargepoint.Trigger{Connector: -1}
	if r.Evse != nil {
		t.Connector = r.Evse.Id
	}
	switch r.RequestedMessage {
	case ocpp201.MessageTriggerBootNotification:
		if cp.Station.Registration() == chargepoint.Accepted {
			// F06.FR.17: not once the boot is accepted.
			return &ocpp201.TriggerMessageResponse{Status: ocpp201.TriggerMessageStatusRejected}, nil
		}
		t.Message = chargepoint.TriggerBoot
	case ocpp201.MessageTriggerHeartbeat:
		t.Message = chargepoint.TriggerHeartbeat
	case ocpp201.MessageTriggerStatusNotification:
		t.Message = chargepoint.TriggerStatus
	case ocpp201.MessageTriggerMeterValues:
		t.Message = chargepoint.TriggerMeterValues
	case ocpp201.MessageTriggerFirmwareStatusNotification:
		// The update's status under way, else Idle.
		t.Message = chargepoint.TriggerSignedFirmware
	case ocpp201.MessageTriggerSignChargingStationCertificate:
		// A02: a new key, its CSR sent with SignCertificate after the
		// answer.
		if !cp.Renew(ctx, cp.signCertificate) {
			return &ocpp201.TriggerMessageResponse{Status: ocpp201.TriggerMessageStatusRejected}, nil
		}
		return &ocpp201.TriggerMessageResponse{Status: ocpp201.TriggerMessageStatusAccepted}, nil
	case ocpp201.MessageTriggerLogStatusNotification:
		t.Message = chargepoint.TriggerLog
	default:
		return &ocpp201.TriggerMessageResponse{Status: ocpp201.TriggerMessageStatusNotImplemented}, nil
	}
	res, err := cp.Exec(ctx, t)
	if err != nil {
		return nil, err
	}
	return &ocpp201.TriggerMessageResponse{Status: ocpp201.TriggerMessageStatus(res.(chargepoint.TriggerResult))}, nil
}

// transactionStatus answers GetTransactionStatus: whether the transaction
// runs, and whether its messages wait in the journal (without one, whether
// any do).
func (cp *ChargePoint) transactionStatus(ctx context.Context, r *ocpp201.GetTransactionStatusRequest) (any, error) {
	st, err := cp.Status(ctx)
	if err != nil {
		return nil, err
	}
	local, _ := localOf(r.TransactionId)
	if r.TransactionId != "" && local == 0 {
		local = -1 // none of this station's: nothing of it waits
	}
	queued, err := cp.Unit().Do(ctx, chargepoint.QueryQueue{Tx: local})
	if err != nil {
		return nil, err
	}
	resp := &ocpp201.GetTransactionStatusResponse{MessagesInQueue: queued.(int) > 0}
	if r.TransactionId != "" {
		ongoing := false
		for _, c := range st.Connectors {
			if c.Transaction != nil && c.Transaction.LocalID == local {
				ongoing = true
			}
		}
		resp.OngoingIndicator = &ongoing
	}
	return resp, nil
}

// setNetworkProfile answers SetNetworkProfile (B09): a profile of OCPP
// 2.0.1 over JSON, checked (netprofile.Check) and kept in its slot by the
// station's SetNetworkProfile. A bad one is Rejected with a reasonCode
// and changes nothing; one that cannot be kept is Failed.
func (cp *ChargePoint) setNetworkProfile(r *ocpp201.SetNetworkProfileRequest) *ocpp201.SetNetworkProfileResponse {
	d := r.ConnectionData
	rejected := func(reason, info string) *ocpp201.SetNetworkProfileResponse {
		cp.log.Warn("SetNetworkProfile rejected", "slot", r.ConfigurationSlot, "reason", reason, "info", info)
		return &ocpp201.SetNetworkProfileResponse{Status: ocpp201.SetNetworkProfileStatusRejected,
			StatusInfo: &ocpp201.StatusInfo{ReasonCode: reason, AdditionalInfo: truncate(info, 512)}}
	}
	switch {
	case d.OcppVersion != ocpp201.OCPPVersionOCPP20:
		return rejected(netprofile.ReasonInvalid, fmt.Sprintf("ocppVersion %s: this station speaks OCPP20 (2.0.1) over a profile", d.OcppVersion))
	case d.OcppTransport != ocpp201.OCPPTransportJSON:
		return rejected(netprofile.ReasonInvalid, fmt.Sprintf("ocppTransport %s: JSON only", d.OcppTransport))
	}
	p := netprofile.Profile{URL: d.OcppCsmsUrl, SecurityProfile: d.SecurityProfile, MessageTimeout: d.MessageTimeout}
	err := cp.opts.SetNetworkProfile(r.ConfigurationSlot, p)
	var rej *netprofile.Rejection
	switch {
	case errors.As(err, &rej):
		return rejected(rej.Reason, rej.Info)
	case err != nil:
		cp.log.Error("SetNetworkProfile: the profile could not be kept", "slot", r.ConfigurationSlot, "err", err)
		return &ocpp201.SetNetworkProfileResponse{Status: ocpp201.SetNetworkProfileStatusFailed,
			StatusInfo: &ocpp201.StatusInfo{ReasonCode: "InternalError"}}
	}
	cp.log.Info("network connection profile kept", "slot", r.ConfigurationSlot, "url", p.URL, "security_profile", p.SecurityProfile)
	return &ocpp201.SetNetworkProfileResponse{Status: ocpp201.SetNetworkProfileStatusAccepted}
}
