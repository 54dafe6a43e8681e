package v16

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// A stop the store failed to take is not lost when the next session
// starts on the connector.
func TestAStopTheStoreFailedIsJournaledAtTheNextStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		store := &kv.Mem{}
		r := startRig(t, csms, nil, store)
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 0)
		time.Sleep(5 * time.Second)
		store.SetFail(errors.New("disk full"))
		r.board.Unplug(1)
		time.Sleep(time.Second)
		store.SetFail(nil)
		time.Sleep(5 * time.Second) // the write is tried again; nothing starts before
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG2", 0)
		time.Sleep(5 * time.Second)
		r.stop()
		var got []string
		for _, c := range csms.sent("") {
			switch c.action {
			case "StartTransaction":
				got = append(got, "start:"+decode[ocpp16.StartTransactionRequest](t, c).IdTag)
			case "StopTransaction":
				got = append(got, "stop:"+string(decode[ocpp16.StopTransactionRequest](t, c).Reason))
			}
		}
		// The write that failed is tried again until the store takes it:
		// the stop keeps its own reason. (The second stops as the charge
		// point goes down.)
		if s := strings.Join(got, " "); s != "start:TAG1 stop:EVDisconnected start:TAG2 stop:Reboot" {
			t.Errorf("got %q: the first transaction's stop must not be lost, and comes before the next start", s)
		}
	})
}

func TestTransactionDataStaysSmallInALongSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, nil, &kv.Mem{})
		synctest.Wait()
		r.board.Plug(1, sim.EV{CapacityWh: 1e6, SoCPercent: 1})
		r.board.Present("TAG1", 0)
		time.Sleep(10 * time.Hour)
		r.board.Unplug(1)
		time.Sleep(5 * time.Second)
		r.stop()
		stop := csms.sent("StopTransaction")[0]
		s := decode[ocpp16.StopTransactionRequest](t, stop)
		if n := len(s.TransactionData); n > 64 || n < 32 {
			t.Errorf("%d values in transactionData after 10 hours", n)
		}
		first, last := s.TransactionData[0].SampledValue[0], s.TransactionData[len(s.TransactionData)-1].SampledValue[0]
		if first.Context != ocpp16.ReadingContextTransactionBegin || last.Context != ocpp16.ReadingContextTransactionEnd {
			t.Errorf("the first and last values are %s and %s", first.Context, last.Context)
		}
		if len(stop.payload) > 16<<10 {
			t.Errorf("StopTransaction is %d bytes", len(stop.payload))
		}
	})
}

func TestAGivenUpStartTransactionStopsTheTransaction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		csms.mu.Lock()
		csms.answers["StartTransaction"] = func(json.RawMessage) (json.RawMessage, error) {
			return nil, rpc.Errorf(rpc.InternalError, "no")
		}
		csms.mu.Unlock()
		r := startRig(t, csms, map[string]string{"TransactionMessageRetryInterval": "10"}, &kv.Mem{})
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 0)
		time.Sleep(5 * time.Minute)
		r.stop()
		starts := csms.times("StartTransaction")
		// Attempts 1, 2 and 3, 10 and 20 s apart: TransactionMessageRetryInterval times the attempt.
		if len(starts) != 3 || starts[1]-starts[0] != 10*time.Second || starts[2]-starts[1] != 20*time.Second {
			t.Errorf("StartTransaction tried at %v", starts)
		}
		if n := len(csms.sent("StopTransaction")) + len(csms.sent("MeterValues")); n != 0 {
			t.Errorf("%d messages of a transaction the central system never confirmed", n)
		}
		snap, _ := r.board.Snapshot(1)
		if snap.Offered != 0 || snap.Contactor {
			t.Errorf("still charging after the StartTransaction was given up: %+v", snap)
		}
		if journalLen(r.store) != 0 {
			t.Error("journal not empty")
		}
	})
}

func TestAMessageNeverAnsweredWhileConnectedCountsAsAnAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"TransactionMessageAttempts": "2", "TransactionMessageRetryInterval": "1"}, &kv.Mem{})
		synctest.Wait()
		csms.mu.Lock()
		csms.answers["MeterValues"] = func(json.RawMessage) (json.RawMessage, error) { return nil, rpc.ErrTimeout }
		csms.mu.Unlock()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 0)
		time.Sleep(65 * time.Second) // one sample at 60 s
		r.board.Unplug(1)
		time.Sleep(time.Minute)
		r.stop()
		if got := strings.Join(actions(csms), " "); got != "Authorize StartTransaction MeterValues MeterValues StopTransaction" {
			t.Errorf("calls %q: an unanswered message is given up after its attempts and the journal goes on", got)
		}
	})
}

func TestAvailabilityOfTheWholeChargePoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		store := &kv.Mem{}
		r := startRig(t, csms, map[string]string{"NumberOfConnectors": "2", "ConnectorPhaseRotationMaxLength": "2",
			"ConnectorPhaseRotation": "1.RST,2.RST"}, store)
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 1)
		time.Sleep(5 * time.Second)
		r.board.Plug(2, sim.EV{}) // idle, plugged: Preparing
		time.Sleep(5 * time.Second)
		if out, _ := call(t, r.cp, "ChangeAvailability", `{"connectorId":0,"type":"Inoperative"}`); out != `{"status":"Scheduled"}` {
			t.Errorf("inoperative with a transaction: %s", out)
		}
		time.Sleep(5 * time.Second)
		if got := strings.Join(statuses(csms, 2), " "); !strings.HasSuffix(got, "Unavailable") {
			t.Errorf("idle connector 2: %q, want Unavailable", got)
		}
		if got := strings.Join(statuses(csms, 1), " "); !strings.HasSuffix(got, "Charging") {
			t.Errorf("connector 1 keeps charging: %q", got)
		}
		r.board.Present("TAG2", 2) // refused while inoperative
		time.Sleep(5 * time.Second)
		r.stop() // the transaction ends (Reboot); the change holds after the restart
		csms2 := newFakeCSMS()
		r = startRig(t, csms2, map[string]string{"NumberOfConnectors": "2", "ConnectorPhaseRotationMaxLength": "2",
			"ConnectorPhaseRotation": "1.RST,2.RST"}, store)
		time.Sleep(5 * time.Second)
		r.stop()
		for id := 0; id <= 2; id++ {
			if st := statuses(csms2, id); len(st) == 0 || st[0] != "Unavailable" {
				t.Errorf("connector %d after the restart: %v", id, st)
			}
		}
		if n := len(csms.sent("StartTransaction")); n != 1 {
			t.Errorf("%d transactions: an inoperative charge point started one", n)
		}
	})
}

func TestResetDoesNotWaitForAnUnansweredAuthorize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		hang := make(chan struct{})
		csms.mu.Lock()
		csms.answers["Authorize"] = func(json.RawMessage) (json.RawMessage, error) { <-hang; return nil, errors.New("gone") }
		csms.mu.Unlock()
		r := startRig(t, csms, nil, &kv.Mem{})
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 0)
		synctest.Wait() // Authorize is out
		call(t, r.cp, "Reset", `{"type":"Soft"}`)
		start := time.Now()
		<-r.done
		if d := time.Since(start); d > 6*time.Second {
			t.Errorf("Run took %v to return after Reset", d)
		}
		close(hang)
		r.stop()
	})
}

func TestRemoteStopWhilePendingIsRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		csms.answer("BootNotification", `{"status":"Pending","currentTime":"2026-01-01T00:00:00Z","interval":60}`)
		r := startRig(t, csms, nil, &kv.Mem{})
		synctest.Wait()
		for _, c := range []string{"RemoteStopTransaction", "RemoteStartTransaction"} {
			payload := `{"transactionId":1}`
			if c == "RemoteStartTransaction" {
				payload = `{"idTag":"A"}`
			}
			if out, _ := call(t, r.cp, c, payload); out != `{"status":"Rejected"}` {
				t.Errorf("%s while pending: %s", c, out)
			}
		}
		r.stop()
	})
}

func TestClearCacheAndDataTransfer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, nil, &kv.Mem{})
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 0) // cached now
		time.Sleep(2 * time.Second)
		r.board.Present("TAG1", 0)
		time.Sleep(2 * time.Second)
		if out, _ := call(t, r.cp, "ClearCache", `{}`); out != `{"status":"Accepted"}` {
			t.Errorf("ClearCache: %s", out)
		}
		r.board.Present("TAG1", 0) // asks again
		time.Sleep(2 * time.Second)
		if out, _ := call(t, r.cp, "DataTransfer", `{"vendorId":"com.example","messageId":"x","data":"y"}`); out != `{"status":"UnknownVendorId"}` {
			t.Errorf("DataTransfer: %s", out)
		}
		r.stop()
		if n := len(csms.sent("Authorize")); n != 2 {
			t.Errorf("%d Authorize: the cleared cache must not start the third session", n)
		}
	})
}

// TestStatusesLostWithAConnectionGoAtOnceOnTheNext: a StatusNotification
// out when the connection drops fails only after the next connection is
// up; the new connection tells every state at once, without the wait
// after a failed status (the central system saw nothing for 5 s).
func TestStatusesLostWithAConnectionGoAtOnceOnTheNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		release := make(chan struct{})
		csms.mu.Lock()
		csms.answers["StatusNotification"] = func(json.RawMessage) (json.RawMessage, error) {
			<-release
			return nil, errors.New("connection lost before the answer")
		}
		csms.mu.Unlock()
		call(t, r.cp, "TriggerMessage", `{"requestedMessage":"StatusNotification","connectorId":1}`)
		synctest.Wait() // the status is out
		r.cp.Disconnected()
		r.cp.Connected()
		csms.mu.Lock()
		csms.answers["StatusNotification"] = func(json.RawMessage) (json.RawMessage, error) { return json.RawMessage(`{}`), nil }
		csms.mu.Unlock()
		before := len(csms.sent("StatusNotification"))
		lostAt := time.Now()
		close(release) // the old call fails now, after the reconnect
		time.Sleep(time.Second)
		sent := csms.sent("StatusNotification")[before:]
		if len(sent) < 2 {
			t.Fatalf("%d statuses within 1 s of the reconnect, want every connector's (%v after the loss)", len(sent), time.Since(lostAt))
		}
	})
}

// TestAChargePointThatCannotWriteSaysSoAndLosesNothing: while the store
// cannot write (a full disk), the central system is told the charge point
// is Faulted with InternalError ("cannot write its data"), nothing new
// starts, and the session that runs goes on; its meter values wait, in
// order, and are all delivered once the store writes again, when the
// charge point is Available and sessions start again.
func TestAChargePointThatCannotWriteSaysSoAndLosesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		store := &kv.Mem{}
		r := startRig(t, csms, map[string]string{"MeterValueSampleInterval": "10", "NumberOfConnectors": "2",
			"ConnectorPhaseRotationMaxLength": "2", "ConnectorPhaseRotation": "1.RST,2.RST"}, store)
		defer r.stop()
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 1)
		time.Sleep(5 * time.Second)
		if len(csms.sent("StartTransaction")) != 1 {
			t.Fatalf("no session before the disk fills: %v", actions(csms))
		}
		samplesBefore := len(csms.sent("MeterValues"))
		store.SetFail(errors.New("write evse.db: no space left on device"))
		time.Sleep(30 * time.Second) // three samples, kept in memory
		var faulted *ocpp16.StatusNotificationRequest
		for _, c := range csms.sent("StatusNotification") {
			s := decode[ocpp16.StatusNotificationRequest](t, c)
			if s.ConnectorId == 0 && s.Status == ocpp16.ChargePointStatusFaulted {
				faulted = &s
			}
		}
		if faulted == nil || faulted.ErrorCode != ocpp16.ChargePointErrorCodeInternalError || !strings.Contains(faulted.Info, "cannot write") {
			t.Fatalf("the central system was not told the charge point cannot write: %+v", faulted)
		}
		if got := len(csms.sent("MeterValues")); got != samplesBefore {
			t.Errorf("%d meter values sent while they could not be journaled", got-samplesBefore)
		}
		if l := r.cp.Loads()[0]; l.Applied == 0 {
			t.Errorf("the running session was cut: %+v", l)
		}
		// Nothing new starts.
		r.board.Plug(2, sim.EV{})
		r.board.Present("TAG2", 2)
		time.Sleep(5 * time.Second)
		if n := len(csms.sent("StartTransaction")); n != 1 {
			t.Errorf("%d sessions started while the store could not write", n)
		}
		store.SetFail(nil)
		time.Sleep(40 * time.Second) // the write is tried again (backoff), then the backlog goes
		sent := csms.sent("MeterValues")[samplesBefore:]
		if len(sent) < 3 {
			t.Errorf("%d meter values after the disk had room again, want the 3 kept and more", len(sent))
		}
		var last ocpp16.StatusNotificationRequest
		for _, c := range csms.sent("StatusNotification") {
			if s := decode[ocpp16.StatusNotificationRequest](t, c); s.ConnectorId == 0 {
				last = s
			}
		}
		if last.Status != ocpp16.ChargePointStatusAvailable {
			t.Errorf("the charge point's status after the disk had room again: %s", last.Status)
		}
		r.board.Present("TAG2", 2)
		time.Sleep(5 * time.Second)
		if n := len(csms.sent("StartTransaction")); n != 2 {
			t.Errorf("%d sessions, want the second to start once the store writes", n)
		}
	})
}
