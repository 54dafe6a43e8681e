package ocppschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// Dialect is what differs between the OCPP versions in the errors the
// validator returns: the spelling of two codes, and the name of the
// package that internal errors start with.
type Dialect struct {
	// Name is the package that validates, e.g. "ocpp16".
	Name string
	// FormatViolation is the code for a payload that is not JSON, not an
	// object, or has a property the schema does not allow or repeats one
	// (1.6: FormationViolation).
	FormatViolation rpc.ErrorCode
	// OccurrenceConstraintViolation is the code for a required property
	// missing, or too few or too many items (1.6:
	// OccurenceConstraintViolation).
	OccurrenceConstraintViolation rpc.ErrorCode
}

// The dialects of the versions.
var (
	OCPP16 = Dialect{
		Name:                          "ocpp16",
		FormatViolation:               rpc.FormationViolation,
		OccurrenceConstraintViolation: rpc.OccurenceConstraintViolation,
	}
	OCPP201 = Dialect{
		Name:                          "ocpp201",
		FormatViolation:               rpc.FormatViolation,
		OccurrenceConstraintViolation: rpc.OccurrenceConstraintViolation,
	}
)

// Options say how Validate reads a payload. The zero value checks it
// strictly and writes nothing.
type Options struct {
	// Canonical: return the canonical copy of what was validated.
	Canonical bool
	// LocalTimesAsUTC: a date-time without an offset is read as UTC, with
	// a note saying so.
	LocalTimesAsUTC bool
}

// Validate checks payload against the schema root as it reads it, token
// by token: what it keeps is bounded by the schema's depth, not by the
// payload (a 16 MiB array of small numbers costs no more than its bytes).
// With o.Canonical it returns the payload as validated, in canonical form
// for encoding/json: an integer written as 3.0 is 3, a date-time read
// leniently is in UTC. Notes say what was read leniently.
//
// It reports, in this order: a payload that is not JSON or not an object,
// then in each object a property the schema does not name (in a closed
// object) or a repeated one, then a required one missing, then the first
// value that breaks its schema; in each array, too few or too many items
// before an item that breaks its schema.
func (d Dialect) Validate(root *Node, payload []byte, o Options) (canon []byte, notes []string, err *rpc.Error) {
	if !json.Valid(payload) {
		// Say why as encoding/json does.
		dec := json.NewDecoder(bytes.NewReader(payload))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, rpc.Errorf(d.FormatViolation, "payload is not JSON: %v", err)
		}
		return nil, nil, rpc.Errorf(d.FormatViolation, "payload: data after the JSON value")
	}
	s := &stream{b: payload, o: o, d: &d}
	if o.Canonical {
		s.out = make([]byte, 0, len(payload))
	}
	if k, _ := s.token(); k != tokObject {
		return nil, nil, rpc.Errorf(d.FormatViolation, "payload is %s, not a JSON object", describeToken(k))
	}
	if err := s.object(root, nil); err != nil {
		return nil, nil, err
	}
	return s.out, s.notes, nil
}

// path is a location in the payload, a linked list from the leaf up; it is
// only turned into text when there is an error to report.
type path struct {
	parent *path
	name   string // property name, or "" for an array index
	index  int
}

func (p *path) String() string {
	if p == nil {
		return "payload"
	}
	var segs []*path
	for q := p; q != nil; q = q.parent {
		segs = append(segs, q)
	}
	var b strings.Builder
	for i := len(segs) - 1; i >= 0; i-- {
		s := segs[i]
		if s.name == "" {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
	}
	return b.String()
}

func fail(code rpc.ErrorCode, p *path, format string, args ...any) *rpc.Error {
	return rpc.Errorf(code, "%s: %s", p, fmt.Sprintf(format, args...))
}

func checkString(n *Node, s string, p *path) *rpc.Error {
	if n.Enum != nil {
		for _, e := range n.Enum {
			if s == e {
				return nil
			}
		}
		return fail(rpc.PropertyConstraintViolation, p, "%q is not one of %s", Truncate(s), strings.Join(n.Enum, ", "))
	}
	if n.MaxLength > 0 {
		if l := utf8.RuneCountInString(s); l > n.MaxLength {
			return fail(rpc.PropertyConstraintViolation, p, "%d characters, at most %d allowed", l, n.MaxLength)
		}
	}
	switch n.Format {
	case DateTimeFormat:
		if _, ok := parseDateTime(s); !ok {
			return fail(rpc.PropertyConstraintViolation, p, "%q is not an RFC 3339 date-time", Truncate(s))
		}
	case URIFormat:
		if !isAbsoluteURI(s) {
			return fail(rpc.PropertyConstraintViolation, p, "%q is not an absolute URI", Truncate(s))
		}
	}
	return nil
}

func checkMultipleOf(n *Node, d decimal, text string, p *path) *rpc.Error {
	if n.MultipleOf == "" || d.multipleOfPow10(n.MultipleOfExp) {
		return nil
	}
	return fail(rpc.PropertyConstraintViolation, p, "%s is not a multiple of %s", Truncate(text), n.MultipleOf)
}

// checkBounds checks a number against its schema's minimum and maximum,
// exactly on the decimal text.
func checkBounds(n *Node, d decimal, text string, p *path) *rpc.Error {
	if n.HasMinimum && d.cmp(decimalOf(n.Minimum)) < 0 {
		return fail(rpc.PropertyConstraintViolation, p, "%s is less than the minimum %d", Truncate(text), n.Minimum)
	}
	if n.HasMaximum && d.cmp(decimalOf(n.Maximum)) > 0 {
		return fail(rpc.PropertyConstraintViolation, p, "%s is more than the maximum %d", Truncate(text), n.Maximum)
	}
	return nil
}

// isAbsoluteURI reports whether s is an absolute URI: net/url parses it, it
// has a scheme, and a host with a colon in it is a bracketed IPv6 address
// without a zone.
func isAbsoluteURI(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return false
	}
	if h := u.Hostname(); strings.Contains(h, ":") {
		if !strings.HasPrefix(u.Host, "[") {
			return false
		}
		a, err := netip.ParseAddr(h)
		if err != nil || a.Zone() != "" {
			return false
		}
	}
	return true
}

// Truncate shortens text taken from a payload for an error description.
func Truncate(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}
