package model

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "model.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadKeepsNeutralValuesForWhatIsLeftOut(t *testing.T) {
	m, err := Load(write(t, `{"vendor":"Ensto","model":"EVF200","connectors":2,"config":{"GetConfigurationMaxKeys":"50"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Vendor != "Ensto" || m.Model != "EVF200" || m.Phases != 3 || m.MaxCurrent != 32 || m.FirmwareVersion != "evse "+Version {
		t.Errorf("loaded %+v", m)
	}
	d := m.ConfigDefaults()
	if d["NumberOfConnectors"] != "2" || d["ConnectorPhaseRotation"] != "1.RST,2.RST" ||
		d["ConnectorPhaseRotationMaxLength"] != "2" || d["GetConfigurationMaxKeys"] != "50" {
		t.Errorf("config defaults %v", d)
	}
	if len(Default().ConfigDefaults()) != 0 {
		t.Errorf("the neutral model changes defaults: %v", Default().ConfigDefaults())
	}
}

func TestLoadRefusesBadModels(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{"vendor":"Ensto","colour":"red"}`, "unknown field"},
		{`{"vendor":""}`, "vendor is required"},
		{`{"vendor":"A vendor name far too long"}`, "vendor is longer than 20"},
		{`{"connectors":0}`, "connectors"},
		{`{"phases":2}`, "phases"},
		{`{"maxCurrent":5}`, "maxCurrent"},
		{`not json`, "invalid character"},
		{`{"vendor":"A"} {"vendor":"B"}`, "more than one JSON value"},
	} {
		_, err := Load(write(t, c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %q", c.body, err, c.want)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file accepted")
	}
}
