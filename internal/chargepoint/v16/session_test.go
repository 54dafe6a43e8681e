package v16

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// actions lists the CALLs sent, but heartbeats, statuses and security
// events.
func actions(f *fakeCSMS) []string {
	var out []string
	for _, c := range f.sent("") {
		switch c.action {
		case "Heartbeat", "StatusNotification", "BootNotification", "SecurityEventNotification":
			continue
		}
		out = append(out, c.action)
	}
	return out
}

// statuses lists the statuses reported for a connector, in order.
func statuses(f *fakeCSMS, connector int) []string {
	var out []string
	for _, c := range f.sent("StatusNotification") {
		var r ocpp16.StatusNotificationRequest
		json.Unmarshal(c.payload, &r)
		if r.ConnectorId == connector {
			out = append(out, string(r.Status))
		}
	}
	return out
}

func decode[T any](t *testing.T, c sentCall) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(c.payload, &v); err != nil {
		t.Fatal(err)
	}
	if err := ocpp16.ValidateRequest(c.action, c.payload); err != nil {
		t.Errorf("%s breaks the schema: %v", c.action, err)
	}
	return v
}

func TestASessionFromPlugToUnplug(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"MeterValuesSampledData": "Energy.Active.Import.Register,Current.Import"}, &kv.Mem{})
		synctest.Wait()
		r.board.Plug(1, sim.EV{CapacityWh: 100000})
		synctest.Wait()
		r.board.Present("TAG1", 0)
		time.Sleep(130 * time.Second)
		r.board.Unplug(1)
		time.Sleep(5 * time.Second)
		r.stop()

		if got := strings.Join(actions(csms), " "); got != "Authorize StartTransaction MeterValues MeterValues StopTransaction" {
			t.Fatalf("calls %q", got)
		}
		start := decode[ocpp16.StartTransactionRequest](t, csms.sent("StartTransaction")[0])
		if start.ConnectorId != 1 || start.IdTag != "TAG1" || start.MeterStart != 0 {
			t.Errorf("StartTransaction %+v", start)
		}
		mv := decode[ocpp16.MeterValuesRequest](t, csms.sent("MeterValues")[1])
		if mv.TransactionId == nil || *mv.TransactionId != 101 || len(mv.MeterValue[0].SampledValue) != 4 {
			t.Errorf("MeterValues %+v", mv)
		}
		stop := decode[ocpp16.StopTransactionRequest](t, csms.sent("StopTransaction")[0])
		// About 2 minutes at 22 kW (32 A on three phases), less the EV's
		// response delay.
		if stop.TransactionId != 101 || stop.Reason != ocpp16.ReasonEVDisconnected || stop.MeterStop < 700 || stop.MeterStop > 800 {
			t.Errorf("StopTransaction %+v", stop)
		}
		var contexts []string
		for _, mv := range stop.TransactionData {
			contexts = append(contexts, string(mv.SampledValue[0].Context))
		}
		if got := strings.Join(contexts, " "); got != "Transaction.Begin Sample.Periodic Sample.Periodic Transaction.End" {
			t.Errorf("transactionData contexts %q, want the register at the start, every sample and the end (StopTxnSampledData)", got)
		}
		if got := strings.Join(statuses(csms, 1), " "); got != "Available Preparing Charging Available" {
			t.Errorf("statuses %q", got)
		}
		// The central system hears of a transaction before the status
		// that shows it, and of its end before the connector is free.
		var seq []string
		for _, c := range csms.sent("") {
			p := string(c.payload)
			switch {
			case c.action == "StartTransaction", c.action == "StopTransaction":
				seq = append(seq, c.action)
			case strings.Contains(p, `"connectorId":1`) && (strings.Contains(p, `"Charging"`) || strings.Contains(p, `"Available"`)):
				var st ocpp16.StatusNotificationRequest
				json.Unmarshal(c.payload, &st)
				seq = append(seq, string(st.Status))
			}
		}
		if got := strings.Join(seq, " "); got != "Available StartTransaction Charging StopTransaction Available" {
			t.Errorf("order %q", got)
		}
	})
}

func TestSwipeFirstThenPlugWithinConnectionTimeOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, nil, &kv.Mem{})
		synctest.Wait()
		r.board.Present("TAG1", 1)
		time.Sleep(30 * time.Second) // ConnectionTimeOut is 45
		r.board.Plug(1, sim.EV{})
		time.Sleep(10 * time.Second)
		if n := len(csms.sent("StartTransaction")); n != 1 {
			t.Fatalf("%d StartTransactions after plugging within ConnectionTimeOut", n)
		}
		r.board.Unplug(1)
		// Too late: the authorization lapses.
		r.board.Present("TAG2", 1)
		time.Sleep(50 * time.Second)
		r.board.Plug(1, sim.EV{})
		time.Sleep(10 * time.Second)
		r.stop()
		if n := len(csms.sent("StartTransaction")); n != 1 {
			t.Errorf("%d StartTransactions: a cable after ConnectionTimeOut started one", n)
		}
		if got := strings.Join(statuses(csms, 1), " "); !strings.HasSuffix(got, "Preparing Available Preparing") {
			t.Errorf("statuses %q: the lapsed authorization should show Preparing, then Available", got)
		}
	})
}

func TestCachedTagStartsWithoutAuthorizeAndTheCacheFollowsTheCentralSystem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, nil, &kv.Mem{})
		synctest.Wait()
		for range 2 {
			r.board.Plug(1, sim.EV{})
			r.board.Present("TAG1", 0)
			time.Sleep(5 * time.Second)
			r.board.Present("TAG1", 0) // stops it: Local
			time.Sleep(5 * time.Second)
			r.board.Unplug(1)
			time.Sleep(time.Second)
		}
		// Cache off: it asks again.
		r.settings.Set("AuthorizationCacheEnabled", "false", 0)
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 0)
		time.Sleep(5 * time.Second)
		r.stop()
		// (The last session stops as the charge point goes down.)
		if got := strings.Join(actions(csms), " "); got != "Authorize StartTransaction StopTransaction StartTransaction StopTransaction Authorize StartTransaction StopTransaction" {
			t.Errorf("calls %q: the second session should start from the cache", got)
		}
		stop := decode[ocpp16.StopTransactionRequest](t, csms.sent("StopTransaction")[0])
		if stop.Reason != ocpp16.ReasonLocal || stop.IdTag != "TAG1" {
			t.Errorf("StopTransaction %+v, want Local by TAG1", stop)
		}
	})
}

func TestOfflineSessionIsDeliveredInOrderWithItsTransactionID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"AllowOfflineTxForUnknownId": "true"}, &kv.Mem{})
		synctest.Wait()
		csms.offline.Store(true)
		r.cp.Disconnected() // as the transport tells it
		r.board.Plug(1, sim.EV{})
		r.board.Present("STRANGER", 0)
		time.Sleep(130 * time.Second) // two samples
		r.board.Unplug(1)
		time.Sleep(time.Second)
		if n := len(csms.sent("")); n > 4 {
			t.Fatalf("%d CALLs went out while offline", n)
		}
		csms.offline.Store(false)
		r.cp.Connected()
		time.Sleep(20 * time.Second)
		r.stop()
		if got := strings.Join(actions(csms), " "); got != "StartTransaction MeterValues MeterValues StopTransaction" {
			t.Fatalf("replayed %q", got)
		}
		for _, c := range csms.sent("MeterValues") {
			if mv := decode[ocpp16.MeterValuesRequest](t, c); mv.TransactionId == nil || *mv.TransactionId != 101 {
				t.Errorf("MeterValues without the id the StartTransaction answer gave: %s", c.payload)
			}
		}
		if stop := decode[ocpp16.StopTransactionRequest](t, csms.sent("StopTransaction")[0]); stop.TransactionId != 101 {
			t.Errorf("StopTransaction id %d", stop.TransactionId)
		}
		if journalLen(r.store) != 0 {
			t.Errorf("%d messages left in the journal", journalLen(r.store))
		}
		r.store.View(func(tx kv.Tx) error {
			return tx.ForEach("txids", func(k string, _ []byte) error {
				t.Errorf("transaction id %s kept after its StopTransaction was confirmed", k)
				return nil
			})
		})
	})
}

func TestOfflineUnknownTagIsRefusedByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, nil, &kv.Mem{})
		synctest.Wait()
		csms.offline.Store(true)
		r.cp.Disconnected() // as the transport tells it
		r.board.Plug(1, sim.EV{})
		r.board.Present("STRANGER", 0)
		time.Sleep(10 * time.Second)
		csms.offline.Store(false)
		r.cp.Connected()
		time.Sleep(20 * time.Second)
		r.stop()
		if got := actions(csms); len(got) != 0 {
			t.Errorf("calls %v: an unknown tag offline must not start", got)
		}
	})
}

func TestImmediatelyWhenPluggedStartsOfflineOnPlugIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"AllowOfflineTxForUnknownId": "ImmediatelyWhenPlugged"}, &kv.Mem{})
		synctest.Wait()
		r.board.Plug(1, sim.EV{}) // online: waits for a tag
		time.Sleep(5 * time.Second)
		r.board.Unplug(1)
		csms.offline.Store(true)
		r.cp.Disconnected()
		time.Sleep(10 * time.Second)
		r.board.Plug(1, sim.EV{}) // offline for 10 s only: waits for the grace
		time.Sleep(15 * time.Second)
		if n := len(csms.sent("StartTransaction")) + journalLen(r.store); n != 0 {
			t.Fatal("started before offlineGrace")
		}
		time.Sleep(10 * time.Second) // 30 s offline
		csms.offline.Store(false)
		r.cp.Connected()
		time.Sleep(20 * time.Second)
		r.stop()
		starts := csms.sent("StartTransaction")
		if len(starts) != 1 {
			t.Fatalf("%d StartTransactions, want the offline one", len(starts))
		}
		if s := decode[ocpp16.StartTransactionRequest](t, starts[0]); s.IdTag != chargepoint.OfflineTag {
			t.Errorf("idTag %q", s.IdTag)
		}
	})
}

func TestCrashedTransactionIsStoppedWithPowerLossOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &kv.Mem{}
		// What a crash leaves: an open transaction, its StartTransaction
		// confirmed.
		open := chargepoint.Transaction{Local: 7, Connector: 1, IDTag: "TAG1", MeterStart: 1000, Started: time.Now(),
			CSMSID: 55, LastWh: 4321.7, LastAt: time.Now().Add(time.Minute)}
		raw, _ := json.Marshal(open)
		store.Update(func(tx kv.Tx) error {
			tx.Put("txids", key(7), []byte("55"))
			tx.Put("meter", key(1), []byte("4000"))
			return tx.Put("opentx", key(1), raw)
		})
		if regs, _ := LastRegisters(store, 1); regs[0] != 4321.7 {
			t.Errorf("last register %v, want the open transaction's 4321.7", regs)
		}
		for range 2 { // restarting again sends nothing more
			csms := newFakeCSMS()
			r := startRig(t, csms, nil, store)
			time.Sleep(10 * time.Second)
			r.stop()
			stops := csms.sent("StopTransaction")
			if len(stops) > 1 {
				t.Fatalf("%d StopTransactions", len(stops))
			}
			if len(stops) == 1 {
				s := decode[ocpp16.StopTransactionRequest](t, stops[0])
				if s.Reason != ocpp16.ReasonPowerLoss || s.TransactionId != 55 || s.MeterStop != 4321 || !s.Timestamp.Equal(open.LastAt) {
					t.Errorf("StopTransaction %+v", s)
				}
				open.Local = -1 // seen
			}
		}
		if open.Local != -1 {
			t.Error("no PowerLoss StopTransaction")
		}
	})
}

func TestRemoteStartAndStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"AuthorizeRemoteTxRequests": "false"}, &kv.Mem{})
		synctest.Wait()
		if out, _ := call(t, r.cp, "RemoteStartTransaction", `{"idTag":"APP1","connectorId":2}`); out != `{"status":"Rejected"}` {
			t.Errorf("remote start on connector 2 of 1: %s", out)
		}
		if out, _ := call(t, r.cp, "RemoteStartTransaction", `{"idTag":"APP1"}`); out != `{"status":"Accepted"}` {
			t.Fatalf("remote start: %s", out)
		}
		time.Sleep(time.Second)
		r.board.Plug(1, sim.EV{})
		time.Sleep(5 * time.Second)
		if out, _ := call(t, r.cp, "RemoteStartTransaction", `{"idTag":"APP2"}`); out != `{"status":"Rejected"}` {
			t.Errorf("remote start with the only connector busy: %s", out)
		}
		if out, _ := call(t, r.cp, "RemoteStopTransaction", `{"transactionId":999}`); out != `{"status":"Rejected"}` {
			t.Errorf("remote stop of an unknown transaction: %s", out)
		}
		if out, _ := call(t, r.cp, "RemoteStopTransaction", `{"transactionId":101}`); out != `{"status":"Accepted"}` {
			t.Errorf("remote stop: %s", out)
		}
		time.Sleep(5 * time.Second)
		r.stop()
		if got := strings.Join(actions(csms), " "); got != "StartTransaction StopTransaction" {
			t.Errorf("calls %q (no Authorize: AuthorizeRemoteTxRequests is off)", got)
		}
		if s := decode[ocpp16.StopTransactionRequest](t, csms.sent("StopTransaction")[0]); s.Reason != ocpp16.ReasonRemote {
			t.Errorf("reason %s", s.Reason)
		}
		if got := strings.Join(statuses(csms, 1), " "); got != "Available Preparing Charging Finishing" {
			t.Errorf("statuses %q", got)
		}
	})
}

func TestRefusedTagStopsOrSuspendsPerStopTransactionOnInvalidId(t *testing.T) {
	for _, stopOnInvalid := range []string{"true", "false"} {
		synctest.Test(t, func(t *testing.T) {
			csms := newFakeCSMS()
			csms.answer("StartTransaction", `{"transactionId":5,"idTagInfo":{"status":"Blocked"}}`)
			r := startRig(t, csms, map[string]string{"StopTransactionOnInvalidId": stopOnInvalid, "AllowOfflineTxForUnknownId": "true"}, &kv.Mem{})
			synctest.Wait()
			csms.offline.Store(true) // started offline on an unknown tag
			r.cp.Disconnected()      // as the transport tells it
			r.board.Plug(1, sim.EV{})
			r.board.Present("BAD", 0)
			time.Sleep(5 * time.Second)
			csms.offline.Store(false)
			r.cp.Connected()
			time.Sleep(20 * time.Second)
			st := statuses(csms, 1) // before the charge point goes down
			r.stop()
			stops := csms.sent("StopTransaction")
			if stopOnInvalid == "true" {
				if len(stops) != 1 || decode[ocpp16.StopTransactionRequest](t, stops[0]).Reason != ocpp16.ReasonDeAuthorized {
					t.Errorf("StopTransactionOnInvalidId on: %v, want a DeAuthorized stop", stops)
				}
				return
			}
			if st[len(st)-1] != "SuspendedEVSE" {
				t.Errorf("StopTransactionOnInvalidId off: statuses %v, want SuspendedEVSE last", st)
			}
			for _, s := range stops {
				if decode[ocpp16.StopTransactionRequest](t, s).Reason == ocpp16.ReasonDeAuthorized {
					t.Error("stopped although StopTransactionOnInvalidId is off")
				}
			}
		})
	}
}

func TestChangeAvailabilityIsScheduledDuringATransaction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		store := &kv.Mem{}
		r := startRig(t, csms, nil, store)
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		time.Sleep(time.Second)
		r.board.Present("TAG1", 0)
		time.Sleep(5 * time.Second)
		for _, c := range []struct{ payload, want string }{
			{`{"connectorId":3,"type":"Inoperative"}`, "Rejected"},
			{`{"connectorId":1,"type":"Inoperative"}`, "Scheduled"},
		} {
			if out, _ := call(t, r.cp, "ChangeAvailability", c.payload); out != `{"status":"`+c.want+`"}` {
				t.Errorf("%s: %s, want %s", c.payload, out, c.want)
			}
		}
		r.board.Present("TAG1", 0) // stop
		time.Sleep(5 * time.Second)
		r.board.Unplug(1)
		time.Sleep(time.Second)
		r.stop()
		if got := strings.Join(statuses(csms, 1), " "); got != "Available Preparing Charging Unavailable" {
			t.Errorf("statuses %q", got)
		}
		// It stays unavailable after a restart, until made operative.
		csms2 := newFakeCSMS()
		r = startRig(t, csms2, nil, store)
		time.Sleep(time.Second)
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 0)
		time.Sleep(5 * time.Second)
		if n := len(csms2.sent("StartTransaction")); n != 0 {
			t.Error("an inoperative connector started a transaction")
		}
		if out, _ := call(t, r.cp, "ChangeAvailability", `{"connectorId":0,"type":"Operative"}`); out != `{"status":"Accepted"}` {
			t.Errorf("operative: %s", out)
		}
		time.Sleep(time.Second)
		r.stop()
		if got := strings.Join(statuses(csms2, 1), " "); got != "Unavailable Preparing" {
			t.Errorf("after restart: statuses %q", got)
		}
	})
}

func TestUnlockConnectorStopsTheTransaction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, nil, &kv.Mem{})
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 0)
		time.Sleep(5 * time.Second)
		if out, _ := call(t, r.cp, "UnlockConnector", `{"connectorId":1}`); out != `{"status":"Unlocked"}` {
			t.Errorf("unlock: %s", out)
		}
		if out, _ := call(t, r.cp, "UnlockConnector", `{"connectorId":2}`); out != `{"status":"NotSupported"}` {
			t.Errorf("unlock of a missing connector: %s", out)
		}
		r.board.SetFault(1, "ConnectorLockFailure")
		if out, _ := call(t, r.cp, "UnlockConnector", `{"connectorId":1}`); out != `{"status":"UnlockFailed"}` {
			t.Errorf("unlock with a broken lock: %s", out)
		}
		time.Sleep(5 * time.Second)
		r.stop()
		if s := decode[ocpp16.StopTransactionRequest](t, csms.sent("StopTransaction")[0]); s.Reason != ocpp16.ReasonUnlockCommand {
			t.Errorf("reason %s", s.Reason)
		}
		st := statuses(csms, 1)
		if st[len(st)-1] != "Faulted" {
			t.Errorf("statuses %v, want Faulted last", st)
		}
	})
}

func TestResetStopsTransactionsAndReturnsErrReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, nil, &kv.Mem{})
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 0)
		time.Sleep(5 * time.Second)
		if out, _ := call(t, r.cp, "Reset", `{"type":"Hard"}`); out != `{"status":"Accepted"}` {
			t.Fatalf("reset: %s", out)
		}
		<-r.done
		r.stop()
		if r.runErr != ErrReset {
			t.Errorf("Run returned %v, want ErrReset", r.runErr)
		}
		stops := csms.sent("StopTransaction")
		if len(stops) != 1 || decode[ocpp16.StopTransactionRequest](t, stops[0]).Reason != ocpp16.ReasonHardReset {
			t.Errorf("StopTransactions %v, want one HardReset delivered before the restart", stops)
		}
	})
}

// TestTheResetIsAnsweredBeforeTheChargePointGoesDown: with no
// transaction to stop, the charge point still waits until the answer to
// Reset is written to the central system before Run returns ErrReset (the
// daemon then closes the connection; an answer not yet written would be
// lost with it).
func TestTheResetIsAnsweredBeforeTheChargePointGoesDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, nil, &kv.Mem{})
		synctest.Wait()
		ctx, hooks := rpc.WithAnswerHooks(context.Background())
		if out, err := r.cp.HandleCall(ctx, "Reset", json.RawMessage(`{"type":"Soft"}`)); err != nil || string(out) != `{"status":"Accepted"}` {
			t.Fatalf("Reset: %s, %v", out, err)
		}
		time.Sleep(time.Minute) // the answer is not written yet
		select {
		case <-r.done:
			t.Fatalf("Run returned %v before the answer to Reset was written", r.runErr)
		default:
		}
		hooks.Run(nil) // the transport wrote the answer
		<-r.done
		r.stop()
		if r.runErr != ErrReset {
			t.Errorf("Run returned %v, want ErrReset", r.runErr)
		}
	})
}

func TestGroupTagStopsATransaction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		csms.mu.Lock()
		csms.answers["Authorize"] = func(p json.RawMessage) (json.RawMessage, error) {
			return json.RawMessage(`{"idTagInfo":{"status":"Accepted","parentIdTag":"FLEET"}}`), nil
		}
		csms.mu.Unlock()
		r := startRig(t, csms, nil, &kv.Mem{})
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("DRIVER1", 0)
		time.Sleep(5 * time.Second)
		r.board.Present("DRIVER2", 0) // same fleet
		time.Sleep(5 * time.Second)
		r.stop()
		stops := csms.sent("StopTransaction")
		if len(stops) != 1 {
			t.Fatalf("%d stops", len(stops))
		}
		if s := decode[ocpp16.StopTransactionRequest](t, stops[0]); s.Reason != ocpp16.ReasonLocal || s.IdTag != "DRIVER2" {
			t.Errorf("stop %+v", s)
		}
	})
}

func TestATagChargingOnOneConnectorStartsNothingOnAnother(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"NumberOfConnectors": "2", "ConnectorPhaseRotationMaxLength": "2",
			"ConnectorPhaseRotation": "1.RST,2.RST"}, &kv.Mem{})
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 1)
		time.Sleep(5 * time.Second)
		r.board.Plug(2, sim.EV{})
		r.board.Present("TAG1", 2) // ConcurrentTx: not a second transaction
		time.Sleep(5 * time.Second)
		r.board.Present("TAG2", 2)
		time.Sleep(5 * time.Second)
		r.stop()
		var tags []string
		for _, c := range csms.sent("StartTransaction") {
			s := decode[ocpp16.StartTransactionRequest](t, c)
			tags = append(tags, s.IdTag+"@"+strconv.Itoa(s.ConnectorId))
		}
		if got := strings.Join(tags, " "); got != "TAG1@1 TAG2@2" {
			t.Errorf("transactions %q", got)
		}
	})
}

// TestACableLeftInTheSocketKeepsTheConnectorFinishing: on a socket
// connector, the EV unplugged at its end stops the transaction but leaves
// the driver's cable in the socket: the connector is Finishing (OCPP 1.6,
// 4.9), not Available, until the cable is taken out. On a tethered one
// the same unplug makes it Available at once.
func TestACableLeftInTheSocketKeepsTheConnectorFinishing(t *testing.T) {
	for _, socket := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			csms := newFakeCSMS()
			r := startRig(t, csms, nil, &kv.Mem{}, func(o *Options) {
				o.Board = sim.New(sim.Options{Connectors: 1, Socket: socket})
			})
			defer r.stop()
			synctest.Wait()
			r.board.Plug(1, sim.EV{})
			r.board.Present("TAG1", 0)
			time.Sleep(5 * time.Second)
			r.board.Unplug(1)
			time.Sleep(5 * time.Second)
			stops := csms.sent("StopTransaction")
			if len(stops) != 1 || decode[ocpp16.StopTransactionRequest](t, stops[0]).Reason != ocpp16.ReasonEVDisconnected {
				t.Fatalf("socket %v: stops %v", socket, stops)
			}
			st := statuses(csms, 1)
			if !socket {
				if st[len(st)-1] != "Available" {
					t.Errorf("tethered: statuses %v, want Available after the unplug", st)
				}
				return
			}
			if st[len(st)-1] != "Finishing" {
				t.Fatalf("socket: statuses %v, want Finishing while the cable is in the socket", st)
			}
			if err := r.board.RemoveCable(1); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Second)
			if st := statuses(csms, 1); st[len(st)-1] != "Available" {
				t.Errorf("socket: statuses %v, want Available once the cable is out", st)
			}
			// A cable put in first, without an EV: Preparing.
			r.board.Plug(1, sim.EV{})
			r.board.Unplug(1) // the EV leaves before a tag: the cable stays
			time.Sleep(5 * time.Second)
			if st := statuses(csms, 1); st[len(st)-1] != "Preparing" {
				t.Errorf("socket: statuses %v, want Preparing with a cable and no session", st)
			}
		})
	}
}
