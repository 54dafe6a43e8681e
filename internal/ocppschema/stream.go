package ocppschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// stream reads a payload that json.Valid accepted, token by token, over
// its bytes (nothing is decoded that is not checked, and a value skipped
// costs no allocation), and writes the canonical copy of what it validated
// when o.canonical.
type stream struct {
	b     []byte
	i     int
	o     Options
	d     *Dialect
	out   []byte
	notes []string
}

// tokKind is the kind of a token.
type tokKind uint8

const (
	tokEnd       tokKind = iota // the end of the payload
	tokObject                   // {
	tokObjectEnd                // }
	tokArray                    // [
	tokArrayEnd                 // ]
	tokString
	tokNumber
	tokTrue
	tokFalse
	tokNull
)

// token reads the next token, skipping white space, commas and colons
// (the payload is valid JSON: they are where they belong). raw is a
// string's bytes between its quotes, or a number's text.
func (s *stream) token() (k tokKind, raw []byte) {
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case ' ', '\t', '\n', '\r', ',', ':':
			s.i++
			continue
		case '{':
			s.i++
			return tokObject, nil
		case '}':
			s.i++
			return tokObjectEnd, nil
		case '[':
			s.i++
			return tokArray, nil
		case ']':
			s.i++
			return tokArrayEnd, nil
		case '"':
			start := s.i + 1
			j := start
			for j < len(s.b) && s.b[j] != '"' {
				if s.b[j] == '\\' {
					j++
				}
				j++
			}
			s.i = j + 1
			return tokString, s.b[start:min(j, len(s.b))]
		case 't':
			s.i += 4
			return tokTrue, nil
		case 'f':
			s.i += 5
			return tokFalse, nil
		case 'n':
			s.i += 4
			return tokNull, nil
		default:
			start := s.i
			for s.i < len(s.b) && strings.IndexByte("+-0123456789.eE", s.b[s.i]) >= 0 {
				s.i++
			}
			return tokNumber, s.b[start:s.i]
		}
	}
	return tokEnd, nil
}

// skip reads the rest of a value whose first token was k: nothing for a
// scalar, up to the matching bracket for an object or an array.
func (s *stream) skip(k tokKind) {
	if k != tokObject && k != tokArray {
		return
	}
	for depth := 1; depth > 0; {
		switch k, _ := s.token(); k {
		case tokObject, tokArray:
			depth++
		case tokObjectEnd, tokArrayEnd:
			depth--
		case tokEnd:
			return
		}
	}
}

// text is a string token's value, unescaped as encoding/json does (invalid
// UTF-8 becomes U+FFFD).
func text(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw)
	}
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	var v string
	json.Unmarshal(quoted, &v)
	return v
}

func (s *stream) write(b ...byte) {
	if s.o.Canonical {
		s.out = append(s.out, b...)
	}
}

// value checks the value whose first token (k, raw) was just read; on an
// error the rest of the value may be unread (the caller skips it).
func (s *stream) value(n *Node, k tokKind, raw []byte, p *path) *rpc.Error {
	switch n.Type {
	case Object:
		if k == tokObject {
			return s.object(n, p)
		}
	case Array:
		if k == tokArray {
			return s.array(n, p)
		}
	case String:
		if k == tokString {
			str := text(raw)
			if n.Format == DateTimeFormat && s.o.LocalTimesAsUTC {
				if _, ok := parseDateTime(str); !ok {
					if utc, ok := parseLocalDateTime(str); ok {
						s.notes = append(s.notes, fmt.Sprintf("%s: %q has no UTC offset; read as UTC", p, Truncate(str)))
						str = utc
					}
				}
			}
			if err := checkString(n, str, p); err != nil {
				return err
			}
			if s.o.Canonical {
				s.out = appendJSONString(s.out, str)
			}
			return nil
		}
	case Integer:
		if k == tokNumber {
			num := string(raw)
			d, ok := parseDecimal(num)
			if !ok {
				return fail(rpc.TypeConstraintViolation, p, "%s is not a JSON number", Truncate(num))
			}
			if !d.isInteger() {
				return fail(rpc.TypeConstraintViolation, p, "%s is not an integer", Truncate(num))
			}
			canon, ok := d.int64Text()
			if !ok {
				return fail(rpc.TypeConstraintViolation, p, "%s does not fit in a 64-bit integer", Truncate(num))
			}
			if err := checkMultipleOf(n, d, num, p); err != nil {
				return err
			}
			if err := checkBounds(n, d, num, p); err != nil {
				return err
			}
			s.write([]byte(canon)...)
			return nil
		}
	case Number:
		if k == tokNumber {
			num := string(raw)
			d, ok := parseDecimal(num)
			if !ok {
				return fail(rpc.TypeConstraintViolation, p, "%s is not a JSON number", Truncate(num))
			}
			if _, err := strconv.ParseFloat(num, 64); err != nil {
				return fail(rpc.TypeConstraintViolation, p, "%s does not fit in a 64-bit float", Truncate(num))
			}
			if err := checkMultipleOf(n, d, num, p); err != nil {
				return err
			}
			if err := checkBounds(n, d, num, p); err != nil {
				return err
			}
			s.write(raw...)
			return nil
		}
	case Boolean:
		if k == tokTrue || k == tokFalse {
			s.write([]byte(strconv.FormatBool(k == tokTrue))...)
			return nil
		}
	case Any:
		s.copyValue(k, raw)
		return nil
	default:
		return fail(rpc.InternalError, p, "%s: descriptor has no type", s.d.Name)
	}
	want := "a " + n.Type.String()
	if n.Type == Object || n.Type == Array || n.Type == Integer {
		want = "an " + n.Type.String()
	}
	return fail(rpc.TypeConstraintViolation, p, "got %s, want %s", describeToken(k), want)
}

// copyValue reads the rest of a value whose first token (k, raw) was just
// read, without checking it, and writes it as it is to the canonical copy.
func (s *stream) copyValue(k tokKind, raw []byte) {
	var start int
	switch k {
	case tokString:
		start = cap(s.b) - cap(raw) - 1 // raw is s.b after the opening quote
	case tokNumber:
		start = cap(s.b) - cap(raw)
	case tokTrue, tokNull:
		start = s.i - 4
	case tokFalse:
		start = s.i - 5
	default:
		start = s.i - 1 // '{' or '['
	}
	s.skip(k)
	s.write(s.b[start:s.i]...)
}

// object checks an object whose '{' was just read, up to its '}'. A
// property the schema does not name (in a closed object) is reported
// first, then a required one missing, then the first value that breaks its
// schema. An open object takes other properties with any value.
func (s *stream) object(n *Node, p *path) *rpc.Error {
	s.write('{')
	var seen uint64 // by index in n.Props (at most MaxProps)
	var extra map[string]bool
	var firstErr *rpc.Error
	for first := true; ; first = false {
		k, raw := s.token()
		if k == tokObjectEnd || k == tokEnd {
			break
		}
		key := text(raw)
		i := n.propIndex(key)
		if i < 0 && !n.Open {
			return fail(s.d.FormatViolation, &path{parent: p, name: Truncate(key)}, "property not allowed")
		}
		if i < 0 {
			if extra[key] {
				return fail(s.d.FormatViolation, &path{parent: p, name: Truncate(key)}, "property repeated")
			}
			if extra == nil {
				extra = map[string]bool{}
			}
			extra[key] = true
			vk, vraw := s.token()
			if firstErr != nil {
				s.skip(vk)
				continue
			}
			if !first {
				s.write(',')
			}
			if s.o.Canonical {
				s.out = appendJSONString(s.out, key)
			}
			s.write(':')
			s.copyValue(vk, vraw)
			continue
		}
		if seen&(1<<i) != 0 {
			return fail(s.d.FormatViolation, &path{parent: p, name: key}, "property repeated")
		}
		seen |= 1 << i
		start := s.i
		vk, vraw := s.token()
		if firstErr != nil {
			s.skip(vk)
			continue
		}
		if !first {
			s.write(',')
		}
		if s.o.Canonical {
			s.out = appendJSONString(s.out, key)
		}
		s.write(':')
		if err := s.value(n.Props[i].Node, vk, vraw, &path{parent: p, name: key}); err != nil {
			firstErr = err
			s.i = start // read the value again, skipping it whole
			k, _ := s.token()
			s.skip(k)
		}
	}
	for i := range n.Props {
		if pr := &n.Props[i]; pr.Required && seen&(1<<i) == 0 {
			return fail(s.d.OccurrenceConstraintViolation, &path{parent: p, name: pr.Name}, "required property missing")
		}
	}
	if firstErr != nil {
		return firstErr
	}
	s.write('}')
	return nil
}

// array checks an array whose '[' was just read, up to its ']': too few
// items are reported before an item that breaks its schema.
func (s *stream) array(n *Node, p *path) *rpc.Error {
	s.write('[')
	var firstErr *rpc.Error
	count := 0
	for {
		start := s.i
		k, raw := s.token()
		if k == tokArrayEnd || k == tokEnd {
			break
		}
		if firstErr != nil {
			s.skip(k)
			count++
			continue
		}
		if count > 0 {
			s.write(',')
		}
		if err := s.value(n.Items, k, raw, &path{parent: p, index: count}); err != nil {
			firstErr = err
			s.i = start
			k, _ := s.token()
			s.skip(k)
		}
		count++
	}
	if count < n.MinItems {
		return fail(s.d.OccurrenceConstraintViolation, p, "%d items, at least %d required", count, n.MinItems)
	}
	if n.MaxItems > 0 && count > n.MaxItems {
		return fail(s.d.OccurrenceConstraintViolation, p, "%d items, at most %d allowed", count, n.MaxItems)
	}
	if firstErr != nil {
		return firstErr
	}
	s.write(']')
	return nil
}

// describeToken names the JSON type of the value a token begins.
func describeToken(k tokKind) string {
	switch k {
	case tokObject:
		return "an object"
	case tokArray:
		return "an array"
	case tokString:
		return "a string"
	case tokNumber:
		return "a number"
	case tokTrue, tokFalse:
		return "a boolean"
	}
	return "null"
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, the rest as it is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		case c < utf8.RuneSelf:
			b = append(b, c)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		i++
	}
	return append(b, '"')
}

// parseLocalDateTime reads a date-time without a UTC offset
// (2026-12-05T10:00:00 or with fractional seconds) as UTC, and returns it
// in RFC 3339 form.
func parseLocalDateTime(s string) (string, bool) {
	t, err := time.Parse("2006-01-02T15:04:05.999999999", s)
	if err != nil {
		return "", false
	}
	return t.UTC().Format(time.RFC3339Nano), true
}
