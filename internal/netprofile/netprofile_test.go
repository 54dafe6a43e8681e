package netprofile

import (
	"errors"
	"slices"
	"testing"

	"github.com/evse-dev/evse/internal/kv"
)

func TestCheck(t *testing.T) {
	ws := Profile{URL: "ws://127.0.0.1:9000/ocpp", SecurityProfile: 0, MessageTimeout: 30}
	wss := func(sp int) Profile {
		return Profile{URL: "wss://csms.example:443/ocpp", SecurityProfile: sp, MessageTimeout: 30}
	}
	all := Rules{SecurityProfile: 0, Password: true, Certificate: true, Active: InstallerSlot}
	with := func(f func(*Rules)) Rules { r := all; f(&r); return r }
	for _, tc := range []struct {
		name   string
		slot   int
		p      Profile
		r      Rules
		reason string // "" accepted
	}{
		{"ws at profile 0", 1, ws, all, ""},
		{"wss at profile 3", 3, wss(3), all, ""},
		{"ws at profile 1", 2, Profile{URL: "ws://h/ocpp", SecurityProfile: 1, MessageTimeout: 1}, all, ""},
		{"wss at profile 1", 2, wss(1), all, ""},
		{"the installer's slot", 0, ws, all, ReasonSlot},
		{"a negative slot", -1, ws, all, ReasonSlot},
		{"beyond the last slot", LastSlot + 1, ws, all, ReasonSlot},
		{"the slot in use", 2, ws, with(func(r *Rules) { r.Active = 2 }), ReasonSlot},
		{"a lower security profile", 1, wss(1), with(func(r *Rules) { r.SecurityProfile = 2 }), ReasonDowngrade},
		{"the same security profile", 1, wss(2), with(func(r *Rules) { r.SecurityProfile = 2 }), ""},
		{"security profile 4", 1, wss(4), all, ReasonInvalid},
		{"security profile -1", 1, Profile{URL: "ws://h/", SecurityProfile: -1, MessageTimeout: 5}, all, ReasonInvalid},
		{"profile 2 over ws", 1, Profile{URL: "ws://h/ocpp", SecurityProfile: 2, MessageTimeout: 5}, all, ReasonInvalid},
		{"profile 3 over ws", 1, Profile{URL: "ws://h/ocpp", SecurityProfile: 3, MessageTimeout: 5}, all, ReasonInvalid},
		{"profile 1 without a password", 1, Profile{URL: "ws://h/ocpp", SecurityProfile: 1, MessageTimeout: 5}, with(func(r *Rules) { r.Password = false }), ReasonInvalid},
		{"profile 2 without a password", 1, wss(2), with(func(r *Rules) { r.Password = false }), ReasonInvalid},
		{"profile 3 without a certificate", 1, wss(3), with(func(r *Rules) { r.Certificate = false }), ReasonInvalid},
		{"profile 3 without a password", 1, wss(3), with(func(r *Rules) { r.Password = false }), ""},
		{"http", 1, Profile{URL: "http://h/ocpp", MessageTimeout: 5}, all, ReasonInvalid},
		{"no host", 1, Profile{URL: "ws:///ocpp", MessageTimeout: 5}, all, ReasonInvalid},
		{"a user in the URL", 1, Profile{URL: "ws://cp:secret@h/ocpp", MessageTimeout: 5}, all, ReasonInvalid},
		{"a fragment", 1, Profile{URL: "ws://h/ocpp#x", MessageTimeout: 5}, all, ReasonInvalid},
		{"port 0", 1, Profile{URL: "ws://h:0/ocpp", MessageTimeout: 5}, all, ReasonInvalid},
		{"port 70000", 1, Profile{URL: "ws://h:70000/ocpp", MessageTimeout: 5}, all, ReasonInvalid},
		{"not a URL", 1, Profile{URL: "::", MessageTimeout: 5}, all, ReasonInvalid},
		{"messageTimeout 0", 1, Profile{URL: "ws://h/ocpp"}, all, ReasonInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.slot, tc.p, tc.r)
			var rej *Rejection
			switch {
			case tc.reason == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.reason != "" && !errors.As(err, &rej):
				t.Fatalf("got %v, want a rejection %s", err, tc.reason)
			case tc.reason != "" && rej.Reason != tc.reason:
				t.Fatalf("reason %s (%s), want %s", rej.Reason, rej.Info, tc.reason)
			}
		})
	}
}

func TestOrder(t *testing.T) {
	has := func(s int) bool { return s == 1 || s == 2 }
	for _, tc := range []struct {
		priority  []int
		connected int
		want      []int
	}{
		{[]int{0}, 0, []int{0}},
		{[]int{1, 0}, 0, []int{1, 0}},
		{[]int{1}, 0, []int{1, 0}},
		{[]int{3, 1}, 0, []int{1, 0}}, // slot 3 has no profile
		{[]int{2}, 1, []int{2, 1}},
		{[]int{3}, 3, []int{0}},
		{nil, 0, []int{0}},
	} {
		if got := Order(tc.priority, tc.connected, has); !slices.Equal(got, tc.want) {
			t.Errorf("Order(%v, %d) = %v, want %v", tc.priority, tc.connected, got, tc.want)
		}
	}
}

func TestProfilesAndStateAreKept(t *testing.T) {
	db := &kv.Mem{}
	if _, ok, err := Get(db, 1); ok || err != nil {
		t.Fatalf("an empty store has slot 1: %v %v", ok, err)
	}
	p := Profile{URL: "wss://h/ocpp", SecurityProfile: 2, MessageTimeout: 30}
	if err := Put(db, 1, p); err != nil {
		t.Fatal(err)
	}
	if err := Put(db, 0, p); err == nil {
		t.Fatal("slot 0 was kept")
	}
	if got, ok, err := Get(db, 1); !ok || err != nil || got != p {
		t.Fatalf("Get = %+v %v %v", got, ok, err)
	}
	st, err := ReadState(db)
	if err != nil || st != (State{InstallerSecurity: -1}) {
		t.Fatalf("first state %+v %v", st, err)
	}
	if err := SetActive(db, 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := SetConnected(db, 1); err != nil {
		t.Fatal(err)
	}
	if st, err := ReadState(db); err != nil || st != (State{Active: 1, Connected: 1, InstallerSecurity: 1}) {
		t.Fatalf("state %+v %v", st, err)
	}
	db.SetFail(errors.New("disk full"))
	if err := Put(db, 2, p); err == nil {
		t.Fatal("a failing store kept a profile")
	}
}
