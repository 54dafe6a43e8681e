package v16

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// TestIdTagsAreCaseInsensitive: idTags are case-insensitive (OCPP 1.6,
// IdToken). A tag listed in one case and presented in another starts at
// once under LocalPreAuthorize, without Authorize, and the
// StartTransaction carries the case the reader read; the same tag in
// another case stops the transaction; a cached tag presented in another
// case is cached; a Full list naming one tag in two cases is refused.
func TestIdTagsAreCaseInsensitive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"LocalAuthListEnabled": "true"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		if st, _ := call(t, r.cp, "SendLocalList", `{"listVersion":1,"updateType":"Full","localAuthorizationList":[
			{"idTag":"abc123","idTagInfo":{"status":"Accepted"}},{"idTag":"ABC123","idTagInfo":{"status":"Accepted"}}]}`); st != `{"status":"Failed"}` {
			t.Errorf("a list naming a tag twice, in two cases: %s, want Failed", st)
		}
		if st, _ := call(t, r.cp, "SendLocalList", `{"listVersion":1,"updateType":"Full","localAuthorizationList":[
			{"idTag":"abc123","idTagInfo":{"status":"Accepted"}}]}`); st != `{"status":"Accepted"}` {
			t.Fatalf("SendLocalList: %s", st)
		}
		r.board.Plug(1, sim.EV{})
		r.board.Present("ABC123", 0)
		time.Sleep(5 * time.Second)
		if n := len(csms.sent("Authorize")); n != 0 {
			t.Errorf("a listed tag in another case was sent to Authorize (%d)", n)
		}
		starts := csms.sent("StartTransaction")
		if len(starts) != 1 {
			t.Fatalf("%d StartTransactions, want 1", len(starts))
		}
		if s := decode[ocpp16.StartTransactionRequest](t, starts[0]); s.IdTag != "ABC123" {
			t.Errorf("StartTransaction idTag %q, want the case read, ABC123", s.IdTag)
		}
		r.board.Present("Abc123", 0) // the same tag stops it
		time.Sleep(5 * time.Second)
		stops := csms.sent("StopTransaction")
		if len(stops) != 1 || decode[ocpp16.StopTransactionRequest](t, stops[0]).Reason != ocpp16.ReasonLocal {
			t.Fatalf("the same tag in another case did not stop the transaction: %v", actions(csms))
		}
		r.board.Unplug(1)
		time.Sleep(5 * time.Second)

		// The cache: Authorize answers for one case, another case is
		// then known.
		r.settings.Set("LocalAuthListEnabled", "false", 1)
		r.board.Plug(1, sim.EV{})
		r.board.Present("cached-1", 0)
		time.Sleep(5 * time.Second)
		r.board.Unplug(1)
		time.Sleep(5 * time.Second)
		authorizes := len(csms.sent("Authorize"))
		r.board.Plug(1, sim.EV{})
		r.board.Present("CACHED-1", 0)
		time.Sleep(5 * time.Second)
		if n := len(csms.sent("Authorize")); n != authorizes {
			t.Errorf("a cached tag in another case was sent to Authorize")
		}
		if got := strings.Count(strings.Join(actions(csms), " "), "StartTransaction"); got != 3 {
			t.Errorf("%d StartTransactions, want 3: %v", got, actions(csms))
		}
	})
}

// TestAReservationIsUsedByItsTagInAnyCase: a reservation for "Res-Tag" is
// used by "RES-TAG": the transaction starts with its reservationId.
func TestAReservationIsUsedByItsTagInAnyCase(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		if st := reserve(t, r.cp, 7, 1, "Res-Tag", "", time.Hour); st != `{"status":"Accepted"}` {
			t.Fatalf("ReserveNow: %s", st)
		}
		r.board.Plug(1, sim.EV{})
		r.board.Present("RES-TAG", 0)
		time.Sleep(5 * time.Second)
		starts := startsOf(t, csms)
		if len(starts) != 1 || starts[0].ReservationId == nil || *starts[0].ReservationId != 7 {
			t.Fatalf("StartTransactions %+v, want one using reservation 7", starts)
		}
	})
}
