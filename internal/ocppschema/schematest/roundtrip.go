package schematest

import (
	"bytes"
	"encoding/json"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/ocppschema"
)

// RoundTrip decodes the minimal and the maximal sample of every message
// into its Go type, encodes that again, and checks that the result is
// valid and means the same (date-times compared as instants to the
// millisecond, numbers by value).
func RoundTrip(t *testing.T, v *Version) {
	t.Helper()
	for _, s := range v.Schemas(t) {
		t.Run(s.ID, func(t *testing.T) {
			g := sampler{v, s}
			for _, maximal := range []bool{false, true} {
				orig := MustMarshal(t, g.valid(s.Root, maximal))
				got, err := v.Decode(s.Action, s.Kind, orig)
				if err != nil {
					t.Fatalf("decode %s: %v", orig, err)
				}
				want, _ := v.New(s.Action, s.Kind)
				if reflect.TypeOf(got) != reflect.TypeOf(want) {
					t.Fatalf("Decode returned %T, want %T", got, want)
				}
				again, err := json.Marshal(got)
				if err != nil {
					t.Fatalf("marshal %#v: %v", got, err)
				}
				if err := v.Validate(s.Action, s.Kind, again); err != nil {
					t.Fatalf("re-encoded payload is invalid: %v\n%s", err, again)
				}
				if o, a := g.normalize(s.Root, decodeAny(t, orig)), g.normalize(s.Root, decodeAny(t, again)); !reflect.DeepEqual(o, a) {
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
			d, err := ocppschema.ParseDateTime(v)
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
