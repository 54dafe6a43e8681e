package v16

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// TestFreeChargingModes: each FreeChargingMode sends what its label says.
func TestFreeChargingModes(t *testing.T) {
	cases := []struct {
		mode string
		// tag is presented after plugging, unless "".
		tag string
		// calls are the CALLs of the session (no heartbeats, boots).
		calls    string
		statuses bool
		idTag    string
	}{
		{"0", "", "", false, ""},
		{"1", "", "", true, ""},
		{"2", "ANYCARD", "", true, ""},
		{"3", "ANYCARD", "StartTransaction MeterValues StopTransaction", true, "FREE-TAG"},
		{"4", "", "StartTransaction MeterValues StopTransaction", true, "FREE-TAG"},
		{"5", "ANYCARD", "StartTransaction MeterValues StopTransaction", true, "ANYCARD"},
	}
	for _, c := range cases {
		synctest.Test(t, func(t *testing.T) {
			csms := newFakeCSMS()
			r := startRig(t, csms, map[string]string{"FreeCharging": "1", "FreeChargingMode": c.mode,
				"RfidTagFreeCharging": "FREE-TAG"}, &kv.Mem{})
			synctest.Wait()
			r.board.Plug(1, sim.EV{})
			time.Sleep(2 * time.Second)
			if c.tag != "" {
				r.board.Present(c.tag, 0)
			}
			time.Sleep(61 * time.Second) // one sample at 60 s in the full modes
			snap, _ := r.board.Snapshot(1)
			if snap.Meter.PowerW == 0 {
				t.Errorf("mode %s: not charging", c.mode)
			}
			r.board.Unplug(1)
			time.Sleep(20 * time.Minute) // a clock-aligned boundary at 15 min: none in modes 0 to 2
			if out, _ := call(t, r.cp, "TriggerMessage", `{"requestedMessage":"MeterValues"}`); (out == `{"status":"Rejected"}`) != (c.mode <= "2") {
				t.Errorf("mode %s: TriggerMessage MeterValues answered %s", c.mode, out)
			}
			time.Sleep(time.Second)
			r.stop()
			var calls []string
			for _, a := range actions(csms) {
				if a != "MeterValues" || len(calls) == 0 || calls[len(calls)-1] != "StopTransaction" {
					calls = append(calls, a)
				}
			}
			if got := strings.Join(calls, " "); got != c.calls {
				t.Errorf("mode %s: calls %q, want %q (no Authorize in any free mode)", c.mode, got, c.calls)
			}
			if st := statuses(csms, 1); (len(st) > 0) != c.statuses {
				t.Errorf("mode %s: statuses %v", c.mode, st)
			} else if c.statuses && !strings.Contains(strings.Join(st, " "), "Charging") {
				t.Errorf("mode %s: statuses %v never show Charging", c.mode, st)
			}
			if c.idTag != "" {
				if s := decode[ocpp16.StartTransactionRequest](t, csms.sent("StartTransaction")[0]); s.IdTag != c.idTag {
					t.Errorf("mode %s: idTag %q, want %q", c.mode, s.IdTag, c.idTag)
				}
			}
		})
	}
}

func TestFreeChargingFixedTagStopsOnlyByThePresenter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"FreeCharging": "1", "FreeChargingMode": "3", "RfidTagFreeCharging": "FREE-TAG"}, &kv.Mem{})
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("CARD-A", 0)
		time.Sleep(5 * time.Second)
		r.board.Present("CARD-B", 0) // not the one that started it
		time.Sleep(5 * time.Second)
		if n := len(csms.sent("StopTransaction")); n != 0 {
			t.Fatal("another card stopped the session")
		}
		r.board.Present("CARD-A", 0)
		time.Sleep(5 * time.Second)
		r.stop()
		stops := csms.sent("StopTransaction")
		if len(stops) != 1 {
			t.Fatalf("%d stops", len(stops))
		}
		if s := decode[ocpp16.StopTransactionRequest](t, stops[0]); s.Reason != ocpp16.ReasonLocal {
			t.Errorf("stop %+v", s)
		}
	})
}

func TestFreeChargingRemoteStartAndTheFixedTag(t *testing.T) {
	for _, mode := range []string{"3", "4"} {
		synctest.Test(t, func(t *testing.T) {
			csms := newFakeCSMS()
			r := startRig(t, csms, map[string]string{"FreeCharging": "1", "FreeChargingMode": mode, "RfidTagFreeCharging": "FREE-TAG"}, &kv.Mem{})
			synctest.Wait()
			if mode == "3" {
				if out, _ := call(t, r.cp, "RemoteStartTransaction", `{"idTag":"APP"}`); out != `{"status":"Accepted"}` {
					t.Fatalf("remote start: %s", out)
				}
			}
			r.board.Plug(1, sim.EV{})
			time.Sleep(5 * time.Second)
			r.board.Present("FREE-TAG", 0) // nobody presented it: it stops nothing
			time.Sleep(5 * time.Second)
			r.stop()
			// The charge point going down stops it (Reboot): the fixed tag
			// did not.
			if got := strings.Join(actions(csms), " "); got != "StartTransaction StopTransaction" {
				t.Errorf("mode %s: calls %q (no Authorize, and the fixed tag does not stop)", mode, got)
			} else if reason := decode[ocpp16.StopTransactionRequest](t, csms.sent("StopTransaction")[0]).Reason; reason != ocpp16.ReasonReboot {
				t.Errorf("mode %s: stopped with %s, want Reboot (the fixed tag does not stop)", mode, reason)
			}
			if s := decode[ocpp16.StartTransactionRequest](t, csms.sent("StartTransaction")[0]); s.IdTag != "FREE-TAG" {
				t.Errorf("mode %s: idTag %q", mode, s.IdTag)
			}
		})
	}
}

func TestClockAlignedDataAndStopTxnAlignedData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// synctest starts at midnight: boundaries every 900 s from 0.
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"MeterValueSampleInterval": "0",
			"MeterValuesAlignedData": "Energy.Active.Import.Register,Power.Active.Import",
			"StopTxnAlignedData":     "Energy.Active.Import.Register", "StopTxnSampledData": ""}, &kv.Mem{})
		synctest.Wait()
		time.Sleep(1000 * time.Second) // one idle boundary at 900 s
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 0)
		time.Sleep(1000 * time.Second) // one boundary at 1800 s during the transaction
		r.board.Unplug(1)
		time.Sleep(5 * time.Second)
		r.stop()
		mv := csms.sent("MeterValues")
		if len(mv) != 2 || mv[0].at != 900*time.Second || mv[1].at != 1800*time.Second {
			t.Fatalf("MeterValues at %v, want 15m0s and 30m0s", csms.times("MeterValues"))
		}
		idle := decode[ocpp16.MeterValuesRequest](t, mv[0])
		if idle.TransactionId != nil || len(idle.MeterValue[0].SampledValue) != 2 ||
			idle.MeterValue[0].SampledValue[0].Context != ocpp16.ReadingContextSampleClock {
			t.Errorf("idle aligned values %+v", idle)
		}
		if tx := decode[ocpp16.MeterValuesRequest](t, mv[1]); tx.TransactionId == nil || *tx.TransactionId != 101 {
			t.Errorf("aligned values during the transaction without its id: %+v", tx)
		}
		stop := decode[ocpp16.StopTransactionRequest](t, csms.sent("StopTransaction")[0])
		if len(stop.TransactionData) != 1 || stop.TransactionData[0].SampledValue[0].Context != ocpp16.ReadingContextSampleClock {
			t.Errorf("transactionData %+v, want the one clock-aligned register", stop.TransactionData)
		}
	})
}

func TestMinimumStatusDurationHoldsBackShortStatuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"MinimumStatusDuration": "10"}, &kv.Mem{})
		time.Sleep(20 * time.Second)
		r.board.Plug(1, sim.EV{})
		time.Sleep(3 * time.Second)
		r.board.Unplug(1) // Preparing for 3 s: never reported
		time.Sleep(20 * time.Second)
		r.board.Plug(1, sim.EV{})
		time.Sleep(20 * time.Second)
		r.stop()
		if got := strings.Join(statuses(csms, 1), " "); got != "Available Preparing" {
			t.Errorf("statuses %q", got)
		}
		sn := csms.sent("StatusNotification")
		last := decode[ocpp16.StatusNotificationRequest](t, sn[len(sn)-1])
		if at := sn[len(sn)-1].at; at != 53*time.Second || !last.Timestamp.Equal(time.Date(2000, 1, 1, 0, 0, 43, 0, time.UTC)) {
			t.Errorf("Preparing sent at %v stamped %v; want sent 10 s after it began (43 s), stamped when it began", at, last.Timestamp)
		}
	})
}

func TestEVSideDisconnectKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"StopTransactionOnEVSideDisconnect": "false",
			"UnlockConnectorOnEVSideDisconnect": "false"}, &kv.Mem{})
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 0)
		time.Sleep(5 * time.Second)
		r.board.Unplug(1)
		time.Sleep(5 * time.Second)
		if n := len(csms.sent("StopTransaction")); n != 0 {
			t.Fatal("unplugging stopped the transaction with StopTransactionOnEVSideDisconnect off")
		}
		if st := statuses(csms, 1); st[len(st)-1] != "SuspendedEV" {
			t.Errorf("statuses %v, want SuspendedEV while unplugged", st)
		}
		snap, _ := r.board.Snapshot(1)
		if !snap.Locked || snap.Offered != 0 {
			t.Errorf("unplugged, transaction on: locked %v, offering %v A; want locked and no offer", snap.Locked, snap.Offered)
		}
		r.board.Plug(1, sim.EV{}) // back: charging again
		time.Sleep(5 * time.Second)
		r.board.Present("TAG1", 0)
		time.Sleep(5 * time.Second)
		r.stop()
		if s := decode[ocpp16.StopTransactionRequest](t, csms.sent("StopTransaction")[0]); s.Reason != ocpp16.ReasonLocal {
			t.Errorf("stop %+v", s)
		}
		if got := strings.Join(statuses(csms, 1), " "); !strings.Contains(got, "SuspendedEV Charging") {
			t.Errorf("statuses %q: charging should resume when plugged back", got)
		}
	})
}

func TestTheCableStaysLockedUntilTheTagComesBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"UnlockConnectorOnEVSideDisconnect": "false"}, &kv.Mem{})
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		r.board.Present("TAG1", 0)
		time.Sleep(5 * time.Second)
		r.board.Unplug(1) // stops the transaction (EVDisconnected)
		time.Sleep(time.Second)
		if snap, _ := r.board.Snapshot(1); !snap.Locked {
			t.Fatal("unlocked after the EV-side unplug with UnlockConnectorOnEVSideDisconnect off")
		}
		r.board.Present("OTHER", 0) // not the one: still locked (and it starts nothing without an EV)
		time.Sleep(time.Second)
		if snap, _ := r.board.Snapshot(1); !snap.Locked {
			t.Fatal("another tag unlocked the cable")
		}
		r.board.Present("TAG1", 0)
		time.Sleep(time.Second)
		r.stop()
		if snap, _ := r.board.Snapshot(1); snap.Locked {
			t.Error("the tag that started the transaction did not unlock the cable")
		}
		if s := decode[ocpp16.StopTransactionRequest](t, csms.sent("StopTransaction")[0]); s.Reason != ocpp16.ReasonEVDisconnected {
			t.Errorf("stop %+v", s)
		}
	})
}

// TestATriggerWhileAStatusIsOutIsNotLost: a TriggerMessage for every
// status that comes while the one triggered before is still out gets its
// own StatusNotification.
func TestATriggerWhileAStatusIsOutIsNotLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, nil, &kv.Mem{})
		defer r.stop()
		time.Sleep(time.Minute)
		before := len(statuses(csms, 0))
		csms.mu.Lock()
		csms.answers["StatusNotification"] = func(json.RawMessage) (json.RawMessage, error) {
			time.Sleep(2 * time.Second) // a slow central system
			return json.RawMessage(`{}`), nil
		}
		csms.mu.Unlock()
		call(t, r.cp, "TriggerMessage", `{"requestedMessage":"StatusNotification","connectorId":0}`)
		time.Sleep(time.Second) // the first is out
		call(t, r.cp, "TriggerMessage", `{"requestedMessage":"StatusNotification"}`)
		time.Sleep(10 * time.Second)
		if n := len(statuses(csms, 0)) - before; n != 2 {
			t.Errorf("%d StatusNotifications for connector 0, want 2 (one per trigger)", n)
		}
	})
}
