package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/evse-dev/evse/internal/ocpp201"
	"github.com/evse-dev/evse/internal/ocppj"
)

// TestCSMSOffersTheVersionsOfItsFlag: evse csms offers 1.6 and 2.0.1 by
// default, preferring 1.6; with --ocpp 2.0.1,1.6 a station offering both
// gets 2.0.1 and its BootNotification a valid 2.0.1 answer; a bad --ocpp
// is refused.
func TestCSMSOffersTheVersionsOfItsFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "ocpp1.6"},
		{[]string{"--ocpp", "2.0.1,1.6"}, "ocpp2.0.1"},
	} {
		csms := startEVSE(t, append([]string{"csms", "--listen", "127.0.0.1:0"}, tc.args...)...)
		line := waitOutput(t, csms, "listening at ws://", 10*time.Second)
		url := strings.TrimSuffix(strings.Fields(line[strings.Index(line, "ws://"):])[0], "/<id>")
		ctx := ctxFor(t, 10*time.Second)
		ws, _, err := websocket.Dial(ctx, url+"/CS1", &websocket.DialOptions{Subprotocols: []string{"ocpp1.6", "ocpp2.0.1"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := ws.Subprotocol(); got != tc.want {
			t.Errorf("evse csms %v agreed %q, want %q", tc.args, got, tc.want)
		}
		if tc.want == "ocpp2.0.1" {
			boot := ocppj.AppendCall(nil, "1", "BootNotification", json.RawMessage(`{"chargingStation":{"model":"M","vendorName":"V"},"reason":"PowerUp"}`))
			if err := ws.Write(ctx, websocket.MessageText, boot); err != nil {
				t.Fatal(err)
			}
			_, data, err := ws.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			f, ferr := ocppj.ParseFrame(data)
			if ferr != nil || f.Type != ocppj.CallResult || ocpp201.ValidateResponse("BootNotification", f.Payload) != nil {
				t.Errorf("BootNotification answered %s", data)
			}
		}
		ws.CloseNow()
		csms.stop(os.Interrupt)
	}
	if _, errOut, code := runEVSE(t, "csms", "--ocpp", "2.0"); code == 0 || !strings.Contains(errOut, "2.0") {
		t.Errorf("--ocpp 2.0: exit %d, %s", code, errOut)
	}
}
