package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/evse-dev/evse/internal/ocppgen"
	"github.com/evse-dev/evse/internal/ocppschema/schematest"
)

// TestGeneratedFilesUpToDate runs the generator into a temporary directory
// and compares its output with the committed files.
func TestGeneratedFilesUpToDate(t *testing.T) {
	src := schematest.SchemaFileOrSkip(t, "ocpp1_6-schemas.json", "1.6", "cannot check the generated files")
	schematest.GeneratedFilesUpToDate(t, func(dst string) error {
		return ocppgen.Run(config16(), src, dst)
	}, filepath.Join("..", ".."), "ocpp16")
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
