package schematest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
	"github.com/evse-dev/evse/internal/ocppschema"
)

// AgainstOracle compares our validator with an independent JSON Schema
// validator on samples built from every official schema: valid payloads
// and mutations of them (see samples.go). The file must have wantSchemas
// schemas.
func AgainstOracle(t *testing.T, v *Version, wantSchemas int) {
	t.Helper()
	schemas := v.Schemas(t)
	if len(schemas) != wantSchemas {
		t.Errorf("the schema file has %d schemas, want %d", len(schemas), wantSchemas)
	}
	var total, rejected, deviations int
	for _, s := range schemas {
		t.Run(s.ID, func(t *testing.T) {
			if _, ok := v.New(s.Action, s.Kind); !ok {
				t.Fatalf("action %s is not in the package", s.Action)
			}
			for _, smp := range (sampler{v, s}).samples() {
				total++
				payload := MustMarshal(t, smp.payload)
				oracleOK := s.OracleAccepts(t, payload)
				err := v.Validate(s.Action, s.Kind, payload)
				code := v.ErrorCode(t, err)

				if smp.deviation {
					deviations++
					if !oracleOK || code != smp.want {
						t.Errorf("%s: oracle accepts=%t, we answered %q; want the known deviation (oracle accepts, we answer %s)\npayload %s",
							smp.name, oracleOK, code, smp.want, payload)
					}
					continue
				}
				if oracleOK != (smp.want == "") {
					t.Errorf("%s: oracle accepts=%t, but the sample is meant to be %s\npayload %s", smp.name, oracleOK, describeWant(smp.want), payload)
					continue
				}
				if code != smp.want {
					t.Errorf("%s: got %q (%v), want %s\npayload %s", smp.name, code, err, describeWant(smp.want), payload)
				}
				if code != "" {
					rejected++
				}
			}
		})
	}
	t.Logf("%d samples compared with the oracle: %d rejected by both, %d accepted by both, %d known deviations",
		total, rejected, total-rejected-deviations, deviations)
}

func describeWant(c rpc.ErrorCode) string {
	if c == "" {
		return "valid"
	}
	return "rejected with " + string(c)
}

// ErrorCode returns the CALLERROR code of err, "" for nil, and fails the
// test if err is not an *rpc.Error with a code of the version.
func (v *Version) ErrorCode(t Failer, err error) rpc.ErrorCode {
	t.Helper()
	if err == nil {
		return ""
	}
	var oe *rpc.Error
	if !errors.As(err, &oe) || !v.Known(oe.Code) {
		t.Fatalf("error %v (%T) is not an *rpc.Error with a known code", err, err)
	}
	return oe.Code
}

// RapidAgainstOracle draws random payloads, mixtures of valid and
// invalid values, for random schemas and checks that we and the oracle
// agree on accepting them, and that what we accept decodes.
func RapidAgainstOracle(t *testing.T, v *Version) {
	t.Helper()
	schemas := v.Schemas(t)
	var total, accepted int
	rapid.Check(t, func(rt *rapid.T) {
		for range 20 {
			s := rapid.SampledFrom(schemas).Draw(rt, "schema")
			g := sampler{v, s}
			val := g.randomValue(rt, s.Root, 0)
			payload, err := json.Marshal(val)
			if err != nil {
				rt.Fatal(err)
			}
			total++
			oracleOK := s.OracleAccepts(rt, payload)
			err = v.Validate(s.Action, s.Kind, payload)
			v.ErrorCode(rt, err)
			if oracleOK != (err == nil) {
				rt.Fatalf("%s: oracle accepts=%t, we: %v\npayload %s", s.ID, oracleOK, err, payload)
			}
			if err == nil {
				accepted++
				if _, err := v.Decode(s.Action, s.Kind, payload); err != nil {
					rt.Fatalf("%s: valid but Decode fails: %v\npayload %s", s.ID, err, payload)
				}
			}
		}
	})
	t.Logf("%d random payloads compared with the oracle, %d of them valid", total, accepted)
}

// randomValue draws a value for sch, valid or not.
func (g sampler) randomValue(t *rapid.T, sch map[string]any, depth int) any {
	sch = g.s.resolve(sch)
	// Now and then anything at all, or a valid value.
	switch rapid.IntRange(0, 19).Draw(t, "shape") {
	case 0:
		return rapid.SampledFrom([]any{nil, true, "x", json.Number("1"), map[string]any{}, []any{}}).Draw(t, "junk")
	case 1:
		return g.valid(sch, rapid.Bool().Draw(t, "maximal"))
	}
	switch sch["type"] {
	case nil: // any value
		return rapid.SampledFrom(anyValues).Draw(t, "anyValue")
	case "object":
		out := map[string]any{}
		names, required := g.props(sch)
		for _, k := range names {
			keep := rapid.IntRange(0, 9).Draw(t, "keep")
			if required[k] && keep > 0 || !required[k] && keep > 4 {
				out[k] = g.randomValue(t, g.child(sch, k), depth+1)
			}
		}
		if rapid.IntRange(0, 15).Draw(t, "extra") == 0 {
			out[rapid.SampledFrom([]string{"extra", "IdTag", "status ", ""}).Draw(t, "extraName")] = "x"
		}
		return out
	case "array":
		n := rapid.IntRange(0, g.v.MaxRandomItems).Draw(t, "len")
		out := []any{}
		for range n {
			out = append(out, g.randomValue(t, sch["items"].(map[string]any), depth+1))
		}
		return out
	case "string":
		var pool []string
		if enum, ok := sch["enum"].([]any); ok {
			for _, e := range enum {
				pool = append(pool, e.(string))
			}
			pool = append(pool, "NotAValue", strings.ToUpper(pool[0]))
		}
		switch sch["format"] {
		case "date-time":
			pool = append(pool, validDateTimes...)
			pool = append(pool, invalidDateTimes...)
		case "uri":
			pool = append(pool, validURIs...)
			pool = append(pool, invalidURIs...)
		}
		if ml, ok := sch["maxLength"].(json.Number); ok {
			n, _ := ml.Int64()
			l := int(n) + rapid.IntRange(-2, 2).Draw(t, "lenDelta")
			alphabet := []rune{'a', 'Z', '0', 'é', '€', '😀', '"', '\\', '\n', '\u2028'}
			var b strings.Builder
			for range max(l, 0) {
				b.WriteRune(rapid.SampledFrom(alphabet).Draw(t, "rune"))
			}
			pool = append(pool, b.String())
		}
		pool = append(pool, rapid.String().Draw(t, "string"))
		return rapid.SampledFrom(pool).Draw(t, "stringValue")
	case "integer":
		pool := append(append([]string{}, validIntegers...), fractionalNumbers...)
		pool = append(pool, boundaryValues(sch)...)
		pool = append(pool, strconv.FormatInt(rapid.Int64().Draw(t, "int"), 10))
		return json.Number(rapid.SampledFrom(pool).Draw(t, "integerValue"))
	case "number":
		pool := append(append([]string{}, validTenths...), invalidTenths...)
		mant := rapid.Int64Range(-1e6, 1e6).Draw(t, "mantissa")
		exp := rapid.IntRange(-4, 4).Draw(t, "exponent")
		pool = append(pool, fmt.Sprintf("%de%d", mant, exp))
		return json.Number(rapid.SampledFrom(pool).Draw(t, "numberValue"))
	case "boolean":
		return rapid.SampledFrom([]any{true, false, "true", json.Number("1")}).Draw(t, "boolValue")
	}
	return nil
}

// DateTimeAgainstOracle compares our date-time grammar with the
// oracle's on random edits of valid date-times.
func DateTimeAgainstOracle(t *testing.T) {
	t.Helper()
	oracle := oneFormatOracle(t, "date-time")
	var total, accepted int
	rapid.Check(t, func(rt *rapid.T) {
		for range 50 {
			s := []byte(rapid.SampledFrom(validDateTimes).Draw(rt, "base"))
			for range rapid.IntRange(0, 3).Draw(rt, "edits") {
				alphabet := []byte("0123456789-:+.TtZz x")
				c := rapid.SampledFrom(alphabet).Draw(rt, "char")
				switch i := rapid.IntRange(0, len(s)).Draw(rt, "at"); rapid.IntRange(0, 2).Draw(rt, "op") {
				case 0:
					if i < len(s) {
						s[i] = c
					}
				case 1:
					if i < len(s) {
						s = append(s[:i], s[i+1:]...)
					}
				case 2:
					s = append(s[:i], append([]byte{c}, s[i:]...)...)
				}
			}
			str := string(s)
			total++
			_, ours := parseDateTime(str)
			theirs := oracle.Validate(str) == nil
			if ours {
				accepted++
			}
			if ours != theirs && !(theirs && signInDigits(str)) {
				rt.Fatalf("%q: we accept=%t, oracle accepts=%t", str, ours, theirs)
			}
		}
	})
	t.Logf("%d date-times compared with the oracle, %d of them valid", total, accepted)
}

// signInDigits reports whether a sign stands where a two-digit time field
// is due: the oracle reads those fields with strconv.Atoi, which takes "+1"
// and "-0", while RFC 3339 wants two digits. This is the one place where we
// are stricter on purpose.
func signInDigits(s string) bool {
	if len(s) < 20 {
		return false
	}
	fields := []string{s[11:13], s[14:16], s[17:19]}
	if off := s[len(s)-6:]; strings.ContainsAny(off[:1], "+-") && off[3] == ':' {
		fields = append(fields, off[1:3], off[4:6])
	}
	for _, f := range fields {
		if strings.ContainsAny(f, "+-") {
			return true
		}
	}
	return false
}

// URIAgainstOracle compares the absolute-URI check of v's dialect with
// the oracle's.
func URIAgainstOracle(t *testing.T, v *Version) {
	t.Helper()
	oracle := oneFormatOracle(t, "uri")
	rapid.Check(t, func(rt *rapid.T) {
		for range 50 {
			s := []byte(rapid.SampledFrom(append(append([]string{}, validURIs...), invalidURIs...)).Draw(rt, "base"))
			for range rapid.IntRange(0, 3).Draw(rt, "edits") {
				c := rapid.SampledFrom([]byte(":/@[]%?#. aZ09-+")).Draw(rt, "char")
				i := rapid.IntRange(0, len(s)).Draw(rt, "at")
				if rapid.Bool().Draw(rt, "insert") || i == len(s) {
					s = append(s[:i], append([]byte{c}, s[i:]...)...)
				} else {
					s[i] = c
				}
			}
			str := string(s)
			if ours, theirs := v.isAbsoluteURI(str), oracle.Validate(str) == nil; ours != theirs {
				rt.Fatalf("%q: we accept=%t, oracle accepts=%t", str, ours, theirs)
			}
		}
	})
}

// parseDateTime is the validator's date-time grammar.
func parseDateTime(s string) (time.Time, bool) {
	d, err := ocppschema.ParseDateTime(s)
	return d.Time, err == nil
}

// uriSchema is an object of one property, an absolute URI.
var uriSchema = &ocppschema.Node{Type: ocppschema.Object, Props: []ocppschema.Prop{
	{Name: "uri", Node: &ocppschema.Node{Type: ocppschema.String, Format: ocppschema.URIFormat}},
}}

// isAbsoluteURI is the validator's check of the "uri" format.
func (v *Version) isAbsoluteURI(s string) bool {
	b, err := json.Marshal(map[string]string{"uri": s})
	if err != nil {
		return false
	}
	_, _, verr := v.Dialect.Validate(uriSchema, b, ocppschema.Options{})
	return verr == nil
}
