package main

import (
	"encoding/json"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// setNetworkProfile sends SetNetworkProfile and returns its status and
// reasonCode.
func setNetworkProfile(t *testing.T, s *csmstest.Server, cp string, slot int, version, url string, security int) (string, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"configurationSlot": slot, "connectionData": map[string]any{
		"ocppVersion": version, "ocppTransport": "JSON", "ocppCsmsUrl": url, "messageTimeout": 30,
		"securityProfile": security, "ocppInterface": "Wired0"}})
	a := mustCall(t, s, cp, "SetNetworkProfile", string(body))
	reason := ""
	if info, ok := a["statusInfo"].(map[string]any); ok {
		reason, _ = info["reasonCode"].(string)
	}
	return a["status"].(string), reason
}

// deadURL is a ws:// URL on loopback that nobody answers: a port that was
// free a moment ago.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "ws://" + addr + "/ocpp"
}

// TestB09B10SetNetworkProfileAndMigrateToANewCSMS runs evse run --ocpp
// 2.0.1 against two test CSMSs on loopback. On the first (slot 0, the
// command line's), B09: SetNetworkProfile refuses what it must (slot 0,
// a slot out of range, OCPP16, profile 2 over ws://, a lower security
// profile) and keeps a profile of the second in slot 1;
// NetworkConfigurationPriority naming an empty slot is refused, "1,0"
// needs a reboot. B10: after Reset the station boots at the second
// CSMS; there slot 1, in use, cannot be set. A profile whose URL nobody
// answers, first in the priority, is tried NetworkProfileConnectionAttempts
// times after the next Reset, and the station falls back to the second
// CSMS; killed (SIGKILL) and started again, it still boots there.
func TestB09B10SetNetworkProfileAndMigrateToANewCSMS(t *testing.T) {
	t.Parallel()
	const cp = "CS-B10"
	opts := csmstest.Options{Subprotocols: []string{csmstest.OCPP201}}
	a, urlA := newCSMS(t, opts)
	b, urlB := newCSMS(t, opts)
	dir := t.TempDir()
	p := startEVSE(t, runArgs(urlA, cp, dir, "--ocpp", "2.0.1")...)
	waitCall(t, a, 0, cp, "BootNotification", 10*time.Second)

	// B09: what a station must refuse, and changes nothing.
	for _, c := range []struct {
		name     string
		slot     int
		version  string
		url      string
		security int
		reason   string
	}{
		{"the installer's slot", 0, "OCPP20", urlB, 0, "InvalidConfSlot"},
		{"a slot out of range", 4, "OCPP20", urlB, 0, "InvalidConfSlot"},
		{"OCPP 1.6", 1, "OCPP16", urlB, 0, "InvalidNetworkConf"},
		{"profile 2 over ws://", 1, "OCPP20", urlB, 2, "InvalidNetworkConf"},
		{"profile 1 without a password", 1, "OCPP20", urlB, 1, "InvalidNetworkConf"},
		{"not a URL", 1, "OCPP20", "http://127.0.0.1/", 0, "InvalidNetworkConf"},
	} {
		if st, reason := setNetworkProfile(t, a, cp, c.slot, c.version, c.url, c.security); st != "Rejected" || reason != c.reason {
			t.Errorf("SetNetworkProfile %s: %s %s, want Rejected %s", c.name, st, reason, c.reason)
		}
	}
	if st := setVariable(t, a, cp, "OCPPCommCtrlr", "NetworkConfigurationPriority", "1,0"); st != "Rejected" {
		t.Errorf("a priority naming an empty slot: %s", st)
	}
	if st, reason := setNetworkProfile(t, a, cp, 1, "OCPP20", urlB, 0); st != "Accepted" {
		t.Fatalf("SetNetworkProfile of the second CSMS: %s %s", st, reason)
	}
	if st := setVariable(t, a, cp, "OCPPCommCtrlr", "NetworkConfigurationPriority", "1,0"); st != "RebootRequired" {
		t.Fatalf("NetworkConfigurationPriority 1,0: %s", st)
	}
	if st, v := getVariable(t, a, cp, "OCPPCommCtrlr", "NetworkConfigurationPriority", ""); st != "Accepted" || v != "1,0" {
		t.Errorf("NetworkConfigurationPriority reads %s %q", st, v)
	}

	// B10: the Reset, and the station boots at the second CSMS.
	if r := mustCall(t, a, cp, "Reset", `{"type":"Immediate"}`); r["status"] != "Accepted" {
		t.Fatalf("Reset: %v", r)
	}
	boot := waitCall(t, b, 0, cp, "BootNotification", 10*time.Second)
	if !strings.Contains(string(boot.Frame.Payload), `"reason":"RemoteReset"`) {
		t.Errorf("the boot at the second CSMS: %s", boot.Frame.Payload)
	}
	waitCall(t, b, boot.Seq, cp, "StatusNotification", 10*time.Second)
	if st, reason := setNetworkProfile(t, b, cp, 1, "OCPP20", urlB, 0); st != "Rejected" || reason != "InvalidConfSlot" {
		t.Errorf("SetNetworkProfile of the slot in use: %s %s", st, reason)
	}

	// A profile nobody answers, first: one attempt, then back to the
	// second CSMS, the next of the priority.
	if st, reason := setNetworkProfile(t, b, cp, 2, "OCPP20", deadURL(t), 0); st != "Accepted" {
		t.Fatalf("SetNetworkProfile of a dead URL: %s %s", st, reason)
	}
	if st := setVariable(t, b, cp, "OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "1"); st != "Accepted" {
		t.Fatalf("NetworkProfileConnectionAttempts: %s", st)
	}
	if st := setVariable(t, b, cp, "OCPPCommCtrlr", "NetworkConfigurationPriority", "2,1"); st != "RebootRequired" {
		t.Fatalf("NetworkConfigurationPriority 2,1: %s", st)
	}
	last := b.Records()[len(b.Records())-1].Seq
	if r := mustCall(t, b, cp, "Reset", `{"type":"Immediate"}`); r["status"] != "Accepted" {
		t.Fatalf("Reset: %v", r)
	}
	again := waitCall(t, b, last+1, cp, "BootNotification", 10*time.Second)
	if !strings.Contains(string(again.Frame.Payload), `"reason":"RemoteReset"`) {
		t.Errorf("the boot after falling back: %s", again.Frame.Payload)
	}
	if !strings.Contains(p.errOut.String()+p.out.String(), "trying the next") {
		t.Errorf("the station did not say it left the dead slot")
	}

	// The profiles and the priority are the store's: killed and started
	// again with the first CSMS on its command line, it boots at the
	// second.
	p.stop(syscall.SIGKILL)
	last = b.Records()[len(b.Records())-1].Seq
	p = startEVSE(t, runArgs(urlA, cp, dir, "--ocpp", "2.0.1")...)
	defer p.stop(os.Interrupt)
	if power := waitCall(t, b, last+1, cp, "BootNotification", 10*time.Second); !strings.Contains(string(power.Frame.Payload), `"reason":"PowerUp"`) {
		t.Errorf("the boot after a restart: %s", power.Frame.Payload)
	}
	noViolations(t, a)
	noViolations(t, b)
}
