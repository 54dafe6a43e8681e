package ocpp201

import (
	"github.com/evse-dev/evse/internal/ocppj/rpc"
	"github.com/evse-dev/evse/internal/ocppschema"
	"github.com/evse-dev/evse/internal/ocppschema/schematest"
)

// version is what the shared schema tests (package schematest) need to
// know of OCPP 2.0.1. The official schemas are not part of the
// module: the tests find ocpp2_0_1-schemas.json as the README of
// ../shared/ocpp describes, or skip.
var version = &schematest.Version{
	Name:       "2.0.1",
	SchemaFile: "ocpp2_0_1-schemas.json",
	Dialect:    ocppschema.OCPP201,
	Known:      rpc.ErrorCode.Known201,
	Validate: func(action string, kind schematest.Kind, payload []byte) error {
		return Validate(action, kind, payload)
	},
	Decode: func(action string, kind schematest.Kind, payload []byte) (any, error) {
		return Decode(action, kind, payload)
	},
	New: func(action string, kind schematest.Kind) (any, bool) {
		a, ok := Lookup(action)
		if !ok {
			return nil, false
		}
		if kind == Response {
			return a.NewResponse(), true
		}
		return a.NewRequest(), true
	},
	TrimArrays:     true,
	MaxRandomItems: 5,
}
