package ocpp201

import (
	"encoding/json"

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
	if _, _, err := messages.Validate(action, kind, payload, ocppschema.Options{}); err != nil {
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
	v, _, err := messages.Decode(action, kind, payload, ocppschema.Options{})
	return v, err
}

// DecodeFromPeer is Decode for what a peer sent, read as leniently as
// OCPP allows without guessing: a date-time without a UTC offset (what
// CSMSs built on common library examples send) is read as UTC.
// Notes say what was read leniently, for a warning.
func DecodeFromPeer(action string, kind Kind, payload json.RawMessage) (v any, notes []string, err error) {
	return messages.Decode(action, kind, payload, ocppschema.Options{LocalTimesAsUTC: true})
}

// messages are the version's messages, from the generated action table.
var messages = func() *ocppschema.Messages {
	byName := make(map[string]ocppschema.Message, len(actionTable))
	for _, e := range actionTable {
		byName[e.Name] = ocppschema.Message{Schemas: e.nodes, New: [2]func() any{e.NewRequest, e.NewResponse}}
	}
	return ocppschema.NewMessages(ocppschema.OCPP201, "ocpp201", byName)
}()
