package ocpp16

import (
	"encoding/json"
	"time"

	"github.com/evse-dev/evse/internal/ocppschema"
)

// parseDateTime is the validator's date-time grammar, for the oracle test.
func parseDateTime(s string) (time.Time, bool) {
	d, err := ocppschema.ParseDateTime(s)
	return d.Time, err == nil
}

// uriSchema is an object of one property, an absolute URI.
var uriSchema = &ocppschema.Node{Type: ocppschema.Object, Props: []ocppschema.Prop{
	{Name: "uri", Node: &ocppschema.Node{Type: ocppschema.String, Format: ocppschema.URIFormat}},
}}

// isAbsoluteURI is the validator's check of the "uri" format, for the
// oracle test.
func isAbsoluteURI(s string) bool {
	b, err := json.Marshal(map[string]string{"uri": s})
	if err != nil {
		return false
	}
	_, _, verr := ocppschema.OCPP16.Validate(uriSchema, b, ocppschema.Options{})
	return verr == nil
}
