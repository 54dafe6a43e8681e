package ocppgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// object is a JSON object that remembers the order of its keys, so that the
// generated structs list their fields in the order of the schema.
type object struct {
	keys []string
	vals map[string]any
}

// decodeOrdered reads one JSON value; objects become *object, numbers
// json.Number.
func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := &object{vals: map[string]any{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k := kt.(string)
			if _, dup := o.vals[k]; dup {
				return nil, fmt.Errorf("duplicate key %q", k)
			}
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			o.keys = append(o.keys, k)
			o.vals[k] = v
		}
		_, err := dec.Token() // '}'
		return o, err
	case json.Delim('['):
		var a []any
		for dec.More() {
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := dec.Token() // ']'
		return a, err
	}
	return tok, nil
}

// schema is one (sub)schema, with $ref resolved.
type schema struct {
	Type       string      // object, array, string, integer, number, boolean or any
	Props      []*property // object: in the order of the schema file
	Open       bool        // object: additionalProperties is not false
	Items      *schema     // array
	MinItems   int         // array
	MaxItems   int         // array; 0: no limit
	MaxLength  int         // string; 0: no limit
	Enum       []string    // string
	Format     string      // string: "", "date-time" or "uri"
	MultipleOf string      // integer, number: decimal text of a power of ten; "" none
	Minimum    *int64      // integer, number
	Maximum    *int64      // integer, number
	Default    string      // JSON text of the default value, if any (an annotation)
	Ref        string      // name of the definition it came from, if any

	// GoName names the Go type of a non-root object or an enumeration.
	GoName string
}

type property struct {
	Name     string
	Required bool
	Schema   *schema
}

// sortedProps returns the properties sorted by name.
func (s *schema) sortedProps() []*property {
	ps := append([]*property(nil), s.Props...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps
}

// signature describes the structure of s (not its names) canonically, so
// that structurally identical objects can be recognised.
func (s *schema) signature() string {
	var b strings.Builder
	s.writeSignature(&b)
	return b.String()
}

func (s *schema) writeSignature(b *strings.Builder) {
	fmt.Fprintf(b, "{%s", s.Type)
	switch s.Type {
	case "object":
		fmt.Fprintf(b, " open=%t", s.Open)
		for _, p := range s.sortedProps() {
			fmt.Fprintf(b, " %q:req=%t:", p.Name, p.Required)
			p.Schema.writeSignature(b)
		}
	case "array":
		fmt.Fprintf(b, " min=%d items=", s.MinItems)
		s.Items.writeSignature(b)
		if s.MaxItems > 0 {
			fmt.Fprintf(b, " maxItems=%d", s.MaxItems)
		}
	case "string":
		fmt.Fprintf(b, " max=%d format=%q enum=%q", s.MaxLength, s.Format, s.Enum)
	case "integer", "number":
		fmt.Fprintf(b, " multipleOf=%q", s.MultipleOf)
		if s.Minimum != nil {
			fmt.Fprintf(b, " minimum=%d", *s.Minimum)
		}
		if s.Maximum != nil {
			fmt.Fprintf(b, " maximum=%d", *s.Maximum)
		}
	}
	if s.Default != "" {
		fmt.Fprintf(b, " default=%s", s.Default)
	}
	b.WriteString("}")
}

// message is the schema of one direction of one action.
type message struct {
	Action string
	Conf   bool // .conf (response) rather than .req (request)
	Schema *schema
}

// id is the message's name as the schema file spells it, e.g. "Authorize.req".
func (m *message) id() string {
	if m.Conf {
		return m.Action + ".conf"
	}
	return m.Action + ".req"
}

// parseFile parses the schema array.
func parseFile(cfg *Config, data []byte) ([]*message, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	doc, err := decodeOrdered(dec)
	if err != nil {
		return nil, fmt.Errorf("schema file: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("schema file: data after the top-level array")
	}
	list, ok := doc.([]any)
	if !ok {
		return nil, fmt.Errorf("schema file: want a JSON array of schemas")
	}
	var msgs []*message
	seen := map[string]bool{}
	for i, v := range list {
		o, ok := v.(*object)
		if !ok {
			return nil, fmt.Errorf("schema %d: not an object", i)
		}
		m, err := parseRoot(cfg, o)
		if err != nil {
			return nil, fmt.Errorf("schema %d: %w", i, err)
		}
		if seen[m.id()] {
			return nil, fmt.Errorf("schema %d: %s appears twice", i, m.id())
		}
		seen[m.id()] = true
		msgs = append(msgs, m)
	}
	return msgs, nil
}

func parseRoot(cfg *Config, o *object) (*message, error) {
	id, _ := o.vals["$id"].(string)
	name, ok := strings.CutPrefix(id, "urn:")
	if !ok {
		return nil, fmt.Errorf("$id %q: want urn:<Action>.req or urn:<Action>.conf", id)
	}
	m := &message{}
	switch {
	case strings.HasSuffix(name, ".req"):
		m.Action = strings.TrimSuffix(name, ".req")
	case strings.HasSuffix(name, ".conf"):
		m.Action, m.Conf = strings.TrimSuffix(name, ".conf"), true
	default:
		return nil, fmt.Errorf("$id %q: want urn:<Action>.req or urn:<Action>.conf", id)
	}
	if m.Action == "" || !isIdent(m.Action) {
		return nil, fmt.Errorf("$id %q: action is not a Go identifier", id)
	}
	if s, _ := o.vals["$schema"].(string); strings.TrimSuffix(s, "#") != "http://json-schema.org/draft-07/schema" {
		return nil, fmt.Errorf("%s: $schema %q: only draft-07 is supported", name, s)
	}
	defs := map[string]*object{}
	if d, ok := o.vals["definitions"]; ok {
		do, ok := d.(*object)
		if !ok {
			return nil, fmt.Errorf("%s: definitions is not an object", name)
		}
		for _, k := range do.keys {
			ko, ok := do.vals[k].(*object)
			if !ok {
				return nil, fmt.Errorf("%s: definitions/%s is not an object", name, k)
			}
			defs[k] = ko
		}
	}
	p := &parser{where: name, defs: defs, resolving: map[string]bool{}, features: cfg.Features}
	s, err := p.parse(o, "", true)
	if err != nil {
		return nil, err
	}
	if s.Type != "object" {
		return nil, fmt.Errorf("%s: the root schema is not an object", name)
	}
	m.Schema = s
	return m, nil
}

type parser struct {
	where     string // e.g. "Authorize.req", for errors
	defs      map[string]*object
	resolving map[string]bool // definitions being parsed, to refuse cycles
	features  Features
}

// annotations are the keywords that do not constrain values.
var annotations = []string{"description", "default", "$comment", "comment", "javaType"}

// parse turns a schema object into a *schema. path is its JSON pointer-ish
// location, for errors.
func (p *parser) parse(o *object, path string, root bool) (*schema, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s#%s: %s", p.where, path, fmt.Sprintf(format, args...))
	}
	if ref, ok := o.vals["$ref"]; ok {
		if len(o.keys) != 1 {
			return nil, fail("$ref with sibling keywords is not supported")
		}
		rs, _ := ref.(string)
		def, ok := strings.CutPrefix(rs, "#/definitions/")
		if !ok || p.defs[def] == nil {
			return nil, fail("$ref %q: only local #/definitions/<name> references are supported", rs)
		}
		if p.resolving[def] {
			return nil, fail("$ref %q: recursive definitions are not supported", rs)
		}
		p.resolving[def] = true
		s, err := p.parse(p.defs[def], "/definitions/"+def, false)
		delete(p.resolving, def)
		if err != nil {
			return nil, err
		}
		s.Ref = def
		return s, nil
	}

	f := p.features
	for _, k := range o.keys {
		switch {
		case slices.Contains([]string{"type", "properties", "required", "additionalProperties", "items", "minItems",
			"maxLength", "enum", "format", "multipleOf"}, k):
		case k == "maxItems" && f.MaxItems, k == "additionalItems" && f.AdditionalItems,
			(k == "minimum" || k == "maximum") && f.Bounds:
		case slices.Contains(annotations, k) && f.Annotations:
		case k == "$id" || k == "$schema" || k == "definitions":
			if !root {
				return nil, fail("keyword %q is only supported at the root", k)
			}
		default:
			return nil, fail("keyword %q is not supported", k)
		}
	}
	var def string
	if v, ok := o.vals["default"]; ok {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fail("default: %v", err)
		}
		def = string(b)
	}
	if _, typed := o.vals["type"]; !typed && f.Any {
		for _, k := range o.keys {
			if !slices.Contains(annotations, k) {
				return nil, fail("keyword %q without a type is not supported", k)
			}
		}
		return &schema{Type: "any", Default: def}, nil
	}
	typ, ok := o.vals["type"].(string)
	if !ok {
		return nil, fail("type must be a single type name")
	}
	s := &schema{Type: typ, Default: def}
	allowed := map[string][]string{
		"object":  {"properties", "required", "additionalProperties"},
		"array":   {"items", "minItems", "maxItems", "additionalItems"},
		"string":  {"maxLength", "enum", "format"},
		"integer": {"multipleOf", "minimum", "maximum"},
		"number":  {"multipleOf", "minimum", "maximum"},
		"boolean": {},
	}
	kws, ok := allowed[typ]
	if !ok {
		return nil, fail("type %q is not supported", typ)
	}
	for _, k := range o.keys {
		switch {
		case k == "type" || k == "$id" || k == "$schema" || k == "definitions":
			continue
		case slices.Contains(annotations, k):
			continue
		}
		found := false
		for _, a := range kws {
			found = found || a == k
		}
		if !found {
			return nil, fail("keyword %q is not supported with type %q", k, typ)
		}
	}

	var err error
	switch typ {
	case "object":
		err = p.parseObject(s, o, path)
	case "array":
		it, ok := o.vals["items"].(*object)
		if !ok {
			return nil, fail("items must be one schema")
		}
		if s.Items, err = p.parse(it, path+"/items", false); err != nil {
			return nil, err
		}
		if v, ok := o.vals["minItems"]; ok {
			if s.MinItems, err = nonNegative(v); err != nil {
				return nil, fail("minItems: %v", err)
			}
		}
		if v, ok := o.vals["maxItems"]; ok {
			if s.MaxItems, err = nonNegative(v); err != nil || s.MaxItems == 0 || s.MaxItems < s.MinItems {
				return nil, fail("maxItems must be a positive integer, at least minItems")
			}
		}
		if v, ok := o.vals["additionalItems"]; ok && v != false {
			return nil, fail("additionalItems must be false")
		}
	case "string":
		if v, ok := o.vals["maxLength"]; ok {
			if s.MaxLength, err = nonNegative(v); err != nil || s.MaxLength == 0 {
				return nil, fail("maxLength must be a positive integer")
			}
		}
		if v, ok := o.vals["enum"]; ok {
			list, _ := v.([]any)
			if len(list) == 0 {
				return nil, fail("enum must be a non-empty array")
			}
			seen := map[string]bool{}
			for _, e := range list {
				es, ok := e.(string)
				if !ok || seen[es] {
					return nil, fail("enum values must be distinct strings")
				}
				seen[es] = true
				s.Enum = append(s.Enum, es)
			}
		}
		if v, ok := o.vals["format"]; ok {
			s.Format, _ = v.(string)
			if s.Format != "date-time" && s.Format != "uri" {
				return nil, fail("format %v is not supported", v)
			}
		}
		if s.Enum != nil && (s.Format != "" || s.MaxLength != 0) {
			return nil, fail("enum together with format or maxLength is not supported")
		}
	case "integer", "number":
		if v, ok := o.vals["multipleOf"]; ok {
			n, _ := v.(json.Number)
			if _, ok := powerOfTen(string(n)); !ok {
				return nil, fail("multipleOf %v: only powers of ten (0.1, 1, 10, ...) are supported", v)
			}
			s.MultipleOf = string(n)
		}
		for _, b := range []struct {
			kw  string
			dst **int64
		}{{"minimum", &s.Minimum}, {"maximum", &s.Maximum}} {
			v, ok := o.vals[b.kw]
			if !ok {
				continue
			}
			n, _ := v.(json.Number)
			i, err := strconv.ParseInt(string(n), 10, 64)
			if err != nil {
				return nil, fail("%s %v: only integers are supported", b.kw, v)
			}
			*b.dst = &i
		}
		if s.Minimum != nil && s.Maximum != nil && *s.Minimum > *s.Maximum {
			return nil, fail("minimum is above maximum")
		}
	}
	return s, err
}

func (p *parser) parseObject(s *schema, o *object, path string) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s#%s: %s", p.where, path, fmt.Sprintf(format, args...))
	}
	s.Open = true
	if v, ok := o.vals["additionalProperties"]; ok {
		b, ok := v.(bool)
		if !ok {
			return fail("additionalProperties must be a boolean")
		}
		s.Open = b
	}
	if s.Open && !p.features.OpenObjects {
		return fail("objects without additionalProperties: false are not supported")
	}
	if v, ok := o.vals["properties"]; ok {
		props, ok := v.(*object)
		if !ok {
			return fail("properties must be an object")
		}
		for _, name := range props.keys {
			po, ok := props.vals[name].(*object)
			if !ok {
				return fail("properties/%s must be a schema", name)
			}
			if !isJSONName(name) {
				return fail("property name %q is not supported", name)
			}
			ps, err := p.parse(po, path+"/properties/"+name, false)
			if err != nil {
				return err
			}
			s.Props = append(s.Props, &property{Name: name, Schema: ps})
		}
	}
	if v, ok := o.vals["required"]; ok {
		list, ok := v.([]any)
		if !ok {
			return fail("required must be an array")
		}
		for _, r := range list {
			name, _ := r.(string)
			var found *property
			for _, prop := range s.Props {
				if prop.Name == name {
					found = prop
				}
			}
			if found == nil || found.Required {
				return fail("required %v: not a property, or listed twice", r)
			}
			found.Required = true
		}
	}
	return nil
}

func nonNegative(v any) (int, error) {
	n, _ := v.(json.Number)
	i, err := strconv.Atoi(string(n))
	if err != nil || i < 0 {
		return 0, fmt.Errorf("%v is not a non-negative integer", v)
	}
	return i, nil
}

// powerOfTen reports whether the decimal text s is 10^k for an integer k,
// and returns k.
func powerOfTen(s string) (int, bool) {
	switch {
	case s == "1":
		return 0, true
	case strings.HasPrefix(s, "0."):
		frac := s[2:]
		if strings.TrimLeft(frac, "0") != "1" {
			return 0, false
		}
		return -len(frac), true
	case strings.HasPrefix(s, "1") && strings.Trim(s[1:], "0") == "":
		return len(s) - 1, true
	}
	return 0, false
}

// isJSONName reports whether a property name is made of ASCII letters and
// digits and starts with a letter, so that it can become a Go field name.
func isJSONName(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isIdent(s string) bool { return isJSONName(s) }

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
