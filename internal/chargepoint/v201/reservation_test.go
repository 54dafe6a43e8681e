package v201

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/ocpp201"
)

// H01–H04: ReserveNow of an EVSE and of any EVSE, the statuses the core
// decides, the reservation used by its token (and refused to another),
// CancelReservation, and ReservationStatusUpdate Expired.
func TestH01ReserveNowH02CancelH04Expired(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms, r := quietRig(t, map[string]string{"ReserveConnectorZeroSupported": "true", "NumberOfConnectors": "2"})
		defer r.stop()
		reserve := func(id int, evse, connectorType, token string, in time.Duration) string {
			req := fmt.Sprintf(`{"id":%d,"expiryDateTime":%q,"idToken":{"idToken":%q,"type":"ISO14443"}`,
				id, time.Now().Add(in).UTC().Format(time.RFC3339), token)
			if evse != "" {
				req += `,"evseId":` + evse
			}
			if connectorType != "" {
				req += `,"connectorType":"` + connectorType + `"`
			}
			a := mustCall(t, r.cp, "ReserveNow", req+"}")
			if info, ok := a["statusInfo"].(map[string]any); ok {
				return status(a) + "/" + fmt.Sprint(info["reasonCode"])
			}
			return status(a)
		}
		for _, c := range []struct {
			what                 string
			id                   int
			evse, connector, tag string
			in                   time.Duration
			want                 string
		}{
			{"EVSE 1", 1, "1", "", "TAG1", 10 * time.Minute, "Accepted"},
			{"EVSE 1 again, another id", 2, "1", "", "TAG2", 10 * time.Minute, "Occupied"},
			{"an EVSE it has not", 3, "9", "", "TAG2", 10 * time.Minute, "Rejected"},
			{"a connector type it has not", 3, "", "cCCS2", "TAG2", 10 * time.Minute, "Rejected/UnknownConnectorType"},
			{"an expiry past", 3, "2", "", "TAG2", -time.Minute, "Rejected"},
			{"any EVSE, for a minute", 4, "", "cType2", "TAG4", time.Minute, "Accepted"},
		} {
			if got := reserve(c.id, c.evse, c.connector, c.tag, c.in); got != c.want {
				t.Errorf("%s: %s, want %s", c.what, got, c.want)
			}
		}
		time.Sleep(time.Second)
		var reserved []int
		for _, c := range csms.sent("StatusNotification") {
			if s := decode[ocpp201.StatusNotificationRequest](t, c); s.ConnectorStatus == ocpp201.ConnectorStatusReserved {
				reserved = append(reserved, s.EvseId)
			}
		}
		if len(reserved) != 2 {
			t.Errorf("EVSEs told Reserved: %v, want 1 and 2 (the one held for any EVSE)", reserved)
		}

		// Another token on the reserved EVSE starts nothing; the
		// reservation's token starts with the reservation's id.
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG2", 1)
		time.Sleep(5 * time.Second)
		if evs := txEvents(t, csms); len(evs) != 0 {
			t.Fatalf("another token on the reserved EVSE: %s", story(t, evs))
		}
		r.board.Present("TAG1", 1)
		time.Sleep(5 * time.Second)
		evs := txEvents(t, csms)
		if len(evs) == 0 || evs[0].ReservationId == nil || *evs[0].ReservationId != 1 {
			t.Fatalf("the reservation's token: %s", story(t, evs))
		}

		// H02: cancel one it has not, then the one for any EVSE; a new one
		// to expire.
		if a := mustCall(t, r.cp, "CancelReservation", `{"reservationId":77}`); status(a) != "Rejected" {
			t.Errorf("CancelReservation of none: %v", a)
		}
		if a := mustCall(t, r.cp, "CancelReservation", `{"reservationId":4}`); status(a) != "Accepted" {
			t.Errorf("CancelReservation 4: %v", a)
		}
		if got := reserve(5, "2", "", "TAG5", 30*time.Second); got != "Accepted" {
			t.Fatalf("reservation 5: %s", got)
		}
		time.Sleep(40 * time.Second)
		var updates []string
		for _, c := range csms.sent("ReservationStatusUpdate") {
			u := decode[ocpp201.ReservationStatusUpdateRequest](t, c)
			updates = append(updates, fmt.Sprintf("%d:%s", u.ReservationId, u.ReservationUpdateStatus))
		}
		if fmt.Sprint(updates) != "[5:Expired]" {
			t.Errorf("ReservationStatusUpdate: %v, want 5 Expired only (1 was used, 4 cancelled)", updates)
		}
	})
}
