package v16

import (
	"encoding/json"
	"fmt"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/chargepoint/runner"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/smartcharging"
)

// Legacy converts a store written before the core spoke domain terms,
// when the journal kept OCPP 1.6 payloads.
type Legacy struct{}

var _ runner.Legacy = Legacy{}

// JournalEvent converts a journaled 1.6 message.
func (Legacy) JournalEvent(action string, payload json.RawMessage) (chargepoint.TxEventKind, chargepoint.TxEvent, error) {
	switch action {
	case "StartTransaction":
		var r ocpp16.StartTransactionRequest
		if err := json.Unmarshal(payload, &r); err != nil {
			return "", chargepoint.TxEvent{}, err
		}
		return chargepoint.TxStarted, chargepoint.TxEvent{Connector: r.ConnectorId, IDTag: r.IdTag, MeterWh: r.MeterStart,
			At: r.Timestamp.Time, ReservationID: r.ReservationId}, nil
	case "MeterValues":
		var r ocpp16.MeterValuesRequest
		if err := json.Unmarshal(payload, &r); err != nil {
			return "", chargepoint.TxEvent{}, err
		}
		ev := chargepoint.TxEvent{Connector: r.ConnectorId}
		for _, mv := range r.MeterValue {
			s, err := sample(mv)
			if err != nil {
				return "", ev, err
			}
			ev.Samples = append(ev.Samples, s)
			ev.At = s.At
		}
		return chargepoint.TxUpdated, ev, nil
	case "StopTransaction":
		var r ocpp16.StopTransactionRequest
		if err := json.Unmarshal(payload, &r); err != nil {
			return "", chargepoint.TxEvent{}, err
		}
		ev := chargepoint.TxEvent{IDTag: r.IdTag, MeterWh: r.MeterStop, At: r.Timestamp.Time, Reason: chargepoint.StopReason(r.Reason)}
		if ev.Reason == "" {
			ev.Reason = chargepoint.ReasonLocal
		}
		for _, mv := range r.TransactionData {
			s, err := sample(mv)
			if err != nil {
				return "", ev, err
			}
			ev.Samples = append(ev.Samples, s)
		}
		return chargepoint.TxStopped, ev, nil
	}
	return "", chargepoint.TxEvent{}, fmt.Errorf("v16: a journaled %s", action)
}

// Samples converts the 1.6 meter values of an open transaction.
func (Legacy) Samples(raw json.RawMessage) ([]chargepoint.Sample, error) {
	var mvs []ocpp16.MeterValue
	if err := json.Unmarshal(raw, &mvs); err != nil {
		return nil, err
	}
	out := make([]chargepoint.Sample, 0, len(mvs))
	for _, mv := range mvs {
		s, err := sample(mv)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Profile converts a 1.6 charging profile.
func (Legacy) Profile(raw json.RawMessage) (smartcharging.Profile, error) {
	var p ocpp16.ChargingProfile
	if err := json.Unmarshal(raw, &p); err != nil {
		return smartcharging.Profile{}, err
	}
	return profile(p)
}
