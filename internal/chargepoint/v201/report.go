package v201

import (
	"context"
	"encoding/json"
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
// variable) or the configuration inventory (those the CSMS may write),
// sent after the answer with NotifyReport in parts. The summary
// inventory (availability and problems of the components) is not
// modelled: NotSupported.
func (cp *ChargePoint) getBaseReport(ctx context.Context, r *ocpp201.GetBaseReportRequest) *ocpp201.GetBaseReportResponse {
	var data []ocpp201.ReportData
	switch r.ReportBase {
	case ocpp201.ReportBaseFullInventory:
		for _, v := range cp.model.Variables() {
			data = append(data, cp.reportData(v))
		}
		live, err := cp.liveVariables(ctx)
		if err != nil {
			cp.log.Warn("GetBaseReport: the physical components' state", "err", err)
		}
		for _, v := range live {
			data = append(data, liveReportData(v))
		}
	case ocpp201.ReportBaseConfigurationInventory:
		for _, v := range cp.model.Variables() {
			if cp.mutability(v) != ocpp201.MutabilityReadOnly {
				data = append(data, cp.reportData(v))
			}
		}
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
// variables) asked for, EmptyResultSet when none is known. Component
// criteria (Active, Available, Enabled, Problem) are not modelled:
// NotSupported.
func (cp *ChargePoint) getReport(ctx context.Context, r *ocpp201.GetReportRequest) *ocpp201.GetReportResponse {
	if len(r.ComponentCriteria) > 0 {
		return &ocpp201.GetReportResponse{Status: ocpp201.GenericDeviceModelStatusNotSupported}
	}
	var data []ocpp201.ReportData
	for _, v := range cp.model.Variables() {
		if len(r.ComponentVariable) == 0 || asked(r.ComponentVariable, v) {
			data = append(data, cp.reportData(v))
		}
	}
	live, err := cp.liveVariables(ctx)
	if err != nil {
		cp.log.Warn("GetReport: the physical components' state", "err", err)
	}
	for _, v := range live {
		if len(r.ComponentVariable) == 0 || askedLive(r.ComponentVariable, v) {
			data = append(data, liveReportData(v))
		}
	}
	if len(data) == 0 {
		return &ocpp201.GetReportResponse{Status: ocpp201.GenericDeviceModelStatusEmptyResultSet}
	}
	if !cp.sendReport(ctx, r.RequestId, data) {
		return &ocpp201.GetReportResponse{Status: ocpp201.GenericDeviceModelStatusRejected,
			StatusInfo: &ocpp201.StatusInfo{ReasonCode: "Busy", AdditionalInfo: "a report is being sent"}}
	}
	return &ocpp201.GetReportResponse{Status: ocpp201.GenericDeviceModelStatusAccepted}
}

// askedLive reports whether one of the component-variables names a
// physical component's variable: the component (of any EVSE when none is
// given), and the variable when one is given.
func askedLive(cvs []ocpp201.ComponentVariable, v liveVariable) bool {
	for _, cv := range cvs {
		c := cv.Component
		if c.Name != v.component.Name || c.Instance != "" || c.Evse != nil && !sameComponent(v.component, c) {
			continue
		}
		if cv.Variable == nil || cv.Variable.Name == v.variable && cv.Variable.Instance == "" {
			return true
		}
	}
	return false
}

// asked reports whether one of the component-variables names v: its
// component (station-wide), and its variable when one is given.
func asked(cvs []ocpp201.ComponentVariable, v devicemodel.Variable) bool {
	for _, cv := range cvs {
		if cv.Component.Name != v.Component || cv.Component.Evse != nil || cv.Component.Instance != "" {
			continue
		}
		if cv.Variable == nil || cv.Variable.Name == v.Name && (cv.Variable.Instance == "" || cv.Variable.Instance == v.Instance) {
			return true
		}
	}
	return false
}

// sendReport sends the variables with NotifyReport once the answer is
// written, in parts of reportItems: seqNo from 0, tbc on all but the
// last. One report is sent at a time: false while one is.
func (cp *ChargePoint) sendReport(ctx context.Context, requestID int, data []ocpp201.ReportData) bool {
	if !cp.reporting.CompareAndSwap(false, true) {
		return false
	}
	generated := cp.opts.Clock.Now()
	rpc.AfterAnswer(ctx, func() {
		cp.Go(10*time.Minute, func(ctx context.Context) {
			defer cp.reporting.Store(false)
			cp.notifyReport(ctx, requestID, generated, data)
		})
	})
	return true
}

// notifyReport sends a report's parts.
func (cp *ChargePoint) notifyReport(ctx context.Context, requestID int, generated time.Time, data []ocpp201.ReportData) {
	{
		caller := cp.Caller()
		if caller == nil {
			return
		}
		for seq := 0; seq*reportItems < len(data); seq++ {
			part := data[seq*reportItems : min((seq+1)*reportItems, len(data))]
			more := (seq+1)*reportItems < len(data)
			req := ocpp201.NotifyReportRequest{RequestId: requestID, GeneratedAt: ocpp201.DateTime{Time: generated},
				ReportData: part, SeqNo: seq}
			if more {
				req.Tbc = &more
			}
			payload, err := json.Marshal(req)
			if err == nil {
				_, err = caller.Call(ctx, "NotifyReport", payload)
			}
			if err != nil {
				cp.log.Warn("NotifyReport not delivered; the report stops", "request", requestID, "part", seq, "err", err)
				return
			}
		}
	}
}

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
			VariableAttribute: []ocpp201.VariableAttribute{attr},
			VariableCharacteristics: &ocpp201.VariableCharacteristics{DataType: ocpp201.DataMemberList,
				ValuesList: "ParkingBayOccupancy,EVConnected,Authorized,DataSigned,PowerPathClosed,EnergyTransfer"}}
	}
	if attr.Mutability != ocpp201.MutabilityWriteOnly {
		if value, err := cp.opts.Settings.Get(v.Key); err == nil {
			s := v.Read(value.Value)
			attr.Value = &s
		}
	}
	d := ocpp201.ReportData{Component: ocpp201.Component{Name: v.Component}, Variable: ocpp201.Variable{Name: v.Name, Instance: v.Instance},
		VariableAttribute: []ocpp201.VariableAttribute{attr}, VariableCharacteristics: characteristics(k, v)}
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
	case config.KindMeasurands, config.KindProfiles, config.KindRateUnits:
		c.DataType = ocpp201.DataMemberList
	case config.KindPhaseRotation:
		c.DataType = ocpp201.DataSequenceList
	case config.KindList:
		c.DataType, c.ValuesList = ocpp201.DataMemberList, strings.Join(k.Labels, ",")
		if k.PrintedType == "SequenceList" {
			c.DataType = ocpp201.DataSequenceList
		}
	}
	if v.View != nil && k.Kind == config.KindRateUnits {
		c.ValuesList = "A,W"
	}
	if len(c.ValuesList) > 1000 {
		c.ValuesList = c.ValuesList[:strings.LastIndex(c.ValuesList[:1000], ",")]
	}
	return c
}
