package ocpp16

import (
	"testing"

	"github.com/evse-dev/evse/internal/ocppschema/schematest"
)

// TestAgainstOracle compares our validator with an independent JSON Schema
// validator on samples built from every official schema: valid payloads
// and mutations of them (see schematest/samples.go).
func TestAgainstOracle(t *testing.T) { schematest.AgainstOracle(t, version, 78) }

// TestRapidAgainstOracle draws random payloads, mixtures of valid and
// invalid values, for random schemas and checks that we and the oracle
// agree on accepting them, and that what we accept decodes.
func TestRapidAgainstOracle(t *testing.T) { schematest.RapidAgainstOracle(t, version) }

// TestDateTimeAgainstOracle compares our date-time grammar with the
// oracle's on random edits of valid date-times.
func TestDateTimeAgainstOracle(t *testing.T) { schematest.DateTimeAgainstOracle(t) }

// TestURIAgainstOracle compares our absolute-URI check with the oracle's.
func TestURIAgainstOracle(t *testing.T) { schematest.URIAgainstOracle(t, version) }
