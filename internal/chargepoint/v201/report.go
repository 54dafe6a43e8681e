package v201

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/devicemodel"
	"github.com/evse-dev/evse/internal/ocpp201"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// reportItems is how many variables one NotifyReport carries.
const reportItems = 20

// getBaseReport answers GetBaseReport: the full inventory (every
// variable), the configuration inventory (those the CSMS may write) or
// the summary inventory (the components' availability and problems),
// sent after the answer with NotifyReport in parts.
func (cp *ChargePoint) getBaseReport(ctx context.Context, r *ocpp201.GetBaseReportRequest) *ocpp201.GetBaseReportResponse {
	var data []ocpp201.ReportData
	switch r.ReportBase {
	case ocpp201.ReportBaseFullInventory:
		data = cp.inventory(ctx)
	case ocpp201.ReportBaseConfigurationInventory:
		for _, v := range cp.model.Variables() {
			if cp.mutability(v) != ocpp201.MutabilityReadOnly {
				data = append(data, cp.reportData(v))
			}
		}
	case ocpp201.ReportBaseSummaryInventory:
		data = summary(cp.inventory(ctx))
	default:
		return &ocpp201.GetBaseReportResponse{Status: ocpp201.GenericDeviceModelStatusNotSupported}
	}
	if !cp.sendReport(ctx, r.RequestId, data) {
		return &ocpp201.GetBaseReportResponse{Status: ocpp201.GenericDeviceModelStatusRejected,
			StatusInfo: &ocpp201.StatusInfo{ReasonCode: "Busy", AdditionalInfo: "a report is being sent"}}
	}
	return &ocpp201.GetBaseReportResponse{Status: ocpp201.GenericDeviceModelStatusAccepted}
}

// getReport answers GetReport: the variables of the components (and
// variables) asked for, of the components that meet one of the criteria;
// EmptyResultSet when there are none.
func (cp *ChargePoint) getReport(ctx context.Context, r *ocpp201.GetReportRequest) *ocpp201.GetReportResponse {
	data := customReport(cp.inventory(ctx), r.ComponentVariable, r.ComponentCriteria)
	if len(data) == 0 {
		return &ocpp201.GetReportResponse{Status: ocpp201.GenericDeviceModelStatusEmptyResultSet}
	}
	if !cp.sendReport(ctx, r.RequestId, data) {
		return &ocpp201.GetReportResponse{Status: ocpp201.GenericDeviceModelStatusRejected,
			StatusInfo: &ocpp201.StatusInfo{ReasonCode: "Busy", AdditionalInfo: "a report is being sent"}}
	}
	return &ocpp201.GetReportResponse{Status: ocpp201.GenericDeviceModelStatusAccepted}
}

// inventory is every variable as a report tells it: the device model's,
// then the physical components' (left out, with a warning, when the
// station's state cannot be read).
func (cp *ChargePoint) inventory(ctx context.Context) []ocpp201.ReportData {
	var data []ocpp201.ReportData
	for _, v := range cp.model.Variables() {
		data = append(data, cp.reportData(v))
	}
	live, err := cp.liveVariables(ctx)
	if err != nil {
		cp.log.Warn("report without the physical components", "err", err)
	}
	for _, v := range live {
		data = append(data, liveReportData(v))
	}
	return data
}

// customReport is GetReport's selection from the inventory (B08): the
// variables the component-variables name (all without any), of the
// components that meet one of the criteria (devicemodel.MeetsCriteria,
// every component without any).
func customReport(inventory []ocpp201.ReportData, cvs []ocpp201.ComponentVariable, criteria []ocpp201.ComponentCriterion) []ocpp201.ReportData {
	var names []string
	for _, c := range criteria {
		names = append(names, string(c))
	}
	// The Actual values of each component's variables, by name.
	actual := map[string]map[string]string{}
	for _, d := range inventory {
		if d.Variable.Instance != "" {
			continue
		}
		k := componentKey(d.Component)
		if actual[k] == nil {
			actual[k] = map[string]string{}
		}
		actual[k][d.Variable.Name] = actualValue(d)
	}
	var out []ocpp201.ReportData
	for _, d := range inventory {
		if (len(cvs) == 0 || asked(cvs, d)) && devicemodel.MeetsCriteria(actual[componentKey(d.Component)], names) {
			out = append(out, d)
		}
	}
	return out
}

// summaryVariables are the variables that tell a problem, reported by the
// summary inventory when true.
var summaryVariables = map[string]bool{"Problem": true, "Tripped": true, "Overload": true, "Fallback": true}

// summary is the summary inventory out of the full one (B07.FR.09, 2.0.1's
// ReportBaseEnumType): the AvailabilityState of the station and of each
// EVSE, a connector's when it differs from its EVSE's, and every Problem,
// Tripped, Overload or Fallback variable that is true.
func summary(inventory []ocpp201.ReportData) []ocpp201.ReportData {
	evseState := map[int]string{}
	for _, d := range inventory {
		if d.Component.Name == "EVSE" && d.Component.Evse != nil && d.Variable.Name == "AvailabilityState" {
			evseState[d.Component.Evse.Id] = actualValue(d)
		}
	}
	var out []ocpp201.ReportData
	for _, d := range inventory {
		c, name := d.Component, d.Variable.Name
		switch {
		case name == "AvailabilityState" && (c.Name == "ChargingStation" || c.Name == "EVSE"),
			name == "AvailabilityState" && c.Name == "Connector" && c.Evse != nil && actualValue(d) != evseState[c.Evse.Id],
			summaryVariables[name] && actualValue(d) == "true":
			out = append(out, d)
		}
	}
	return out
}

// componentKey names a component: its name, instance, EVSE and connector.
func componentKey(c ocpp201.Component) string {
	k := c.Name + "/" + c.Instance
	if c.Evse != nil {
		k += "/" + strconv.Itoa(c.Evse.Id)
		if c.Evse.ConnectorId != nil {
			k += "/" + strconv.Itoa(*c.Evse.ConnectorId)
		}
	}
	return k
}

// actualValue is the value of a reported variable's Actual attribute, ""
// when it has none (or it is write-only).
func actualValue(d ocpp201.ReportData) string {
	for _, a := range d.VariableAttribute {
		if (a.Type == "" || a.Type == ocpp201.AttributeActual) && a.Value != nil {
			return *a.Value
		}
	}
	return ""
}

// asked reports whether one of the component-variables names a reported
// variable: its component (of any EVSE when none is given, of any
// instance when none is), and its variable when one is given (of any
// instance when none is, B08.FR.21).
func asked(cvs []ocpp201.ComponentVariable, d ocpp201.ReportData) bool {
	for _, cv := range cvs {
		c := cv.Component
		if c.Name != d.Component.Name || c.Instance != "" && c.Instance != d.Component.Instance ||
			c.Evse != nil && !sameComponent(d.Component, c) {
			continue
		}
		if cv.Variable == nil || cv.Variable.Name == d.Variable.Name && (cv.Variable.Instance == "" || cv.Variable.Instance == d.Variable.Instance) {
			return true
		}
	}
	return false
}

// sendReport sends the variables with NotifyReport once the answer is
// written, in parts of reportItems. One report is sent at a time: false
// while one is.
func (cp *ChargePoint) sendReport(ctx context.Context, requestID int, data []ocpp201.ReportData) bool {
	generated := cp.opts.Clock.Now()
	return cp.sendReportParts(ctx, "NotifyReport", requestID, len(data), reportItems, func(seq, lo, hi int, tbc *bool) any {
		return ocpp201.NotifyReportRequest{RequestId: requestID, GeneratedAt: ocpp201.DateTime{Time: generated},
			ReportData: data[lo:hi], SeqNo: seq, Tbc: tbc}
	})
}

// sendReportParts sends a report of n items once the answer is written,
// in parts of per items (sendParts). One report of any kind is sent at a
// time: false while one is.
func (cp *ChargePoint) sendReportParts(ctx context.Context, action string, requestID, n, per int, part func(seq, lo, hi int, tbc *bool) any) bool {
	if !cp.reporting.CompareAndSwap(false, true) {
		return false
	}
	rpc.AfterAnswer(ctx, func() {
		cp.Go(10*time.Minute, func(ctx context.Context) {
			defer cp.reporting.Store(false)
			if _, err := cp.sendParts(ctx, action, n, per, part); err != nil {
				cp.log.Warn("report not delivered; it stops", "action", action, "request", requestID, "err", err)
			}
		})
	})
	return true
}

// afterAnswer runs send's caller once the answer to the CSMS's CALL of
// ctx is written (and never if none is): each send marshals a CALL of
// action and waits for its answer. It runs at most 10 minutes, even
// without a connection (every send then fails).
func (cp *ChargePoint) afterAnswer(ctx context.Context, action string, run func(send func(any) error)) {
	rpc.AfterAnswer(ctx, func() {
		cp.Go(10*time.Minute, func(ctx context.Context) {
			caller := cp.Caller()
			run(func(req any) error {
				if caller == nil {
					return errNotConnected
				}
				payload, err := json.Marshal(req)
				if err != nil {
					return fmt.Errorf("v201: encode %s: %w", action, err)
				}
				_, err = caller.Call(ctx, action, payload)
				return err
			})
		})
	})
}

// errNotConnected: no connection to send on.
var errNotConnected = errors.New("v201: not connected")

// mutability is a variable's as 2.0.1 says it.
func (cp *ChargePoint) mutability(v devicemodel.Variable) ocpp201.Mutability {
	k, _ := cp.opts.Settings.Catalogue().Lookup(v.Key)
	switch {
	case v.Key == "" || k.Access == config.ReadOnly || v.View != nil && v.Write == nil:
		return ocpp201.MutabilityReadOnly
	case k.Access == config.WriteOnly:
		return ocpp201.MutabilityWriteOnly
	}
	return ocpp201.MutabilityReadWrite
}

// reportData is one variable with its Actual attribute and its
// characteristics, from the key.
func (cp *ChargePoint) reportData(v devicemodel.Variable) ocpp201.ReportData {
	k, _ := cp.opts.Settings.Catalogue().Lookup(v.Key)
	persistent := k.Stored() || v.Key == ""
	attr := ocpp201.VariableAttribute{Type: ocpp201.AttributeActual, Mutability: cp.mutability(v), Persistent: &persistent}
	if v.Key == "" {
		fixed, constant := v.Fixed, true
		attr.Value, attr.Constant = &fixed, &constant
		return ocpp201.ReportData{Component: ocpp201.Component{Name: v.Component}, Variable: ocpp201.Variable{Name: v.Name, Instance: v.Instance},
			VariableAttribute:       []ocpp201.VariableAttribute{attr},
			VariableCharacteristics: &ocpp201.VariableCharacteristics{DataType: ocpp201.DataBoolean, SupportsMonitoring: true}}
	}
	if attr.Mutability != ocpp201.MutabilityWriteOnly {
		if value, err := cp.opts.Settings.Get(v.Key); err == nil {
			s := v.Read(value.Value)
			attr.Value = &s
		}
	}
	d := ocpp201.ReportData{Component: ocpp201.Component{Name: v.Component}, Variable: ocpp201.Variable{Name: v.Name, Instance: v.Instance},
		VariableAttribute: []ocpp201.VariableAttribute{attr}, VariableCharacteristics: characteristics(k, v)}
	// Every variable can be monitored but a write-only one (a password).
	d.VariableCharacteristics.SupportsMonitoring = attr.Mutability != ocpp201.MutabilityWriteOnly
	return d
}

// characteristics are a key's type and range as 2.0.1 describes them.
func characteristics(k config.Key, v devicemodel.Variable) *ocpp201.VariableCharacteristics {
	c := &ocpp201.VariableCharacteristics{DataType: ocpp201.DataString, Unit: k.Unit}
	if len(c.Unit) > 16 {
		c.Unit = ""
	}
	limits := func(lo, hi float64) { c.MinLimit, c.MaxLimit = &lo, &hi }
	switch k.Kind {
	case config.KindComputed:
		if k.PrintedType == "integer" { // a count the station keeps (LocalAuthListCtrlr.Entries)
			c.DataType = ocpp201.DataInteger
			limits(float64(k.Min), float64(k.Max))
		}
	case config.KindInt:
		c.DataType = ocpp201.DataInteger
		limits(float64(k.Min), float64(k.Max))
	case config.KindBool:
		c.DataType = ocpp201.DataBoolean
	case config.KindEnum:
		// Read back as the label's number.
		c.DataType = ocpp201.DataInteger
		limits(0, float64(len(k.Labels)-1))
	case config.KindOfflineTx:
		if v.View != nil {
			c.DataType = ocpp201.DataBoolean
		} else {
			c.DataType, c.ValuesList = ocpp201.DataOptionList, "false,true,ImmediatelyWhenPlugged"
		}
	case config.KindMeasurands:
		c.DataType, c.ValuesList = ocpp201.DataMemberList, strings.Join(config.Measurands, ",")
	case config.KindProfiles:
		c.DataType, c.ValuesList = ocpp201.DataMemberList, strings.Join(config.Profiles, ",")
	case config.KindRateUnits:
		c.DataType, c.ValuesList = ocpp201.DataMemberList, "Current"
		if v.View != nil {
			c.ValuesList = "A" // 1.6's Current as 2.0.1 reads it
		}
	case config.KindList:
		c.DataType, c.ValuesList = ocpp201.DataMemberList, strings.Join(k.Labels, ",")
		if k.PrintedType == "SequenceList" {
			c.DataType = ocpp201.DataSequenceList
		}
	case config.KindPhaseRotation:
		// "<connector>.<rotation>" items: a string, as no values list can
		// name them all (2.0.1 wants one for a SequenceList).
	}
	if len(c.ValuesList) > 1000 {
		c.ValuesList = c.ValuesList[:strings.LastIndex(c.ValuesList[:1000], ",")]
	}
	return c
}
