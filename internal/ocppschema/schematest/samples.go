package schematest

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// Samples are built from the official schemas themselves (not from the
// generated descriptors), so that the comparison with the oracle does not
// take our reading of the schemas for granted. One generator serves both
// versions: what only 2.0.1 has (minimum and maximum, maxItems, values of
// any type, objects open to more properties such as customData) does not
// occur in the 1.6 schemas, whose generator refuses it.

// sample is one payload and what should become of it.
type sample struct {
	name    string
	payload any
	// want is the code our validator should answer with; "" for a valid
	// payload.
	want rpc.ErrorCode
	// deviation marks a payload the oracle accepts and we refuse on purpose,
	// with TypeConstraintViolation (a number the Go types cannot hold).
	deviation bool
}

// step is a property name (string) or an array index (int).
type step any

func pathString(p []step) string {
	var b strings.Builder
	for _, s := range p {
		switch s := s.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		}
	}
	if b.Len() == 0 {
		return "payload"
	}
	return b.String()
}

// Values used as replacements.
var (
	validDateTimes = []string{
		"2026-11-24T10:00:00Z",
		"2026-11-24t10:00:00z",
		"2026-11-24T10:00:00.1Z",
		"2026-11-24T10:00:00.123456789123+05:30",
		"2026-11-24T10:00:00-12:00",
		"2016-12-31T23:59:60Z",
		"2017-01-01T00:59:60+01:00",
		"2024-02-29T00:00:00Z",
		"0000-01-01T00:00:00Z",
		"9999-12-31T23:59:59.999Z",
	}
	invalidDateTimes = []string{
		"",
		"2026-11-24",
		"10:00:00Z",
		"2026-11-24 10:00:00Z",
		"2026-11-24T10:00:00",
		"2026-11-24T10:00Z",
		"2026-11-24T10:00:00+0100",
		"2026-11-24T10:00:00+01",
		"2026-11-24T10:00:00.Z",
		"2026-13-01T00:00:00Z",
		"2026-00-01T00:00:00Z",
		"2026-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z",
		"2026-11-24T24:00:00Z",
		"2026-11-24T10:60:00Z",
		"2026-11-24T10:00:61Z",
		"2026-11-24T10:59:60Z",
		"2026-11-24T10:00:00+24:00",
		"2026-11-24T10:00:00+01:60",
		"26-11-24T10:00:00Z",
		"2026/11/24T10:00:00Z",
		"24/11/2026 10:00",
		"2026-11-24T10:00:00ZZ",
		"２026-11-24T10:00:00Z",
		"Tue, 24 Nov 2026 10:00:00 GMT",
	}
	validURIs = []string{
		"https://csms.example.com/firmware/1.2.bin",
		"ftp://user:secret@192.0.2.7:2121/diagnostics/",
		"ftp://[2001:db8::1]/fw.bin",
		"urn:isbn:0451450523",
		"mailto:ops@example.com",
		"x:",
	}
	invalidURIs = []string{
		"",
		"csms.example.com/firmware.bin",
		"/firmware.bin",
		"//host/path",
		"http://[fe80::1%25en0]/fw",
		"http://1:2:3/",
		"http://[::1/",
		"ht tp://host/",
		"1http://host/",
	}
	// Integers written in other forms that still are integers.
	validIntegers = []string{"0", "-0", "3.0", "1e2", "1.5E+1", "120e-1", "9223372036854775807", "-9223372036854775808"}
	// Not integers.
	fractionalNumbers = []string{"7.5", "1e-1", "0.0001", "-3.25"}
	// Integers the Go types cannot hold, which the oracle accepts.
	hugeIntegers = []string{"9223372036854775808", "-9223372036854775809", "1e19", "1e400"}

	validTenths   = []string{"0", "0.1", "-0.3", "1e1", "12.30", "1E-1", "0.0", "7", "123456789.1", "5e-1"}
	invalidTenths = []string{"1.25", "0.30000000000000004", "1e-2", "-0.05", "1e-400", "3.14159"}
	hugeNumbers   = []string{"1e400", "-2e308"}

	// Values for a schema without a type, all valid.
	anyValues = []any{nil, true, json.Number("-1.5e3"), "text", map[string]any{"k": []any{json.Number("1"), "x", nil}}, []any{}}
)

// bounds returns the minimum and maximum of an integer or number schema,
// nil where there is none.
func bounds(sch map[string]any) (lo, hi *big.Rat) {
	get := func(k string) *big.Rat {
		n, ok := sch[k].(json.Number)
		if !ok {
			return nil
		}
		r, _ := new(big.Rat).SetString(string(n))
		return r
	}
	return get("minimum"), get("maximum")
}

// inBounds reports whether the number text s is within sch's bounds.
func inBounds(sch map[string]any, s string) bool {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return false
	}
	lo, hi := bounds(sch)
	return (lo == nil || r.Cmp(lo) >= 0) && (hi == nil || r.Cmp(hi) <= 0)
}

// boundaryValues returns each bound and its neighbours.
func boundaryValues(sch map[string]any) []string {
	var out []string
	lo, hi := bounds(sch)
	for _, b := range []*big.Rat{lo, hi} {
		if b == nil {
			continue
		}
		for _, d := range []int64{-1, 0, 1} {
			out = append(out, new(big.Rat).Add(b, big.NewRat(d, 1)).RatString())
		}
		out = append(out, new(big.Rat).Add(b, big.NewRat(1, 2)).FloatString(1))
	}
	return out
}

// wrongTypeValues are values of each JSON type, for type mutations.
func wrongTypeValues(typ string) []any {
	all := []struct {
		v     any
		valid []string // the schema types it is valid for
	}{
		{"a string", []string{"string"}},
		{json.Number("7"), []string{"integer", "number"}},
		{json.Number("7.5"), []string{"number"}},
		{true, []string{"boolean"}},
		{nil, nil},
		{map[string]any{}, []string{"object"}},
		{[]any{}, []string{"array"}},
	}
	var out []any
	for _, c := range all {
		ok := false
		for _, t := range c.valid {
			ok = ok || t == typ
		}
		if !ok {
			out = append(out, c.v)
		}
	}
	return out
}

// sampler builds samples for one schema.
type sampler struct {
	v *Version
	s *Schema
}

func (g sampler) props(sch map[string]any) (names []string, required map[string]bool) {
	props, _ := sch["properties"].(map[string]any)
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	required = map[string]bool{}
	if req, ok := sch["required"].([]any); ok {
		for _, r := range req {
			required[r.(string)] = true
		}
	}
	return names, required
}

func (g sampler) child(sch map[string]any, prop string) map[string]any {
	return g.s.resolve(sch["properties"].(map[string]any)[prop].(map[string]any))
}

// longString returns a string of n code points, some of them outside
// ASCII, so that counting bytes instead of characters would go wrong.
func longString(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		switch i % 4 {
		case 0:
			b.WriteString("Ω")
		case 1:
			b.WriteString("x")
		case 2:
			b.WriteString("€")
		case 3:
			b.WriteString("\"")
		}
	}
	return b.String()
}

// valid returns a valid value for sch: with the required properties only,
// or with every property.
func (g sampler) valid(sch map[string]any, maximal bool) any {
	sch = g.s.resolve(sch)
	switch sch["type"] {
	case nil: // any value
		if maximal {
			return anyValues[4]
		}
		return "abc"
	case "object":
		out := map[string]any{}
		names, required := g.props(sch)
		for _, k := range names {
			if maximal || required[k] {
				out[k] = g.valid(g.child(sch, k), maximal)
			}
		}
		if maximal && sch["additionalProperties"] != false {
			out["vendorExtra"] = map[string]any{"a": []any{json.Number("1.50"), "é"}, "b": nil}
		}
		return out
	case "array":
		n := 0
		if maximal {
			n = 2
		}
		if m, ok := sch["minItems"].(json.Number); ok {
			mi, _ := m.Int64()
			n = max(n, int(mi))
		}
		items := sch["items"].(map[string]any)
		out := []any{}
		for range n {
			out = append(out, g.valid(items, maximal))
		}
		return out
	case "string":
		if enum, ok := sch["enum"].([]any); ok {
			if maximal {
				return enum[len(enum)-1]
			}
			return enum[0]
		}
		switch sch["format"] {
		case "date-time":
			if maximal {
				return "2026-11-24T11:00:00.123+01:00"
			}
			return "2026-11-24T10:00:00Z"
		case "uri":
			if maximal {
				return "ftp://user:secret@[2001:db8::1]:2121/diagnostics/"
			}
			return "https://csms.example.com/fw.bin"
		}
		if ml, ok := sch["maxLength"].(json.Number); ok && maximal {
			n, _ := ml.Int64()
			return longString(int(n))
		}
		if maximal {
			return "free text ✓ \u2028 <&>"
		}
		return "abc"
	case "integer":
		if _, hi := bounds(sch); hi != nil && maximal {
			return json.Number(hi.RatString())
		}
		if maximal {
			return json.Number("9007199254740993") // not a float64
		}
		return json.Number("0")
	case "number":
		if maximal {
			return json.Number("12345.6")
		}
		return json.Number("0")
	case "boolean":
		return maximal
	}
	panic(fmt.Sprintf("%s: unexpected schema %v", g.s.ID, sch))
}

// samples returns the valid samples and the mutations of them.
func (g sampler) samples() []sample {
	minimal := g.valid(g.s.Root, false)
	maximal := g.valid(g.s.Root, true)
	out := []sample{
		{name: "minimal", payload: minimal},
		{name: "maximal", payload: maximal},
	}
	// Payloads that are no object at all.
	for _, v := range []any{[]any{}, "{}", json.Number("1"), true, nil} {
		out = append(out, sample{name: fmt.Sprintf("payload %#v", v), payload: v, want: g.v.Dialect.FormatViolation})
	}
	out = g.objectLevel(out, g.s.Root, minimal, nil, "minimal")
	// Mutations start from the maximal payload, or from one with one item
	// per array (see Version.TrimArrays).
	base := maximal
	if g.v.TrimArrays {
		base = trimArrays(maximal)
	}
	return g.mutate(out, g.s.Root, base, base, nil)
}

// objectLevel adds the removal of each required property and an extra
// property for the object at p in base.
func (g sampler) objectLevel(out []sample, sch map[string]any, base any, p []step, label string) []sample {
	names, required := g.props(sch)
	for _, k := range names {
		if required[k] {
			out = append(out, sample{
				name:    fmt.Sprintf("%s: %s without required %q", label, pathString(p), k),
				payload: edit(base, p, func(v any) any { m := v.(map[string]any); delete(m, k); return m }),
				want:    g.v.Dialect.OccurrenceConstraintViolation,
			})
		}
	}
	want := g.v.Dialect.FormatViolation
	if sch["additionalProperties"] != false {
		want = "" // an open object (2.0.1's customData) takes any property
	}
	out = append(out, sample{
		name:    fmt.Sprintf("%s: %s with an extra property", label, pathString(p)),
		payload: edit(base, p, func(v any) any { m := v.(map[string]any); m["unexpectedProperty"] = []any{"x"}; return m }),
		want:    want,
	})
	return out
}

// mutate adds the mutations of the value at p (of schema sch) in base.
func (g sampler) mutate(out []sample, sch map[string]any, base, v any, p []step) []sample {
	sch = g.s.resolve(sch)
	typ, _ := sch["type"].(string)
	set := func(name string, nv any, want rpc.ErrorCode) {
		out = append(out, sample{
			name:    fmt.Sprintf("%s = %s (%s)", pathString(p), jsonText(nv), name),
			payload: edit(base, p, func(any) any { return nv }),
			want:    want,
		})
	}
	if typ == "" { // any value
		for _, v := range anyValues {
			set("any value", v, "")
		}
		return out
	}
	if len(p) > 0 {
		for _, w := range wrongTypeValues(typ) {
			set("wrong type", w, rpc.TypeConstraintViolation)
		}
	}
	switch typ {
	case "object":
		out = g.objectLevel(out, sch, base, p, "maximal")
		m := v.(map[string]any)
		names, _ := g.props(sch)
		for _, k := range names {
			out = g.mutate(out, g.child(sch, k), base, m[k], appendStep(p, k))
		}
	case "array":
		if m, ok := sch["minItems"].(json.Number); ok && m != "0" {
			set("fewer than minItems", []any{}, g.v.Dialect.OccurrenceConstraintViolation)
		}
		if m, ok := sch["maxItems"].(json.Number); ok {
			n, _ := m.Int64()
			item := g.valid(sch["items"].(map[string]any), false)
			var at, over []any
			for i := range n + 1 {
				if i < n {
					at = append(at, item)
				}
				over = append(over, item)
			}
			set("at maxItems", at, "")
			set("more than maxItems", over, g.v.Dialect.OccurrenceConstraintViolation)
		}
		a := v.([]any)
		for i := range a {
			out = g.mutate(out, sch["items"].(map[string]any), base, a[i], appendStep(p, i))
		}
	case "string":
		if enum, ok := sch["enum"].([]any); ok {
			for _, e := range enum {
				set("enum value", e, "")
			}
			set("not in enum", "NotAValue", rpc.PropertyConstraintViolation)
			if lower := strings.ToLower(enum[0].(string)); !slices.Contains(enum, any(lower)) {
				set("enum in lower case", lower, rpc.PropertyConstraintViolation)
			}
			set("enum with a space", enum[0].(string)+" ", rpc.PropertyConstraintViolation)
		}
		if ml, ok := sch["maxLength"].(json.Number); ok {
			n64, _ := ml.Int64()
			n := int(n64)
			set("at maxLength", longString(n), "")
			set("at maxLength, ASCII", strings.Repeat("a", n), "")
			set("over maxLength", longString(n+1), rpc.PropertyConstraintViolation)
			set("over maxLength, ASCII", strings.Repeat("a", n+1), rpc.PropertyConstraintViolation)
			set("empty", "", "")
		}
		switch sch["format"] {
		case "date-time":
			for _, s := range validDateTimes {
				set("date-time", s, "")
			}
			for _, s := range invalidDateTimes {
				set("malformed date-time", s, rpc.PropertyConstraintViolation)
			}
		case "uri":
			for _, s := range validURIs {
				set("uri", s, "")
			}
			for _, s := range invalidURIs {
				set("malformed uri", s, rpc.PropertyConstraintViolation)
			}
		}
	case "integer":
		for _, s := range append(append([]string{}, validIntegers...), boundaryValues(sch)...) {
			switch {
			case strings.HasSuffix(s, ".5"): // not an integer: that is found first
				set("fraction", json.Number(s), rpc.TypeConstraintViolation)
			case !inBounds(sch, s):
				set("integer out of bounds", json.Number(s), rpc.PropertyConstraintViolation)
			default:
				set("integer", json.Number(s), "")
			}
		}
		for _, s := range fractionalNumbers {
			set("fraction", json.Number(s), rpc.TypeConstraintViolation)
		}
		for _, s := range hugeIntegers {
			set("beyond int64", json.Number(s), rpc.TypeConstraintViolation)
			// The oracle accepts it unless it is out of bounds.
			out[len(out)-1].deviation = inBounds(sch, s)
		}
	case "number":
		if sch["multipleOf"] != nil {
			for _, s := range validTenths {
				set("multiple of 0.1", json.Number(s), "")
			}
			for _, s := range invalidTenths {
				set("not a multiple of 0.1", json.Number(s), rpc.PropertyConstraintViolation)
			}
		}
		for _, s := range hugeNumbers {
			set("beyond float64", json.Number(s), rpc.TypeConstraintViolation)
			out[len(out)-1].deviation = true
		}
	}
	return out
}

// trimArrays returns a copy of v in which every array keeps its first item
// only.
func trimArrays(v any) any {
	switch v := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, e := range v {
			c[k] = trimArrays(e)
		}
		return c
	case []any:
		if len(v) == 0 {
			return []any{}
		}
		return []any{trimArrays(v[0])}
	}
	return v
}

func appendStep(p []step, s step) []step {
	return append(append([]step(nil), p...), s)
}

// edit returns a deep copy of base in which the value at p is replaced by
// f(copy of that value).
func edit(base any, p []step, f func(any) any) any {
	c := deepCopy(base)
	if len(p) == 0 {
		return f(c)
	}
	parent := c
	for _, s := range p[:len(p)-1] {
		parent = index(parent, s)
	}
	switch s := p[len(p)-1].(type) {
	case string:
		m := parent.(map[string]any)
		m[s] = f(m[s])
	case int:
		a := parent.([]any)
		a[s] = f(a[s])
	}
	return c
}

func index(v any, s step) any {
	switch s := s.(type) {
	case string:
		return v.(map[string]any)[s]
	case int:
		return v.([]any)[s]
	}
	return nil
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, e := range v {
			c[k] = deepCopy(e)
		}
		return c
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = deepCopy(e)
		}
		return c
	}
	return v
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	s := string(b)
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}
