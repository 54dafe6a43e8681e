package daemon

import (
	"context"
	"encoding/json"

	"github.com/evse-dev/evse/internal/chargepoint/station"
	v16 "github.com/evse-dev/evse/internal/chargepoint/v16"
	"github.com/evse-dev/evse/internal/chargepoint/v201"
)

// Faces is one station with the faces of the OCPP versions it offers. It
// answers the central system's CALLs (HandleCall) with the face of the
// protocol the station speaks on its connection now (Station.Speaking).
// It is safe for concurrent use.
type Faces struct {
	Station *station.Station
	// V16 is always bound to the station, offered or not: the local
	// API's local list and the DLM node use it.
	V16 *v16.ChargePoint
	// V201 is nil unless 2.0.1 is offered.
	V201 *v201.ChargePoint
}

// NewStation makes a station that offers versions (subprotocols, in
// order of preference, as ParseVersions returns them; nil: 1.6 only) and
// binds their faces to it. The caller given to the station (Run, Attach)
// should tell the subprotocol agreed on its connection (a Subprotocol
// method, as ocppj.Client has): the station renders its messages, and
// HandleCall answers, in it.
func NewStation(opts station.Options, versions []string) (Faces, error) {
	if len(versions) == 0 {
		versions = []string{v16.Subprotocol}
	}
	f := Faces{V16: v16.Unbound()}
	var protocols []station.Protocol
	for _, v := range versions {
		if v == v201.Subprotocol {
			f.V201 = v201.Unbound()
			protocols = append(protocols, f.V201.Protocol())
		} else {
			protocols = append(protocols, f.V16.Protocol())
		}
	}
	st, err := station.New(opts, v16.Legacy{}, protocols...)
	if err != nil {
		return Faces{}, err
	}
	f.Station = st
	f.V16.Bind(st)
	if f.V201 != nil {
		f.V201.Bind(st)
	}
	return f, nil
}

// HandleCall answers a central system's CALL in the protocol the station
// speaks now: 2.0.1's face on an ocpp2.0.1 connection, else 1.6's.
func (f Faces) HandleCall(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	if f.V201 != nil && f.Station.Speaking() == v201.Subprotocol {
		return f.V201.HandleCall(ctx, action, payload)
	}
	return f.V16.HandleCall(ctx, action, payload)
}
