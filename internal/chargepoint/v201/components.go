package v201

import (
	"context"
	"strconv"
	"strings"

	"github.com/evse-dev/evse/internal/ocpp201"
)

// liveVariable is a read-only variable of the station's physical
// components (ChargingStation, each EVSE, its Connector), read from its
// state now rather than from a key.
type liveVariable struct {
	component ocpp201.Component
	variable  string
	value     string
	dataType  ocpp201.Data
	unit      string
}

// physical reports whether a component is one of the station's physical
// ones, which liveVariables serves.
func physical(c ocpp201.Component) bool {
	switch c.Name {
	case "ChargingStation", "EVSE", "Connector":
		return c.Instance == ""
	}
	return false
}

// liveVariables are the physical components' variables now.
func (cp *ChargePoint) liveVariables(ctx context.Context) ([]liveVariable, error) {
	st, err := cp.Status(ctx)
	if err != nil {
		return nil, err
	}
	phases := strconv.Itoa(cp.opts.Model.Phases)
	if cp.opts.Model.Phases == 0 {
		phases = "3"
	}
	rotations := map[string]string{}
	if v, err := cp.opts.Settings.Get("ConnectorPhaseRotation"); err == nil {
		for _, item := range strings.Split(v.Value, ",") {
			if n, rot, ok := strings.Cut(strings.TrimSpace(item), "."); ok {
				rotations[n] = rot
			}
		}
	}
	var out []liveVariable
	add := func(c ocpp201.Component, name, value string, dt ocpp201.Data, unit string) {
		out = append(out, liveVariable{component: c, variable: name, value: value, dataType: dt, unit: unit})
	}
	station := ocpp201.Component{Name: "ChargingStation"}
	if len(st.Connectors) > 0 {
		add(station, "AvailabilityState", string(connectorStatus(st.Connectors[0].Status, false)), ocpp201.DataOptionList, "")
	}
	add(station, "SupplyPhases", phases, ocpp201.DataInteger, "")
	for _, c := range st.Connectors[1:] {
		one := 1
		evse := ocpp201.Component{Name: "EVSE", Evse: &ocpp201.EVSE{Id: c.ID}}
		conn := ocpp201.Component{Name: "Connector", Evse: &ocpp201.EVSE{Id: c.ID, ConnectorId: &one}}
		state := string(connectorStatus(c.Status, c.Pilot != "" && c.Pilot != "A"))
		power := "0"
		if c.PowerW != nil {
			power = strconv.FormatFloat(*c.PowerW, 'f', 0, 64)
		}
		add(evse, "AvailabilityState", state, ocpp201.DataOptionList, "")
		add(evse, "Power", power, ocpp201.DataDecimal, "W")
		add(evse, "SupplyPhases", phases, ocpp201.DataInteger, "")
		add(conn, "AvailabilityState", state, ocpp201.DataOptionList, "")
		add(conn, "SupplyPhases", phases, ocpp201.DataInteger, "")
		if rot, ok := rotations[strconv.Itoa(c.ID)]; ok {
			add(conn, "PhaseRotation", rot, ocpp201.DataString, "")
		}
	}
	return out, nil
}

// findLive looks a physical component's variable up: ok when found, known
// when the component (and its EVSE) exists.
func findLive(vars []liveVariable, c ocpp201.Component, name string) (v liveVariable, ok, known bool) {
	for _, lv := range vars {
		if !sameComponent(lv.component, c) {
			continue
		}
		known = true
		if lv.variable == name {
			return lv, true, true
		}
	}
	return liveVariable{}, false, known
}

// sameComponent reports whether two components name the same one: the
// name, and the EVSE and connector when given.
func sameComponent(a, b ocpp201.Component) bool {
	if a.Name != b.Name || (a.Evse == nil) != (b.Evse == nil) {
		return false
	}
	if a.Evse == nil {
		return true
	}
	if a.Evse.Id != b.Evse.Id {
		return false
	}
	ac, bc := 0, 0
	if a.Evse.ConnectorId != nil {
		ac = *a.Evse.ConnectorId
	}
	if b.Evse.ConnectorId != nil {
		bc = *b.Evse.ConnectorId
	}
	return ac == bc || bc == 0 && a.Name == "Connector"
}

// liveReportData is a physical component's variable as a report tells it.
func liveReportData(v liveVariable) ocpp201.ReportData {
	value, constant, persistent := v.value, false, false
	c := &ocpp201.VariableCharacteristics{DataType: v.dataType, Unit: v.unit}
	if v.variable == "AvailabilityState" {
		c.ValuesList = "Available,Occupied,Reserved,Unavailable,Faulted"
	}
	return ocpp201.ReportData{Component: v.component, Variable: ocpp201.Variable{Name: v.variable},
		VariableAttribute: []ocpp201.VariableAttribute{{Type: ocpp201.AttributeActual, Value: &value,
			Mutability: ocpp201.MutabilityReadOnly, Persistent: &persistent, Constant: &constant}},
		VariableCharacteristics: c}
}
