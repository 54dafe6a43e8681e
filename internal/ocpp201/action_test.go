package ocpp201

import (
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestActions(t *testing.T) {
	as := Actions()
	if len(as) != 64 {
		t.Errorf("%d actions, want 64", len(as))
	}
	if !sort.SliceIsSorted(as, func(i, j int) bool { return as[i].Name < as[j].Name }) {
		t.Error("Actions is not sorted by name")
	}
	perBlock := map[Block]int{}
	for _, a := range as {
		perBlock[a.Block]++
		if l, ok := Lookup(a.Name); !ok || l.Name != a.Name {
			t.Errorf("Lookup(%q) = %v, %t", a.Name, l.Name, ok)
		}
		req, resp := reflect.TypeOf(a.NewRequest()), reflect.TypeOf(a.NewResponse())
		if req.String() != "*ocpp201."+a.Name+"Request" || resp.String() != "*ocpp201."+a.Name+"Response" {
			t.Errorf("%s: NewRequest gives %v, NewResponse %v", a.Name, req, resp)
		}
		// Notifications come from the charging station.
		if (strings.HasPrefix(a.Name, "Notify") || strings.HasSuffix(a.Name, "Notification")) && a.Initiator != InitiatorChargingStation {
			t.Errorf("%s: initiator %v", a.Name, a.Initiator)
		}
	}
	for b := Block('A'); b <= 'P'; b++ {
		if perBlock[b] == 0 {
			t.Errorf("block %v has no action", b)
		}
	}
	if len(perBlock) != 16 {
		t.Errorf("actions in %d blocks, want 16: %v", len(perBlock), perBlock)
	}

	dt, _ := Lookup("DataTransfer")
	if dt.Initiator != InitiatorBoth || dt.Block != BlockDataTransfer {
		t.Errorf("DataTransfer: %+v", dt)
	}
	boot, _ := Lookup("BootNotification")
	if !boot.SentBy(InitiatorChargingStation) || boot.SentBy(InitiatorCSMS) || boot.Block != BlockProvisioning {
		t.Errorf("BootNotification: %+v", boot)
	}
	if s := BlockProvisioning.String(); s != "B Provisioning" {
		t.Errorf("BlockProvisioning.String() = %q", s)
	}
	if s := InitiatorBoth.String(); s != "ChargingStation|CSMS" {
		t.Errorf("InitiatorBoth.String() = %q", s)
	}
	if _, ok := Lookup("heartbeat"); ok {
		t.Error("Lookup is not case-sensitive")
	}
	as[0].Name = "changed"
	if Actions()[0].Name == "changed" {
		t.Error("Actions returns shared memory")
	}
}
