package ocppschema

import (
	"encoding/json"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// Kind is the direction of a message: the request of a CALL or the response
// of its CALLRESULT.
type Kind int

const (
	// Request is the payload of a CALL (the schema's Action.req).
	Request Kind = iota
	// Response is the payload of a CALLRESULT (the schema's Action.conf).
	Response
)

func (k Kind) String() string {
	switch k {
	case Request:
		return "request"
	case Response:
		return "response"
	}
	return "Kind(?)"
}

// Decode validates payload against the schema root, then decodes what it
// validated, in canonical form, into v (a pointer to the Go type of root):
// an integer written as 3.0 is 3, a date-time read leniently is in UTC.
// Notes say what was read leniently.
func (d Dialect) Decode(root *Node, payload []byte, v any, o Options) (notes []string, err *rpc.Error) {
	o.Canonical = true
	canon, notes, err := d.Validate(root, payload, o)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(canon, v); err != nil {
		// Not expected: whatever validates fits the Go types.
		return nil, rpc.Errorf(d.FormatViolation, "decoding into %T: %v", v, err)
	}
	return notes, nil
}
