package ocpp201

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

// ValidateRequest checks payload against the schema of action's request. It
// returns nil or an *rpc.Error (see the package documentation for the
// codes).
func ValidateRequest(action string, payload json.RawMessage) error {
	return Validate(action, Request, payload)
}

// ValidateResponse checks payload against the schema of action's response.
// It returns nil or an *rpc.Error.
func ValidateResponse(action string, payload json.RawMessage) error {
	return Validate(action, Response, payload)
}

// Validate checks payload against the schema of action's request or
// response. It returns nil or an *rpc.Error.
func Validate(action string, kind Kind, payload json.RawMessage) error {
	if _, _, err := validate(action, kind, payload, options{}); err != nil {
		return err
	}
	return nil
}

// DecodeRequest validates payload as action's request, then decodes it into
// the action's request type, which it returns as a pointer (e.g.
// *BootNotificationRequest). The error is an *rpc.Error.
func DecodeRequest(action string, payload json.RawMessage) (any, error) {
	return Decode(action, Request, payload)
}

// DecodeResponse validates payload as action's response, then decodes it
// into the action's response type, returned as a pointer (e.g.
// *BootNotificationResponse). The error is an *rpc.Error.
func DecodeResponse(action string, payload json.RawMessage) (any, error) {
	return Decode(action, Response, payload)
}

// Decode validates payload as action's request or response and decodes it
// into the matching type, returned as a pointer. The error is an
// *rpc.Error.
func Decode(action string, kind Kind, payload json.RawMessage) (any, error) {
	v, _, err := decode(action, kind, payload, options{})
	return v, err
}

// DecodeFromPeer is Decode for what a peer sent, read as leniently as
// OCPP allows without guessing: a date-time without a UTC offset (what
// CSMSs built on common library examples send) is read as UTC.
// Notes say what was read leniently, for a warning.
func DecodeFromPeer(action string, kind Kind, payload json.RawMessage) (v any, notes []string, err error) {
	return decode(action, kind, payload, options{localTimesAsUTC: true})
}

func decode(action string, kind Kind, payload json.RawMessage, o options) (any, []string, error) {
	o.canonical = true
	canon, notes, verr := validate(action, kind, payload, o)
	if verr != nil {
		return nil, nil, verr
	}
	e := actionsByName[action]
	var v any
	if kind == Request {
		v = e.NewRequest()
	} else {
		v = e.NewResponse()
	}
	// Decode what was validated, in canonical form: an integer written as
	// 3.0 is 3, a date-time read leniently is in UTC.
	if err := json.Unmarshal(canon, v); err != nil {
		// Not expected: whatever validates fits the Go types.
		return nil, nil, rpc.Errorf(rpc.FormatViolation, "%s %s: %v", action, kind, err)
	}
	return v, notes, nil
}

// options say how validate reads a payload.
type options struct {
	// canonical: write the canonical copy of what was validated.
	canonical bool
	// localTimesAsUTC: a date-time without an offset is read as UTC.
	localTimesAsUTC bool
}

// validate checks payload against the schema of action's request or
// response as it reads it, token by token: what it keeps is bounded by
// the schema's depth, not by the payload (a 16 MiB array of small numbers
// costs no more than its bytes). With o.canonical it returns the payload
// as validated, in canonical form, for encoding/json.
func validate(action string, kind Kind, payload json.RawMessage, o options) ([]byte, []string, *rpc.Error) {
	e, ok := actionsByName[action]
	if !ok {
		return nil, nil, rpc.Errorf(rpc.NotImplemented, "unknown action %q", truncate(action))
	}
	if kind != Request && kind != Response {
		return nil, nil, rpc.Errorf(rpc.InternalError, "ocpp201: invalid Kind %d", int(kind))
	}
	if !json.Valid(payload) {
		// Say why as encoding/json does.
		dec := json.NewDecoder(bytes.NewReader(payload))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, rpc.Errorf(rpc.FormatViolation, "payload is not JSON: %v", err)
		}
		return nil, nil, rpc.Errorf(rpc.FormatViolation, "payload: data after the JSON value")
	}
	s := &stream{b: payload, o: o}
	if o.canonical {
		s.out = make([]byte, 0, len(payload))
	}
	if k, _ := s.token(); k != tokObject {
		return nil, nil, rpc.Errorf(rpc.FormatViolation, "payload is %s, not a JSON object", describeToken(k))
	}
	if err := s.object(e.nodes[kind], nil); err != nil {
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

func checkString(n *node, s string, p *path) *rpc.Error {
	if n.enum != nil {
		for _, e := range n.enum {
			if s == e {
				return nil
			}
		}
		return fail(rpc.PropertyConstraintViolation, p, "%q is not one of %s", truncate(s), strings.Join(n.enum, ", "))
	}
	if n.maxLength > 0 {
		if l := utf8.RuneCountInString(s); l > n.maxLength {
			return fail(rpc.PropertyConstraintViolation, p, "%d characters, at most %d allowed", l, n.maxLength)
		}
	}
	switch n.format {
	case formatDateTime:
		if _, ok := parseDateTime(s); !ok {
			return fail(rpc.PropertyConstraintViolation, p, "%q is not an RFC 3339 date-time", truncate(s))
		}
	case formatURI:
		if !isAbsoluteURI(s) {
			return fail(rpc.PropertyConstraintViolation, p, "%q is not an absolute URI", truncate(s))
		}
	}
	return nil
}

func checkMultipleOf(n *node, d decimal, text string, p *path) *rpc.Error {
	if n.multipleOf == "" || d.multipleOfPow10(n.multipleOfExp) {
		return nil
	}
	return fail(rpc.PropertyConstraintViolation, p, "%s is not a multiple of %s", truncate(text), n.multipleOf)
}

// checkBounds checks a number against its schema's minimum and maximum,
// exactly on the decimal text.
func checkBounds(n *node, d decimal, text string, p *path) *rpc.Error {
	if n.hasMinimum && d.cmp(decimalOf(n.minimum)) < 0 {
		return fail(rpc.PropertyConstraintViolation, p, "%s is less than the minimum %d", truncate(text), n.minimum)
	}
	if n.hasMaximum && d.cmp(decimalOf(n.maximum)) > 0 {
		return fail(rpc.PropertyConstraintViolation, p, "%s is more than the maximum %d", truncate(text), n.maximum)
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

// truncate shortens text taken from a payload for an error description.
func truncate(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}
