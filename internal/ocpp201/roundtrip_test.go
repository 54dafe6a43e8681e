package ocpp201

import (
	"bytes"
	"encoding/json"
	"math/big"
	"reflect"
	"testing"
	"time"
)

// TestRoundTrip decodes the minimal and the maximal sample of every message
// into its Go type, encodes that again, and checks that the result is
// valid and means the same (date-times compared as instants to the
// millisecond, numbers by value).
func TestRoundTrip(t *testing.T) {
	for _, s := range officialSchemas(t) {
		t.Run(s.id, func(t *testing.T) {
			g := sampler{s}
			for _, maximal := range []bool{false, true} {
				orig := mustMarshal(t, g.valid(s.root, maximal))
				v, err := Decode(s.action, s.kind, orig)
				if err != nil {
					t.Fatalf("decode %s: %v", orig, err)
				}
				a, _ := Lookup(s.action)
				want := a.NewRequest()
				if s.kind == Response {
					want = a.NewResponse()
				}
				if reflect.TypeOf(v) != reflect.TypeOf(want) {
					t.Fatalf("Decode returned %T, want %T", v, want)
				}
				again, err := json.Marshal(v)
				if err != nil {
					t.Fatalf("marshal %#v: %v", v, err)
				}
				if err := Validate(s.action, s.kind, again); err != nil {
					t.Fatalf("re-encoded payload is invalid: %v\n%s", err, again)
				}
				if o, a := g.normalize(s.root, decodeAny(t, orig)), g.normalize(s.root, decodeAny(t, again)); !reflect.DeepEqual(o, a) {
					t.Errorf("round trip changed the payload\n got %s\nwant %s", again, orig)
				}
			}
		})
	}
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// normalize rewrites date-times as UTC instants to the millisecond and
// numbers as exact rationals, so that equal meanings compare equal.
func (g sampler) normalize(sch map[string]any, v any) any {
	sch = g.s.resolve(sch)
	if sch["type"] == nil {
		return v // any value: kept as it is
	}
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		props, _ := sch["properties"].(map[string]any)
		for k, e := range v {
			if props[k] == nil {
				out[k] = e // a property of customData's own
				continue
			}
			out[k] = g.normalize(g.child(sch, k), e)
		}
		return out
	case []any:
		out := []any{}
		for _, e := range v {
			out = append(out, g.normalize(sch["items"].(map[string]any), e))
		}
		return out
	case string:
		if sch["format"] == "date-time" {
			d, err := ParseDateTime(v)
			if err != nil {
				return v
			}
			return d.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
		}
		return v
	case json.Number:
		r, ok := new(big.Rat).SetString(string(v))
		if !ok {
			return v
		}
		return r.RatString()
	}
	return v
}
