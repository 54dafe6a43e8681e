package v201

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/display"
	"github.com/evse-dev/evse/internal/model"
	"github.com/evse-dev/evse/internal/ocpp201"
)

// nominalVoltage is the phase voltage, in V, at which the most power of
// an EVSE is counted: the model gives the most current, not a power.
const nominalVoltage = 230

// availabilityStates are AvailabilityState's values.
const availabilityStates = "Available,Occupied,Reserved,Unavailable,Faulted"

// liveVariable is a read-only variable of the station's physical
// components (ChargingStation, each EVSE, its Connector), read from its
// state now rather than from a key.
type liveVariable struct {
	component ocpp201.Component
	variable  string
	instance  string
	// attrs are the variable's attributes, Actual first.
	attrs      []liveAttr
	dataType   ocpp201.Data
	unit       string
	valuesList string
	maxLimit   *float64
	// constant: the value does not change while the station runs.
	constant bool
}

// liveAttr is one attribute of a liveVariable and its value.
type liveAttr struct {
	typ   ocpp201.Attribute
	value string
}

// attr is the value of one of the variable's attributes ("" is Actual);
// false when the variable has not that attribute.
func (v liveVariable) attr(t ocpp201.Attribute) (string, bool) {
	if t == "" {
		t = ocpp201.AttributeActual
	}
	for _, a := range v.attrs {
		if a.typ == t {
			return a.value, true
		}
	}
	return "", false
}

// liveComponent reports whether a component is one liveVariables serves:
// the station's physical ones, MonitoringCtrlr and DisplayMessageCtrlr.
func liveComponent(c ocpp201.Component) bool {
	return physical(c) || c.Name == "DisplayMessageCtrlr" && c.Instance == ""
}

// physical reports whether a component is one of the station's physical
// ones, or MonitoringCtrlr, which liveFrom serves.
func physical(c ocpp201.Component) bool {
	switch c.Name {
	case "ChargingStation", "EVSE", "Connector", "MonitoringCtrlr":
		return c.Instance == ""
	}
	return false
}

// liveVariables are the physical components' variables now, and
// MonitoringCtrlr's and DisplayMessageCtrlr's.
func (cp *ChargePoint) liveVariables(ctx context.Context) ([]liveVariable, error) {
	st, err := cp.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("v201: the physical components' state: %w", err)
	}
	now, ongoing := cp.opts.Clock.Now(), display.OngoingIn(st)
	held, err := cp.Display().List(now, ongoing)
	if err != nil {
		return nil, fmt.Errorf("v201: the display's messages: %w", err)
	}
	return append(cp.liveFrom(st), displayVariables(len(held), cp.Display().Capabilities())...), nil
}

// liveOnce returns a reader of the live variables that reads them at its
// first call only: one CALL's variables all see the same moment.
func (cp *ChargePoint) liveOnce(ctx context.Context) func() ([]liveVariable, error) {
	var (
		live []liveVariable
		err  error
		read bool
	)
	return func() ([]liveVariable, error) {
		if !read {
			live, err = cp.liveVariables(ctx)
			read = true
		}
		return live, err
	}
}

// liveFrom are the physical components' and MonitoringCtrlr's variables
// of a station in state st (the monitors read them every second;
// DisplayMessageCtrlr's need its messages: liveVariables).
func (cp *ChargePoint) liveFrom(st chargepoint.Status) []liveVariable {
	rotations := map[string]string{}
	if v, err := cp.opts.Settings.Get("ConnectorPhaseRotation"); err == nil {
		for _, item := range strings.Split(v.Value, ",") {
			if n, rot, ok := strings.Cut(strings.TrimSpace(item), "."); ok {
				rotations[n] = rot
			}
		}
	}
	return append(physicalVariables(st, cp.opts.Model, rotations), cp.monitoringCtrlr()...)
}

// physicalVariables are the standard variables of the physical
// components of a station in state st, of model m, its connectors wired
// in rotations (by connector number): each EVSE has one connector.
//
//   - ChargingStation: AvailabilityState (of connector 0), Available,
//     Power (Actual: what the EVSEs draw; MaxSet: the most they may),
//     SupplyPhases, Problem.
//   - EVSE: AvailabilityState, Available, Power, SupplyPhases, Problem.
//   - Connector: AvailabilityState, Available, ConnectorType (Type 2: a
//     socket, sType2, or a tethered cable, cType2), SupplyPhases,
//     PhaseRotation when configured, Problem.
//
// Available is true: the component is installed. Power's MaxSet, and
// its maxLimit, is the model's most current on each phase at
// nominalVoltage; a model without a most current has no MaxSet.
func physicalVariables(st chargepoint.Status, m model.Model, rotations map[string]string) []liveVariable {
	phases := m.Phases
	if phases == 0 {
		phases = 3
	}
	evseMax := float64(phases * m.MaxCurrent * nominalVoltage)
	var out []liveVariable
	add := func(c ocpp201.Component, v liveVariable) {
		v.component = c
		out = append(out, v)
	}
	actual := func(value string) []liveAttr { return []liveAttr{{ocpp201.AttributeActual, value}} }
	state := func(s ocpp201.ConnectorStatus) liveVariable {
		return liveVariable{variable: "AvailabilityState", attrs: actual(string(s)), dataType: ocpp201.DataOptionList,
			valuesList: availabilityStates}
	}
	boolean := func(name string, b, constant bool) liveVariable {
		return liveVariable{variable: name, attrs: actual(strconv.FormatBool(b)), dataType: ocpp201.DataBoolean, constant: constant}
	}
	supply := liveVariable{variable: "SupplyPhases", attrs: actual(strconv.Itoa(phases)), dataType: ocpp201.DataInteger, constant: true}
	power := func(w float64, most float64) liveVariable {
		v := liveVariable{variable: "Power", attrs: actual(strconv.FormatFloat(w, 'f', 0, 64)), dataType: ocpp201.DataDecimal, unit: "W"}
		if most > 0 {
			v.attrs = append(v.attrs, liveAttr{ocpp201.AttributeMaxSet, strconv.FormatFloat(most, 'f', 0, 64)})
			v.maxLimit = &most
		}
		return v
	}

	station := ocpp201.Component{Name: "ChargingStation"}
	evses := max(len(st.Connectors)-1, 0)
	var drawn float64
	for _, c := range st.Connectors[min(1, len(st.Connectors)):] {
		if c.PowerW != nil {
			drawn += *c.PowerW
		}
	}
	if len(st.Connectors) > 0 {
		c0 := st.Connectors[0]
		add(station, state(connectorStatus(c0.Status, false)))
		add(station, boolean("Available", true, true))
		add(station, power(drawn, evseMax*float64(evses)))
		add(station, supply)
		add(station, boolean("Problem", problem(c0.Status, c0.ErrorCode), false))
	}
	for _, c := range st.Connectors[min(1, len(st.Connectors)):] {
		one := 1
		evse := ocpp201.Component{Name: "EVSE", Evse: &ocpp201.EVSE{Id: c.ID}}
		conn := ocpp201.Component{Name: "Connector", Evse: &ocpp201.EVSE{Id: c.ID, ConnectorId: &one}}
		s := connectorStatus(c.Status, c.Pilot != "" && c.Pilot != "A")
		var w float64
		if c.PowerW != nil {
			w = *c.PowerW
		}
		fault := problem(c.Status, c.ErrorCode)
		add(evse, state(s))
		add(evse, boolean("Available", true, true))
		add(evse, power(w, evseMax))
		add(evse, supply)
		add(evse, boolean("Problem", fault, false))
		add(conn, state(s))
		add(conn, boolean("Available", true, true))
		add(conn, liveVariable{variable: "ConnectorType", attrs: actual(string(connectorType(m))), dataType: ocpp201.DataString, constant: true})
		add(conn, supply)
		if rot, ok := rotations[strconv.Itoa(c.ID)]; ok {
			add(conn, liveVariable{variable: "PhaseRotation", attrs: actual(rot), dataType: ocpp201.DataString})
		}
		add(conn, boolean("Problem", fault, false))
	}
	return out
}

// problem reports whether a connector (or the station, connector 0) in
// state s with error code has a problem: it is Faulted, or tells an
// error (1.6's codes, which a connector may tell without being Faulted).
func problem(s chargepoint.ConnectorState, code string) bool {
	return s == chargepoint.Faulted || code != "" && code != chargepoint.NoError
}

// findLive looks a physical component's variable up (by name and
// instance): ok when found, known when the component (and its EVSE)
// exists.
func findLive(vars []liveVariable, c ocpp201.Component, v ocpp201.Variable) (_ liveVariable, ok, known bool) {
	for _, lv := range vars {
		if !sameComponent(lv.component, c) || lv.component.Instance != c.Instance {
			continue
		}
		known = true
		if lv.variable == v.Name && lv.instance == v.Instance {
			return lv, true, true
		}
	}
	return liveVariable{}, false, known
}

// sameComponent reports whether a component a is the one b names: the
// name, and the EVSE and connector when b gives them (a Connector
// without a connector id is the EVSE's connector).
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

// liveReportData is a physical component's variable as a report tells it:
// every attribute it has, read-only.
func liveReportData(v liveVariable) ocpp201.ReportData {
	d := ocpp201.ReportData{Component: v.component, Variable: ocpp201.Variable{Name: v.variable, Instance: v.instance},
		VariableCharacteristics: &ocpp201.VariableCharacteristics{DataType: v.dataType, Unit: v.unit,
			ValuesList: v.valuesList, MaxLimit: v.maxLimit, SupportsMonitoring: true}}
	for _, a := range v.attrs {
		value, constant, persistent := a.value, v.constant, false
		d.VariableAttribute = append(d.VariableAttribute, ocpp201.VariableAttribute{Type: a.typ, Value: &value,
			Mutability: ocpp201.MutabilityReadOnly, Persistent: &persistent, Constant: &constant})
	}
	return d
}
