package devicemodel

import (
	"os"
	"strings"
	"testing"

	"github.com/evse-dev/evse/internal/config"
)

// TestEveryKeyIsOneVariable: every key a central system sees over 1.6 is
// a variable of the device model, and no two variables name one key but
// the two ItemsPerMessage instances of GetConfigurationMaxKeys and
// AllowOfflineTxForUnknownId (a standard boolean, and Ensto's mode).
func TestEveryKeyIsOneVariable(t *testing.T) {
	cat, err := config.NewCatalogue(nil)
	if err != nil {
		t.Fatal(err)
	}
	m := New(cat)
	byKey := map[string]int{}
	for _, v := range m.Variables() {
		if v.Key == "" {
			continue // a fixed value
		}
		byKey[v.Key]++
		got, ok, _ := m.Find(v.Component, v.Name, v.Instance)
		if !ok || got.Key != v.Key {
			t.Errorf("%s.%s[%s] is not found again", v.Component, v.Name, v.Instance)
		}
	}
	for _, k := range cat.Keys() {
		switch {
		case k.Section == config.Local || k.SameAs != "":
			if byKey[k.Name] != 0 {
				t.Errorf("%s is not seen over OCPP, yet a variable", k.Name)
			}
		case k.Name == "GetConfigurationMaxKeys" || k.Name == "AllowOfflineTxForUnknownId":
			if byKey[k.Name] != 2 {
				t.Errorf("%s is %d variables, want 2", k.Name, byKey[k.Name])
			}
		case byKey[k.Name] != 1:
			t.Errorf("%s is %d variables, want 1", k.Name, byKey[k.Name])
		}
	}
}

// TestFindTellsUnknownComponentsFromUnknownVariables.
func TestFindTellsUnknownComponentsFromUnknownVariables(t *testing.T) {
	cat, _ := config.NewCatalogue(nil)
	m := New(cat)
	for _, c := range []struct {
		component, name, instance string
		ok, known                 bool
		key                       string
	}{
		{"OCPPCommCtrlr", "HeartbeatInterval", "", true, true, "HeartbeatInterval"},
		{"OCPPCommCtrlr", "MessageAttempts", "TransactionEvent", true, true, "TransactionMessageAttempts"},
		{"OCPPCommCtrlr", "MessageAttempts", "", false, true, ""},
		{"OCPPCommCtrlr", "Coffee", "", false, true, ""},
		{"CoffeeCtrlr", "HeartbeatInterval", "", false, false, ""},
		{DLM, "DlmInput1CurrOffset", "Phase2", true, true, "DlmInput1CurrOffset Phase2"},
		{Ensto, "FreeChargingMode", "", true, true, "FreeChargingMode"},
	} {
		v, ok, known := m.Find(c.component, c.name, c.instance)
		if ok != c.ok || known != c.known || v.Key != c.key {
			t.Errorf("%s.%s[%s]: %v %v %q, want %v %v %q", c.component, c.name, c.instance, ok, known, v.Key, c.ok, c.known, c.key)
		}
	}
}

// TestViewsOfKeysWithOtherValues: AllowOfflineTxForUnknownId reads as a
// boolean over 2.0.1 and takes only booleans; rate units read as A and W.
func TestViewsOfKeysWithOtherValues(t *testing.T) {
	cat, _ := config.NewCatalogue(nil)
	m := New(cat)
	off, _, _ := m.Find("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "")
	for in, want := range map[string]string{"false": "false", "true": "true", "ImmediatelyWhenPlugged": "true"} {
		if got := off.Read(in); got != want {
			t.Errorf("AllowOfflineTxForUnknownId %s reads %s, want %s", in, got, want)
		}
	}
	if v, ok := off.ToKey("TRUE"); !ok || v != "true" {
		t.Errorf("writing TRUE: %q %v", v, ok)
	}
	if _, ok := off.ToKey("ImmediatelyWhenPlugged"); ok {
		t.Error("the boolean view took ImmediatelyWhenPlugged")
	}
	unit, _, _ := m.Find("SmartChargingCtrlr", "RateUnit", "")
	if got := unit.Read("Current"); got != "A" {
		t.Errorf("rate unit Current reads %s", got)
	}
	if _, ok := unit.ToKey("A"); ok {
		t.Error("a read-only view was written")
	}
}

// TestTheDocsTableIsTheModel: docs/ocpp201.md's table of variables is the
// one the code makes (EVSE_UPDATE_DOCS=1 writes it).
func TestTheDocsTableIsTheModel(t *testing.T) {
	cat, _ := config.NewCatalogue(nil)
	want := New(cat).Markdown(cat)
	const path = "../../docs/ocpp201.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- devicemodel:begin -->\n", "<!-- devicemodel:end -->"
	i, j := strings.Index(string(doc), begin), strings.Index(string(doc), end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q section", path, begin, end)
	}
	got := string(doc[i+len(begin) : j])
	if got == want {
		return
	}
	if os.Getenv("EVSE_UPDATE_DOCS") == "1" {
		out := string(doc[:i+len(begin)]) + want + string(doc[j:])
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s's device model table is stale: EVSE_UPDATE_DOCS=1 go test ./internal/devicemodel", path)
}
