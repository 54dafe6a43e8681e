package ocppgen

import (
	"strings"
	"testing"
)

func TestConstName(t *testing.T) {
	for in, want := range map[string]string{
		"Interruption.Begin": "ReadingContextInterruptionBegin",
		"L1-N":               "ReadingContextL1N",
		"kWh":                "ReadingContextKWh",
		"SoC":                "ReadingContextSoC",
	} {
		if got, err := constName("ReadingContext", in); err != nil || got != want {
			t.Errorf("constName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := constName("X", "a/b"); err == nil {
		t.Error(`constName("a/b"): no error`)
	}
}

func TestPowerOfTen(t *testing.T) {
	for in, want := range map[string]int{"1": 0, "0.1": -1, "0.001": -3, "10": 1, "1000": 3} {
		if got, ok := powerOfTen(in); !ok || got != want {
			t.Errorf("powerOfTen(%s) = %d, %t", in, got, ok)
		}
	}
	for _, in := range []string{"0.5", "2", "0.11", "0", "1e1", "01"} {
		if _, ok := powerOfTen(in); ok {
			t.Errorf("powerOfTen(%s) accepted", in)
		}
	}
}

// With every feature on, the generator still refuses what it cannot
// express.
func TestGenerateRefusesWithFeatures(t *testing.T) {
	cfg := &Config{
		Package: "p", Version: "9",
		Actions:        map[string]ActionInfo{"Heartbeat": {Phrase: "x"}},
		DefinitionName: func(def string, enum bool) string { return strings.TrimSuffix(def, "Type") },
		Features:       Features{Annotations: true, MaxItems: true, AdditionalItems: true, Bounds: true, Any: true, OpenObjects: true},
	}
	schema := func(id, props string) string {
		return `{"$id":"urn:` + id + `","$schema":"http://json-schema.org/draft-07/schema","type":"object",` +
			`"additionalProperties":false,"properties":` + props +
			`,"definitions":{"OType":{"type":"object","properties":{}}}}`
	}
	tests := []struct{ name, props, want string }{
		{"fractional bound", `{"n":{"type":"number","minimum":0.5}}`, "only integers"},
		{"min above max", `{"n":{"type":"integer","minimum":5,"maximum":1}}`, "minimum is above maximum"},
		{"additionalItems true", `{"a":{"type":"array","items":{"type":"string"},"additionalItems":true}}`, "additionalItems must be false"},
		{"untyped with constraint", `{"d":{"maxLength":3}}`, "without a type"},
		{"inline object", `{"o":{"type":"object","additionalProperties":false,"properties":{}}}`, "not a definition"},
		{"open object not hand-written", `{"o":{"$ref":"#/definitions/OType"}}`, "only hand-written types"},
		{"unknown keyword", `{"n":{"type":"integer","exclusiveMinimum":1}}`, `keyword "exclusiveMinimum" is not supported`},
	}
	for _, tc := range tests {
		doc := `[` + schema("Heartbeat.req", tc.props) + `,` + schema("Heartbeat.conf", `{}`) + `]`
		_, err := Generate(cfg, []byte(doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}
