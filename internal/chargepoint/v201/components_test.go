package v201

import (
	"strings"
	"testing"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/model"
	"github.com/evse-dev/evse/internal/ocpp201"
)

// TestPhysicalVariablesFollowTheStateAndTheModel: the physical
// components' values come from the station's state and its model.
func TestPhysicalVariablesFollowTheStateAndTheModel(t *testing.T) {
	w := func(x float64) *float64 { return &x }
	st := chargepoint.Status{Connectors: []chargepoint.ConnectorStatus{
		{ID: 0, Status: chargepoint.Available, ErrorCode: chargepoint.NoError},
		{ID: 1, Status: chargepoint.Charging, ErrorCode: chargepoint.NoError, Pilot: "C", PowerW: w(3500.4)},
		{ID: 2, Status: chargepoint.Available, ErrorCode: "HighTemperature", Pilot: "A", PowerW: w(0)},
	}}
	single := model.Model{Phases: 1, MaxCurrent: 16, Cable: "socket"}
	for _, c := range []struct {
		name      string
		m         model.Model
		component ocpp201.Component
		variable  string
		attr      ocpp201.Attribute
		want      string // "-": the variable has not the attribute
	}{
		{"a station's power is its EVSEs'", single, ocpp201.Component{Name: "ChargingStation"}, "Power", ocpp201.AttributeActual, "3500"},
		{"a station's most power", single, ocpp201.Component{Name: "ChargingStation"}, "Power", ocpp201.AttributeMaxSet, "7360"},
		{"an EVSE's most power, 1 × 16 A × 230 V", single, evseOf(1), "Power", ocpp201.AttributeMaxSet, "3680"},
		{"no most current, no MaxSet", model.Model{Phases: 3}, evseOf(1), "Power", ocpp201.AttributeMaxSet, "-"},
		{"no Target", single, evseOf(1), "Power", ocpp201.AttributeTarget, "-"},
		{"a plugged, charging EVSE", single, evseOf(1), "AvailabilityState", "", "Occupied"},
		{"the phases of the model", single, evseOf(1), "SupplyPhases", "", "1"},
		{"an error without a fault is a problem", single, evseOf(2), "Problem", "", "true"},
		{"its connector's too", single, connectorOf(2), "Problem", "", "true"},
		{"a charging EVSE has none", single, evseOf(1), "Problem", "", "false"},
		{"a socket", single, connectorOf(1), "ConnectorType", "", "sType2"},
		{"a tethered cable", model.Model{Phases: 3, MaxCurrent: 32}, connectorOf(1), "ConnectorType", "", "cType2"},
		{"the station", single, ocpp201.Component{Name: "ChargingStation"}, "Problem", "", "false"},
		{"installed", single, connectorOf(2), "Available", "", "true"},
	} {
		v, ok, _ := findLive(physicalVariables(st, c.m, nil), c.component, ocpp201.Variable{Name: c.variable})
		got, has := v.attr(c.attr)
		if !has {
			got = "-"
		}
		if !ok || got != c.want {
			t.Errorf("%s: %s %s: %q (found %v), want %q", c.name, c.variable, c.attr, got, ok, c.want)
		}
	}
}

func evseOf(id int) ocpp201.Component {
	return ocpp201.Component{Name: "EVSE", Evse: &ocpp201.EVSE{Id: id}}
}

func connectorOf(id int) ocpp201.Component {
	one := 1
	return ocpp201.Component{Name: "Connector", Evse: &ocpp201.EVSE{Id: id, ConnectorId: &one}}
}

// TestSummaryPicksAvailabilityAndProblems: the summary inventory's rule,
// on report data.
func TestSummaryPicksAvailabilityAndProblems(t *testing.T) {
	d := func(c ocpp201.Component, name, value string) ocpp201.ReportData {
		return ocpp201.ReportData{Component: c, Variable: ocpp201.Variable{Name: name},
			VariableAttribute: []ocpp201.VariableAttribute{{Value: &value}}}
	}
	inventory := []ocpp201.ReportData{
		d(ocpp201.Component{Name: "OCPPCommCtrlr"}, "HeartbeatInterval", "240"),
		d(ocpp201.Component{Name: "ChargingStation"}, "AvailabilityState", "Available"),
		d(ocpp201.Component{Name: "ChargingStation"}, "Problem", "false"),
		d(evseOf(1), "AvailabilityState", "Occupied"),
		d(connectorOf(1), "AvailabilityState", "Occupied"),
		d(evseOf(2), "AvailabilityState", "Available"),
		d(connectorOf(2), "AvailabilityState", "Faulted"),
		d(connectorOf(2), "Problem", "true"),
		d(ocpp201.Component{Name: "DLMCtrlr"}, "Fallback", "true"),
		d(evseOf(2), "Power", "0"),
	}
	got := strings.Join(describe(summary(inventory)), " ")
	want := "ChargingStation.AvailabilityState=Available EVSE[1].AvailabilityState=Occupied EVSE[2].AvailabilityState=Available " +
		"Connector[2.1].AvailabilityState=Faulted Connector[2.1].Problem=true DLMCtrlr.Fallback=true"
	if got != want {
		t.Errorf("summary:\n got %s\nwant %s", got, want)
	}
}
