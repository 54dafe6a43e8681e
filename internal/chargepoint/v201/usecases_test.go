package v201

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp201"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// B02, B03 and B04: a Pending station boots again after the interval and
// sends no transaction; once Accepted, it heartbeats at the interval.
func TestB02PendingThenB04Heartbeats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		csms.answer("BootNotification", `{"status":"Pending","currentTime":"2026-01-01T00:00:00Z","interval":30}`)
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		if a := mustCall(t, r.cp, "RequestStartTransaction", `{"idToken":{"idToken":"T","type":"Central"},"remoteStartId":1,"evseId":1}`); status(a) != "Rejected" {
			t.Errorf("RequestStartTransaction while Pending: %v", a)
		}
		csms.answer("BootNotification", `{"status":"Accepted","currentTime":"2026-01-01T00:00:00Z","interval":60}`)
		time.Sleep(30*time.Second + 150*time.Second)
		boots := csms.sent("BootNotification")
		if len(boots) != 2 || boots[1].at != 30*time.Second {
			t.Errorf("BootNotifications at %v, want 0 and 30 s", boots)
		}
		if hb := csms.sent("Heartbeat"); len(hb) != 2 || hb[0].at != 90*time.Second || hb[1].at != 150*time.Second {
			t.Errorf("heartbeats %v, want at 90 and 150 s", hb)
		}
	})
}

// B07 and B08: GetBaseReport FullInventory sends every variable with its
// attribute and characteristics in NotifyReport parts, seqNo from 0, tbc
// on all but the last; ConfigurationInventory only the writable ones;
// GetReport the variables asked for, EmptyResultSet for none.
func TestB07GetBaseReportAndB08GetReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		report := func(requestID int) []ocpp201.ReportData { return reportOf(t, csms, requestID) }
		if a := mustCall(t, r.cp, "GetBaseReport", `{"requestId":1,"reportBase":"FullInventory"}`); status(a) != "Accepted" {
			t.Fatalf("GetBaseReport: %v", a)
		}
		time.Sleep(time.Second)
		full := report(1)
		// Every variable of the keys, and the physical components'.
		if n := len(r.cp.model.Variables()); len(full) <= n || n < 60 {
			t.Errorf("the full inventory has %d variables, want more than the keys' %d", len(full), n)
		}
		evse := false
		for _, d := range full {
			evse = evse || d.Component.Name == "EVSE" && d.Component.Evse != nil && d.Component.Evse.Id == 1 && d.Variable.Name == "AvailabilityState"
		}
		if !evse {
			t.Error("the full inventory has no EVSE 1 AvailabilityState")
		}
		var hb *ocpp201.ReportData
		for i := range full {
			if full[i].Component.Name == "OCPPCommCtrlr" && full[i].Variable.Name == "HeartbeatInterval" {
				hb = &full[i]
			}
			if a := full[i].VariableAttribute[0]; a.Mutability == ocpp201.MutabilityWriteOnly && a.Value != nil {
				t.Errorf("%s.%s is write-only and reported with its value", full[i].Component.Name, full[i].Variable.Name)
			}
		}
		if hb == nil || *hb.VariableAttribute[0].Value != "240" || hb.VariableCharacteristics.DataType != ocpp201.DataInteger ||
			hb.VariableCharacteristics.Unit != "s" || hb.VariableAttribute[0].Mutability != ocpp201.MutabilityReadWrite {
			t.Errorf("HeartbeatInterval reported as %+v", hb)
		}
		mustCall(t, r.cp, "GetBaseReport", `{"requestId":2,"reportBase":"ConfigurationInventory"}`)
		time.Sleep(time.Second)
		config := report(2)
		if len(config) == 0 || len(config) >= len(full) {
			t.Errorf("the configuration inventory has %d variables of %d", len(config), len(full))
		}
		for _, d := range config {
			if d.VariableAttribute[0].Mutability == ocpp201.MutabilityReadOnly {
				t.Errorf("%s.%s is read-only, in the configuration inventory", d.Component.Name, d.Variable.Name)
			}
		}
		mustCall(t, r.cp, "GetReport", `{"requestId":4,"componentVariable":[{"component":{"name":"TxCtrlr"}},{"component":{"name":"AuthCtrlr"},"variable":{"name":"LocalPreAuthorize"}}]}`)
		time.Sleep(time.Second)
		var names []string
		for _, d := range report(4) {
			names = append(names, d.Component.Name+"."+d.Variable.Name)
		}
		if got := strings.Join(names, " "); got != "AuthCtrlr.LocalPreAuthorize TxCtrlr.EVConnectionTimeOut TxCtrlr.StopTxOnEVSideDisconnect TxCtrlr.StopTxOnInvalidId TxCtrlr.TxStartPoint TxCtrlr.TxStopPoint" {
			t.Errorf("GetReport sent %s", got)
		}
		if a := mustCall(t, r.cp, "GetReport", `{"requestId":5,"componentVariable":[{"component":{"name":"CoffeeCtrlr"}}]}`); status(a) != "EmptyResultSet" {
			t.Errorf("GetReport of an unknown component: %v", a)
		}
	})
}

// reportOf is the report of a request the station sent in NotifyReport
// parts, checking that they come with seqNo from 0 and tbc on all but
// the last.
func reportOf(t *testing.T, csms *fakeCSMS, requestID int) []ocpp201.ReportData {
	t.Helper()
	var out []ocpp201.ReportData
	var parts []ocpp201.NotifyReportRequest
	for _, c := range csms.sent("NotifyReport") {
		n := decode[ocpp201.NotifyReportRequest](t, c)
		if n.RequestId == requestID {
			parts = append(parts, n)
		}
	}
	for i, p := range parts {
		last := i == len(parts)-1
		if p.SeqNo != i || (p.Tbc != nil && *p.Tbc) == last {
			t.Errorf("request %d part %d: seqNo %d tbc %v", requestID, i, p.SeqNo, p.Tbc)
		}
		out = append(out, p.ReportData...)
	}
	return out
}

// B05: a key that applies at the next boot is RebootRequired; more
// variables than ItemsPerMessage is OccurrenceConstraintViolation.
func TestB05RebootRequiredAndItemsPerMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		a := mustCall(t, r.cp, "SetVariables", `{"setVariableData":[{"component":{"name":"DLMCtrlr"},"variable":{"name":"DlmMode"},"attributeValue":"1"}]}`)
		res := a["setVariableResult"].([]any)[0].(map[string]any)
		if res["attributeStatus"] != "RebootRequired" {
			t.Errorf("DlmMode: %v, want RebootRequired", res)
		}
		most := r.settings.Snapshot().GetConfigurationMaxKeys
		var items []string
		for range most + 1 {
			items = append(items, `{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}`)
		}
		_, err := call(t, r.cp, "GetVariables", `{"getVariableData":[`+strings.Join(items, ",")+`]}`)
		var e *rpc.Error
		if !errors.As(err, &e) || e.Code != rpc.OccurrenceConstraintViolation {
			t.Errorf("%d variables: %v, want OccurrenceConstraintViolation", most+1, err)
		}
	})
}

// G03, G04, F05, F06 and E14: availability of the station and of an
// EVSE, unlocking, triggered messages, a transaction's status.
func TestAvailabilityUnlockTriggerAndTransactionStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		time.Sleep(time.Second)
		if a := mustCall(t, r.cp, "ChangeAvailability", `{"operationalStatus":"Inoperative","evse":{"id":1}}`); status(a) != "Accepted" {
			t.Errorf("ChangeAvailability of EVSE 1: %v", a)
		}
		time.Sleep(time.Second)
		last := csms.sent("StatusNotification")
		if s := decode[ocpp201.StatusNotificationRequest](t, last[len(last)-1]); s.EvseId != 1 || s.ConnectorStatus != ocpp201.ConnectorStatusUnavailable {
			t.Errorf("after Inoperative: %+v", s)
		}
		mustCall(t, r.cp, "ChangeAvailability", `{"operationalStatus":"Operative"}`)
		if a := mustCall(t, r.cp, "UnlockConnector", `{"evseId":9,"connectorId":1}`); status(a) != "UnknownConnector" {
			t.Errorf("UnlockConnector of EVSE 9: %v", a)
		}
		before := len(csms.sent("Heartbeat"))
		if a := mustCall(t, r.cp, "TriggerMessage", `{"requestedMessage":"Heartbeat"}`); status(a) != "Accepted" {
			t.Errorf("TriggerMessage Heartbeat: %v", a)
		}
		time.Sleep(time.Second)
		if len(csms.sent("Heartbeat")) != before+1 {
			t.Error("no Heartbeat after TriggerMessage")
		}
		if a := mustCall(t, r.cp, "TriggerMessage", `{"requestedMessage":"SignV2GCertificate"}`); status(a) != "NotImplemented" {
			t.Errorf("TriggerMessage SignV2GCertificate: %v", a)
		}
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 1)
		time.Sleep(5 * time.Second)
		started := csms.sent("TransactionEvent")
		if len(started) == 0 {
			t.Fatal("no transaction")
		}
		id := decode[ocpp201.TransactionEventRequest](t, started[0]).TransactionInfo.TransactionId
		a := mustCall(t, r.cp, "GetTransactionStatus", `{"transactionId":"`+id+`"}`)
		if a["ongoingIndicator"] != true || a["messagesInQueue"] != false {
			t.Errorf("GetTransactionStatus of the running one: %v", a)
		}
		if a := mustCall(t, r.cp, "GetTransactionStatus", `{"transactionId":"EVSE-999"}`); a["ongoingIndicator"] != false {
			t.Errorf("GetTransactionStatus of another: %v", a)
		}
		// B12: a reset OnIdle while it charges is Scheduled: it comes when
		// the transaction ends, and none starts meanwhile.
		if a := mustCall(t, r.cp, "Reset", `{"type":"OnIdle"}`); status(a) != "Scheduled" {
			t.Errorf("Reset OnIdle while charging: %v", a)
		}
		if a := mustCall(t, r.cp, "RequestStartTransaction", `{"idToken":{"idToken":"T2","type":"Central"},"remoteStartId":2}`); status(a) != "Rejected" {
			t.Errorf("a remote start while a reset waits: %v", a)
		}
		r.board.Unplug(1)
		<-r.done
		evs := csms.sent("TransactionEvent")
		ended := decode[ocpp201.TransactionEventRequest](t, evs[len(evs)-1])
		if ended.EventType != ocpp201.TransactionEventEnded || ended.TransactionInfo.StoppedReason != ocpp201.ReasonEVDisconnected {
			t.Errorf("the transaction before the scheduled reset: %+v", ended)
		}
	})
}

// B11: Reset Immediate ends the transaction with ImmediateReset and
// restarts.
func TestB11ResetImmediateEndsTheTransaction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 1)
		time.Sleep(5 * time.Second)
		if a := mustCall(t, r.cp, "Reset", `{"type":"Immediate"}`); status(a) != "Accepted" {
			t.Errorf("Reset Immediate: %v", a)
		}
		<-r.done
		evs := csms.sent("TransactionEvent")
		ended := decode[ocpp201.TransactionEventRequest](t, evs[len(evs)-1])
		if ended.EventType != ocpp201.TransactionEventEnded || ended.TransactionInfo.StoppedReason != ocpp201.ReasonImmediateReset ||
			ended.TriggerReason != ocpp201.TriggerReasonResetCommand {
			t.Errorf("after Reset Immediate: %+v", ended)
		}
	})
}

// C01: a tag the CSMS does not accept starts nothing; the answer's
// statuses beyond 1.6's refuse too.
func TestC01AnUnknownIdTokenStartsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		csms.answer("Authorize", `{"idTokenInfo":{"status":"NotAtThisLocation"}}`)
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("STRANGER", 1)
		time.Sleep(5 * time.Second)
		auth := csms.sent("Authorize")
		if len(auth) != 1 {
			t.Fatalf("Authorize sent %d times", len(auth))
		}
		var req ocpp201.AuthorizeRequest
		json.Unmarshal(auth[0].payload, &req)
		if req.IdToken.IdToken != "STRANGER" || req.IdToken.Type != ocpp201.IdTokenEnumISO14443 {
			t.Errorf("Authorize %+v", req)
		}
		if n := len(csms.sent("TransactionEvent")); n != 0 {
			t.Errorf("%d TransactionEvents for a refused tag", n)
		}
	})
}

// F01: RequestStartTransaction on a plugged EV starts a transaction whose
// Started carries the remoteStartId, with triggerReason RemoteStart, and
// the token with its type.
func TestF01ARemoteStartCarriesItsId(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		time.Sleep(time.Second)
		if a := mustCall(t, r.cp, "RequestStartTransaction", `{"idToken":{"idToken":"REMOTE1","type":"Central"},"remoteStartId":42,"evseId":1}`); status(a) != "Accepted" {
			t.Fatalf("RequestStartTransaction: %v", a)
		}
		time.Sleep(5 * time.Second)
		evs := csms.sent("TransactionEvent")
		if len(evs) == 0 {
			t.Fatal("no transaction")
		}
		s := decode[ocpp201.TransactionEventRequest](t, evs[0])
		if s.TriggerReason != ocpp201.TriggerReasonRemoteStart || s.TransactionInfo.RemoteStartId == nil || *s.TransactionInfo.RemoteStartId != 42 {
			t.Errorf("Started: %+v", s)
		}
		// The token keeps its type, in Authorize (AuthorizeRemoteStart is
		// on) and in Started.
		if s.IdToken == nil || s.IdToken.Type != ocpp201.IdTokenEnumCentral {
			t.Errorf("Started's idToken %+v, want the Central token", s.IdToken)
		}
		for _, c := range csms.sent("Authorize") {
			if a := decode[ocpp201.AuthorizeRequest](t, c); a.IdToken.Type != ocpp201.IdTokenEnumCentral {
				t.Errorf("Authorize %+v, want the Central token", a.IdToken)
			}
		}
		if len(csms.sent("Authorize")) != 1 {
			t.Errorf("Authorize sent %d times, want once (AuthorizeRemoteStart)", len(csms.sent("Authorize")))
		}
	})
}

// B07: the report goes after the answer to GetBaseReport, and one report
// at a time: another asked meanwhile is Rejected.
func TestTheReportFollowsTheAnswerOneAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		ctx, hooks := rpc.WithAnswerHooks(context.Background())
		out, err := r.cp.HandleCall(ctx, "GetBaseReport", json.RawMessage(`{"requestId":1,"reportBase":"FullInventory"}`))
		if err != nil || !strings.Contains(string(out), "Accepted") {
			t.Fatalf("GetBaseReport: %s %v", out, err)
		}
		synctest.Wait()
		if n := len(csms.sent("NotifyReport")); n != 0 {
			t.Fatalf("%d NotifyReports before the answer was written", n)
		}
		if a := mustCall(t, r.cp, "GetBaseReport", `{"requestId":2,"reportBase":"FullInventory"}`); status(a) != "Rejected" {
			t.Errorf("a second report while one waits: %v", a)
		}
		hooks.Run(r.cp.log)
		time.Sleep(time.Second)
		if n := len(csms.sent("NotifyReport")); n == 0 {
			t.Fatal("no NotifyReport after the answer")
		}
		if a := mustCall(t, r.cp, "GetBaseReport", `{"requestId":3,"reportBase":"FullInventory"}`); status(a) != "Accepted" {
			t.Errorf("a report after the first was sent: %v", a)
		}
	})
}

// F05 and F06: the cable of a transaction stays locked
// (OngoingAuthorizedTransaction); a BootNotification is not triggered
// once the boot was accepted.
func TestUnlockDuringATransactionAndATriggeredBootAfterAccepted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		if a := mustCall(t, r.cp, "TriggerMessage", `{"requestedMessage":"BootNotification"}`); status(a) != "Rejected" {
			t.Errorf("TriggerMessage BootNotification when Accepted: %v", a)
		}
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 1)
		time.Sleep(5 * time.Second)
		if a := mustCall(t, r.cp, "UnlockConnector", `{"evseId":1,"connectorId":1}`); status(a) != "OngoingAuthorizedTransaction" {
			t.Errorf("UnlockConnector during a transaction: %v", a)
		}
		for _, c := range csms.sent("TransactionEvent") {
			if decode[ocpp201.TransactionEventRequest](t, c).EventType == ocpp201.TransactionEventEnded {
				t.Error("the unlock ended the transaction")
			}
		}
	})
}

// G01: a driver authorized before the EV is plugged in leaves the
// connector Available; it is Occupied once the EV is in.
func TestG01AnAuthorizationBeforeThePlugLeavesTheConnectorAvailable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		r := startRig(t, csms, map[string]string{"MinimumStatusDuration": "0"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		time.Sleep(time.Second)
		statuses := func() []string {
			var out []string
			for _, c := range csms.sent("StatusNotification") {
				if s := decode[ocpp201.StatusNotificationRequest](t, c); s.EvseId == 1 {
					out = append(out, string(s.ConnectorStatus))
				}
			}
			return out
		}
		r.board.Present("TAG1", 1)
		time.Sleep(5 * time.Second)
		if got := statuses(); slices.Contains(got, "Occupied") {
			t.Errorf("before the EV: %v", got)
		}
		r.board.Plug(1, sim.EV{})
		time.Sleep(5 * time.Second)
		if got := statuses(); got[len(got)-1] != "Occupied" {
			t.Errorf("after the EV: %v", got)
		}
	})
}

// E06: a change of the charging state is an Updated of its own
// (ChargingStateChanged), without meter values; 1.6 has no message for
// it and sends none.
func TestE06ChargingStateChangesAreTold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms, r := quietRig(t, nil)
		defer r.stop()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 1)
		time.Sleep(30 * time.Second)
		var states []string
		for _, c := range csms.sent("TransactionEvent") {
			e := decode[ocpp201.TransactionEventRequest](t, c)
			switch {
			case e.EventType == ocpp201.TransactionEventStarted:
				states = append(states, "Started:"+string(e.TransactionInfo.ChargingState))
			case e.TriggerReason == ocpp201.TriggerReasonChargingStateChanged:
				if len(e.MeterValue) != 0 {
					t.Errorf("a state change with meter values: %+v", e)
				}
				states = append(states, string(e.TransactionInfo.ChargingState))
			}
		}
		t.Logf("charging states: %v", states)
		if got := strings.Join(states, " "); !strings.HasPrefix(got, "Started:") || !strings.Contains(got, "Charging") {
			t.Errorf("charging states told: %q, want the start's and Charging", got)
		}
	})
}

// A Started the CSMS refuses MessageAttempts times gives up that message
// only: the station named the transaction, so the session goes on and
// its later events are delivered (1.6's rule ends the session, whose
// messages could not name it).
func TestARefusedStartedGivesUpOnlyItsMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		csms.answers["TransactionEvent"] = func(p json.RawMessage) (json.RawMessage, error) {
			var r ocpp201.TransactionEventRequest
			json.Unmarshal(p, &r)
			if r.EventType == ocpp201.TransactionEventStarted {
				return nil, rpc.Errorf(rpc.InternalError, "no")
			}
			if r.IdToken != nil {
				return json.RawMessage(`{"idTokenInfo":{"status":"Accepted"}}`), nil
			}
			return json.RawMessage(`{}`), nil
		}
		r := startRig(t, csms, map[string]string{"TransactionMessageAttempts": "2", "TransactionMessageRetryInterval": "10"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 1)
		time.Sleep(2 * time.Minute)
		if l := r.cp.Loads()[0]; l.Applied == 0 {
			t.Errorf("the session was cut when its Started was given up: %+v", l)
		}
		r.board.Unplug(1)
		time.Sleep(time.Minute)
		var kinds []string
		for _, c := range csms.sent("TransactionEvent") {
			kinds = append(kinds, string(decode[ocpp201.TransactionEventRequest](t, c).EventType))
		}
		if got := strings.Join(kinds, " "); !strings.HasPrefix(got, "Started Started ") || !strings.HasSuffix(got, "Ended") {
			t.Errorf("TransactionEvents %q, want the Started tried twice, then the rest to Ended", got)
		}
	})
}

// J01 and J02: clock-aligned meter values outside a transaction go as
// MeterValues of their EVSE, context Sample.Clock, the register in Wh.
func TestJ01AlignedMeterValuesOutsideTransactions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		r := startRig(t, csms, map[string]string{"ClockAlignedDataInterval": "900"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		time.Sleep(31 * time.Minute)
		mvs := csms.sent("MeterValues")
		if len(mvs) < 2 {
			t.Fatalf("%d MeterValues in 31 minutes at 900 s", len(mvs))
		}
		m := decode[ocpp201.MeterValuesRequest](t, mvs[0])
		if m.EvseId != 1 || len(m.MeterValue) != 1 || m.MeterValue[0].SampledValue[0].Context != ocpp201.ReadingContextSampleClock {
			t.Errorf("aligned MeterValues %+v", m)
		}
		if ts := m.MeterValue[0].Timestamp.Time; ts.Minute()%15 != 0 || ts.Second() != 0 {
			t.Errorf("aligned at %v, not on a 15-minute boundary", ts)
		}
	})
}

// B06: the physical components (ChargingStation, each EVSE and its
// Connector) read their state now; they are read-only, and an EVSE the
// station has not is an unknown component.
func TestB06ThePhysicalComponentsReadTheirState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		r := startRig(t, csms, map[string]string{"ConnectorPhaseRotation": "1.RST", "GetConfigurationMaxKeys": "10"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 1)
		time.Sleep(5 * time.Second)
		a := mustCall(t, r.cp, "GetVariables", `{"getVariableData":[
			{"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"AvailabilityState"}},
			{"component":{"name":"Connector","evse":{"id":1,"connectorId":1}},"variable":{"name":"PhaseRotation"}},
			{"component":{"name":"ChargingStation"},"variable":{"name":"SupplyPhases"}},
			{"component":{"name":"EVSE","evse":{"id":9}},"variable":{"name":"AvailabilityState"}},
			{"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Coffee"}}]}`)
		var got []string
		for _, x := range a["getVariableResult"].([]any) {
			res := x.(map[string]any)
			got = append(got, fmt.Sprint(res["attributeStatus"], ":", res["attributeValue"]))
		}
		want := "Accepted:Occupied Accepted:RST Accepted:3 UnknownComponent:<nil> UnknownVariable:<nil>"
		if s := strings.Join(got, " "); s != want {
			t.Errorf("GetVariables of the physical components:\n got %s\nwant %s", s, want)
		}
		a = mustCall(t, r.cp, "SetVariables", `{"setVariableData":[{"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Power"},"attributeValue":"1"}]}`)
		if st := a["setVariableResult"].([]any)[0].(map[string]any)["attributeStatus"]; st != "Rejected" {
			t.Errorf("SetVariables of EVSE 1 Power: %v", st)
		}
	})
}

// B03: while the CSMS rejects it, the station sends nothing but
// BootNotification (after the interval) and leaves the CSMS's CALLs
// unanswered.
func TestB03ARejectedStationSendsOnlyBootNotification(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		csms.answer("BootNotification", `{"status":"Rejected","currentTime":"2026-01-01T00:00:00Z","interval":60}`)
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		time.Sleep(150 * time.Second)
		for _, c := range csms.sent("") {
			if c.action != "BootNotification" {
				t.Errorf("sent %s while rejected", c.action)
			}
		}
		if n := len(csms.sent("BootNotification")); n != 3 {
			t.Errorf("%d BootNotifications in 150 s at 60 s, want 3", n)
		}
		if _, err := r.cp.HandleCall(context.Background(), "GetVariables", json.RawMessage(`{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}`)); !errors.Is(err, rpc.ErrNoAnswer) {
			t.Errorf("a CALL while rejected: %v, want no answer", err)
		}
	})
}

// describe names reported variables as "Component[evse.connector].Variable=Actual".
func describe(data []ocpp201.ReportData) []string {
	var out []string
	for _, d := range data {
		c := d.Component.Name
		if e := d.Component.Evse; e != nil {
			c += fmt.Sprintf("[%d", e.Id)
			if e.ConnectorId != nil {
				c += fmt.Sprintf(".%d", *e.ConnectorId)
			}
			c += "]"
		}
		out = append(out, c+"."+d.Variable.Name+"="+actualValue(d))
	}
	return out
}

// B07: the summary inventory is the availability of the station and of
// each EVSE, and the components' problems: EVSE 2's fault, not the
// configuration; a connector's state only where it differs from its
// EVSE's (never, one connector each).
func TestB07SummaryInventory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		r := startRig(t, csms, map[string]string{"NumberOfConnectors": "2"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.SetFault(2, "GroundFailure")
		time.Sleep(5 * time.Second)
		if a := mustCall(t, r.cp, "GetBaseReport", `{"requestId":7,"reportBase":"SummaryInventory"}`); status(a) != "Accepted" {
			t.Fatalf("GetBaseReport SummaryInventory: %v", a)
		}
		time.Sleep(time.Second)
		got := strings.Join(describe(reportOf(t, csms, 7)), " ")
		want := "ChargingStation.AvailabilityState=Available EVSE[1].AvailabilityState=Occupied " +
			"EVSE[2].AvailabilityState=Faulted EVSE[2].Problem=true Connector[2.1].Problem=true"
		if got != want {
			t.Errorf("the summary inventory:\n got %s\nwant %s", got, want)
		}
	})
}

// B08: GetReport's component criteria. A component meets Active,
// Available or Enabled when it has that variable true or has it not,
// Problem only when its Problem is true; criteria combine with OR, and
// with the component-variables asked for; nothing that meets them is
// EmptyResultSet, and no NotifyReport follows.
func TestB08GetReportWithComponentCriteria(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		r := startRig(t, csms, map[string]string{"NumberOfConnectors": "2", "AuthorizationCacheEnabled": "false"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		time.Sleep(time.Second)
		id := 10
		report := func(req string) (string, []string) {
			t.Helper()
			id++
			a := mustCall(t, r.cp, "GetReport", fmt.Sprintf(`{"requestId":%d,%s}`, id, req))
			time.Sleep(time.Second)
			return status(a), describe(reportOf(t, csms, id))
		}
		components := func(vars []string) string {
			seen := map[string]bool{}
			var out []string
			for _, v := range vars {
				v, _, _ = strings.Cut(v, "=")
				c := v[:strings.LastIndex(v, ".")]
				if !seen[c] {
					seen[c] = true
					out = append(out, c)
				}
			}
			return strings.Join(out, " ")
		}

		// Enabled: the cache is off, TxCtrlr has no Enabled, the local list's is false.
		st, vars := report(`"componentCriteria":["Enabled"],"componentVariable":[{"component":{"name":"AuthCacheCtrlr"}},{"component":{"name":"TxCtrlr"}},{"component":{"name":"LocalAuthListCtrlr"}},{"component":{"name":"SampledDataCtrlr"}}]`)
		if got := components(vars); st != "Accepted" || got != "TxCtrlr SampledDataCtrlr" {
			t.Errorf("Enabled of four controllers: %s %s, want TxCtrlr SampledDataCtrlr", st, got)
		}
		// Available: every component.
		_, vars = report(`"componentCriteria":["Available"]`)
		all := components(vars)
		for _, c := range []string{"OCPPCommCtrlr", "AuthCacheCtrlr", "ReservationCtrlr", "SmartChargingCtrlr", "ChargingStation", "EVSE[1]", "EVSE[2]", "Connector[2.1]", "DLMCtrlr"} {
			if !strings.Contains(" "+all+" ", " "+c+" ") {
				t.Errorf("Available left %s out: %s", c, all)
			}
		}
		// Problem: none yet.
		if st, vars := report(`"componentCriteria":["Problem"]`); st != "EmptyResultSet" || len(vars) != 0 {
			t.Errorf("Problem without a fault: %s %v", st, vars)
		}
		// TC_B_18: with a component-variable, Available then Problem.
		if st, vars := report(`"componentCriteria":["Available"],"componentVariable":[{"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"AvailabilityState"}}]`); st != "Accepted" || strings.Join(vars, " ") != "EVSE[1].AvailabilityState=Available" {
			t.Errorf("Available, EVSE 1 AvailabilityState: %s %v", st, vars)
		}
		if st, _ := report(`"componentCriteria":["Problem"],"componentVariable":[{"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"AvailabilityState"}}]`); st != "EmptyResultSet" {
			t.Errorf("Problem, EVSE 1 AvailabilityState: %s", st)
		}
		// A fault on EVSE 2: its EVSE and connector, all their variables.
		r.board.SetFault(2, "GroundFailure")
		time.Sleep(5 * time.Second)
		st, vars = report(`"componentCriteria":["Problem","Active"],"componentVariable":[{"component":{"name":"EVSE"}},{"component":{"name":"Connector"},"variable":{"name":"Problem"}}]`)
		if got := strings.Join(vars, " "); st != "Accepted" || len(vars) != 12 || !strings.HasPrefix(got, "EVSE[1].AvailabilityState=Available") ||
			!strings.Contains(got, " EVSE[2].AvailabilityState=Faulted") || !strings.Contains(got, " Connector[1.1].Problem=false") ||
			!strings.HasSuffix(got, " Connector[2.1].Problem=true") {
			t.Errorf("Problem or Active: %s %s", st, got)
		}
		st, vars = report(`"componentCriteria":["Problem"]`)
		if got := components(vars); st != "Accepted" || got != "EVSE[2] Connector[2.1]" {
			t.Errorf("Problem after the fault: %s %s, want EVSE[2] Connector[2.1]", st, got)
		}
	})
}

// B05 and B06: the attributes a variable has. EVSE.Power has Actual and
// MaxSet (the model's 32 A on 3 phases at 230 V), other variables Actual
// only: another attribute is NotSupportedAttributeType, for GetVariables
// and SetVariables alike, after the unknown component and variable; the
// report lists every attribute and the MaxSet as maxLimit.
func TestB06GetVariablesAttributeTypes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS(t)
		r := startRig(t, csms, map[string]string{"GetConfigurationMaxKeys": "10"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		results := func(action, payload, list string) string {
			t.Helper()
			var got []string
			for _, x := range mustCall(t, r.cp, action, payload)[list].([]any) {
				res := x.(map[string]any)
				s := fmt.Sprint(res["attributeStatus"])
				if v, ok := res["attributeValue"]; ok {
					s += ":" + fmt.Sprint(v)
				}
				got = append(got, s)
			}
			return strings.Join(got, " ")
		}
		got := results("GetVariables", `{"getVariableData":[
			{"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Power"},"attributeType":"MaxSet"},
			{"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Power"}},
			{"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Power"},"attributeType":"Target"},
			{"component":{"name":"ChargingStation"},"variable":{"name":"Power"},"attributeType":"MaxSet"},
			{"component":{"name":"Connector","evse":{"id":1}},"variable":{"name":"ConnectorType"},"attributeType":"Actual"},
			{"component":{"name":"Connector","evse":{"id":1}},"variable":{"name":"AvailabilityState"},"attributeType":"MinSet"},
			{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"},"attributeType":"MaxSet"},
			{"component":{"name":"SampledDataCtrlr"},"variable":{"name":"Enabled"}},
			{"component":{"name":"EVSE","evse":{"id":9}},"variable":{"name":"Power"},"attributeType":"MaxSet"},
			{"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Coffee"},"attributeType":"MaxSet"}]}`, "getVariableResult")
		want := "Accepted:22080 Accepted:0 NotSupportedAttributeType Accepted:22080 Accepted:cType2 NotSupportedAttributeType " +
			"NotSupportedAttributeType Accepted:true UnknownComponent UnknownVariable"
		if got != want {
			t.Errorf("GetVariables:\n got %s\nwant %s", got, want)
		}
		got = results("SetVariables", `{"setVariableData":[
			{"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Power"},"attributeType":"MaxSet","attributeValue":"7000"},
			{"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Power"},"attributeType":"Target","attributeValue":"7000"},
			{"component":{"name":"EVSE","evse":{"id":9}},"variable":{"name":"Power"},"attributeValue":"7000"},
			{"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Coffee"},"attributeValue":"1"},
			{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"},"attributeType":"MaxSet","attributeValue":"60"},
			{"component":{"name":"SampledDataCtrlr"},"variable":{"name":"Enabled"},"attributeValue":"false"}]}`, "setVariableResult")
		want = "Rejected NotSupportedAttributeType UnknownComponent UnknownVariable NotSupportedAttributeType Rejected"
		if got != want {
			t.Errorf("SetVariables:\n got %s\nwant %s", got, want)
		}
		if v, _ := r.settings.Get("HeartbeatInterval"); v.Value != "240" {
			t.Errorf("HeartbeatInterval is %s after a refused MaxSet", v.Value)
		}

		mustCall(t, r.cp, "GetReport", `{"requestId":1,"componentVariable":[{"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Power"}},{"component":{"name":"TxCtrlr"},"variable":{"name":"TxStartPoint"}}]}`)
		time.Sleep(time.Second)
		data := reportOf(t, csms, 1)
		if len(data) != 2 {
			t.Fatalf("the report: %v", describe(data))
		}
		power, start := data[1], data[0]
		if power.Component.Name != "EVSE" {
			power, start = start, power
		}
		var attrs []string
		for _, a := range power.VariableAttribute {
			attrs = append(attrs, fmt.Sprint(a.Type, "=", *a.Value, " ", a.Mutability))
		}
		if c := power.VariableCharacteristics; strings.Join(attrs, ", ") != "Actual=0 ReadOnly, MaxSet=22080 ReadOnly" ||
			c.DataType != ocpp201.DataDecimal || c.Unit != "W" || c.MaxLimit == nil || *c.MaxLimit != 22080 {
			t.Errorf("EVSE 1 Power reported as %v, %+v", attrs, power.VariableCharacteristics)
		}
		if c := start.VariableCharacteristics; c.DataType != ocpp201.DataMemberList || c.ValuesList != "EVConnected,Authorized,PowerPathClosed" {
			t.Errorf("TxStartPoint's characteristics: %+v", c)
		}
	})
}
