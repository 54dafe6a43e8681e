package v16

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/kv"
)

// TestLoadManagementCapsTheOfferAndSeesTheSession: a limit caps the PWM
// offer (under 6 A: no offer, SuspendedEVSE), Loads tells readiness, the
// offer and the current drawn, and an EV that leaves its offer unused is
// done.
func TestLoadManagementCapsTheOfferAndSeesTheSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"FreeCharging": "1", "FreeChargingMode": "4", "RfidTagFreeCharging": "FREE"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		if l := r.cp.Loads()[0]; l.Ready || l.Applied != 0 {
			t.Fatalf("empty connector: %+v", l)
		}
		r.cp.SetLimits(map[int]float64{1: 10})
		r.board.Plug(1, sim.EV{Phases: 3, MaxCurrent: 32, CapacityWh: 1000, SoCPercent: 90})
		select {
		case <-r.cp.LoadsChanged():
		case <-time.After(5 * time.Second):
			t.Fatal("no change signalled on plugging")
		}
		time.Sleep(5 * time.Second) // the EV follows
		l := r.cp.Loads()[0]
		if !l.Ready || l.Applied != 10 || l.Drawn[0] < 9 || l.Drawn[0] > 10 {
			t.Fatalf("capped at 10 A: %+v", l)
		}
		r.cp.SetLimits(map[int]float64{1: 5})
		time.Sleep(5 * time.Second)
		if l := r.cp.Loads()[0]; !l.Ready || l.Applied != 0 || l.Drawn[0] != 0 {
			t.Fatalf("a 5 A cap is no offer: %+v", l)
		}
		if st := statuses(csms, 1); st[len(st)-1] != "SuspendedEVSE" {
			t.Errorf("statuses %v, want SuspendedEVSE last", st)
		}
		r.cp.SetLimits(map[int]float64{1: -1})
		time.Sleep(5 * time.Second)
		if l := r.cp.Loads()[0]; l.Applied != 32 {
			t.Fatalf("uncapped: %+v, want the model's 32 A", l)
		}
		// 100 Wh left of a 1 kWh battery at 22 kW: full in well under a
		// minute, then the offer goes unused.
		time.Sleep(2 * time.Minute)
		if l := r.cp.Loads()[0]; l.Ready {
			t.Fatalf("a full EV is still ready: %+v", l)
		}
		// A quarter of an hour later it is offered current again (it may
		// have a departure timer), and is done again when it leaves it.
		time.Sleep(evRetryAfter)
		if l := r.cp.Loads()[0]; !l.Ready {
			t.Fatalf("not offered again after %v: %+v", evRetryAfter, l)
		}
		time.Sleep(time.Minute)
		if l := r.cp.Loads()[0]; l.Ready {
			t.Fatalf("still ready a minute after the retry: %+v", l)
		}
		r.board.Unplug(1)
		time.Sleep(time.Second)
		if l := r.cp.Loads()[0]; l.Ready || l.Applied != 0 {
			t.Fatalf("after unplugging: %+v", l)
		}
	})
}

// TestLoadManagementSwitchesPhasesWithNoOfferOn: told one phase, the
// connector stops offering, switches and offers again; the EV then draws
// on L1 only; told three, it draws on three again.
func TestLoadManagementSwitchesPhasesWithNoOfferOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"FreeCharging": "1"}, &kv.Mem{})
		defer r.stop()
		synctest.Wait()
		r.board.Plug(1, sim.EV{Phases: 3, MaxCurrent: 16, CapacityWh: 80000})
		time.Sleep(5 * time.Second)
		if l := r.cp.Loads()[0]; l.Drawn != [3]float64{16, 16, 16} {
			t.Fatalf("before: %+v", l)
		}
		r.cp.SetPhases(map[int]int{1: 1})
		time.Sleep(5 * time.Second)
		if l := r.cp.Loads()[0]; l.Drawn != [3]float64{16, 0, 0} || l.Applied != 32 {
			t.Fatalf("on one phase: %+v", l)
		}
		r.cp.SetPhases(map[int]int{1: 3})
		time.Sleep(5 * time.Second)
		if l := r.cp.Loads()[0]; l.Drawn != [3]float64{16, 16, 16} {
			t.Fatalf("back on three: %+v", l)
		}
	})
}

// TestAManagedConnectorOffersNothingUntilLoadManagementDecides: with
// Managed, a car plugged before any share is not offered the model's
// maximum.
func TestAManagedConnectorOffersNothingUntilLoadManagementDecides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms := newFakeCSMS()
		r := startRig(t, csms, map[string]string{"FreeCharging": "1"}, &kv.Mem{}, func(o *Options) { o.Managed = true })
		defer r.stop()
		synctest.Wait()
		r.board.Plug(1, sim.EV{})
		time.Sleep(5 * time.Second)
		if l := r.cp.Loads()[0]; !l.Ready || l.Applied != 0 {
			t.Fatalf("before a share: %+v", l)
		}
		r.cp.SetLimits(map[int]float64{1: 10})
		time.Sleep(time.Second)
		if l := r.cp.Loads()[0]; l.Applied != 10 {
			t.Fatalf("after a share of 10 A: %+v", l)
		}
	})
}
