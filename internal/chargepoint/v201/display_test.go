package v201

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/display"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp201"
)

// setMessage sends SetDisplayMessage with the fields of info (JSON
// members after id) and returns its status, with the reason code.
func setMessage(t *testing.T, r *rig, id int, info string) string {
	t.Helper()
	a := mustCall(t, r.cp, "SetDisplayMessage", fmt.Sprintf(`{"message":{"id":%d,%s}}`, id, info))
	if si, ok := a["statusInfo"].(map[string]any); ok {
		return status(a) + "/" + fmt.Sprint(si["reasonCode"])
	}
	return status(a)
}

// utf8Message is a message's content in UTF8.
func utf8Message(text string) string {
	return fmt.Sprintf(`"message":{"format":"UTF8","language":"en","content":%q}`, text)
}

// showing is what the display shows now, as "id:content".
func showing(t *testing.T, r *rig) []string {
	t.Helper()
	msgs, err := r.cp.Showing(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, fmt.Sprintf("%d:%s", m.ID, m.Content))
	}
	return out
}

// displayVariable reads a DisplayMessageCtrlr variable with GetVariables.
func displayVariable(t *testing.T, r *rig, name string) string {
	t.Helper()
	a := mustCall(t, r.cp, "GetVariables", fmt.Sprintf(`{"getVariableData":[{"component":{"name":"DisplayMessageCtrlr"},"variable":{"name":%q}}]}`, name))
	res := a["getVariableResult"].([]any)[0].(map[string]any)
	if res["attributeStatus"] != "Accepted" {
		t.Fatalf("GetVariables DisplayMessageCtrlr.%s: %v", name, res)
	}
	return fmt.Sprint(res["attributeValue"])
}

// O01 and O06: a message set is shown in its state and from its start,
// replaced by one of its id, refused when it is not of its format, has
// ended, or would outgrow NumberOfDisplayMessages; DisplayMessageCtrlr
// tells what the display takes and holds.
func TestO01SetDisplayMessageO06ReplaceDisplayMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, r := quietRig(t, map[string]string{"GetConfigurationMaxKeys": "10"})
		defer r.stop()
		for name, want := range map[string]string{"Available": "true", "Enabled": "true", "DisplayMessages": "0",
			"SupportedFormats": "ASCII,HTML,URI,UTF8", "SupportedPriorities": "AlwaysFront,InFront,NormalCycle"} {
			if got := displayVariable(t, r, name); got != want {
				t.Errorf("DisplayMessageCtrlr.%s = %s, want %s", name, got, want)
			}
		}

		if got := setMessage(t, r, 1, `"priority":"NormalCycle","state":"Idle",`+utf8Message("Welcome")); got != "Accepted" {
			t.Fatalf("SetDisplayMessage 1: %s", got)
		}
		if got := setMessage(t, r, 2, `"priority":"NormalCycle","state":"Charging",`+utf8Message("Charging now")); got != "Accepted" {
			t.Fatalf("SetDisplayMessage 2: %s", got)
		}
		start := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		if got := setMessage(t, r, 3, `"priority":"AlwaysFront","startDateTime":"`+start+`",`+utf8Message("Closing soon")); got != "Accepted" {
			t.Fatalf("SetDisplayMessage 3: %s", got)
		}
		if got := showing(t, r); !slices.Equal(got, []string{"1:Welcome"}) {
			t.Errorf("an idle station shows %v, want the idle message only", got)
		}
		// O06: the same id replaces the message.
		if got := setMessage(t, r, 1, `"priority":"NormalCycle","state":"Idle",`+utf8Message("Hello again")); got != "Accepted" {
			t.Fatalf("the replacement: %s", got)
		}
		if got := showing(t, r); !slices.Equal(got, []string{"1:Hello again"}) {
			t.Errorf("after the replacement the display shows %v", got)
		}
		if got := displayVariable(t, r, "DisplayMessages"); got != "3" {
			t.Errorf("DisplayMessages = %s after a replacement, want 3", got)
		}
		time.Sleep(time.Hour)
		if got := showing(t, r); !slices.Equal(got, []string{"3:Closing soon"}) {
			t.Errorf("from its start the AlwaysFront message shows alone; the display shows %v", got)
		}

		end := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		for _, c := range []struct{ what, info, want string }{
			{"ASCII that is not", `"priority":"InFront","message":{"format":"ASCII","content":"Grüße"}`, "Rejected/InvalidValue"},
			{"a URI that is not", `"priority":"InFront","message":{"format":"URI","content":"not a uri"}`, "Rejected/InvalidValue"},
			{"an end past", `"priority":"InFront","endDateTime":"` + end + `",` + utf8Message("late"), "Rejected/Expired"},
			{"another display", `"priority":"InFront","display":{"name":"Screen"},` + utf8Message("x"), "Rejected/UnknownComponent"},
			{"the display of an EVSE it has not", `"priority":"InFront","display":{"name":"Display","evse":{"id":5}},` + utf8Message("x"), "Rejected/UnknownComponent"},
		} {
			if got := setMessage(t, r, 9, c.info); got != c.want {
				t.Errorf("%s: %s, want %s", c.what, got, c.want)
			}
		}
		// Room for DefaultMax messages: the next is Rejected, and nothing
		// changes.
		for id := 10; id < 10+display.DefaultMax-3; id++ {
			if got := setMessage(t, r, id, `"priority":"NormalCycle",`+utf8Message("filler")); got != "Accepted" {
				t.Fatalf("message %d: %s", id, got)
			}
		}
		if got := setMessage(t, r, 100, `"priority":"NormalCycle",`+utf8Message("one too many")); got != "Rejected/TooManyElements" {
			t.Errorf("a message beyond NumberOfDisplayMessages: %s", got)
		}
		if got := displayVariable(t, r, "DisplayMessages"); got != fmt.Sprint(display.DefaultMax) {
			t.Errorf("DisplayMessages = %s, want %d", got, display.DefaultMax)
		}
	})
}

// notified is the NotifyDisplayMessages of a request: the ids told, and
// each part's tbc.
func notified(t *testing.T, csms *fakeCSMS, requestID int) (ids []int, tbc []bool) {
	t.Helper()
	for _, c := range csms.sent("NotifyDisplayMessages") {
		n := decode[ocpp201.NotifyDisplayMessagesRequest](t, c)
		if n.RequestId != requestID {
			continue
		}
		for _, m := range n.MessageInfo {
			ids = append(ids, m.Id)
		}
		tbc = append(tbc, n.Tbc != nil && *n.Tbc)
	}
	return ids, tbc
}

// O03 and O04: GetDisplayMessages of all, by ids, priority and state
// together; NotifyDisplayMessages in parts with tbc; Unknown when none
// match.
func TestO03GetAllDisplayMessagesO04GetSpecificDisplayMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms, r := quietRig(t, nil)
		defer r.stop()
		csms.answer("NotifyDisplayMessages", `{}`)
		if a := mustCall(t, r.cp, "GetDisplayMessages", `{"requestId":1}`); status(a) != "Unknown" {
			t.Errorf("GetDisplayMessages of an empty display: %v", a)
		}
		for id := 1; id <= 12; id++ {
			prio, state := "NormalCycle", "Idle"
			if id%3 == 0 {
				prio = "InFront"
			}
			if id%4 == 0 {
				state = "Charging"
			}
			if got := setMessage(t, r, id, fmt.Sprintf(`"priority":%q,"state":%q,`, prio, state)+utf8Message(fmt.Sprint("message ", id))); got != "Accepted" {
				t.Fatalf("message %d: %s", id, got)
			}
		}
		for _, c := range []struct {
			req     string
			status  string
			ids     []int
			partTbc []bool
		}{
			{`{"requestId":2}`, "Accepted", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, []bool{true, false}},
			{`{"requestId":3,"priority":"InFront"}`, "Accepted", []int{3, 6, 9, 12}, []bool{false}},
			{`{"requestId":4,"priority":"InFront","state":"Charging"}`, "Accepted", []int{12}, []bool{false}},
			{`{"requestId":5,"id":[2,4,99],"state":"Charging"}`, "Accepted", []int{4}, []bool{false}},
			{`{"requestId":6,"id":[2],"priority":"AlwaysFront"}`, "Unknown", nil, nil},
			{`{"requestId":7,"id":[99]}`, "Unknown", nil, nil},
		} {
			a := mustCall(t, r.cp, "GetDisplayMessages", c.req)
			synctest.Wait()
			var requestID int
			fmt.Sscanf(c.req, `{"requestId":%d`, &requestID)
			ids, tbc := notified(t, csms, requestID)
			if status(a) != c.status || !slices.Equal(ids, c.ids) || !slices.Equal(tbc, c.partTbc) {
				t.Errorf("%s: %s, told %v in parts with tbc %v; want %s, %v, %v", c.req, status(a), ids, tbc, c.status, c.ids, c.partTbc)
			}
		}
		ids := strings.TrimSuffix(strings.Repeat("1,", display.DefaultMax+1), ",")
		if _, err := call(t, r.cp, "GetDisplayMessages", `{"requestId":8,"id":[`+ids+`]}`); err == nil || !strings.Contains(err.Error(), "OccurrenceConstraintViolation") {
			t.Errorf("more ids than NumberOfDisplayMessages: %v", err)
		}
	})
}

// O05: ClearDisplayMessage, Accepted for a message held, Unknown after.
func TestO05ClearDisplayMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, r := quietRig(t, nil)
		defer r.stop()
		setMessage(t, r, 7, `"priority":"InFront",`+utf8Message("Out of order tomorrow"))
		if a := mustCall(t, r.cp, "ClearDisplayMessage", `{"id":7}`); status(a) != "Accepted" {
			t.Errorf("ClearDisplayMessage 7: %v", a)
		}
		if a := mustCall(t, r.cp, "ClearDisplayMessage", `{"id":7}`); status(a) != "Unknown" {
			t.Errorf("ClearDisplayMessage 7 again: %v", a)
		}
		if got := showing(t, r); len(got) != 0 {
			t.Errorf("the display shows %v after the clear", got)
		}
	})
}

// O02: a message for a transaction: UnknownTransaction for one the
// station does not run; shown during it; removed when it ends.
func TestO02SetDisplayMessageForATransaction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms, r := quietRig(t, nil)
		defer r.stop()
		for _, id := range []string{"EVSE-1", "someone-else's"} {
			if got := setMessage(t, r, 1, `"priority":"InFront","transactionId":"`+id+`",`+utf8Message("x")); got != "UnknownTransaction" {
				t.Errorf("a message for transaction %s, which does not run: %s", id, got)
			}
		}
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 1)
		time.Sleep(10 * time.Second)
		evs := txEvents(t, csms)
		if len(evs) == 0 {
			t.Fatal("no transaction started")
		}
		tx := evs[0].TransactionInfo.TransactionId
		if got := setMessage(t, r, 1, `"priority":"InFront","transactionId":"`+tx+`",`+utf8Message("1.2 kWh so far")); got != "Accepted" {
			t.Fatalf("a message for the transaction: %s", got)
		}
		setMessage(t, r, 2, `"priority":"NormalCycle",`+utf8Message("Welcome"))
		if got := showing(t, r); !slices.Equal(got, []string{"1:1.2 kWh so far"}) {
			t.Errorf("during the transaction the display shows %v", got)
		}
		r.board.Present("TAG1", 1)
		time.Sleep(5 * time.Second)
		if got := story(t, txEvents(t, csms)); !strings.Contains(got, "Ended") {
			t.Fatalf("the transaction did not end: %s", got)
		}
		if got := showing(t, r); !slices.Equal(got, []string{"2:Welcome"}) {
			t.Errorf("after the transaction the display shows %v", got)
		}
		if a := mustCall(t, r.cp, "GetDisplayMessages", `{"requestId":1,"id":[1]}`); status(a) != "Unknown" {
			t.Errorf("the transaction's message after it ended: %v", a)
		}
	})
}

// The messages are the display's configuration: they survive a restart.
func TestDisplayMessagesSurviveARestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &kv.Mem{}
		r := startRig(t, newFakeCSMS(t), nil, store)
		synctest.Wait()
		setMessage(t, r, 4, `"priority":"NormalCycle",`+utf8Message("Kept"))
		r.stop()
		r = startRig(t, newFakeCSMS(t), nil, store)
		defer r.stop()
		synctest.Wait()
		if got := showing(t, r); !slices.Equal(got, []string{"4:Kept"}) {
			t.Errorf("after a restart the display shows %v", got)
		}
	})
}
