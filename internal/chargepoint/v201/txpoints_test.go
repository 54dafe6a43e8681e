package v201

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp201"
)

// setTxVariable sets a TxCtrlr variable over SetVariables and returns the
// status.
func setTxVariable(t *testing.T, r *rig, name, value string) string {
	t.Helper()
	a := mustCall(t, r.cp, "SetVariables", `{"setVariableData":[{"component":{"name":"TxCtrlr"},"variable":{"name":"`+name+`"},"attributeValue":"`+value+`"}]}`)
	return a["setVariableResult"].([]any)[0].(map[string]any)["attributeStatus"].(string)
}

// txEvents are the TransactionEvents sent, decoded.
func txEvents(t *testing.T, csms *fakeCSMS) []ocpp201.TransactionEventRequest {
	var out []ocpp201.TransactionEventRequest
	for _, c := range csms.sent("TransactionEvent") {
		out = append(out, decode[ocpp201.TransactionEventRequest](t, c))
	}
	return out
}

// story tells events as "Type/trigger[/stoppedReason][+idToken]", and
// checks their seqNo runs from 0 without gaps.
func story(t *testing.T, evs []ocpp201.TransactionEventRequest) string {
	t.Helper()
	var parts []string
	for i, e := range evs {
		if e.SeqNo != i {
			t.Errorf("event %d has seqNo %d", i, e.SeqNo)
		}
		s := string(e.EventType) + "/" + string(e.TriggerReason)
		if e.TransactionInfo.StoppedReason != "" {
			s += "/" + string(e.TransactionInfo.StoppedReason)
		}
		if e.IdToken != nil {
			s += "+" + e.IdToken.IdToken
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// quietRig starts a station without periodic meter values, so that its
// TransactionEvents are the story's, with more defaults; the caller
// stops it.
func quietRig(t *testing.T, defaults map[string]string) (*fakeCSMS, *rig) {
	t.Helper()
	all := map[string]string{"MeterValueSampleInterval": "0"}
	for k, v := range defaults {
		all[k] = v
	}
	csms := newFakeCSMS(t)
	r := startRig(t, csms, all, &kv.Mem{})
	synctest.Wait()
	return csms, r
}

// offered is what connector 1 offers its EV now, A.
func offered(t *testing.T, r *rig) float64 {
	t.Helper()
	st, err := r.cp.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return *st.Connectors[1].OfferedA
}

// E01/E02: the TxStartPoint and TxStopPoint members this station has are
// settable; the others, and an empty list, are Rejected and change
// nothing.
func TestE01TxStartPointAndTxStopPointValues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startRig(t, newFakeCSMS(t), nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		for _, c := range []struct{ name, value, want string }{
			{"TxStartPoint", "EVConnected", "Accepted"},
			{"TxStartPoint", "Authorized,EVConnected", "Accepted"},
			{"TxStartPoint", "ParkingBayOccupancy", "Rejected"},
			{"TxStartPoint", "DataSigned", "Rejected"},
			{"TxStartPoint", "", "Rejected"},
			{"TxStopPoint", "EVConnected", "Accepted"},
			{"TxStopPoint", "EnergyTransfer", "Rejected"},
			{"TxStopPoint", "EVConnected,EVConnected", "Rejected"},
		} {
			if got := setTxVariable(t, r, c.name, c.value); got != c.want {
				t.Errorf("%s=%q: %s, want %s", c.name, c.value, got, c.want)
			}
		}
		s := r.settings.Snapshot()
		if strings.Join(s.TxStartPoint, ",") != "Authorized,EVConnected" || strings.Join(s.TxStopPoint, ",") != "EVConnected" {
			t.Errorf("kept %v and %v", s.TxStartPoint, s.TxStopPoint)
		}
	})
}

// E02: with TxStartPoint EVConnected the transaction starts at plug-in,
// without an idToken and without energy; the driver's authorization is
// an update that tells the idToken, and the energy flows after it.
func TestE02TheTransactionStartsAtPlugIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms, r := quietRig(t, nil)
		defer r.stop()
		if st := setTxVariable(t, r, "TxStartPoint", "EVConnected"); st != "Accepted" {
			t.Fatalf("TxStartPoint: %s", st)
		}
		r.board.Plug(1, sim.EV{})
		time.Sleep(5 * time.Second)
		evs := txEvents(t, csms)
		if len(evs) != 1 || evs[0].EventType != ocpp201.TransactionEventStarted || evs[0].IdToken != nil ||
			evs[0].TriggerReason != ocpp201.TriggerReasonCablePluggedIn || evs[0].TransactionInfo.ChargingState != ocpp201.ChargingStateEVConnected {
			t.Fatalf("after the plug-in: %s", story(t, evs))
		}
		if a := offered(t, r); a != 0 {
			t.Errorf("%v A offered before any authorization", a)
		}
		r.board.Present("TAG1", 1)
		time.Sleep(10 * time.Second)
		if a := offered(t, r); a == 0 {
			t.Error("nothing offered after the authorization")
		}
		r.board.Unplug(1)
		time.Sleep(5 * time.Second)
		evs = txEvents(t, csms)
		got := story(t, evs)
		if !strings.HasPrefix(got, "Started/CablePluggedIn Updated/Authorized+TAG1 ") || !strings.HasSuffix(got, "Ended/EVCommunicationLost/EVDisconnected") {
			t.Errorf("events: %s", got)
		}
		if len(csms.sent("Authorize")) != 1 {
			t.Errorf("Authorize sent %d times, want once", len(csms.sent("Authorize")))
		}
		for _, e := range evs {
			if e.TransactionInfo.TransactionId != evs[0].TransactionInfo.TransactionId {
				t.Errorf("two transactions: %s and %s", evs[0].TransactionInfo.TransactionId, e.TransactionInfo.TransactionId)
			}
		}
	})
}

// F01/F02: a remote start on an EVSE whose transaction started at
// plug-in names that transaction in its answer, and gives it its driver
// (an update triggered by RemoteStart, with the remoteStartId).
func TestF02ARemoteStartAuthorizesTheTransactionOfThePlug(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms, r := quietRig(t, map[string]string{"TxStartPoint": "EVConnected"})
		defer r.stop()
		r.board.Plug(1, sim.EV{})
		time.Sleep(5 * time.Second)
		a := mustCall(t, r.cp, "RequestStartTransaction", `{"idToken":{"idToken":"APP-7","type":"Central"},"remoteStartId":7,"evseId":1}`)
		evs := txEvents(t, csms)
		if status(a) != "Accepted" || len(evs) == 0 || a["transactionId"] != evs[0].TransactionInfo.TransactionId {
			t.Fatalf("RequestStartTransaction: %v (the transaction: %s)", a, story(t, evs))
		}
		time.Sleep(10 * time.Second)
		evs = txEvents(t, csms)
		if len(evs) < 2 || evs[1].TriggerReason != ocpp201.TriggerReasonRemoteStart || evs[1].IdToken == nil ||
			evs[1].IdToken.Type != ocpp201.IdTokenEnumCentral || evs[1].TransactionInfo.RemoteStartId == nil || *evs[1].TransactionInfo.RemoteStartId != 7 {
			t.Fatalf("events: %s", story(t, evs))
		}
		if offered(t, r) == 0 {
			t.Error("nothing offered after the remote start")
		}
	})
}

// E03/E09: with TxStartPoint Authorized the transaction starts when the
// driver is authorized; the EV then has EVConnectionTimeOut to come, or
// the transaction ends with Timeout (EVConnectTimeout). An EV in time is
// an update triggered by the plug-in.
func TestE03TheTransactionStartsAtAuthorizationAndTimesOutWithoutAnEV(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms, r := quietRig(t, map[string]string{"TxStartPoint": "Authorized", "ConnectionTimeOut": "60"})
		defer r.stop()
		r.board.Present("TAG1", 1)
		time.Sleep(59 * time.Second)
		evs := txEvents(t, csms)
		if len(evs) != 1 || evs[0].TriggerReason != ocpp201.TriggerReasonAuthorized || evs[0].TransactionInfo.ChargingState != ocpp201.ChargingStateIdle {
			t.Fatalf("before the timeout: %s", story(t, evs))
		}
		time.Sleep(5 * time.Second)
		if got := story(t, txEvents(t, csms)); got != "Started/Authorized+TAG1 Ended/EVConnectTimeout/Timeout" {
			t.Errorf("without an EV: %s", got)
		}

		r.board.Present("TAG2", 1)
		time.Sleep(30 * time.Second)
		r.board.Plug(1, sim.EV{})
		time.Sleep(10 * time.Second)
		second := txEvents(t, csms)[2:]
		if got := story(t, second[:2]); got != "Started/Authorized+TAG2 Updated/CablePluggedIn" {
			t.Errorf("the EV in time: %s", got)
		}
		if second[1].TransactionInfo.ChargingState == ocpp201.ChargingStateIdle {
			t.Errorf("after the plug-in the charging state is still %s", second[1].TransactionInfo.ChargingState)
		}
		time.Sleep(60 * time.Second) // past the first ConnectionTimeOut: no Timeout now
		for _, e := range txEvents(t, csms)[2:] {
			if e.EventType == ocpp201.TransactionEventEnded {
				t.Errorf("the transaction with its EV ended: %+v", e.TransactionInfo)
			}
		}
		if offered(t, r) == 0 {
			t.Error("nothing offered to the EV")
		}
	})
}

// E07/E10: with TxStopPoint EVConnected a local stop ends the driver's
// authorization only: the energy stops at once and the cable is
// unlocked; the transaction ends when the EV is unplugged, with the
// driver's reason.
func TestE07AStopEndsTheTransactionAtTheUnplugWhenTxStopPointIsEVConnected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms, r := quietRig(t, map[string]string{"TxStopPoint": "EVConnected"})
		defer r.stop()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 1)
		time.Sleep(10 * time.Second)
		if offered(t, r) == 0 {
			t.Fatal("not charging")
		}
		r.board.Present("TAG1", 1)
		time.Sleep(time.Second)
		if a := offered(t, r); a != 0 {
			t.Errorf("%v A offered after the stop", a)
		}
		evs := txEvents(t, csms)
		id := evs[0].TransactionInfo.TransactionId
		if a := mustCall(t, r.cp, "GetTransactionStatus", `{"transactionId":"`+id+`"}`); a["ongoingIndicator"] != true {
			t.Errorf("after the local stop the transaction is not ongoing: %v", a)
		}
		r.board.Unplug(1)
		time.Sleep(5 * time.Second)
		got := story(t, txEvents(t, csms))
		if !strings.Contains(got, "Updated/StopAuthorized+TAG1") || !strings.HasSuffix(got, "Ended/EVCommunicationLost/Local") {
			t.Errorf("events: %s", got)
		}
	})
}

// With the default points a local stop ends the transaction at once, as
// over 1.6.
func TestTheDefaultPointsEndTheTransactionAtTheLocalStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms, r := quietRig(t, nil)
		defer r.stop()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 1)
		time.Sleep(10 * time.Second)
		r.board.Present("TAG1", 1)
		time.Sleep(5 * time.Second)
		if got := story(t, txEvents(t, csms)); !strings.HasSuffix(got, "Ended/StopAuthorized/Local+TAG1") {
			t.Errorf("events: %s", got)
		}
	})
}
