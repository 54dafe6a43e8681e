package v16

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/chargepoint/runner"
	"github.com/evse-dev/evse/internal/chargepoint/station"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// link is the runner's Link in OCPP 1.6: the core's messages rendered as
// 1.6 CALLs, their answers read back.
type link struct {
	caller Caller
	// lenient is told what of an answer was read leniently (a date-time
	// without an offset); nil: nothing.
	lenient func(action string, notes []string)
}

var _ runner.Link = link{}

// Send renders a message of the core, sends it and reads the answer.
func (l link) Send(ctx context.Context, msg any) (any, chargepoint.Failure, error) {
	return station.Send(ctx, l.caller, station.Codec{Name: "v16", Render: render, Read: l.read}, msg)
}

// read checks a CALLRESULT (warning, once, of what was read leniently)
// and turns it into the core's answer.
func (l link) read(_ any, action string, raw json.RawMessage) (any, error) {
	resp, notes, err := ocpp16.DecodeFromPeer(action, ocpp16.Response, raw)
	if err != nil {
		return nil, err
	}
	if len(notes) > 0 && l.lenient != nil {
		l.lenient(action, notes)
	}
	return readAnswer(resp), nil
}

// render turns a message of the core into a 1.6 CALL.
func render(msg any) (string, any, error) {
	switch m := msg.(type) {
	case chargepoint.BootNotification:
		id := m.Identity
		return "BootNotification", &ocpp16.BootNotificationRequest{ChargePointVendor: id.Vendor, ChargePointModel: id.Model,
			ChargePointSerialNumber: id.SerialNumber, ChargeBoxSerialNumber: id.ChargeBoxSerialNumber,
			FirmwareVersion: id.FirmwareVersion, Iccid: id.ICCID, Imsi: id.IMSI, MeterType: id.MeterType,
			MeterSerialNumber: id.MeterSerialNumber}, nil
	case chargepoint.Heartbeat:
		return "Heartbeat", &ocpp16.HeartbeatRequest{}, nil
	case chargepoint.StatusNotification:
		return "StatusNotification", &ocpp16.StatusNotificationRequest{ConnectorId: m.Connector,
			ErrorCode: ocpp16.ChargePointErrorCode(m.Error), Status: ocpp16.ChargePointStatus(m.State),
			Info: m.Info, Timestamp: &ocpp16.DateTime{Time: m.Since}}, nil
	case chargepoint.Authorize:
		return "Authorize", &ocpp16.AuthorizeRequest{IdTag: m.IDTag}, nil
	case chargepoint.MeterValues:
		req := &ocpp16.MeterValuesRequest{ConnectorId: m.Connector, MeterValue: []ocpp16.MeterValue{meterValue(m.Sample)}}
		if m.CSMSID != 0 {
			id := m.CSMSID
			req.TransactionId = &id
		}
		return "MeterValues", req, nil
	case chargepoint.FirmwareStatusNotification:
		if m.Signed {
			req := &ocpp16.SignedFirmwareStatusNotificationRequest{Status: ocpp16.SignedFirmwareStatus(m.Status)}
			if m.Status != chargepoint.FirmwareIdle {
				id := m.RequestID
				req.RequestId = &id
			}
			return "SignedFirmwareStatusNotification", req, nil
		}
		return "FirmwareStatusNotification", &ocpp16.FirmwareStatusNotificationRequest{Status: ocpp16.FirmwareStatus(m.Status)}, nil
	case chargepoint.DiagnosticsStatusNotification:
		return "DiagnosticsStatusNotification", &ocpp16.DiagnosticsStatusNotificationRequest{Status: ocpp16.DiagnosticsStatus(m.Status)}, nil
	case chargepoint.LogStatusNotification:
		req := &ocpp16.LogStatusNotificationRequest{Status: ocpp16.UploadLogStatus(m.Status)}
		if m.Status != chargepoint.LogIdle {
			id := m.RequestID
			req.RequestId = &id
		}
		return "LogStatusNotification", req, nil
	case chargepoint.SecurityEventNotification:
		return "SecurityEventNotification", &ocpp16.SecurityEventNotificationRequest{Type: string(m.Type),
			Timestamp: ocpp16.DateTime{Time: m.At}, TechInfo: m.TechInfo}, nil
	case chargepoint.ReservationExpired, chargepoint.ChargingLimitSet, chargepoint.ChargingLimitCleared:
		return "", nil, station.ErrNothingToSend // 1.6 has no such message
	case runner.TxCall:
		return renderTx(m)
	}
	return "", nil, fmt.Errorf("v16: no OCPP 1.6 message for %T", msg)
}

// renderTx renders a transaction event: StartTransaction, MeterValues or
// StopTransaction, with the central system's id of the transaction.
func renderTx(m runner.TxCall) (string, any, error) {
	ev := m.Event
	at := ocpp16.DateTime{Time: ev.At}
	switch m.Entry.Kind {
	case chargepoint.TxStarted:
		return "StartTransaction", &ocpp16.StartTransactionRequest{ConnectorId: ev.Connector, IdTag: ev.IDTag,
			MeterStart: ev.MeterWh, Timestamp: at, ReservationId: ev.ReservationID}, nil
	case chargepoint.TxUpdated:
		if len(ev.Samples) == 0 {
			return "", nil, station.ErrNothingToSend // a change of the charging state or of the driver: 1.6 has no message for it
		}
		id := m.CSMSID
		return "MeterValues", &ocpp16.MeterValuesRequest{ConnectorId: ev.Connector, TransactionId: &id,
			MeterValue: meterValues(ev.Samples)}, nil
	case chargepoint.TxStopped:
		reason := ocpp16.Reason(ev.Reason)
		if ev.Reason == chargepoint.ReasonTimeout {
			reason = ocpp16.ReasonOther // 2.0.1's; 1.6 has no such reason
		}
		return "StopTransaction", &ocpp16.StopTransactionRequest{IdTag: ev.IDTag, MeterStop: ev.MeterWh, Timestamp: at,
			TransactionId: m.CSMSID, Reason: reason, TransactionData: meterValues(ev.Samples)}, nil
	case chargepoint.SecurityNote:
		return "SecurityEventNotification", &ocpp16.SecurityEventNotificationRequest{Type: string(ev.Security),
			Timestamp: at, TechInfo: ev.TechInfo}, nil
	}
	return "", nil, fmt.Errorf("v16: a transaction event of kind %q", m.Entry.Kind)
}

// readAnswer turns a decoded CALLRESULT into the core's answer (nil for
// those that carry nothing it uses).
func readAnswer(resp any) any {
	switch r := resp.(type) {
	case *ocpp16.BootNotificationResponse:
		return chargepoint.BootAnswer{Status: chargepoint.Registration(r.Status), Interval: time.Duration(r.Interval) * time.Second}
	case *ocpp16.AuthorizeResponse:
		return chargepoint.AuthorizeAnswer{Info: authInfo(r.IdTagInfo)}
	case *ocpp16.StartTransactionResponse:
		return chargepoint.StartAnswer{TransactionID: r.TransactionId, Info: authInfo(r.IdTagInfo)}
	case *ocpp16.StopTransactionResponse:
		a := chargepoint.StopAnswer{}
		if r.IdTagInfo != nil {
			info := authInfo(*r.IdTagInfo)
			a.Info = &info
		}
		return a
	}
	return nil
}

// Connected reports whether the central system is reachable now (a
// restarted core is told at once).
func (l link) Connected() bool { return l.caller.Connected() }
