package ocpp16

import (
	"encoding/json"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
	"github.com/evse-dev/evse/internal/ocppschema"
)

// ValidateRequest checks payload against the schema of action's request. It
// returns nil or an *rpc.Error (see the package documentation for the
// codes).
func ValidateRequest(action string, payload json.RawMessage) error {
	return Validate(action, Request, payload)
}

// ValidateResponse checks payload against the schema of action's response.
// It returns nil or an *rpc.Error.
func ValidateResponse(action string, payload json.RawMessage) error {
	return Validate(action, Response, payload)
}

// Validate checks payload against the schema of action's request or
// response. It returns nil or an *rpc.Error.
func Validate(action string, kind Kind, payload json.RawMessage) error {
	if _, _, err := validate(action, kind, payload, ocppschema.Options{}); err != nil {
		return err
	}
	return nil
}

// DecodeRequest validates payload as action's request, then decodes it into
// the action's request type, which it returns as a pointer (e.g.
// *BootNotificationRequest). The error is an *rpc.Error.
func DecodeRequest(action string, payload json.RawMessage) (any, error) {
	return Decode(action, Request, payload)
}

// DecodeResponse validates payload as action's response, then decodes it
// into the action's response type, returned as a pointer (e.g.
// *BootNotificationResponse). The error is an *rpc.Error.
func DecodeResponse(action string, payload json.RawMessage) (any, error) {
	return Decode(action, Response, payload)
}

// Decode validates payload as action's request or response and decodes it
// into the matching type, returned as a pointer. The error is an
// *rpc.Error.
func Decode(action string, kind Kind, payload json.RawMessage) (any, error) {
	v, _, err := decode(action, kind, payload, ocppschema.Options{})
	return v, err
}

// DecodeFromPeer is Decode for what a peer sent, read as leniently as
// OCPP allows without guessing: a date-time without a UTC offset (what
// central systems built on common library examples send) is read as UTC.
// Notes say what was read leniently, for a warning.
func DecodeFromPeer(action string, kind Kind, payload json.RawMessage) (v any, notes []string, err error) {
	return decode(action, kind, payload, ocppschema.Options{LocalTimesAsUTC: true})
}

func decode(action string, kind Kind, payload json.RawMessage, o ocppschema.Options) (any, []string, error) {
	e, err := lookup(action, kind)
	if err != nil {
		return nil, nil, err
	}
	v := e.NewRequest
	if kind == Response {
		v = e.NewResponse
	}
	out := v()
	notes, verr := ocppschema.OCPP16.Decode(e.nodes[kind], payload, out, o)
	if verr != nil {
		return nil, nil, verr
	}
	return out, notes, nil
}

// validate checks payload against the schema of action's request or
// response (see ocppschema.Dialect.Validate).
func validate(action string, kind Kind, payload json.RawMessage, o ocppschema.Options) ([]byte, []string, *rpc.Error) {
	e, err := lookup(action, kind)
	if err != nil {
		return nil, nil, err
	}
	return ocppschema.OCPP16.Validate(e.nodes[kind], payload, o)
}

// lookup finds action's row, for a message of kind.
func lookup(action string, kind Kind) (*actionEntry, *rpc.Error) {
	e, ok := actionsByName[action]
	if !ok {
		return nil, rpc.Errorf(rpc.NotImplemented, "unknown action %q", ocppschema.Truncate(action))
	}
	if kind != Request && kind != Response {
		return nil, rpc.Errorf(rpc.InternalError, "ocpp16: invalid Kind %d", int(kind))
	}
	return e, nil
}
