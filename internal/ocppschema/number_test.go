package ocppschema

import "testing"

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in     string
		ok     bool
		neg    bool
		digits string
		exp    int64
	}{
		{"0", true, false, "", 0},
		{"-0.000", true, true, "", 0},
		{"12", true, false, "12", 0},
		{"1200", true, false, "12", 2},
		{"12.50", true, false, "125", -1},
		{"0.001", true, false, "1", -3},
		{"1.5e3", true, false, "15", 2},
		{"-25E-1", true, true, "25", -1},
		{"1e+400", true, false, "1", 400},
		{"01", false, false, "", 0},
		{"1.", false, false, "", 0},
		{".5", false, false, "", 0},
		{"1e", false, false, "", 0},
		{"+1", false, false, "", 0},
		{"1x", false, false, "", 0},
		{"", false, false, "", 0},
	}
	for _, tc := range tests {
		d, ok := parseDecimal(tc.in)
		if ok != tc.ok || ok && (d.neg != tc.neg || d.digits != tc.digits || d.exp != tc.exp) {
			t.Errorf("parseDecimal(%q) = %+v, %t; want {%t %q %d}, %t", tc.in, d, ok, tc.neg, tc.digits, tc.exp, tc.ok)
		}
	}
	if d, ok := parseDecimal("1e99999999999999999999"); !ok || d.exp < expLimit {
		t.Errorf("a huge exponent gives %+v, %t; want it saturated at %d or more", d, ok, expLimit)
	}
	if d, _ := parseDecimal("-1e-99999999999999999999"); d.exp > -expLimit || d.multipleOfPow10(-1) {
		t.Errorf("a huge negative exponent gives %+v", d)
	}
	for in, want := range map[string]string{"3.0": "3", "-0": "0", "1e2": "100", "-9223372036854775808": "-9223372036854775808"} {
		d, _ := parseDecimal(in)
		if got, ok := d.int64Text(); !ok || got != want {
			t.Errorf("int64Text(%s) = %q, %t; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"1.5", "9223372036854775808", "1e19", "-9223372036854775809", "1e400"} {
		d, _ := parseDecimal(in)
		if got, ok := d.int64Text(); ok {
			t.Errorf("int64Text(%s) = %q, want none", in, got)
		}
	}
}

func TestDecimalCmp(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"0", "-0", 0}, {"1", "1.0", 0}, {"1e2", "100", 0}, {"99.99", "100", -1}, {"100.01", "100", 1},
		{"-1", "0", -1}, {"-2", "-1", -1}, {"0.5", "0", 1}, {"1e-400", "0", 1}, {"-1e400", "-1", -1},
	} {
		a, _ := parseDecimal(tc.a)
		b, _ := parseDecimal(tc.b)
		if got := a.cmp(b); got != tc.want {
			t.Errorf("cmp(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
