package v201

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/chargepoint/runner"
	"github.com/evse-dev/evse/internal/chargepoint/station"
	"github.com/evse-dev/evse/internal/ocpp201"
)

// link is the runner's Link in OCPP 2.0.1: the core's messages rendered as
// 2.0.1 CALLs, their answers read back. Each connector of the core is an
// EVSE of one connector (EVSE n, connector 1).
type link struct {
	caller station.Caller
	// statusSeen is told of each connector status sent (the monitors of
	// AvailabilityState and Problem); nil: none.
	statusSeen func()
}

var _ runner.Link = link{}

// Send renders a message of the core, sends it and reads the answer.
func (l link) Send(ctx context.Context, msg any) (any, chargepoint.Failure, error) {
	if _, ok := msg.(chargepoint.StatusNotification); ok && l.statusSeen != nil {
		l.statusSeen()
	}
	return station.Send(ctx, l.caller, station.Codec{Name: "v201", Render: render, Read: read}, msg)
}

// read checks a CALLRESULT and turns it into the core's answer to msg.
func read(msg any, action string, raw json.RawMessage) (any, error) {
	resp, _, err := ocpp201.DecodeFromPeer(action, ocpp201.Response, raw)
	if err != nil {
		return nil, err
	}
	return readAnswer(msg, resp), nil
}

// Connected reports whether the central system is reachable now.
func (l link) Connected() bool { return l.caller.Connected() }

// render turns a message of the core into a 2.0.1 CALL.
func render(msg any) (string, any, error) {
	switch m := msg.(type) {
	case chargepoint.BootNotification:
		id := m.Identity
		cs := ocpp201.ChargingStation{Model: id.Model, VendorName: id.Vendor, SerialNumber: id.SerialNumber,
			FirmwareVersion: id.FirmwareVersion}
		if id.ICCID != "" || id.IMSI != "" {
			cs.Modem = &ocpp201.Modem{Iccid: id.ICCID, Imsi: id.IMSI}
		}
		reason := ocpp201.BootReason(m.Reason)
		if reason == "" {
			reason = ocpp201.BootReasonPowerUp
		}
		return "BootNotification", &ocpp201.BootNotificationRequest{ChargingStation: cs, Reason: reason}, nil
	case chargepoint.Heartbeat:
		return "Heartbeat", &ocpp201.HeartbeatRequest{}, nil
	case chargepoint.StatusNotification:
		if m.Connector == 0 {
			return "", nil, station.ErrNothingToSend // 2.0.1 tells the state of connectors only
		}
		return "StatusNotification", &ocpp201.StatusNotificationRequest{Timestamp: ocpp201.DateTime{Time: m.Since},
			ConnectorStatus: connectorStatus(m.State, m.Plugged), EvseId: m.Connector, ConnectorId: 1}, nil
	case chargepoint.Authorize:
		return "Authorize", &ocpp201.AuthorizeRequest{IdToken: idToken(m.IDTag, m.TokenType)}, nil
	case chargepoint.MeterValues:
		return "MeterValues", &ocpp201.MeterValuesRequest{EvseId: m.Connector, MeterValue: meterValues([]chargepoint.Sample{m.Sample})}, nil
	case chargepoint.SecurityEventNotification:
		return "SecurityEventNotification", &ocpp201.SecurityEventNotificationRequest{Type: securityEventType(m.Type),
			Timestamp: ocpp201.DateTime{Time: m.At}, TechInfo: m.TechInfo}, nil
	case chargepoint.ChargingLimitSet:
		evse := m.Connector
		return "NotifyChargingLimit", &ocpp201.NotifyChargingLimitRequest{EvseId: &evse,
			ChargingLimit: ocpp201.ChargingLimit{ChargingLimitSource: ocpp201.ChargingLimitSourceEMS},
			ChargingSchedule: []ocpp201.ChargingSchedule{{Id: m.Connector, StartSchedule: &ocpp201.DateTime{Time: m.At},
				ChargingRateUnit:       ocpp201.ChargingRateUnitA,
				ChargingSchedulePeriod: []ocpp201.ChargingSchedulePeriod{{StartPeriod: 0, Limit: m.Limit}}}}}, nil
	case chargepoint.ChargingLimitCleared:
		evse := m.Connector
		return "ClearedChargingLimit", &ocpp201.ClearedChargingLimitRequest{EvseId: &evse,
			ChargingLimitSource: ocpp201.ChargingLimitSourceEMS}, nil
	case chargepoint.FirmwareStatusNotification:
		return "FirmwareStatusNotification", firmwareStatus(m), nil
	case chargepoint.LogStatusNotification:
		return "LogStatusNotification", logStatusNotification(m), nil
	case chargepoint.ReservationExpired:
		return "ReservationStatusUpdate", &ocpp201.ReservationStatusUpdateRequest{ReservationId: m.ID,
			ReservationUpdateStatus: ocpp201.ReservationUpdateStatusExpired}, nil
	case runner.TxCall:
		return renderTx(m)
	}
	return "", nil, fmt.Errorf("v201: no OCPP 2.0.1 message for %T yet", msg)
}

// connectorStatus is a connector's state as 2.0.1 tells it: a driver
// authorized before the EV is plugged in (1.6's Preparing) leaves the
// connector Available.
func connectorStatus(s chargepoint.ConnectorState, plugged bool) ocpp201.ConnectorStatus {
	switch {
	case s == chargepoint.Preparing && !plugged:
		return ocpp201.ConnectorStatusAvailable
	case s == chargepoint.Faulted:
		return ocpp201.ConnectorStatusFaulted
	case s == chargepoint.Unavailable:
		return ocpp201.ConnectorStatusUnavailable
	case s == chargepoint.Reserved:
		return ocpp201.ConnectorStatusReserved
	case s.Occupied():
		return ocpp201.ConnectorStatusOccupied
	}
	return ocpp201.ConnectorStatusAvailable
}

// idToken is an idTag as 2.0.1's IdToken, of its type ("": read by the
// RFID reader, ISO14443).
func idToken(tag, typ string) ocpp201.IdToken {
	if typ == "" {
		typ = string(ocpp201.IdTokenEnumISO14443)
	}
	return ocpp201.IdToken{IdToken: tag, Type: ocpp201.IdTokenEnum(typ)}
}

// TransactionID is the 2.0.1 transactionId of a transaction: the charging
// station names its transactions, by their local id.
func TransactionID(local int64) string { return "EVSE-" + strconv.FormatInt(local, 10) }

// localOf reads a transactionId back, false when it is none of this
// charge point's.
func localOf(id string) (int64, bool) {
	n, ok := strings.CutPrefix(id, "EVSE-")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(n, 10, 64)
	return v, err == nil && v > 0
}

// renderTx renders a journaled event: TransactionEvent Started, Updated
// or Ended, or a security event.
func renderTx(m runner.TxCall) (string, any, error) {
	ev := m.Event
	if m.Entry.Kind == chargepoint.SecurityNote {
		return "SecurityEventNotification", &ocpp201.SecurityEventNotificationRequest{Type: securityEventType(ev.Security),
			Timestamp: ocpp201.DateTime{Time: ev.At}, TechInfo: ev.TechInfo}, nil
	}
	req := &ocpp201.TransactionEventRequest{Timestamp: ocpp201.DateTime{Time: ev.At}, SeqNo: ev.SeqNo,
		TransactionInfo: ocpp201.Transaction{TransactionId: TransactionID(m.Entry.Tx)}}
	if ev.Offline {
		offline := true
		req.Offline = &offline
	}
	if ev.Connector > 0 {
		one := 1
		req.Evse = &ocpp201.EVSE{Id: ev.Connector, ConnectorId: &one}
	}
	switch m.Entry.Kind {
	case chargepoint.TxStarted:
		req.EventType, req.TriggerReason = ocpp201.TransactionEventStarted, ocpp201.TriggerReasonAuthorized
		if ev.RemoteStartID != nil {
			req.TriggerReason = ocpp201.TriggerReasonRemoteStart
			req.TransactionInfo.RemoteStartId = ev.RemoteStartID
		}
		req.TransactionInfo.ChargingState = ocpp201.ChargingStateEVConnected
		if ev.ChargingState != "" {
			req.TransactionInfo.ChargingState = ocpp201.ChargingState(ev.ChargingState)
		}
		if ev.IDTag != "" && ev.IDTag != chargepoint.OfflineTag {
			t := idToken(ev.IDTag, ev.TokenType)
			req.IdToken = &t
		}
		req.ReservationId = ev.ReservationID
		req.MeterValue = []ocpp201.MeterValue{{Timestamp: req.Timestamp, SampledValue: []ocpp201.SampledValue{{
			Value: float64(ev.MeterWh), Context: ocpp201.ReadingContextTransactionBegin,
			Measurand: ocpp201.MeasurandEnergyActiveImportRegister}}}}
	case chargepoint.TxUpdated:
		req.EventType, req.TriggerReason = ocpp201.TransactionEventUpdated, ocpp201.TriggerReasonMeterValuePeriodic
		switch {
		case ev.ChargingState != "" && len(ev.Samples) == 0:
			req.TriggerReason = ocpp201.TriggerReasonChargingStateChanged
			req.TransactionInfo.ChargingState = ocpp201.ChargingState(ev.ChargingState)
		case len(ev.Samples) > 0 && ev.Samples[0].Context == chargepoint.ContextClock:
			req.TriggerReason = ocpp201.TriggerReasonMeterValueClock
		}
		req.MeterValue = meterValues(ev.Samples)
		if ev.IDTag != "" {
			t := idToken(ev.IDTag, ev.TokenType)
			req.IdToken = &t
			req.TransactionInfo.RemoteStartId = ev.RemoteStartID
		}
	case chargepoint.TxStopped:
		req.EventType, req.TriggerReason = ocpp201.TransactionEventEnded, stopTrigger(ev.Reason)
		req.TransactionInfo.StoppedReason = stoppedReason(ev.Reason)
		if ev.IDTag != "" {
			t := idToken(ev.IDTag, "")
			req.IdToken = &t
		}
		end := ocpp201.MeterValue{Timestamp: req.Timestamp, SampledValue: []ocpp201.SampledValue{{
			Value: float64(ev.MeterWh), Context: ocpp201.ReadingContextTransactionEnd,
			Measurand: ocpp201.MeasurandEnergyActiveImportRegister}}}
		req.MeterValue = append(meterValues(ev.Samples), end)
	default:
		return "", nil, fmt.Errorf("v201: a journaled event of kind %q", m.Entry.Kind)
	}
	if ev.Trigger != "" {
		req.TriggerReason = ocpp201.TriggerReason(ev.Trigger)
	}
	if len(req.MeterValue) == 0 {
		req.MeterValue = nil
	}
	return "TransactionEvent", req, nil
}

// stoppedReason is why a transaction ended, as 2.0.1 says it.
func stoppedReason(r chargepoint.StopReason) ocpp201.Reason {
	switch r {
	case chargepoint.ReasonLocal:
		return ocpp201.ReasonLocal
	case chargepoint.ReasonRemote:
		return ocpp201.ReasonRemote
	case chargepoint.ReasonEVDisconnected:
		return ocpp201.ReasonEVDisconnected
	case chargepoint.ReasonEmergencyStop:
		return ocpp201.ReasonEmergencyStop
	case chargepoint.ReasonHardReset:
		return ocpp201.ReasonImmediateReset
	case chargepoint.ReasonSoftReset, chargepoint.ReasonReboot:
		return ocpp201.ReasonReboot
	case chargepoint.ReasonPowerLoss:
		return ocpp201.ReasonPowerLoss
	case chargepoint.ReasonDeAuthorized:
		return ocpp201.ReasonDeAuthorized
	case chargepoint.ReasonTimeout:
		return ocpp201.ReasonTimeout
	}
	return ocpp201.ReasonOther
}

// stopTrigger is what made a transaction end, as 2.0.1's triggerReason.
func stopTrigger(r chargepoint.StopReason) ocpp201.TriggerReason {
	switch r {
	case chargepoint.ReasonLocal:
		return ocpp201.TriggerReasonStopAuthorized
	case chargepoint.ReasonRemote:
		return ocpp201.TriggerReasonRemoteStop
	case chargepoint.ReasonEVDisconnected:
		return ocpp201.TriggerReasonEVCommunicationLost
	case chargepoint.ReasonHardReset, chargepoint.ReasonSoftReset, chargepoint.ReasonReboot:
		return ocpp201.TriggerReasonResetCommand
	case chargepoint.ReasonDeAuthorized:
		return ocpp201.TriggerReasonDeauthorized
	case chargepoint.ReasonUnlockCommand:
		return ocpp201.TriggerReasonUnlockCommand
	}
	return ocpp201.TriggerReasonAbnormalCondition
}

// meterValues renders samples, nil for none. Energy registers are in
// whole Wh, rounded down as the core rounds the register at a
// transaction's begin and end (and as 1.6 sends them): a register sampled
// at 33.4 Wh before a transaction ends at 33 would go back.
func meterValues(samples []chargepoint.Sample) []ocpp201.MeterValue {
	var out []ocpp201.MeterValue
	for _, s := range samples {
		mv := ocpp201.MeterValue{Timestamp: ocpp201.DateTime{Time: s.At}}
		for _, v := range s.Values {
			sv := ocpp201.SampledValue{Value: v.Value, Context: ocpp201.ReadingContext(s.Context), Measurand: ocpp201.Measurand(v.Measurand)}
			// As 1.6 tells them: the register in whole Wh (the default
			// unit), power in whole W, current in tenths of A.
			switch v.Measurand {
			case chargepoint.EnergyImport:
				sv.Value = math.Floor(v.Value)
			case chargepoint.PowerImport:
				sv.Value, sv.UnitOfMeasure = math.Round(v.Value), &ocpp201.UnitOfMeasure{Unit: "W"}
			case chargepoint.CurrentIn:
				sv.Value, sv.UnitOfMeasure = math.Round(v.Value*10)/10, &ocpp201.UnitOfMeasure{Unit: "A"}
			}
			if v.Phase > 0 {
				sv.Phase = ocpp201.Phase("L" + strconv.Itoa(v.Phase))
			}
			mv.SampledValue = append(mv.SampledValue, sv)
		}
		if len(mv.SampledValue) > 0 {
			out = append(out, mv)
		}
	}
	return out
}

// readAnswer turns a decoded CALLRESULT into the core's answer (nil for
// those that carry nothing it uses).
func readAnswer(msg any, resp any) any {
	switch r := resp.(type) {
	case *ocpp201.BootNotificationResponse:
		return chargepoint.BootAnswer{Status: chargepoint.Registration(r.Status), Interval: time.Duration(r.Interval) * time.Second}
	case *ocpp201.AuthorizeResponse:
		return chargepoint.AuthorizeAnswer{Info: authInfo(r.IdTokenInfo)}
	case *ocpp201.TransactionEventResponse:
		m, _ := msg.(runner.TxCall)
		info := chargepoint.AuthInfo{Status: chargepoint.AuthAccepted}
		if r.IdTokenInfo != nil {
			info = authInfo(*r.IdTokenInfo)
		}
		switch m.Entry.Kind {
		case chargepoint.TxStarted:
			// The station names its transactions: the core's central
			// system id is the local one.
			return chargepoint.StartAnswer{TransactionID: int(m.Entry.Tx), Info: info}
		case chargepoint.TxStopped:
			if r.IdTokenInfo != nil {
				return chargepoint.StopAnswer{Info: &info}
			}
			return chargepoint.StopAnswer{}
		case chargepoint.TxUpdated:
			if r.IdTokenInfo != nil {
				return chargepoint.UpdateAnswer{Info: info}
			}
		}
	}
	return nil
}

// authInfo reads 2.0.1's IdTokenInfo: its statuses beyond 1.6's
// (NoCredit, NotAllowedTypeEVSE, NotAtThisLocation, NotAtThisTime,
// Unknown) refuse like Invalid.
func authInfo(i ocpp201.IdTokenInfo) chargepoint.AuthInfo {
	a := chargepoint.AuthInfo{Status: chargepoint.AuthInvalid}
	switch i.Status {
	case ocpp201.AuthorizationStatusAccepted:
		a.Status = chargepoint.AuthAccepted
	case ocpp201.AuthorizationStatusBlocked:
		a.Status = chargepoint.AuthBlocked
	case ocpp201.AuthorizationStatusExpired:
		a.Status = chargepoint.AuthExpired
	case ocpp201.AuthorizationStatusConcurrentTx:
		a.Status = chargepoint.AuthConcurrentTx
	}
	if i.CacheExpiryDateTime != nil {
		a.Expiry = i.CacheExpiryDateTime.Time
	}
	if i.GroupIdToken != nil {
		a.Parent = i.GroupIdToken.IdToken
	}
	return a
}
