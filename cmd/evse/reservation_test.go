package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// TestReservationsWithTheRealBinary: a reservation turns the connector
// Reserved; another tag cannot start there; the reserved tag starts with
// the reservationId; a second reservation is Occupied, an unknown
// connector Rejected; CancelReservation answers; one left to expire makes
// the connector Available again; connector 0 holds the connector; a
// faulted connector answers Faulted, an inoperative one Unavailable.
func TestReservationsWithTheRealBinary(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	p := startEVSE(t, runArgs(url, "CP-RES", t.TempDir())...)
	base := p.apiURL(t) + "/api/v1"
	waitCall(t, s, 0, "CP-RES", "StatusNotification", 10*time.Second)
	reserve := func(id, connector int, idTag string, in time.Duration) string {
		t.Helper()
		a := mustCall(t, s, "CP-RES", "ReserveNow", fmt.Sprintf(`{"connectorId":%d,"expiryDate":%q,"idTag":%q,"reservationId":%d}`,
			connector, time.Now().Add(in).UTC().Format(time.RFC3339), idTag, id))
		return a["status"].(string)
	}
	mark := len(s.Records())
	if st := reserve(1, 1, "RES-TAG", time.Hour); st != "Accepted" {
		t.Fatalf("ReserveNow: %s", st)
	}
	waitStatus(t, s, mark, "CP-RES", 1, "Reserved")
	for _, c := range []struct {
		id, connector int
		want          string
	}{{2, 1, "Occupied"}, {3, 7, "Rejected"}} {
		if st := reserve(c.id, c.connector, "OTHER", time.Hour); st != c.want {
			t.Errorf("reservation %d on %d: %s, want %s", c.id, c.connector, st, c.want)
		}
	}
	apiDo(t, "POST", base+"/connectors/1/plug", `{}`)
	apiDo(t, "POST", base+"/rfid", `{"idTag":"OTHER"}`)
	time.Sleep(time.Second)
	apiDo(t, "POST", base+"/rfid", `{"idTag":"RES-TAG"}`)
	r := waitCall(t, s, mark, "CP-RES", "StartTransaction", 10*time.Second)
	var start struct {
		IDTag         string `json:"idTag"`
		ReservationID *int   `json:"reservationId"`
	}
	json.Unmarshal(r.Frame.Payload, &start)
	if start.IDTag != "RES-TAG" || start.ReservationID == nil || *start.ReservationID != 1 {
		t.Fatalf("StartTransaction %s, want RES-TAG with reservationId 1", r.Frame.Payload)
	}
	apiDo(t, "POST", base+"/rfid", `{"idTag":"RES-TAG"}`)
	apiDo(t, "POST", base+"/connectors/1/unplug", "")
	waitCall(t, s, mark, "CP-RES", "StopTransaction", 10*time.Second)
	if a := mustCall(t, s, "CP-RES", "CancelReservation", `{"reservationId":1}`); a["status"] != "Rejected" {
		t.Errorf("cancelling a used reservation: %v", a)
	}
	// One that expires in 2 s.
	mark = len(s.Records())
	if st := reserve(4, 1, "LATE", 2*time.Second); st != "Accepted" {
		t.Fatalf("short reservation: %s", st)
	}
	reserved := waitStatus(t, s, mark, "CP-RES", 1, "Reserved")
	waitStatus(t, s, reserved.Seq, "CP-RES", 1, "Available")
	if a := mustCall(t, s, "CP-RES", "CancelReservation", `{"reservationId":4}`); a["status"] != "Rejected" {
		t.Errorf("cancelling an expired reservation: %v", a)
	}
	// Connector 0 (ReserveConnectorZeroSupported On): the one connector
	// is held for the tag.
	mark = len(s.Records())
	if st := reserve(5, 0, "ANY", time.Hour); st != "Accepted" {
		t.Errorf("a connector-0 reservation: %s", st)
	}
	waitStatus(t, s, mark, "CP-RES", 1, "Reserved")
	if a := mustCall(t, s, "CP-RES", "CancelReservation", `{"reservationId":5}`); a["status"] != "Accepted" {
		t.Errorf("cancelling the connector-0 reservation: %v", a)
	}
	// A faulted connector, then an inoperative one.
	apiDo(t, "POST", base+"/connectors/1/fault", `{"errorCode":"GroundFailure"}`)
	waitStatus(t, s, mark, "CP-RES", 1, "Faulted")
	if st := reserve(6, 1, "RES-TAG", time.Hour); st != "Faulted" {
		t.Errorf("reserving a faulted connector: %s, want Faulted", st)
	}
	apiDo(t, "POST", base+"/connectors/1/clear", "")
	if a := mustCall(t, s, "CP-RES", "ChangeAvailability", `{"connectorId":1,"type":"Inoperative"}`); a["status"] != "Accepted" {
		t.Fatalf("ChangeAvailability: %v", a)
	}
	if st := reserve(7, 1, "RES-TAG", time.Hour); st != "Unavailable" {
		t.Errorf("reserving an inoperative connector: %s, want Unavailable", st)
	}
	noViolations(t, s)
}
