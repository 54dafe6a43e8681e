package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evse-dev/evse/internal/ocppgen"
)

// schemaFile finds ocpp1_6-schemas.json as the ocpp16 tests do, or skips.
func schemaFile(t *testing.T) string {
	t.Helper()
	p := os.Getenv("EVSE_OCPP_SCHEMAS")
	if p == "" {
		p = besideModule(t)
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("the official OCPP 1.6 schemas are not at %q (set EVSE_OCPP_SCHEMAS to their path): cannot check the generated files", p)
	}
	return p
}

// besideModule returns ../shared/ocpp/ocpp1_6-schemas.json from the module
// root.
func besideModule(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the working directory")
		}
		dir = parent
	}
	return filepath.Join(dir, "..", "shared", "ocpp", "ocpp1_6-schemas.json")
}

// TestGeneratedFilesUpToDate runs the generator into a temporary directory
// and compares its output with the committed files.
func TestGeneratedFilesUpToDate(t *testing.T) {
	src := schemaFile(t)
	tmp := t.TempDir()
	if err := ocppgen.Run(config16(), src, tmp); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("generator wrote %d files, want 2", len(entries))
	}
	for _, e := range entries {
		want, err := os.ReadFile(filepath.Join(tmp, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", "..", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date: run go generate ./internal/ocpp16", e.Name())
		}
	}
}

// The generator must refuse, loudly, what it does not understand.
func TestGenerateRefuses(t *testing.T) {
	schema := func(id, props string) string {
		return `{"$id":"urn:` + id + `","$schema":"http://json-schema.org/draft-07/schema","type":"object",` +
			`"additionalProperties":false,"properties":` + props + `}`
	}
	tests := []struct {
		name, doc, want string
	}{
		{"unknown action", `[` + schema("Frobnicate.req", `{}`) + `]`, "not in actionInfo"},
		{"missing .conf", `[` + schema("Heartbeat.req", `{}`) + `]`, "needs both"},
		{"unnamed enum", `[` + schema("Heartbeat.req", `{"mode":{"type":"string","enum":["A"]}}`) + `]`,
			"Heartbeat.req/mode has no name"},
		{"unnamed object", `[` + schema("Heartbeat.req", `{"o":{"type":"object","additionalProperties":false,"properties":{}}}`) + `]`,
			"Heartbeat.req/o has no name"},
		{"open object", `[` + schema("Heartbeat.req", `{"o":{"type":"object","properties":{}}}`) + `]`,
			"without additionalProperties: false"},
		{"2.0.1 keyword", `[` + schema("Heartbeat.req", `{"a":{"type":"array","items":{"type":"string"},"maxItems":2}}`) + `]`,
			`keyword "maxItems" is not supported`},
		{"annotation", `[` + schema("Heartbeat.req", `{"n":{"type":"integer","description":"x"}}`) + `]`,
			`keyword "description" is not supported`},
		{"unknown keyword", `[` + schema("Heartbeat.req", `{"n":{"type":"integer","minimum":1}}`) + `]`,
			`keyword "minimum" is not supported`},
		{"unknown format", `[` + schema("Heartbeat.req", `{"n":{"type":"string","format":"email"}}`) + `]`,
			"format email is not supported"},
		{"odd multipleOf", `[` + schema("Heartbeat.req", `{"n":{"type":"number","multipleOf":0.5}}`) + `]`,
			"only powers of ten"},
		{"type list", `[` + schema("Heartbeat.req", `{"n":{"type":["string","null"]}}`) + `]`,
			"single type name"},
		{"remote ref", `[` + schema("Heartbeat.req", `{"n":{"$ref":"other.json#/x"}}`) + `]`,
			"only local"},
	}
	for _, tc := range tests {
		_, err := ocppgen.Generate(config16(), []byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}
