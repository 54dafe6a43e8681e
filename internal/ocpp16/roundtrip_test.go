package ocpp16

import (
	"testing"

	"github.com/evse-dev/evse/internal/ocppschema/schematest"
)

// TestRoundTrip decodes the minimal and the maximal sample of every message
// into its Go type, encodes that again, and checks that the result is
// valid and means the same (date-times compared as instants to the
// millisecond, numbers by value).
func TestRoundTrip(t *testing.T) { schematest.RoundTrip(t, version) }
