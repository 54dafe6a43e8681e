package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// demoScript201 is demoScript's tour over OCPP 2.0.1: the device model
// (GetVariables, SetVariables) instead of 1.6's configuration keys, a
// session of TransactionEvents, and the central system's
// GetTransactionStatus, a TxProfile with GetCompositeSchedule and
// GetChargingProfiles, and RequestStopTransaction.
func demoScript201(ctx context.Context, csms *csmstest.Server, p *tracePrinter, id, api string) error {
	t := demoTour{ctx: ctx, csms: csms, p: p, id: id, api: api}
	pause, call, local := t.pause, t.call, t.local
	variable := func(component, name string) string {
		return fmt.Sprintf(`"component":{"name":%q},"variable":{"name":%q}`, component, name)
	}
	set := func(component, name, value string) string {
		return fmt.Sprintf(`{"setVariableData":[{"attributeValue":%q,%s}]}`, value, variable(component, name))
	}
	steps := []tourStep{
		{"the central system reads variables of the device model by component and name (the 1.6 keys beneath)", "GetVariables",
			`{"getVariableData":[{` + variable("OCPPCommCtrlr", "HeartbeatInterval") + `}]}`},
		{"", "GetVariables", `{"getVariableData":[{` + variable("SampledDataCtrlr", "TxUpdatedInterval") + `}]}`},
		{"two at once: too many (ItemsPerMessage is 1, GetConfigurationMaxKeys beneath)", "GetVariables",
			`{"getVariableData":[{` + variable("EnstoCtrlr", "NumberOfConnectors") + `},{` + variable("DLMCtrlr", "DlmPhase1Limit") + `}]}`},
		{"a variable the station does not know: UnknownVariable", "GetVariables", `{"getVariableData":[{` + variable("OCPPCommCtrlr", "NoSuchVariable") + `}]}`},
		{"a component it does not know: UnknownComponent", "GetVariables", `{"getVariableData":[{` + variable("NoSuchCtrlr", "HeartbeatInterval") + `}]}`},
		{"it sets the heartbeat interval to 10 s: Accepted; a heartbeat every 10 s from now on", "SetVariables", set("OCPPCommCtrlr", "HeartbeatInterval", "10")},
		{"a read-only variable: Rejected (ReadOnly)", "SetVariables", set("EnstoCtrlr", "NumberOfConnectors", "2")},
		{"a value out of range: Rejected", "SetVariables", set("TxCtrlr", "EVConnectionTimeOut", "5")},
		{"an installation setting: RebootRequired", "SetVariables", set("DLMCtrlr", "DlmPhase1Limit", "32")},
		{"TransactionEvent Updated every 5 s during a transaction, with power and currents", "SetVariables", set("SampledDataCtrlr", "TxUpdatedInterval", "5")},
		{"", "SetVariables", set("SampledDataCtrlr", "TxUpdatedMeasurands", "Energy.Active.Import.Register,Power.Active.Import,Current.Import")},
	}
	if !pause(time.Second) { // the boot's status notifications first
		return nil
	}
	if !t.steps(steps) {
		return nil
	}
	p.note("a car arrives at EVSE 1 (three phases, 32 A, a 40 kWh battery at 30 %%)")
	local("/connectors/1/plug", `{"phases":3,"maxCurrent":32,"capacityWh":40000,"socPercent":30}`)
	if !pause(2 * time.Second) {
		return nil
	}
	from := len(csms.Records())
	p.note("its driver presents card DEMO-CARD: Authorize, then TransactionEvent Started")
	local("/rfid", `{"idTag":"DEMO-CARD"}`)
	started, err := csms.WaitFor(ctx, from, func(r csmstest.Record) bool {
		return csmstest.IsCall(id, "TransactionEvent")(r) && strings.Contains(string(r.Frame.Payload), `"eventType":"Started"`)
	})
	if err != nil {
		return nil
	}
	var ev struct {
		TransactionInfo struct {
			TransactionID string `json:"transactionId"`
		} `json:"transactionInfo"`
	}
	json.Unmarshal(started.Frame.Payload, &ev)
	if !pause(6 * time.Second) {
		return nil
	}
	p.note("the central system asks how the transaction goes: GetTransactionStatus")
	call("GetTransactionStatus", fmt.Sprintf(`{"transactionId":%q}`, ev.TransactionInfo.TransactionID))
	p.note("EVSE 1 offers %s", t.offered())
	p.note("smart charging: a TxProfile caps this transaction at 10 A")
	call("SetChargingProfile", fmt.Sprintf(`{"evseId":1,"chargingProfile":{"id":1,"stackLevel":0,"chargingProfilePurpose":"TxProfile",`+
		`"chargingProfileKind":"Relative","transactionId":%q,"chargingSchedule":[{"id":1,"chargingRateUnit":"A",`+
		`"chargingSchedulePeriod":[{"startPeriod":0,"limit":10}]}]}}`, ev.TransactionInfo.TransactionID))
	if !pause(6 * time.Second) {
		return nil
	}
	p.note("EVSE 1 offers %s; what it will get in the next hour, and the profiles it holds:", t.offered())
	call("GetCompositeSchedule", `{"evseId":1,"duration":3600}`)
	call("GetChargingProfiles", `{"requestId":1,"chargingProfile":{"chargingProfilePurpose":"TxProfile"}}`)
	if !pause(2 * time.Second) {
		return nil
	}
	p.note("the central system stops it: RequestStopTransaction, then TransactionEvent Ended (Remote)")
	call("RequestStopTransaction", fmt.Sprintf(`{"transactionId":%q}`, ev.TransactionInfo.TransactionID))
	if !pause(3 * time.Second) {
		return nil
	}
	p.note("the driver unplugs: StatusNotification Available")
	local("/connectors/1/unplug", ``)
	if !pause(2 * time.Second) {
		return nil
	}
	p.note("done; the charging station heartbeats every 10 s. Status: %s/status  Ctrl-C to stop.", api)
	<-ctx.Done()
	return nil
}
