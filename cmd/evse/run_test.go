package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/ocppj"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

func runArgs(url, id, dir string, extra ...string) []string {
	return append([]string{"run", "--csms", url, "--id", id, "--data", dir, "--log-level", "debug", "--listen", "127.0.0.1:0",
		"--replay-spread", "500ms"}, extra...)
}

// keyValues returns GetConfiguration's configurationKey by key name.
func keyValues(t testing.TB, answer map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	list, _ := answer["configurationKey"].([]any)
	for _, e := range list {
		kv := e.(map[string]any)
		out[kv["key"].(string)] = kv
	}
	return out
}

func TestRunBootsAndEveryKeyReadsBackItsDefault(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	p := startEVSE(t, runArgs(url, "CP-DEFAULTS", t.TempDir())...)
	boot := waitCall(t, s, 0, "CP-DEFAULTS", "BootNotification", 10*time.Second)
	var req map[string]any
	json.Unmarshal(boot.Frame.Payload, &req)
	if req["chargePointVendor"] != "evse" || req["chargePointModel"] != "evse-sim" || !strings.HasPrefix(req["firmwareVersion"].(string), "evse ") {
		t.Errorf("BootNotification %s", boot.Frame.Payload)
	}
	// After the accepted boot: the status of the charge point and its connector.
	for _, c := range []string{`"connectorId":0`, `"connectorId":1`} {
		r, err := s.WaitFor(ctxFor(t, 5*time.Second), boot.Seq, func(r csmstest.Record) bool {
			return csmstest.IsCall("CP-DEFAULTS", "StatusNotification")(r) && strings.Contains(string(r.Frame.Payload), c)
		})
		if err != nil {
			t.Fatalf("no StatusNotification with %s: %v", c, err)
		}
		if !strings.Contains(string(r.Frame.Payload), `"status":"Available"`) {
			t.Errorf("status %s", r.Frame.Payload)
		}
	}

	cat, err := config.NewCatalogue(nil)
	if err != nil {
		t.Fatal(err)
	}
	all, err := csmsCall(t, s, "CP-DEFAULTS", "GetConfiguration", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	got := keyValues(t, all)
	var ocppKeys []config.Key
	for _, k := range cat.Keys() {
		if k.OverOCPP16() {
			ocppKeys = append(ocppKeys, k)
			continue
		}
		// Local settings and 2.0.1's variables do not exist over OCPP 1.6.
		one := mustCall(t, s, "CP-DEFAULTS", "GetConfiguration", fmt.Sprintf(`{"key":[%q]}`, k.Name))
		if unknown, _ := one["unknownKey"].([]any); len(unknown) != 1 || got[k.Name] != nil {
			t.Errorf("local setting %s seen over OCPP: %v", k.Name, one)
		}
	}
	if len(got) != len(ocppKeys) {
		t.Errorf("GetConfiguration lists %d keys, the catalogue has %d OCPP keys", len(got), len(ocppKeys))
	}
	for _, k := range ocppKeys {
		want := k.Default
		if k.Name == "DlmState" {
			want = "Disabled"
		}
		// Every key once more by name: GetConfigurationMaxKeys is 1.
		one, err := csmsCall(t, s, "CP-DEFAULTS", "GetConfiguration", fmt.Sprintf(`{"key":[%q]}`, k.Name))
		if err != nil {
			t.Fatalf("GetConfiguration %s: %v", k.Name, err)
		}
		for _, kv := range []map[string]any{got[k.Name], keyValues(t, one)[k.Name]} {
			if kv == nil {
				t.Errorf("%s: not listed", k.Name)
				continue
			}
			if kv["readonly"] != (k.Access == config.ReadOnly) {
				t.Errorf("%s: readonly %v", k.Name, kv["readonly"])
			}
			v, has := kv["value"]
			if k.Access == config.WriteOnly {
				if has {
					t.Errorf("%s: write-only key revealed: %v", k.Name, v)
				}
				continue
			}
			if v != want {
				t.Errorf("%s = %v, want default %q", k.Name, v, want)
			}
		}
	}
	_, err = csmsCall(t, s, "CP-DEFAULTS", "GetConfiguration", `{"key":["HeartbeatInterval","ConnectionTimeOut"]}`)
	if callErrorCode(err) != rpc.OccurenceConstraintViolation {
		t.Errorf("two keys with GetConfigurationMaxKeys 1: %v", err)
	}
	noViolations(t, s)
	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

func TestRunPendingAnswersConfigurationAndRetriesBoot(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	s.Respond("BootNotification", csmstest.Static(`{"status":"Pending","currentTime":"2026-11-24T10:00:00Z","interval":3}`))
	startEVSE(t, runArgs(url, "CP-PENDING", t.TempDir())...)
	first := waitCall(t, s, 0, "CP-PENDING", "BootNotification", 10*time.Second)
	second := waitCall(t, s, first.Seq+1, "CP-PENDING", "BootNotification", 8*time.Second)
	if gap := second.Time.Sub(first.Time); gap < 2900*time.Millisecond || gap > 5*time.Second {
		t.Errorf("boot retried after %v, want the pending interval of 3 s", gap)
	}
	// The next retry is 3 s away: what follows happens while pending.
	// A pending charge point answers GetConfiguration, ChangeConfiguration
	// and TriggerMessage.
	if _, err := csmsCall(t, s, "CP-PENDING", "GetConfiguration", `{"key":["HeartbeatInterval"]}`); err != nil {
		t.Errorf("GetConfiguration while pending: %v", err)
	}
	if a, err := csmsCall(t, s, "CP-PENDING", "ChangeConfiguration", `{"key":"ConnectionTimeOut","value":"60"}`); err != nil || a["status"] != "Accepted" {
		t.Errorf("ChangeConfiguration while pending: %v %v", a, err)
	}
	s.Respond("BootNotification", nil) // Accepted from now on
	mark := len(s.Records())
	if a, err := csmsCall(t, s, "CP-PENDING", "TriggerMessage", `{"requestedMessage":"BootNotification"}`); err != nil || a["status"] != "Accepted" {
		t.Fatalf("TriggerMessage while pending: %v %v", a, err)
	}
	// The triggered boot follows the answer, and is accepted this time.
	boot := waitCall(t, s, mark, "CP-PENDING", "BootNotification", 5*time.Second)
	waitCall(t, s, boot.Seq, "CP-PENDING", "StatusNotification", 5*time.Second)
	for _, r := range s.Records()[:boot.Seq] {
		if r.Dir == csmstest.FromChargePoint && r.Frame.Type == ocppj.Call && r.Frame.Action != "BootNotification" {
			t.Errorf("%s sent before the boot was accepted", r.Frame.Action)
		}
	}
	noViolations(t, s)
}

func TestRunRejectedSendsOnlyBootNotification(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	s.Respond("BootNotification", csmstest.Static(`{"status":"Rejected","currentTime":"2026-11-24T10:00:00Z","interval":1}`))
	startEVSE(t, runArgs(url, "CP-REJECTED", t.TempDir())...)
	first := waitCall(t, s, 0, "CP-REJECTED", "BootNotification", 10*time.Second)
	// Once the second boot is out, the charge point surely knows it is
	// rejected. It does not even answer.
	waitCall(t, s, first.Seq+1, "CP-REJECTED", "BootNotification", 5*time.Second)
	if _, err := s.Call(ctxFor(t, 2500*time.Millisecond), "CP-REJECTED", "GetConfiguration", json.RawMessage(`{}`)); err == nil {
		t.Error("a rejected charge point answered GetConfiguration")
	}
	var boots int
	for _, r := range s.Records()[first.Seq:] {
		if r.Dir != csmstest.FromChargePoint {
			continue
		}
		if r.Frame.Type != ocppj.Call || r.Frame.Action != "BootNotification" {
			t.Errorf("rejected charge point sent %s", r.Raw)
		}
		boots++
	}
	if boots < 3 || boots > 6 {
		t.Errorf("%d BootNotifications in about 3.5 s with interval 1 s", boots)
	}
	// Accepted at the next retry.
	s.Respond("BootNotification", nil)
	mark := len(s.Records())
	waitCall(t, s, mark, "CP-REJECTED", "StatusNotification", 5*time.Second)
	noViolations(t, s)
}

func TestRunHeartbeatFollowsAKeyChangeAtOnce(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{HeartbeatInterval: 3600})
	startEVSE(t, runArgs(url, "CP-HB", t.TempDir())...)
	waitCall(t, s, 0, "CP-HB", "StatusNotification", 10*time.Second)
	if hb := keyValues(t, mustCall(t, s, "CP-HB", "GetConfiguration", `{"key":["HeartbeatInterval"]}`))["HeartbeatInterval"]; hb["value"] != "3600" {
		t.Fatalf("HeartbeatInterval after boot %v, want the boot interval 3600", hb["value"])
	}
	if a := mustCall(t, s, "CP-HB", "ChangeConfiguration", `{"key":"HeartBeatInterval","value":"10"}`); a["status"] != "Accepted" {
		t.Fatalf("ChangeConfiguration: %v", a)
	}
	changed := time.Now()
	h1 := waitCall(t, s, 0, "CP-HB", "Heartbeat", 15*time.Second)
	h2 := waitCall(t, s, h1.Seq+1, "CP-HB", "Heartbeat", 15*time.Second)
	if d := h1.Time.Sub(changed); d < 9*time.Second || d > 12*time.Second {
		t.Errorf("first heartbeat %v after the change, want 10 s", d)
	}
	if d := h2.Time.Sub(h1.Time); d < 9*time.Second || d > 12*time.Second {
		t.Errorf("heartbeats %v apart, want 10 s", d)
	}
	if hb := keyValues(t, mustCall(t, s, "CP-HB", "GetConfiguration", `{"key":["HeartbeatInterval"]}`))["HeartbeatInterval"]; hb["value"] != "10" {
		t.Errorf("HeartbeatInterval %v after writing HeartBeatInterval", hb["value"])
	}
	noViolations(t, s)
}

func mustCall(t testing.TB, s *csmstest.Server, cp, action, payload string) map[string]any {
	t.Helper()
	a, err := csmsCall(t, s, cp, action, payload)
	if err != nil {
		t.Fatalf("%s %s: %v", action, payload, err)
	}
	return a
}

// TestRunChangeConfigurationEveryKey covers, for every key, a good value, a
// bad value, and the read-only, unknown-key and reboot-required answers.
func TestRunChangeConfigurationEveryKey(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	startEVSE(t, runArgs(url, "CP-CHANGE", t.TempDir())...)
	waitCall(t, s, 0, "CP-CHANGE", "StatusNotification", 10*time.Second)
	cat, _ := config.NewCatalogue(nil)
	read := func(name string) (any, bool) {
		kv := keyValues(t, mustCall(t, s, "CP-CHANGE", "GetConfiguration", fmt.Sprintf(`{"key":[%q]}`, name)))[name]
		v, ok := kv["value"]
		return v, ok
	}
	change := func(name, value string) string {
		payload, _ := json.Marshal(map[string]string{"key": name, "value": value})
		a := mustCall(t, s, "CP-CHANGE", "ChangeConfiguration", string(payload))
		return a["status"].(string)
	}
	// PRODUCT.md: the settings that describe the installation answer
	// RebootRequired; every other R/W key Accepted.
	reboot := map[string]bool{}
	for _, n := range strings.Fields(`DlmMode DlmMasterIp DlmDiscoveryNetworkId DlmAlgo DlmPhase1Limit DlmPhase2Limit
		DlmPhase3Limit DlmExtMeterEnabled DlmExtMeterLocation DlmExtMeterMainDistributionLimitPhase1
		DlmExtMeterMainDistributionLimitPhase2 DlmExtMeterMainDistributionLimitPhase3
		DlmExtMeterDisconnectedFallbackPhase1 DlmExtMeterDisconnectedFallbackPhase2 DlmExtMeterDisconnectedFallbackPhase3`) {
		reboot[n] = true
	}
	reboot["DlmInput1CurrOffset Cfg"], reboot["DlmInput2CurrOffset Cfg"] = true, true
	var accepted, rebootRequired, rejected int
	for _, k := range cat.Keys() {
		good, bad := k.Examples()
		if !k.OverOCPP16() {
			v := "1"
			if len(good) > 0 {
				v = good[0]
			}
			if st := change(k.Name, v); st != "NotSupported" {
				t.Errorf("%s over OCPP 1.6: %s, want NotSupported", k.Name, st)
			}
			continue
		}
		if k.Access == config.ReadOnly {
			v := "1"
			if len(good) > 0 {
				v = good[0]
			}
			before, _ := read(k.Name)
			if st := change(k.Name, v); st != "Rejected" {
				t.Errorf("read-only %s=%q: %s, want Rejected", k.Name, v, st)
			}
			if after, _ := read(k.Name); after != before {
				t.Errorf("read-only %s changed from %v to %v", k.Name, before, after)
			}
			rejected++
			continue
		}
		before, _ := read(k.Name)
		want := "Accepted"
		if reboot[k.Name] {
			want = "RebootRequired"
		}
		if k.Name == "SecurityProfile" {
			good[0] = "1" // 2 needs wss://; the AuthorizationKey was set just before
		}
		if st := change(k.Name, good[0]); st != want {
			t.Errorf("%s=%q: %s, want %s", k.Name, good[0], st, want)
			continue
		}
		if k.Name == "SecurityProfile" {
			// It reconnects with the new profile after answering.
			deadline := time.Now().Add(10 * time.Second)
			for _, ok := s.Password("CP-CHANGE"); !ok && time.Now().Before(deadline); _, ok = s.Password("CP-CHANGE") {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if want == "Accepted" {
			accepted++
		} else {
			rebootRequired++
		}
		canon, _ := k.Parse(good[0])
		if v, has := read(k.Name); k.Access == config.WriteOnly {
			if has {
				t.Errorf("write-only %s revealed after a change", k.Name)
			}
		} else if v != canon {
			t.Errorf("%s=%q reads back %v, want %q", k.Name, good[0], v, canon)
		}
		for _, b := range bad {
			if !utf8.ValidString(b) {
				continue // JSON cannot carry it
			}
			prev, _ := read(k.Name)
			if st := change(k.Name, b); st != "Rejected" {
				t.Errorf("%s=%q: %s, want Rejected", k.Name, b, st)
			}
			if v, _ := read(k.Name); v != prev {
				t.Errorf("%s=%q rejected but the value moved from %v to %v", k.Name, b, prev, v)
			}
			rejected++
		}
		// Put the value back so that the keys after it see defaults; the
		// security profile cannot be lowered over OCPP.
		if k.Name != "SecurityProfile" && k.Access != config.WriteOnly {
			if st := change(k.Name, fmt.Sprint(before)); st != want {
				t.Errorf("%s back to %v: %s", k.Name, before, st)
			}
		}
	}
	for _, name := range []string{"NoSuchKey", "HeartbeatIntervall", "DlmInput3CurrOffset Cfg"} {
		if st := change(name, "1"); st != "NotSupported" {
			t.Errorf("unknown %s: %s, want NotSupported", name, st)
		}
	}
	t.Logf("%d Accepted, %d RebootRequired, %d Rejected", accepted, rebootRequired, rejected)
	noViolations(t, s)
}

// TestRunKeepsChangedValuesAcrossRestart kills the process the moment the
// answers arrived: an acknowledged change must already be on disk.
func TestRunKeepsChangedValuesAcrossRestart(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	dir := t.TempDir()
	p := startEVSE(t, runArgs(url, "CP-KEEP", dir)...)
	waitCall(t, s, 0, "CP-KEEP", "StatusNotification", 10*time.Second)
	changes := map[string]string{
		"ConnectionTimeOut":      "120",
		"FreeChargingMode":       "With OCPP Full any Rfid",
		"DlmMode":                "1",
		"MeterValuesSampledData": "Current.Import, Power.Active.Import",
		"DlmOperatorPhase2Limit": "7",
		"HeartBeatInterval":      "30",
	}
	for k, v := range changes {
		a := mustCall(t, s, "CP-KEEP", "ChangeConfiguration", fmt.Sprintf(`{"key":%q,"value":%q}`, k, v))
		if a["status"] != "Accepted" && a["status"] != "RebootRequired" {
			t.Fatalf("%s=%s: %v", k, v, a)
		}
	}
	p.stop(syscall.SIGKILL)

	// The central system answers the next boot with interval 0: the stored
	// heartbeat interval stays.
	s.Respond("BootNotification", csmstest.Static(`{"status":"Accepted","currentTime":"2026-11-24T10:00:00Z","interval":0}`))
	mark := len(s.Records())
	p = startEVSE(t, runArgs(url, "CP-KEEP", dir)...)
	waitCall(t, s, mark, "CP-KEEP", "StatusNotification", 10*time.Second)
	want := map[string]string{
		"ConnectionTimeOut": "120", "FreeChargingMode": "5", "DlmMode": "1",
		"MeterValuesSampledData": "Current.Import,Power.Active.Import", "DlmOperatorPhase2Limit": "7",
		"HeartBeatInterval": "30", "HeartbeatInterval": "30",
	}
	all := keyValues(t, mustCall(t, s, "CP-KEEP", "GetConfiguration", `{}`))
	for k, v := range want {
		if got := all[k]["value"]; got != v {
			t.Errorf("after restart %s = %v, want %s", k, got, v)
		}
	}
	if !strings.HasPrefix(fmt.Sprint(all["DlmState"]["value"]), "Master: ") {
		t.Errorf("DlmState after the reboot into DlmMode 1: %v", all["DlmState"]["value"])
	}
	if err := p.stop(syscall.SIGINT); err != nil {
		t.Errorf("exit after SIGINT: %v", err)
	}
	noViolations(t, s)
}

func TestRunStopsCleanlyOnSignals(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		s, url := newCSMS(t, csmstest.Options{})
		p := startEVSE(t, runArgs(url, "CP-SIG", t.TempDir())...)
		waitCall(t, s, 0, "CP-SIG", "StatusNotification", 10*time.Second)
		start := time.Now()
		if err := p.stop(sig); err != nil {
			t.Errorf("%v: exit %v", sig, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%v: took %v to stop", sig, d)
		}
		code, ok := s.CloseStatus("CP-SIG")
		for deadline := time.Now().Add(2 * time.Second); !ok && time.Now().Before(deadline); code, ok = s.CloseStatus("CP-SIG") {
			time.Sleep(10 * time.Millisecond)
		}
		if code != websocket.StatusNormalClosure {
			t.Errorf("%v: connection closed with status %d (seen %v), want 1000", sig, code, ok)
		}
		if !strings.Contains(p.errOut.String(), "charge point stopped") {
			t.Errorf("%v: no clean stop in the log", sig)
		}
	}
}

func TestRunRefusesAServerWithoutTheSubprotocol(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{NoSubprotocol: true})
	p := startEVSE(t, runArgs(url, "CP-NOPROTO", t.TempDir())...)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.errOut.String(), "subprotocol") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(p.errOut.String(), `offered ocpp1.6, got \"\"`) {
		t.Errorf("no clear subprotocol error in the log")
	}
	for _, r := range s.Records() {
		if r.Dir == csmstest.FromChargePoint {
			t.Errorf("sent %s over a connection without ocpp1.6", r.Raw)
		}
	}
}

func TestRunAnswersHostileFramesAndKeepsWorking(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	startEVSE(t, runArgs(url, "CP-HOSTILE", t.TempDir())...)
	waitCall(t, s, 0, "CP-HOSTILE", "StatusNotification", 10*time.Second)
	cases := []struct{ frame, id, code string }{
		{`not json`, "-1", "FormationViolation"},
		{`{"a":1}`, "-1", "FormationViolation"},
		{`[2,"h1","GetConfiguration"]`, "h1", "ProtocolError"},
		{`[2,"h2","GetConfiguration",[]]`, "h2", "FormationViolation"},
		{`[2,"h3","Teleport",{}]`, "h3", "NotImplemented"},
		{`[2,"h4","StatusNotification",{}]`, "h4", "NotSupported"},
		{`[2,"h5","ChangeConfiguration",{"key":"HeartbeatInterval"}]`, "h5", "OccurenceConstraintViolation"},
		{`[2,"h6","ChangeConfiguration",{"key":"HeartbeatInterval","value":10}]`, "h6", "TypeConstraintViolation"},
		{`[2,"h7","TriggerMessage",{"requestedMessage":"Pizza"}]`, "h7", "PropertyConstraintViolation"},
		{`[2,"h8","GetConfiguration",{"key":["a"],"b":1}]`, "h8", "FormationViolation"},
		{`[9,"h9","GetConfiguration",{}]`, "h9", "ProtocolError"},
	}
	for _, c := range cases {
		mark := len(s.Records())
		if err := s.SendRaw(ctxFor(t, 5*time.Second), "CP-HOSTILE", []byte(c.frame)); err != nil {
			t.Fatal(err)
		}
		r, err := s.WaitFor(ctxFor(t, 5*time.Second), mark, func(r csmstest.Record) bool {
			return r.Dir == csmstest.FromChargePoint && r.Frame.Type == ocppj.CallError
		})
		if err != nil {
			t.Errorf("%s: no CALLERROR: %v", c.frame, err)
			continue
		}
		if r.Frame.ID != c.id || string(r.Frame.Error.Code) != c.code {
			t.Errorf("%s: answered %s, want id %s code %s", c.frame, r.Raw, c.id, c.code)
		}
	}
	// Still serving.
	if a := mustCall(t, s, "CP-HOSTILE", "ChangeConfiguration", `{"key":"ConnectionTimeOut","value":"30"}`); a["status"] != "Accepted" {
		t.Errorf("after hostile frames: %v", a)
	}
	noViolations(t, s)
}

func TestRunReconnectsAndReportsStatusesWithoutRebooting(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	startEVSE(t, runArgs(url, "CP-RECONNECT", t.TempDir())...)
	waitCall(t, s, 0, "CP-RECONNECT", "StatusNotification", 10*time.Second)
	mark := len(s.Records())
	s.Disconnect("CP-RECONNECT")
	if err := s.WaitConnected(ctxFor(t, 10*time.Second), "CP-RECONNECT"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{`"connectorId":0`, `"connectorId":1`} {
		_, err := s.WaitFor(ctxFor(t, 5*time.Second), mark, func(r csmstest.Record) bool {
			return csmstest.IsCall("CP-RECONNECT", "StatusNotification")(r) && strings.Contains(string(r.Frame.Payload), c)
		})
		if err != nil {
			t.Errorf("no StatusNotification with %s after the reconnect: %v", c, err)
		}
	}
	for _, r := range s.Records()[mark:] {
		if csmstest.IsCall("CP-RECONNECT", "BootNotification")(r) {
			t.Error("BootNotification after a reconnect: a reconnect is not a reboot")
		}
	}
	noViolations(t, s)
}

func TestRunPlaysTheModelFile(t *testing.T) {
	t.Parallel()
	modelFile := filepath.Join(t.TempDir(), "model.json")
	os.WriteFile(modelFile, []byte(`{"vendor":"Ensto","model":"EVF200","serialNumber":"EN0001","firmwareVersion":"1.2.3",
		"connectors":2,"config":{"GetConfigurationMaxKeys":"10"}}`), 0o600)
	s, url := newCSMS(t, csmstest.Options{})
	startEVSE(t, runArgs(url, "CP-MODEL", t.TempDir(), "--model", modelFile)...)
	boot := waitCall(t, s, 0, "CP-MODEL", "BootNotification", 10*time.Second)
	if got := string(boot.Frame.Payload); got != `{"chargePointVendor":"Ensto","chargePointModel":"EVF200","chargePointSerialNumber":"EN0001","firmwareVersion":"1.2.3"}` {
		t.Errorf("BootNotification %s", got)
	}
	_, err := s.WaitFor(ctxFor(t, 5*time.Second), boot.Seq, func(r csmstest.Record) bool {
		return csmstest.IsCall("CP-MODEL", "StatusNotification")(r) && strings.Contains(string(r.Frame.Payload), `"connectorId":2`)
	})
	if err != nil {
		t.Errorf("no status of connector 2: %v", err)
	}
	kv := keyValues(t, mustCall(t, s, "CP-MODEL", "GetConfiguration", `{"key":["NumberOfConnectors","GetConfigurationMaxKeys","ConnectorPhaseRotation"]}`))
	if kv["NumberOfConnectors"]["value"] != "2" || kv["GetConfigurationMaxKeys"]["value"] != "10" || kv["ConnectorPhaseRotation"]["value"] != "1.RST,2.RST" {
		t.Errorf("model defaults not served: %v", kv)
	}
	noViolations(t, s)
}

func TestRunReconnectsWithANewSecurityProfileAndPassword(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	startEVSE(t, runArgs(url, "CP-SECPROF", t.TempDir())...)
	waitCall(t, s, 0, "CP-SECPROF", "StatusNotification", 10*time.Second)
	if _, ok := s.Password("CP-SECPROF"); ok {
		t.Fatal("profile 0 sent a password")
	}
	change := func(key, value, want string) {
		t.Helper()
		a := mustCall(t, s, "CP-SECPROF", "ChangeConfiguration", fmt.Sprintf(`{"key":%q,"value":%q}`, key, value))
		if a["status"] != want {
			t.Fatalf("%s=%s: %v, want %s", key, value, a["status"], want)
		}
	}
	reconnected := func(wantPassword string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if pw, ok := s.Password("CP-SECPROF"); ok && fmt.Sprintf("%x", pw) == wantPassword {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no reconnection with password %s", wantPassword)
	}
	change("SecurityProfile", "1", "Rejected") // no AuthorizationKey yet
	change("AuthorizationKey", testKey, "Accepted")
	if _, ok := s.Password("CP-SECPROF"); ok {
		t.Fatal("a new key under profile 0 made the charge point authenticate")
	}
	change("SecurityProfile", "1", "Accepted")
	reconnected(testKey)
	const key2 = "ffeeddccbbaa99887766554433221100aabbccdd"
	change("AuthorizationKey", key2, "Accepted")
	reconnected(key2)
	change("AuthorizationKey", "", "Rejected") // profile 1 needs it
	change("SecurityProfile", "2", "Rejected") // needs wss://
	change("SecurityProfile", "0", "Rejected") // cannot be lowered over OCPP
	if _, err := csmsCall(t, s, "CP-SECPROF", "GetConfiguration", `{"key":["SecurityProfile"]}`); err != nil {
		t.Fatal(err)
	}
	noViolations(t, s)
}

func TestRunPingsFollowWebSocketPingInterval(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	startEVSE(t, runArgs(url, "CP-PING", t.TempDir())...)
	waitCall(t, s, 0, "CP-PING", "StatusNotification", 10*time.Second)
	if n := s.Pings("CP-PING"); n != 0 {
		t.Fatalf("%d pings before the first 60 s interval", n)
	}
	if a := mustCall(t, s, "CP-PING", "ChangeConfiguration", `{"key":"WebSocketPingInterval","value":"1"}`); a["status"] != "Accepted" {
		t.Fatal(a)
	}
	time.Sleep(3500 * time.Millisecond)
	n := s.Pings("CP-PING")
	if n < 2 || n > 4 {
		t.Errorf("%d pings in 3.5 s with WebSocketPingInterval 1", n)
	}
	mustCall(t, s, "CP-PING", "ChangeConfiguration", `{"key":"WebSocketPingInterval","value":"0"}`)
	n = s.Pings("CP-PING")
	time.Sleep(2500 * time.Millisecond)
	if m := s.Pings("CP-PING"); m != n {
		t.Errorf("%d pings after WebSocketPingInterval 0", m-n)
	}
}

// TestACleanStopDeliversTheSessionsStop: SIGINT during a session, online:
// the transaction stops (reason Reboot) and the central system gets the
// StopTransaction before the process exits, within a few seconds; the
// next start sends nothing again.
func TestACleanStopDeliversTheSessionsStop(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	dir := t.TempDir()
	p := startEVSE(t, runArgs(url, "CP-STOP", dir)...)
	base := p.apiURL(t) + "/api/v1"
	waitCall(t, s, 0, "CP-STOP", "StatusNotification", 10*time.Second)
	apiDo(t, "POST", base+"/connectors/1/plug", `{}`)
	apiDo(t, "POST", base+"/rfid", `{"idTag":"TAG-STOP"}`)
	start := waitCall(t, s, 0, "CP-STOP", "StartTransaction", 10*time.Second)
	began := time.Now()
	if err := p.stop(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	var stops []csmstest.Record
	for _, r := range s.Records()[start.Seq:] {
		if csmstest.IsCall("CP-STOP", "StopTransaction")(r) {
			stops = append(stops, r)
		}
	}
	if len(stops) != 1 || !strings.Contains(string(stops[0].Frame.Payload), `"Reboot"`) {
		t.Fatalf("StopTransactions before the exit: %v, want one with reason Reboot\n%s", stops, p.errOut.String())
	}
	t.Logf("stopped and delivered in %v", took.Round(time.Millisecond))
	if took > 8*time.Second {
		t.Errorf("the clean stop took %v", took)
	}
	mark := len(s.Records())
	p = startEVSE(t, runArgs(url, "CP-STOP", dir)...)
	// The journal it starts from is empty: the stop was delivered, and
	// its removal kept, before the exit. (The start's own
	// StartupOfTheDevice may be waiting in it.)
	_, st := apiDo(t, "GET", p.apiURL(t)+"/api/v1/status", "")
	if n, _ := st["journal"].(float64); n > 1 {
		t.Errorf("the next start holds %v journaled messages, want none but its StartupOfTheDevice", st["journal"])
	}
	for _, r := range s.Records()[mark:] {
		if csmstest.IsCall("CP-STOP", "StopTransaction")(r) {
			t.Errorf("the next start sent the stop again: %s", r.Frame.Payload)
		}
	}
	p.stop(syscall.SIGTERM)
}

// TestADateTimeWithoutOffsetFromTheCentralSystemIsReadAsUTC: a central
// system that answers BootNotification with a currentTime without a UTC
// offset (as those built on common library examples do) registers the
// charge point (it stayed unregistered, retrying every 30 s); the charge
// point warns once, and what it sends stays strict RFC 3339.
func TestADateTimeWithoutOffsetFromTheCentralSystemIsReadAsUTC(t *testing.T) {
	t.Parallel()
	s, url := newCSMS(t, csmstest.Options{})
	s.Respond("BootNotification", csmstest.Static(`{"status":"Accepted","currentTime":"2026-12-05T10:00:00","interval":60}`))
	s.Respond("Heartbeat", csmstest.Static(`{"currentTime":"2026-12-05T10:00:01.5"}`))
	p := startEVSE(t, runArgs(url, "CP-LOCALTIME", t.TempDir())...)
	waitCall(t, s, 0, "CP-LOCALTIME", "StatusNotification", 10*time.Second)
	mustCall(t, s, "CP-LOCALTIME", "TriggerMessage", `{"requestedMessage":"Heartbeat"}`)
	hb := waitCall(t, s, 0, "CP-LOCALTIME", "Heartbeat", 10*time.Second)
	for _, r := range s.Records() {
		if r.ChargePoint == "CP-LOCALTIME" && r.Invalid != "" {
			t.Errorf("the charge point sent what breaks the schema: %s %s", r.Invalid, r.Frame.Payload)
		}
	}
	_, st := apiDo(t, "GET", p.apiURL(t)+"/api/v1/status", "")
	if st["registration"] != "Accepted" {
		t.Fatalf("registration %v, want Accepted", st["registration"])
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.errOut.String(), "without a UTC offset") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := strings.Count(p.errOut.String(), "without a UTC offset"); n != 1 {
		t.Errorf("warned %d times, want once (heartbeat answered at %v)", n, hb.Time)
	}
}
