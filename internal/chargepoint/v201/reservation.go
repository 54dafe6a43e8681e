package v201

import (
	"context"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/model"
	"github.com/evse-dev/evse/internal/ocpp201"
)

// connectorType is the type of the unit's connectors: a Type 2 socket,
// or a Type 2 cable.
func connectorType(m model.Model) ocpp201.Connector {
	if m.Socket() {
		return ocpp201.ConnectorSType2
	}
	return ocpp201.ConnectorCType2
}

// reserveNow answers ReserveNow (H01) through the core's reservations:
// an EVSE's, or without evseId any EVSE's (the appendix's connector 0,
// ReservationCtrlr.NonEvseSpecific); a connectorType other than the
// unit's is Rejected. The core decides Faulted, Occupied, Unavailable
// and Rejected as for 1.6; a reservation with the same id is replaced.
func (cp *ChargePoint) reserveNow(ctx context.Context, r *ocpp201.ReserveNowRequest) (*ocpp201.ReserveNowResponse, error) {
	rejected := func(reason string) *ocpp201.ReserveNowResponse {
		return &ocpp201.ReserveNowResponse{Status: ocpp201.ReserveNowStatusRejected, StatusInfo: &ocpp201.StatusInfo{ReasonCode: reason}}
	}
	res := chargepoint.Reservation{ID: r.Id, IDTag: r.IdToken.IdToken, Expiry: r.ExpiryDateTime.Time}
	if r.GroupIdToken != nil {
		res.Parent = r.GroupIdToken.IdToken
	}
	if r.EvseId != nil {
		if *r.EvseId < 1 {
			return rejected("UnknownEvse"), nil
		}
		res.Connector = *r.EvseId
	}
	if r.ConnectorType != "" && r.ConnectorType != connectorType(cp.opts.Model) {
		return rejected("UnknownConnectorType"), nil
	}
	out, err := cp.Exec(ctx, chargepoint.ReserveNow{Reservation: res})
	if err != nil {
		return nil, err
	}
	result, _ := out.(chargepoint.ReserveResult)
	if result == "" {
		result = chargepoint.ReserveRejected
	}
	return &ocpp201.ReserveNowResponse{Status: ocpp201.ReserveNowStatus(result)}, nil
}

// cancelReservation answers CancelReservation (H02): Rejected for a
// reservation this station does not hold.
func (cp *ChargePoint) cancelReservation(ctx context.Context, r *ocpp201.CancelReservationRequest) (*ocpp201.CancelReservationResponse, error) {
	out, err := cp.Exec(ctx, chargepoint.CancelReservation{ID: r.ReservationId})
	if err != nil {
		return nil, err
	}
	if ok, _ := out.(bool); ok {
		return &ocpp201.CancelReservationResponse{Status: ocpp201.CancelReservationStatusAccepted}, nil
	}
	return &ocpp201.CancelReservationResponse{Status: ocpp201.CancelReservationStatusRejected}, nil
}
