package ocpp16

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
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
	if _, err := validate(action, kind, payload); err != nil {
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
	tree, verr := validate(action, kind, payload)
	if verr != nil {
		return nil, verr
	}
	e := actionsByName[action]
	var v any
	if kind == Request {
		v = e.NewRequest()
	} else {
		v = e.NewResponse()
	}
	// Decode what was validated, not the raw payload: the two differ when
	// a key is repeated (encoding/json merges repeated objects into a
	// struct) or an integer is written as 3.0, which validate rewrote.
	canon, err := json.Marshal(tree)
	if err == nil {
		err = json.Unmarshal(canon, v)
	}
	if err != nil {
		// Not expected: whatever validates fits the Go types.
		return nil, rpc.Errorf(rpc.FormationViolation, "%s %s: %v", action, kind, err)
	}
	return v, nil
}

// validate decodes payload and checks it against the schema of action's
// request or response. It returns the decoded payload, its integers
// rewritten into canonical form, ready for encoding/json.
func validate(action string, kind Kind, payload json.RawMessage) (any, *rpc.Error) {
	e, ok := actionsByName[action]
	if !ok {
		return nil, rpc.Errorf(rpc.NotImplemented, "unknown action %q", truncate(action))
	}
	if kind != Request && kind != Response {
		return nil, rpc.Errorf(rpc.InternalError, "ocpp16: invalid Kind %d", int(kind))
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, rpc.Errorf(rpc.FormationViolation, "payload is not JSON: %v", err)
	}
	if rest := payload[dec.InputOffset():]; len(bytes.TrimLeft(rest, " \t\r\n")) > 0 {
		return nil, rpc.Errorf(rpc.FormationViolation, "payload: data after the JSON value")
	}
	if _, ok := tree.(map[string]any); !ok {
		return nil, rpc.Errorf(rpc.FormationViolation, "payload is %s, not a JSON object", describeType(tree))
	}
	tree, err := check(e.nodes[kind], tree, nil)
	if err != nil {
		return nil, err
	}
	return tree, nil
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

// check validates v against n. It returns v, or v's canonical form where an
// integer needed rewriting (maps and slices are rewritten in place).
func check(n *node, v any, p *path) (any, *rpc.Error) {
	switch n.typ {
	case typeObject:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, typeMismatch(n, v, p)
		}
		return m, checkObject(n, m, p)
	case typeArray:
		a, ok := v.([]any)
		if !ok {
			return nil, typeMismatch(n, v, p)
		}
		if len(a) < n.minItems {
			return nil, fail(rpc.OccurenceConstraintViolation, p, "%d items, at least %d required", len(a), n.minItems)
		}
		for i := range a {
			nv, err := check(n.items, a[i], &path{parent: p, index: i})
			if err != nil {
				return nil, err
			}
			a[i] = nv
		}
		return a, nil
	case typeString:
		s, ok := v.(string)
		if !ok {
			return nil, typeMismatch(n, v, p)
		}
		return s, checkString(n, s, p)
	case typeInteger:
		num, ok := v.(json.Number)
		if !ok {
			return nil, typeMismatch(n, v, p)
		}
		d, ok := parseDecimal(string(num))
		if !ok {
			return nil, fail(rpc.TypeConstraintViolation, p, "%s is not a JSON number", truncate(string(num)))
		}
		if !d.isInteger() {
			return nil, fail(rpc.TypeConstraintViolation, p, "%s is not an integer", truncate(string(num)))
		}
		text, ok := d.int64Text()
		if !ok {
			return nil, fail(rpc.TypeConstraintViolation, p, "%s does not fit in a 64-bit integer", truncate(string(num)))
		}
		if err := checkMultipleOf(n, d, string(num), p); err != nil {
			return nil, err
		}
		return json.Number(text), nil
	case typeNumber:
		num, ok := v.(json.Number)
		if !ok {
			return nil, typeMismatch(n, v, p)
		}
		d, ok := parseDecimal(string(num))
		if !ok {
			return nil, fail(rpc.TypeConstraintViolation, p, "%s is not a JSON number", truncate(string(num)))
		}
		if _, err := strconv.ParseFloat(string(num), 64); err != nil {
			return nil, fail(rpc.TypeConstraintViolation, p, "%s does not fit in a 64-bit float", truncate(string(num)))
		}
		return num, checkMultipleOf(n, d, string(num), p)
	case typeBoolean:
		if _, ok := v.(bool); !ok {
			return nil, typeMismatch(n, v, p)
		}
		return v, nil
	}
	return nil, fail(rpc.InternalError, p, "ocpp16: descriptor has no type")
}

func checkObject(n *node, m map[string]any, p *path) *rpc.Error {
	if !n.open {
		var unknown []string
		for k := range m {
			if n.prop(k) == nil {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return fail(rpc.FormationViolation, &path{parent: p, name: truncate(unknown[0])}, "property not allowed")
		}
	}
	for i := range n.props {
		if pr := &n.props[i]; pr.required {
			if _, ok := m[pr.name]; !ok {
				return fail(rpc.OccurenceConstraintViolation, &path{parent: p, name: pr.name}, "required property missing")
			}
		}
	}
	for i := range n.props {
		pr := &n.props[i]
		v, ok := m[pr.name]
		if !ok {
			continue
		}
		nv, err := check(pr.node, v, &path{parent: p, name: pr.name})
		if err != nil {
			return err
		}
		m[pr.name] = nv
	}
	return nil
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

func typeMismatch(n *node, v any, p *path) *rpc.Error {
	want := "a " + n.typ.String()
	if n.typ == typeObject || n.typ == typeArray || n.typ == typeInteger {
		want = "an " + n.typ.String()
	}
	return fail(rpc.TypeConstraintViolation, p, "got %s, want %s", describeType(v), want)
}

// describeType names the JSON type of a decoded value.
func describeType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
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
