package ocpp16

import (
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestActions(t *testing.T) {
	as := Actions()
	if len(as) != 39 {
		t.Errorf("%d actions, want 39", len(as))
	}
	if !sort.SliceIsSorted(as, func(i, j int) bool { return as[i].Name < as[j].Name }) {
		t.Error("Actions is not sorted by name")
	}
	perProfile := map[Profile]int{}
	for _, a := range as {
		perProfile[a.Profile]++
		if a.Security != (a.Profile == ProfileSecurity) {
			t.Errorf("%s: Security %t in profile %s", a.Name, a.Security, a.Profile)
		}
		if l, ok := Lookup(a.Name); !ok || l.Name != a.Name {
			t.Errorf("Lookup(%q) = %v, %t", a.Name, l.Name, ok)
		}
		req, resp := reflect.TypeOf(a.NewRequest()), reflect.TypeOf(a.NewResponse())
		if req.String() != "*ocpp16."+a.Name+"Request" || resp.String() != "*ocpp16."+a.Name+"Response" {
			t.Errorf("%s: NewRequest gives %v, NewResponse %v", a.Name, req, resp)
		}
		// A charge point sends notifications; the central system sends
		// commands. Spot-check the table by name.
		if strings.HasSuffix(a.Name, "Notification") && a.Initiator != InitiatorChargePoint {
			t.Errorf("%s: initiator %v", a.Name, a.Initiator)
		}
	}
	want := map[Profile]int{
		ProfileCore: 16, ProfileFirmwareManagement: 4, ProfileLocalAuthListManagement: 2,
		ProfileReservation: 2, ProfileSmartCharging: 3, ProfileRemoteTrigger: 1, ProfileSecurity: 11,
	}
	if !reflect.DeepEqual(perProfile, want) {
		t.Errorf("actions per profile %v, want %v", perProfile, want)
	}

	dt, _ := Lookup("DataTransfer")
	if dt.Initiator != InitiatorBoth || !dt.SentBy(InitiatorChargePoint) || !dt.SentBy(InitiatorCentralSystem) {
		t.Errorf("DataTransfer: initiator %v", dt.Initiator)
	}
	boot, _ := Lookup("BootNotification")
	if !boot.SentBy(InitiatorChargePoint) || boot.SentBy(InitiatorCentralSystem) || boot.Profile != ProfileCore {
		t.Errorf("BootNotification: %+v", boot)
	}
	if _, ok := Lookup("bootnotification"); ok {
		t.Error("Lookup is not case-sensitive")
	}
	if s := InitiatorBoth.String(); s != "ChargePoint|CentralSystem" {
		t.Errorf("InitiatorBoth.String() = %q", s)
	}

	// The slice is the caller's.
	as[0].Name = "changed"
	if Actions()[0].Name == "changed" {
		t.Error("Actions returns shared memory")
	}
}
