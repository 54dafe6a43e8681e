package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/ocppj"
)

// TestChargingKeysWithTheRealBinary changes each charging key on a running
// charge point (through the local API, as the installer, or over OCPP) and
// checks at the central system that the next session behaves as the key
// says.
func TestChargingKeysWithTheRealBinary(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	p := startEVSE(t, runArgs(url, "CP-KEYS", t.TempDir())...)
	base := p.apiURL(t) + "/api/v1"
	waitCall(t, s, 0, "CP-KEYS", "StatusNotification", 10*time.Second)
	set := func(key, value string) {
		t.Helper()
		if code, body := apiDo(t, "PUT", base+"/config/"+key, `{"value":"`+value+`"}`); code != 200 {
			t.Fatalf("%s=%s: %d %v", key, value, code, body)
		}
	}
	// actionsSince lists the charge point's CALLs (but heartbeats and
	// statuses) recorded from mark on.
	actionsSince := func(mark int) []csmstest.Record {
		var out []csmstest.Record
		for _, r := range s.Records()[mark:] {
			if r.ChargePoint == "CP-KEYS" && r.Dir == csmstest.FromChargePoint && r.Frame.Type == ocppj.Call &&
				r.Frame.Action != "Heartbeat" && r.Frame.Action != "StatusNotification" && r.Frame.Action != "SecurityEventNotification" {
				out = append(out, r)
			}
		}
		return out
	}
	names := func(rs []csmstest.Record) string {
		var n []string
		for _, r := range rs {
			n = append(n, r.Frame.Action)
		}
		return strings.Join(n, " ")
	}
	settle := func(mark int, want int) []csmstest.Record {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(actionsSince(mark)) < want && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // nothing more should come
		return actionsSince(mark)
	}
	session := func(tag string, charge time.Duration) {
		apiDo(t, "POST", base+"/connectors/1/plug", "")
		if tag != "" {
			apiDo(t, "POST", base+"/rfid", `{"idTag":"`+tag+`"}`)
		}
		time.Sleep(charge)
		apiDo(t, "POST", base+"/connectors/1/unplug", "")
	}

	// The first session puts TAG into the cache.
	mark := len(s.Records())
	session("TAG", 300*time.Millisecond)
	if got := names(settle(mark, 3)); got != "Authorize StartTransaction StopTransaction" {
		t.Fatalf("first session: %q", got)
	}
	// LocalPreAuthorize on (default): a cached tag starts without Authorize.
	mark = len(s.Records())
	session("TAG", 300*time.Millisecond)
	if got := names(settle(mark, 2)); got != "StartTransaction StopTransaction" {
		t.Errorf("cached tag with LocalPreAuthorize: %q", got)
	}
	// LocalPreAuthorize off: it asks.
	set("LocalPreAuthorize", "false")
	mark = len(s.Records())
	session("TAG", 300*time.Millisecond)
	if got := names(settle(mark, 3)); got != "Authorize StartTransaction StopTransaction" {
		t.Errorf("LocalPreAuthorize off: %q", got)
	}
	set("LocalPreAuthorize", "true")

	// AuthorizeRemoteTxRequests on (default): RemoteStart authorizes
	// first; off: it does not.
	for _, c := range []struct{ value, want string }{{"true", "Authorize StartTransaction StopTransaction"}, {"false", "StartTransaction StopTransaction"}} {
		if a := mustCall(t, s, "CP-KEYS", "ChangeConfiguration", `{"key":"AuthorizeRemoteTxRequests","value":"`+c.value+`"}`); a["status"] != "Accepted" {
			t.Fatal(a)
		}
		set("AuthorizationCacheEnabled", "false") // so that Authorize is needed at all
		mark = len(s.Records())
		if a := mustCall(t, s, "CP-KEYS", "RemoteStartTransaction", `{"idTag":"APP"}`); a["status"] != "Accepted" {
			t.Fatal(a)
		}
		session("", 500*time.Millisecond)
		if got := names(settle(mark, strings.Count(c.want, " ")+1)); got != c.want {
			t.Errorf("AuthorizeRemoteTxRequests %s: %q, want %q", c.value, got, c.want)
		}
		set("AuthorizationCacheEnabled", "true")
	}

	// StopTransactionOnEVSideDisconnect off: unplugging does not stop.
	set("StopTransactionOnEVSideDisconnect", "false")
	mark = len(s.Records())
	session("TAG", 300*time.Millisecond)
	if got := names(settle(mark, 1)); got != "StartTransaction" {
		t.Errorf("StopTransactionOnEVSideDisconnect off: %q", got)
	}
	apiDo(t, "POST", base+"/rfid", `{"idTag":"TAG"}`) // the tag stops it
	stop := waitCall(t, s, mark, "CP-KEYS", "StopTransaction", 10*time.Second)
	if !strings.Contains(string(stop.Frame.Payload), `"reason":"Local"`) {
		t.Errorf("stop %s", stop.Frame.Payload)
	}
	set("StopTransactionOnEVSideDisconnect", "true")

	// Metering: sampled values every second with every measurand, and
	// clock-aligned ones every 2 s, during the transaction.
	set("MeterValueSampleInterval", "1")
	set("MeterValuesSampledData", "Energy.Active.Import.Register,Power.Active.Import,Current.Import")
	set("ClockAlignedDataInterval", "2")
	set("StopTxnSampledData", "")
	set("StopTxnAlignedData", "Power.Active.Import")
	mark = len(s.Records())
	session("TAG", 4500*time.Millisecond)
	rs := settle(mark, 6)
	var periodic, clock int
	for _, r := range rs {
		if r.Frame.Action != "MeterValues" {
			continue
		}
		var mv struct {
			TransactionId *int `json:"transactionId"`
			MeterValue    []struct {
				SampledValue []struct {
					Context   string `json:"context"`
					Measurand string `json:"measurand"`
				} `json:"sampledValue"`
			} `json:"meterValue"`
		}
		json.Unmarshal(r.Frame.Payload, &mv)
		switch mv.MeterValue[0].SampledValue[0].Context {
		case "Sample.Periodic":
			periodic++
			if len(mv.MeterValue[0].SampledValue) != 5 || mv.TransactionId == nil {
				t.Errorf("sampled values %s", r.Frame.Payload)
			}
		case "Sample.Clock":
			clock++
		}
	}
	if periodic < 3 || clock < 1 {
		t.Errorf("%d periodic and %d clock-aligned MeterValues in 4.5 s", periodic, clock)
	}
	stop = waitCall(t, s, mark, "CP-KEYS", "StopTransaction", 10*time.Second)
	var st struct {
		TransactionData []struct {
			SampledValue []struct {
				Context   string `json:"context"`
				Measurand string `json:"measurand"`
			} `json:"sampledValue"`
		} `json:"transactionData"`
	}
	json.Unmarshal(stop.Frame.Payload, &st)
	if len(st.TransactionData) == 0 {
		t.Error("no StopTxnAlignedData in the StopTransaction")
	}
	for _, mv := range st.TransactionData {
		if sv := mv.SampledValue[0]; sv.Context != "Sample.Clock" || sv.Measurand != "Power.Active.Import" {
			t.Errorf("transactionData holds %+v, want only clock-aligned power (StopTxnSampledData is empty)", sv)
		}
	}
	set("ClockAlignedDataInterval", "0")
	set("MeterValueSampleInterval", "0")

	// Free charging, mode 4: plugging in starts with the fixed tag.
	set("RfidTagFreeCharging", "FREE-TAG")
	set("FreeChargingMode", "4")
	set("FreeCharging", "1")
	mark = len(s.Records())
	session("", 300*time.Millisecond)
	rs = settle(mark, 2)
	if got := names(rs); got != "StartTransaction StopTransaction" || !strings.Contains(string(rs[0].Frame.Payload), `"idTag":"FREE-TAG"`) {
		t.Errorf("free charging mode 4: %q", got)
	}
	// Mode 1: statuses only.
	set("FreeChargingMode", "1")
	mark = len(s.Records())
	session("", 300*time.Millisecond)
	if got := names(settle(mark, 0)); got != "" {
		t.Errorf("free charging mode 1 sent %q", got)
	}
	noViolations(t, s)
}
