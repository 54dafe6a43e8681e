package v16

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
)

func TestSendLocalList(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"LocalAuthListMaxLength": "3", "SendLocalListMaxLength": "2"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		get := func() string { out, _ := call(t, r.cp, "GetLocalListVersion", `{}`); return out }
		send := func(payload string) string { out, _ := call(t, r.cp, "SendLocalList", payload); return out }
		if v := get(); v != `{"listVersion":-1}` {
			t.Errorf("disabled list: %s", v)
		}
		if st := send(`{"listVersion":1,"updateType":"Full"}`); st != `{"status":"NotSupported"}` {
			t.Errorf("send to a disabled list: %s", st)
		}
		r.settings.Set("LocalAuthListEnabled", "true", 1)
		if v := get(); v != `{"listVersion":0}` {
			t.Errorf("empty list: %s", v)
		}
		ok := `{"status":"Accepted"}`
		for _, c := range []struct{ payload, want, version string }{
			{`{"listVersion":3,"updateType":"Full","localAuthorizationList":[{"idTag":"A","idTagInfo":{"status":"Accepted"}},{"idTag":"B","idTagInfo":{"status":"Blocked"}}]}`, ok, "3"},
			{`{"listVersion":4,"updateType":"Full","localAuthorizationList":[{"idTag":"A","idTagInfo":{"status":"Accepted"}},{"idTag":"B","idTagInfo":{"status":"Accepted"}},{"idTag":"C","idTagInfo":{"status":"Accepted"}}]}`, `{"status":"Failed"}`, "3"},
			{`{"listVersion":4,"updateType":"Full","localAuthorizationList":[{"idTag":"A","idTagInfo":{"status":"Accepted"}},{"idTag":"A","idTagInfo":{"status":"Accepted"}}]}`, `{"status":"Failed"}`, "3"},
			{`{"listVersion":4,"updateType":"Full","localAuthorizationList":[{"idTag":"A"}]}`, `{"status":"Failed"}`, "3"},
			{`{"listVersion":3,"updateType":"Differential","localAuthorizationList":[{"idTag":"C","idTagInfo":{"status":"Accepted"}}]}`, `{"status":"VersionMismatch"}`, "3"},
			{`{"listVersion":5,"updateType":"Differential","localAuthorizationList":[{"idTag":"C","idTagInfo":{"status":"Accepted"}},{"idTag":"B"}]}`, ok, "5"},
			{`{"listVersion":6,"updateType":"Differential","localAuthorizationList":[{"idTag":"D","idTagInfo":{"status":"Accepted"}},{"idTag":"E","idTagInfo":{"status":"Accepted"}}]}`, `{"status":"Failed"}`, "5"},
			{`{"listVersion":-2,"updateType":"Full"}`, `{"status":"Failed"}`, "5"},
		} {
			if st := send(c.payload); st != c.want {
				t.Errorf("%s: %s, want %s", c.payload, st, c.want)
			}
			if v := get(); v != `{"listVersion":`+c.version+`}` {
				t.Errorf("after %s: version %s, want %s", c.payload, v, c.version)
			}
		}
		var tags []string
		r.store.View(func(tx kv.Tx) error {
			return tx.ForEach("locallist", func(k string, _ []byte) error { tags = append(tags, k); return nil })
		})
		if fmt.Sprint(tags) != "[A C]" {
			t.Errorf("list holds %v, want [A C]", tags)
		}
		if st := send(`{"listVersion":7,"updateType":"Full"}`); st != ok || get() != `{"listVersion":7}` {
			t.Errorf("clearing: %s", st)
		}
	})
}

func TestLocalListAuthorizesOfflineAndOnlineWithPreAuthorize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"LocalAuthListEnabled": "true"}, &kv.Mem{})
		synctest.Wait()
		call(t, r.cp, "SendLocalList", `{"listVersion":1,"updateType":"Full","localAuthorizationList":[
			{"idTag":"LISTED","idTagInfo":{"status":"Accepted"}},{"idTag":"BLOCKED","idTagInfo":{"status":"Blocked"}}]}`)
		// Online: a listed tag starts without Authorize.
		r.board.Plug(1, sim.EV{})
		r.board.Present("LISTED", 0)
		time.Sleep(5 * time.Second)
		r.board.Unplug(1)
		time.Sleep(5 * time.Second)
		// Offline: listed starts, blocked does not.
		csms.offline.Store(true)
		r.cp.Disconnected() // as the transport tells it
		r.board.Plug(1, sim.EV{})
		r.board.Present("BLOCKED", 0)
		time.Sleep(5 * time.Second)
		r.board.Present("LISTED", 0)
		time.Sleep(5 * time.Second)
		r.board.Unplug(1)
		csms.offline.Store(false)
		r.cp.Connected()
		time.Sleep(20 * time.Second)
		r.stop()
		if got := strings.Join(actions(csms), " "); got != "StartTransaction StopTransaction StartTransaction StopTransaction" {
			t.Errorf("calls %q", got)
		}
	})
}
