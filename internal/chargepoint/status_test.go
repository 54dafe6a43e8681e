package chargepoint_test

import (
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/hw"
)

// TestTheStatusShowsReadingsAsAMeterDoes: the status gives energy, power
// and currents to three decimals, not a float's last digits.
func TestTheStatusShowsReadingsAsAMeterDoes(t *testing.T) {
	c := newCore(t, settings(t, 1, nil))
	now := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	c.Step(now, nil, chargepoint.Started{Sensed: []chargepoint.Sensed{{Connector: 1, Pilot: hw.PilotA}}})
	c.Ready()
	meters := []hw.Reading{{EnergyWh: 24.533333333333335, PowerW: 7359.999999999999, Current: [3]float64{10.666666666666666, 0.1 + 0.2, 0}}}
	c.Step(now, meters, chargepoint.Command{ID: 1, Cmd: chargepoint.Query{}})
	var st chargepoint.Status
	for _, m := range c.Ready().Messages {
		if m.Reply == 1 {
			st = m.Body.(chargepoint.Status)
		}
	}
	if len(st.Connectors) != 2 {
		t.Fatalf("status %+v", st)
	}
	cs := st.Connectors[1]
	if *cs.EnergyWh != 24.533 || *cs.PowerW != 7360 || cs.CurrentA[0] != 10.667 || cs.CurrentA[1] != 0.3 {
		t.Errorf("energy %v, power %v, currents %v", *cs.EnergyWh, *cs.PowerW, cs.CurrentA)
	}
}
