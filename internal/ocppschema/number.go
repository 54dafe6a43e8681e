package ocppschema

import (
	"strconv"
	"strings"
)

// decimal is the exact value of a JSON number: ±digits × 10^exp, digits
// without leading or trailing zeros ("" for zero, with exp 0).
type decimal struct {
	neg    bool
	digits string
	exp    int64
}

// expLimit bounds the exponents kept exactly; larger ones saturate, which
// keeps every comparison below right (the mantissa of a payload is far
// shorter than this).
const expLimit = 1 << 40

// parseDecimal splits the text of a JSON number. It reports false if s is
// not one.
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	if strings.HasPrefix(s, "-") {
		d.neg, s = true, s[1:]
	}
	intEnd := digitRun(s)
	if intEnd == 0 || (intEnd > 1 && s[0] == '0') {
		return d, false
	}
	intPart, s := s[:intEnd], s[intEnd:]
	var frac string
	if strings.HasPrefix(s, ".") {
		n := digitRun(s[1:])
		if n == 0 {
			return d, false
		}
		frac, s = s[1:1+n], s[1+n:]
	}
	var e int64
	if s != "" {
		if s[0] != 'e' && s[0] != 'E' {
			return d, false
		}
		s = s[1:]
		negExp := false
		if s != "" && (s[0] == '+' || s[0] == '-') {
			negExp, s = s[0] == '-', s[1:]
		}
		if s == "" || digitRun(s) != len(s) {
			return d, false
		}
		for i := 0; i < len(s); i++ {
			if e < expLimit {
				e = e*10 + int64(s[i]-'0')
			}
		}
		if negExp {
			e = -e
		}
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	trimmed := strings.TrimRight(digits, "0")
	if trimmed == "" {
		return decimal{neg: d.neg}, true
	}
	d.digits = trimmed
	d.exp = e - int64(len(frac)) + int64(len(digits)-len(trimmed))
	return d, true
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// isInteger reports whether d has no fractional part.
func (d decimal) isInteger() bool { return d.digits == "" || d.exp >= 0 }

// int64Text returns d as the canonical decimal text of an int64, or false
// if d is not an integer or does not fit in one.
func (d decimal) int64Text() (string, bool) {
	if !d.isInteger() {
		return "", false
	}
	if d.digits == "" {
		return "0", true
	}
	if int64(len(d.digits))+d.exp > 19 {
		return "", false
	}
	s := d.digits + strings.Repeat("0", int(d.exp))
	if d.neg {
		s = "-" + s
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return "", false
	}
	return s, true
}

// multipleOfPow10 reports whether d is a multiple of 10^k.
func (d decimal) multipleOfPow10(k int) bool { return d.digits == "" || d.exp >= int64(k) }

// cmp compares d with e: -1 if d < e, 0 if they are equal, +1 if d > e.
func (d decimal) cmp(e decimal) int {
	ds, es := d.sign(), e.sign()
	if ds != es {
		if ds < es {
			return -1
		}
		return 1
	}
	if ds == 0 {
		return 0
	}
	m := d.cmpAbs(e)
	if ds < 0 {
		return -m
	}
	return m
}

func (d decimal) sign() int {
	switch {
	case d.digits == "":
		return 0
	case d.neg:
		return -1
	}
	return 1
}

// cmpAbs compares the magnitudes of two non-zero decimals.
func (d decimal) cmpAbs(e decimal) int {
	// 0.digits × 10^(len+exp): the larger power of ten is the larger
	// number; for equal powers the digits decide (without trailing zeros,
	// a proper prefix is the smaller).
	dp, ep := int64(len(d.digits))+d.exp, int64(len(e.digits))+e.exp
	switch {
	case dp < ep:
		return -1
	case dp > ep:
		return 1
	}
	return strings.Compare(d.digits, e.digits)
}

// decimalOf returns n as a decimal.
func decimalOf(n int64) decimal {
	d, _ := parseDecimal(strconv.FormatInt(n, 10))
	return d
}
