package v201

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp201"
)

// setMonitor sends SetVariableMonitoring of one monitor and returns its
// status and id ("Accepted#12").
func setMonitor(t *testing.T, r *rig, monitor string) string {
	t.Helper()
	a := mustCall(t, r.cp, "SetVariableMonitoring", `{"setMonitoringData":[`+monitor+`]}`)
	res := a["setMonitoringResult"].([]any)[0].(map[string]any)
	if id, ok := res["id"]; ok {
		return fmt.Sprintf("%v#%v", res["status"], id)
	}
	return fmt.Sprint(res["status"])
}

// events are the NotifyEvents' events sent, "component[evse].variable
// trigger value (cleared)".
func events(t *testing.T, csms *fakeCSMS) []string {
	var out []string
	for _, c := range csms.sent("NotifyEvent") {
		for _, e := range decode[ocpp201.NotifyEventRequest](t, c).EventData {
			s := e.Component.Name
			if e.Component.Evse != nil {
				s += fmt.Sprintf("[%d]", e.Component.Evse.Id)
			}
			s += "." + e.Variable.Name + " " + string(e.Trigger) + " " + e.ActualValue
			if e.Cleared != nil && *e.Cleared {
				s += " cleared"
			}
			out = append(out, s)
		}
	}
	return out
}

// N04: SetVariableMonitoring's statuses, each changing nothing but the
// Accepted; more monitors than ItemsPerMessage is a CALLERROR.
func TestN04SetVariableMonitoring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, r := quietRig(t, nil)
		defer r.stop()
		hb := `"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}`
		var ids []string
		for _, c := range []struct{ what, monitor, want string }{
			{"a threshold", `{"value":300,"type":"UpperThreshold","severity":5,` + hb + `}`, "Accepted#"},
			{"the same again", `{"value":600,"type":"UpperThreshold","severity":5,` + hb + `}`, "Duplicate"},
			{"another severity", `{"value":600,"type":"UpperThreshold","severity":6,` + hb + `}`, "Accepted#"},
			{"an unknown component", `{"value":1,"type":"Delta","severity":5,"component":{"name":"FooCtrlr"},"variable":{"name":"X"}}`, "UnknownComponent"},
			{"an unknown variable", `{"value":1,"type":"Delta","severity":5,"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"X"}}`, "UnknownVariable"},
			{"an EVSE it has not", `{"value":1,"type":"Delta","severity":5,"component":{"name":"EVSE","evse":{"id":9}},"variable":{"name":"Power"}}`, "UnknownComponent"},
			{"a threshold on a string", `{"value":1,"type":"LowerThreshold","severity":5,"component":{"name":"TxCtrlr"},"variable":{"name":"TxStartPoint"}}`, "UnsupportedMonitorType"},
			{"a delta on a string", `{"value":0,"type":"Delta","severity":5,"component":{"name":"TxCtrlr"},"variable":{"name":"TxStartPoint"}}`, "Accepted#"},
			{"the password", `{"value":0,"type":"Delta","severity":5,"component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"}}`, "Rejected"},
			{"a period of 0 s", `{"value":0,"type":"Periodic","severity":5,` + hb + `}`, "Rejected"},
			{"a severity of 10", `{"value":3,"type":"Delta","severity":10,` + hb + `}`, "Rejected"},
			{"an id it has not", `{"id":999,"value":3,"type":"Delta","severity":5,` + hb + `}`, "Rejected"},
			{"a hardwired monitor", `{"id":1,"value":3,"type":"Delta","severity":5,"component":{"name":"ChargingStation"},"variable":{"name":"Problem"}}`, "Rejected"},
			{"a power threshold", `{"value":7000,"type":"UpperThreshold","severity":3,"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Power"}}`, "Accepted#"},
		} {
			if got := setMonitor(t, r, c.monitor); !strings.HasPrefix(got, c.want) || strings.HasSuffix(c.want, "#") != strings.Contains(got, "#") {
				t.Errorf("%s: %s, want %s", c.what, got, c.want)
			} else if id, ok := strings.CutPrefix(got, "Accepted#"); ok {
				ids = append(ids, id)
			}
		}
		// Replacing by id: the first monitor's value.
		if got := setMonitor(t, r, `{"id":`+ids[0]+`,"value":250,"type":"UpperThreshold","severity":5,`+hb+`}`); got != "Accepted#"+ids[0] {
			t.Errorf("replace %s: %s", ids[0], got)
		}
		many := strings.TrimSuffix(strings.Repeat(`{"value":1,"type":"Delta","severity":5,`+hb+`},`, 21), ",")
		if _, err := call(t, r.cp, "SetVariableMonitoring", `{"setMonitoringData":[`+many+`]}`); err == nil || !strings.Contains(err.Error(), "OccurrenceConstraintViolation") {
			t.Errorf("21 monitors: %v", err)
		}
		a := mustCall(t, r.cp, "GetVariables", `{"getVariableData":[{"component":{"name":"MonitoringCtrlr"},"variable":{"name":"ItemsPerMessage","instance":"SetVariableMonitoring"}}]}`)
		if res := a["getVariableResult"].([]any)[0].(map[string]any); res["attributeValue"] != "20" {
			t.Errorf("MonitoringCtrlr.ItemsPerMessage: %v", res)
		}
	})
}

// N07: a threshold monitor and a delta monitor on the device model's
// variables trip when SetVariables (or the station's installer) changes
// them: Alerting when the threshold is crossed, cleared when it is
// crossed back; Delta past the delta from the value last told. A
// write-only variable (the password) is never told.
func TestN07ThresholdAndDeltaMonitorsOnTheDeviceModel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms, r := quietRig(t, map[string]string{"GetConfigurationMaxKeys": "5"})
		defer r.stop()
		setMonitor(t, r, `{"value":300,"type":"UpperThreshold","severity":5,"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}`)
		setMonitor(t, r, `{"value":100,"type":"Delta","severity":5,"component":{"name":"AlignedDataCtrlr"},"variable":{"name":"Interval"}}`)
		setMonitor(t, r, `{"value":0,"type":"Delta","severity":5,"component":{"name":"TxCtrlr"},"variable":{"name":"TxStopPoint"}}`)
		time.Sleep(2 * time.Second)
		set := func(component, variable, value string) {
			t.Helper()
			a := mustCall(t, r.cp, "SetVariables", fmt.Sprintf(`{"setVariableData":[{"component":{"name":%q},"variable":{"name":%q},"attributeValue":%q}]}`, component, variable, value))
			if s := a["setVariableResult"].([]any)[0].(map[string]any)["attributeStatus"]; s != "Accepted" {
				t.Fatalf("SetVariables %s %s: %v", variable, value, s)
			}
			time.Sleep(2 * time.Second)
		}
		set("OCPPCommCtrlr", "HeartbeatInterval", "400")
		set("OCPPCommCtrlr", "HeartbeatInterval", "500") // still beyond: nothing new
		set("OCPPCommCtrlr", "HeartbeatInterval", "200")
		set("AlignedDataCtrlr", "Interval", "950") // from 900: within the delta
		set("AlignedDataCtrlr", "Interval", "1200")
		set("TxCtrlr", "TxStopPoint", "EVConnected")
		// The password: no monitor may watch it (SetVariableMonitoring
		// Rejects it), a change of its key is passed over, and it reads
		// as nothing; the check below is of all three, end to end.
		set("SecurityCtrlr", "BasicAuthPassword", "a-secret-password")
		// The installer's change, not over OCPP, is seen too.
		if _, err := r.settings.Set("HeartbeatInterval", "900", config.ActorInstaller); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		want := []string{"OCPPCommCtrlr.HeartbeatInterval Alerting 400", "OCPPCommCtrlr.HeartbeatInterval Alerting 200 cleared",
			"AlignedDataCtrlr.Interval Delta 1200", "TxCtrlr.TxStopPoint Delta EVConnected", "OCPPCommCtrlr.HeartbeatInterval Alerting 900"}
		if got := events(t, csms); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("events:\n%q\nwant\n%q", got, want)
		}
		for _, c := range csms.sent("") {
			if strings.Contains(string(c.payload), "a-secret-password") || strings.Contains(string(c.payload), "612d7365637265742d70617373776f7264") {
				t.Errorf("the password went out in %s: %s", c.action, c.payload)
			}
		}
		e := decode[ocpp201.NotifyEventRequest](t, csms.sent("NotifyEvent")[0]).EventData[0]
		if e.EventNotificationType != ocpp201.EventNotificationCustomMonitor || e.VariableMonitoringId == nil {
			t.Errorf("the event's monitor: %+v", e)
		}
	})
}

// N07/N08: monitors on the physical components' live variables: the
// hardwired monitor on an EVSE's Problem tells a fault, the preconfigured
// one on its AvailabilityState the change; a threshold on its Power, and
// a transaction monitor that speaks only while a transaction runs.
// Periodic and PeriodicClockAligned monitors come round on time.
func TestN08LiveVariablesAndPeriodicMonitors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms, r := quietRig(t, nil)
		defer r.stop()
		time.Sleep(2 * time.Second)
		r.board.SetFault(1, "GroundFailure")
		time.Sleep(3 * time.Second)
		got := fmt.Sprint(events(t, csms))
		if !strings.Contains(got, "EVSE[1].Problem Delta true") || !strings.Contains(got, "EVSE[1].AvailabilityState Delta Faulted") {
			t.Errorf("a fault: %s", got)
		}
		for _, c := range csms.sent("NotifyEvent") {
			for _, e := range decode[ocpp201.NotifyEventRequest](t, c).EventData {
				if e.Variable.Name == "Problem" && e.EventNotificationType != ocpp201.EventNotificationHardWiredMonitor {
					t.Errorf("Problem's monitor: %s", e.EventNotificationType)
				}
			}
		}
		r.board.SetFault(1, "")
		time.Sleep(3 * time.Second)

		// Periodic every 60 s, and aligned to the quarter hour.
		evse := `"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Power"}`
		if got := setMonitor(t, r, `{"value":60,"type":"Periodic","severity":8,`+evse+`}`); !strings.HasPrefix(got, "Accepted") {
			t.Fatal(got)
		}
		if got := setMonitor(t, r, `{"value":900,"type":"PeriodicClockAligned","severity":8,"component":{"name":"ChargingStation"},"variable":{"name":"Power"}}`); !strings.HasPrefix(got, "Accepted") {
			t.Fatal(got)
		}
		start := time.Now()
		time.Sleep(30*time.Minute + 30*time.Second)
		var periodic, aligned int
		for _, c := range csms.sent("NotifyEvent") {
			for _, e := range decode[ocpp201.NotifyEventRequest](t, c).EventData {
				switch {
				case e.Trigger != ocpp201.EventTriggerPeriodic:
				case e.Component.Name == "EVSE":
					periodic++
				default:
					aligned++
					if e.Timestamp.Time.Sub(e.Timestamp.Time.Truncate(15*time.Minute)) > 2*time.Second {
						t.Errorf("an aligned event at %s", e.Timestamp.Time)
					}
				}
			}
		}
		if periodic < 29 || periodic > 31 {
			t.Errorf("%d periodic events in 30 minutes every 60 s", periodic)
		}
		if n := int(time.Since(start) / (15 * time.Minute)); aligned < n || aligned > n+1 {
			t.Errorf("%d aligned events in 30 minutes every quarter hour", aligned)
		}

		// A transaction monitor on the power: quiet until a transaction.
		if got := setMonitor(t, r, `{"value":1000,"type":"UpperThreshold","severity":3,"transaction":true,`+evse+`}`); !strings.HasPrefix(got, "Accepted") {
			t.Fatal(got)
		}
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 1)
		time.Sleep(time.Minute)
		var tx []ocpp201.EventData
		for _, c := range csms.sent("NotifyEvent") {
			for _, e := range decode[ocpp201.NotifyEventRequest](t, c).EventData {
				if e.Trigger == ocpp201.EventTriggerAlerting && e.Variable.Name == "Power" {
					tx = append(tx, e)
				}
			}
		}
		if len(tx) != 1 || !strings.HasPrefix(tx[0].TransactionId, "EVSE-") {
			t.Errorf("the transaction monitor: %+v", tx)
		}
	})
}

// N02, N03, N05, N06: GetMonitoringReport by criteria and variable,
// SetMonitoringLevel silencing the less severe, ClearVariableMonitoring
// (a hardwired monitor stays), SetMonitoringBase HardWiredOnly and
// FactoryDefault; the monitors, the base and the level survive a
// restart.
func TestN02N03N05N06ReportLevelClearAndBase(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &kv.Mem{}
		csms := newFakeCSMS(t)
		r := startRig(t, csms, map[string]string{"MeterValueSampleInterval": "0", "GetConfigurationMaxKeys": "5"}, store)
		synctest.Wait()
		hb := `"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}`
		threshold := setMonitor(t, r, `{"value":300,"type":"UpperThreshold","severity":6,`+hb+`}`)
		setMonitor(t, r, `{"value":10,"type":"Delta","severity":2,`+hb+`}`)
		setMonitor(t, r, `{"value":120,"type":"Periodic","severity":9,"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Power"}}`)
		report := func(req string) (string, []string) {
			t.Helper()
			n := len(csms.sent("NotifyMonitoringReport"))
			a := mustCall(t, r.cp, "GetMonitoringReport", req)
			time.Sleep(time.Second)
			var got []string
			for _, c := range csms.sent("NotifyMonitoringReport")[n:] {
				for _, m := range decode[ocpp201.NotifyMonitoringReportRequest](t, c).Monitor {
					for _, vm := range m.VariableMonitoring {
						got = append(got, fmt.Sprintf("%s.%s:%s/%d", m.Component.Name, m.Variable.Name, vm.Type, vm.Severity))
					}
				}
			}
			return status(a), got
		}
		if s, got := report(`{"requestId":1,"monitoringCriteria":["ThresholdMonitoring","PeriodicMonitoring"]}`); s != "Accepted" ||
			fmt.Sprint(got) != "[OCPPCommCtrlr.HeartbeatInterval:UpperThreshold/6 EVSE.Power:Periodic/9]" {
			t.Errorf("thresholds and periodic: %s %v", s, got)
		}
		if s, got := report(`{"requestId":2,"componentVariable":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}`); s != "Accepted" || len(got) != 2 {
			t.Errorf("by variable: %s %v", s, got)
		}
		if s, got := report(`{"requestId":3,"componentVariable":[{"component":{"name":"TxCtrlr"}}]}`); s != "EmptyResultSet" || len(got) != 0 {
			t.Errorf("none: %s %v", s, got)
		}
		if s, got := report(`{"requestId":4}`); s != "Accepted" || len(got) != 3+4 {
			t.Errorf("all (2 hardwired, 2 preconfigured on a station of 1 EVSE): %s %d %v", s, len(got), got)
		}

		// N05: at level 3 the threshold (severity 6) is quiet, the delta
		// (severity 2) speaks.
		if a := mustCall(t, r.cp, "SetMonitoringLevel", `{"severity":3}`); status(a) != "Accepted" {
			t.Errorf("SetMonitoringLevel: %v", a)
		}
		time.Sleep(2 * time.Second)
		mustCall(t, r.cp, "SetVariables", `{"setVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"},"attributeValue":"400"}]}`)
		time.Sleep(2 * time.Second)
		if got := fmt.Sprint(events(t, csms)); got != "[OCPPCommCtrlr.HeartbeatInterval Delta 400]" {
			t.Errorf("at level 3: %s", got)
		}

		// N06: clear the threshold, a hardwired monitor, one it has not.
		id := strings.TrimPrefix(threshold, "Accepted#")
		a := mustCall(t, r.cp, "ClearVariableMonitoring", `{"id":[`+id+`,1,4242]}`)
		var cleared []string
		for _, c := range a["clearMonitoringResult"].([]any) {
			cleared = append(cleared, fmt.Sprint(c.(map[string]any)["status"]))
		}
		if fmt.Sprint(cleared) != "[Accepted Rejected NotFound]" {
			t.Errorf("ClearVariableMonitoring: %v", cleared)
		}

		// N03: HardWiredOnly leaves the hardwired monitors alone.
		if a := mustCall(t, r.cp, "SetMonitoringBase", `{"monitoringBase":"HardWiredOnly"}`); status(a) != "Accepted" {
			t.Errorf("SetMonitoringBase: %v", a)
		}
		if _, got := report(`{"requestId":5}`); fmt.Sprint(got) != "[ChargingStation.Problem:Delta/2 EVSE.Problem:Delta/2]" {
			t.Errorf("hardwired only: %v", got)
		}

		// Across a restart: the base and the level hold; FactoryDefault
		// brings the preconfigured monitors back.
		r.stop()
		r = startRig(t, csms, map[string]string{"MeterValueSampleInterval": "0", "GetConfigurationMaxKeys": "5"}, store)
		defer r.stop()
		synctest.Wait()
		a = mustCall(t, r.cp, "GetVariables", `{"getVariableData":[{"component":{"name":"MonitoringCtrlr"},"variable":{"name":"ActiveMonitoringBase"}},{"component":{"name":"MonitoringCtrlr"},"variable":{"name":"ActiveMonitoringLevel"}}]}`)
		var values []string
		for _, res := range a["getVariableResult"].([]any) {
			values = append(values, fmt.Sprint(res.(map[string]any)["attributeValue"]))
		}
		if fmt.Sprint(values) != "[HardWiredOnly 3]" {
			t.Errorf("after a restart: %v", values)
		}
		mustCall(t, r.cp, "SetMonitoringBase", `{"monitoringBase":"FactoryDefault"}`)
		if _, got := report(`{"requestId":6}`); len(got) != 4 {
			t.Errorf("factory default: %v", got)
		}
	})
}
