package ocpp201

import "github.com/evse-dev/evse/internal/ocppschema"

// DateTime is an OCPP dateTime: a time.Time that travels as an RFC 3339
// date-time (see ocppschema.DateTime). It is one type for every OCPP
// version.
type DateTime = ocppschema.DateTime

// ParseDateTime parses an RFC 3339 (section 5.6) date-time, the grammar of
// the "date-time" format of JSON Schema (see ocppschema.ParseDateTime).
func ParseDateTime(s string) (DateTime, error) {
	return ocppschema.ParseDateTime(s)
}
