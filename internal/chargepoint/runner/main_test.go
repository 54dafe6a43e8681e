package runner

import (
	"testing"

	"github.com/evse-dev/evse/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }
