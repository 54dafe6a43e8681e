package v16

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// reserve sends ReserveNow and returns the status.
func reserve(t *testing.T, cp *ChargePoint, id, connector int, idTag, parent string, in time.Duration) string {
	t.Helper()
	p := fmt.Sprintf(`{"connectorId":%d,"expiryDate":%q,"idTag":%q,"reservationId":%d`, connector,
		time.Now().Add(in).UTC().Format(time.RFC3339), idTag, id)
	if parent != "" {
		p += fmt.Sprintf(`,"parentIdTag":%q`, parent)
	}
	out, err := call(t, cp, "ReserveNow", p+"}")
	if err != nil {
		t.Fatalf("ReserveNow: %v", err)
	}
	return out
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// startsOf returns the StartTransaction requests sent.
func startsOf(t *testing.T, csms *fakeCSMS) []ocpp16.StartTransactionRequest {
	var out []ocpp16.StartTransactionRequest
	for _, c := range csms.sent("StartTransaction") {
		out = append(out, decode[ocpp16.StartTransactionRequest](t, c))
	}
	return out
}

func TestAReservationKeepsAConnectorForItsTagAndIsUsedUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		if st := reserve(t, r.cp, 7, 1, "TAG-A", "", time.Hour); st != `{"status":"Accepted"}` {
			t.Fatalf("ReserveNow: %s", st)
		}
		time.Sleep(time.Second)
		if st := last(statuses(csms, 1)); st != "Reserved" {
			t.Fatalf("status %q, want Reserved", st)
		}
		// Another tag does not start on it.
		r.board.Present("TAG-B", 0)
		r.board.Plug(1, sim.EV{})
		time.Sleep(5 * time.Second)
		if s := startsOf(t, csms); len(s) != 0 {
			t.Fatalf("another tag started: %+v", s)
		}
		// Its tag does, with the reservation's id.
		r.board.Present("TAG-A", 0)
		time.Sleep(5 * time.Second)
		s := startsOf(t, csms)
		if len(s) != 1 || s[0].IdTag != "TAG-A" || s[0].ReservationId == nil || *s[0].ReservationId != 7 {
			t.Fatalf("starts %+v, want TAG-A with reservation 7", s)
		}
		r.board.Present("TAG-A", 0) // stops it
		time.Sleep(time.Second)     // before the unplug, not with it
		r.board.Unplug(1)
		time.Sleep(5 * time.Second)
		if st := last(statuses(csms, 1)); st != "Available" {
			t.Errorf("after the session: %q, want Available (the reservation is used up)", st)
		}
		if out, _ := call(t, r.cp, "CancelReservation", `{"reservationId":7}`); out != `{"status":"Rejected"}` {
			t.Errorf("cancelling a used reservation: %s", out)
		}
	})
}

func TestReserveNowAnswersCancelAndExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"NumberOfConnectors": "2", "ConnectorPhaseRotationMaxLength": "2",
			"ConnectorPhaseRotation": "1.RST,2.RST"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		r.board.SetFault(2, "GroundFailure")
		time.Sleep(time.Second)
		for _, c := range []struct {
			id, connector int
			in            time.Duration
			want          ocpp16.ReservationStatus
		}{
			{1, 3, time.Hour, ocpp16.ReservationStatusRejected},    // no connector 3
			{1, 1, -time.Minute, ocpp16.ReservationStatusRejected}, // expired already
			{1, 2, time.Hour, ocpp16.ReservationStatusFaulted},
			{1, 1, time.Hour, ocpp16.ReservationStatusAccepted},
			{2, 1, time.Hour, ocpp16.ReservationStatusOccupied},     // reserved by 1
			{1, 1, 2 * time.Hour, ocpp16.ReservationStatusAccepted}, // 1 again: replaced
			{3, 0, time.Hour, ocpp16.ReservationStatusOccupied},     // no other free connector to hold
		} {
			if got := reserve(t, r.cp, c.id, c.connector, "TAG", "", c.in); got != `{"status":"`+string(c.want)+`"}` {
				t.Errorf("reservation %d on %d: %s, want %s", c.id, c.connector, got, c.want)
			}
		}
		r.board.SetFault(2, "")
		r.board.Plug(2, sim.EV{})
		time.Sleep(time.Second)
		if got := reserve(t, r.cp, 4, 2, "TAG", "", time.Hour); got != `{"status":"Occupied"}` {
			t.Errorf("a connector with an EV: %s", got)
		}
		if out, _ := call(t, r.cp, "CancelReservation", `{"reservationId":99}`); out != `{"status":"Rejected"}` {
			t.Errorf("cancelling an unknown reservation: %s", out)
		}
		if out, _ := call(t, r.cp, "CancelReservation", `{"reservationId":1}`); out != `{"status":"Accepted"}` {
			t.Errorf("cancelling: %s", out)
		}
		time.Sleep(time.Second)
		if st := last(statuses(csms, 1)); st != "Available" {
			t.Errorf("after cancelling: %q", st)
		}
		// One that expires: Reserved, then Available at its expiry.
		reserve(t, r.cp, 5, 1, "TAG", "", 10*time.Minute)
		time.Sleep(time.Second)
		if st := last(statuses(csms, 1)); st != "Reserved" {
			t.Errorf("reserved again: %q", st)
		}
		time.Sleep(10 * time.Minute)
		if st := last(statuses(csms, 1)); st != "Available" {
			t.Errorf("after the expiry: %q, want Available", st)
		}
		if out, _ := call(t, r.cp, "CancelReservation", `{"reservationId":5}`); out != `{"status":"Rejected"}` {
			t.Errorf("cancelling an expired reservation: %s", out)
		}
	})
}

func TestAConnectorZeroReservationHoldsTheLastFreeConnector(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		if st := reserve(t, r.cp, 9, 0, "TAG-A", "", time.Hour); st != `{"status":"Accepted"}` {
			t.Fatalf("ReserveNow connector 0: %s", st)
		}
		time.Sleep(time.Second)
		if st := last(statuses(csms, 1)); st != "Reserved" {
			t.Fatalf("the only connector: %q, want Reserved", st)
		}
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG-B", 0)
		time.Sleep(5 * time.Second)
		if s := startsOf(t, csms); len(s) != 0 {
			t.Fatalf("another tag took the held connector: %+v", s)
		}
		r.board.Present("TAG-A", 0)
		time.Sleep(5 * time.Second)
		if s := startsOf(t, csms); len(s) != 1 || *s[0].ReservationId != 9 {
			t.Fatalf("starts %+v, want TAG-A with reservation 9", s)
		}
	})
}

func TestAReservationWithAParentTakesAnyTagOfTheGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		csms.answer("Authorize", `{"idTagInfo":{"status":"Accepted","parentIdTag":"FLEET"}}`)
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		reserve(t, r.cp, 3, 1, "DRIVER-1", "FLEET", time.Hour)
		r.board.Plug(1, sim.EV{})
		r.board.Present("DRIVER-2", 0) // another driver of the fleet
		time.Sleep(5 * time.Second)
		if s := startsOf(t, csms); len(s) != 1 || s[0].IdTag != "DRIVER-2" || *s[0].ReservationId != 3 {
			t.Fatalf("starts %+v, want DRIVER-2 with reservation 3", s)
		}
	})
}

func TestAReservationSurvivesARestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &kv.Mem{}
		csms := newFakeCSMS()
		r := startRig(t, csms, nil, store)
		synctest.Wait()
		reserve(t, r.cp, 4, 1, "TAG-A", "", time.Hour)
		time.Sleep(time.Second)
		r.stop()
		csms2 := newFakeCSMS()
		r = startRig(t, csms2, nil, store)
		defer r.stop()
		time.Sleep(time.Second)
		if st := last(statuses(csms2, 1)); st != "Reserved" {
			t.Fatalf("after the restart: %q, want Reserved", st)
		}
		if out, _ := call(t, r.cp, "CancelReservation", `{"reservationId":4}`); out != `{"status":"Accepted"}` {
			t.Errorf("cancelling after the restart: %s", out)
		}
	})
}

func TestARemoteStartOnAConnectorReservedForAnotherTagIsRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		reserve(t, r.cp, 5, 1, "TAG-A", "", time.Hour)
		if out, _ := call(t, r.cp, "RemoteStartTransaction", `{"connectorId":1,"idTag":"TAG-B"}`); out != `{"status":"Rejected"}` {
			t.Errorf("another tag: %s, want Rejected", out)
		}
		if out, _ := call(t, r.cp, "RemoteStartTransaction", `{"connectorId":1,"idTag":"TAG-A"}`); out != `{"status":"Accepted"}` {
			t.Errorf("the reserved tag: %s, want Accepted", out)
		}
		r.board.Plug(1, sim.EV{})
		time.Sleep(5 * time.Second)
		if s := startsOf(t, csms); len(s) != 1 || s[0].IdTag != "TAG-A" || *s[0].ReservationId != 5 {
			t.Fatalf("starts %+v, want TAG-A with reservation 5", s)
		}
	})
}
