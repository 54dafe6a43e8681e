package ocppschema

import (
	"testing"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// TestDialects: the two codes that differ between versions come from the
// Dialect; the others are the same in both.
func TestDialects(t *testing.T) {
	root := &Node{Type: Object, Props: []Prop{
		{Name: "a", Required: true, Node: &Node{Type: Array, Items: &Node{Type: Integer}, MinItems: 1, MaxItems: 2}},
		{Name: "x", Node: &Node{Type: Any}},
	}}
	tests := []struct {
		payload       string
		code16, code2 rpc.ErrorCode
		desc          string
	}{
		{`{"a":[1]}`, "", "", ""},
		{`{"a":[1],"x":{"y":[null]}}`, "", "", ""},
		{`[`, rpc.FormationViolation, rpc.FormatViolation, "payload is not JSON: unexpected EOF"},
		{`{"a":[1],"b":1}`, rpc.FormationViolation, rpc.FormatViolation, "b: property not allowed"},
		{`{"a":[1],"a":[1]}`, rpc.FormationViolation, rpc.FormatViolation, "a: property repeated"},
		{`{}`, rpc.OccurenceConstraintViolation, rpc.OccurrenceConstraintViolation, "a: required property missing"},
		{`{"a":[]}`, rpc.OccurenceConstraintViolation, rpc.OccurrenceConstraintViolation, "a: 0 items, at least 1 required"},
		{`{"a":[1,2,3]}`, rpc.OccurenceConstraintViolation, rpc.OccurrenceConstraintViolation, "a: 3 items, at most 2 allowed"},
		{`{"a":[1.5]}`, rpc.TypeConstraintViolation, rpc.TypeConstraintViolation, "a[0]: 1.5 is not an integer"},
	}
	for _, tc := range tests {
		for _, d := range []struct {
			Dialect
			want rpc.ErrorCode
		}{{OCPP16, tc.code16}, {OCPP201, tc.code2}} {
			_, _, err := d.Validate(root, []byte(tc.payload), Options{})
			switch {
			case tc.desc == "" && err != nil:
				t.Errorf("%s %s: %v", d.Name, tc.payload, err)
			case tc.desc != "" && (err == nil || err.Code != d.want || err.Description != tc.desc):
				t.Errorf("%s %s: got %v; want %s %q", d.Name, tc.payload, err, d.want, tc.desc)
			}
		}
	}
}

// TestCanonical: the canonical copy is what encoding/json reads as the
// payload meant, with other properties of an open object kept as they are.
func TestCanonical(t *testing.T) {
	root := &Node{Type: Object, Open: true, Props: []Prop{
		{Name: "n", Node: &Node{Type: Integer}},
		{Name: "t", Node: &Node{Type: String, Format: DateTimeFormat}},
	}}
	in := `{ "n": 3.0, "t": "2026-12-05T10:00:00", "z": [ 1, "\u00e9" ] }`
	out, notes, err := OCPP201.Validate(root, []byte(in), Options{Canonical: true, LocalTimesAsUTC: true})
	want := `{"n":3,"t":"2026-12-05T10:00:00Z","z":[ 1, "\u00e9" ]}`
	if err != nil || string(out) != want || len(notes) != 1 {
		t.Errorf("got %s, %q, %v; want %s and a note", out, notes, err, want)
	}
}
