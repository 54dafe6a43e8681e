package ocppgen

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// model is what the generated files are written from.
type model struct {
	Actions []*action     // sorted by name
	Enums   []*enumType   // sorted by name
	Objects []*objectType // sorted by name
}

type action struct {
	Name      string
	Info      ActionInfo
	Req, Conf *message
}

type enumType struct {
	Name   string
	Values []string
	Ref    string   // the whitepaper's name for it, if it came from a definition
	Users  []string // message ids, sorted
}

type objectType struct {
	Name   string
	Schema *schema // the first site's; all sites have the same structure
	Ref    string
	Users  []string // message ids, sorted
	sig    string
}

type builder struct {
	objects    map[string]*objectType
	enums      map[string]*enumType
	usedObject map[string]bool
	usedEnum   map[string]bool
	msg        *message // being walked
	cfg        *Config
}

func buildModel(cfg *Config, msgs []*message) (*model, error) {
	b := &builder{
		cfg:        cfg,
		objects:    map[string]*objectType{},
		enums:      map[string]*enumType{},
		usedObject: map[string]bool{},
		usedEnum:   map[string]bool{},
	}
	byAction := map[string]*action{}
	for _, m := range msgs {
		a := byAction[m.Action]
		if a == nil {
			info, ok := cfg.Actions[m.Action]
			if !ok {
				return nil, fmt.Errorf("action %s: not in actionInfo (actions.go); add its place and initiator", m.Action)
			}
			a = &action{Name: m.Action, Info: info}
			byAction[m.Action] = a
		}
		if m.Conf {
			a.Conf = m
		} else {
			a.Req = m
		}
		b.msg = m
		for _, p := range m.Schema.Props {
			if err := b.name(m.id(), p.Name, p.Schema); err != nil {
				return nil, err
			}
		}
	}

	out := &model{}
	for name, a := range byAction {
		if a.Req == nil || a.Conf == nil {
			return nil, fmt.Errorf("action %s: needs both a .req and a .conf schema", name)
		}
		out.Actions = append(out.Actions, a)
	}
	for name := range cfg.Actions {
		if byAction[name] == nil {
			return nil, fmt.Errorf("actionInfo lists %s, which has no schema", name)
		}
	}
	for site := range cfg.ObjectNames {
		if !b.usedObject[site] {
			return nil, fmt.Errorf("objectNames: site %s does not exist in the schemas", site)
		}
	}
	for site := range cfg.EnumNames {
		if !b.usedEnum[site] {
			return nil, fmt.Errorf("enumNames: site %s does not exist in the schemas", site)
		}
	}

	// Structurally identical objects must share one type.
	bySig := map[string]string{}
	for _, o := range b.objects {
		if o.Schema.Open && !cfg.HandWritten[o.Name] {
			return nil, fmt.Errorf("object %s is open (allows any property): only hand-written types may be", o.Name)
		}
		if other, ok := bySig[o.sig]; ok {
			return nil, fmt.Errorf("objects %s and %s have the same structure; give them one name in objectNames", other, o.Name)
		}
		bySig[o.sig] = o.Name
		out.Objects = append(out.Objects, o)
	}
	for _, e := range b.enums {
		out.Enums = append(out.Enums, e)
	}
	sort.Slice(out.Actions, func(i, j int) bool { return out.Actions[i].Name < out.Actions[j].Name })
	sort.Slice(out.Objects, func(i, j int) bool { return out.Objects[i].Name < out.Objects[j].Name })
	sort.Slice(out.Enums, func(i, j int) bool { return out.Enums[i].Name < out.Enums[j].Name })

	// Go names must not collide.
	taken := map[string]string{}
	claim := func(name, what string) error {
		if prev, ok := taken[name]; ok {
			return fmt.Errorf("Go name %s is wanted by both %s and %s", name, prev, what)
		}
		taken[name] = what
		return nil
	}
	for _, r := range cfg.Reserved {
		if err := claim(r, "the hand-written code"); err != nil {
			return nil, err
		}
	}
	for _, a := range out.Actions {
		if err := claim(a.Name+"Request", a.Req.id()); err != nil {
			return nil, err
		}
		if err := claim(a.Name+"Response", a.Conf.id()); err != nil {
			return nil, err
		}
	}
	for _, o := range out.Objects {
		if err := claim(o.Name, "object "+o.Name); err != nil {
			return nil, err
		}
	}
	for _, e := range out.Enums {
		if err := claim(e.Name, "enumeration "+e.Name); err != nil {
			return nil, err
		}
		for _, v := range e.Values {
			c, err := constName(e.Name, v)
			if err != nil {
				return nil, err
			}
			if err := claim(c, fmt.Sprintf("%s value %q", e.Name, v)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// name names the objects and enumerations at and below a site (see
// names.go).
func (b *builder) name(owner, path string, s *schema) error {
	site := owner + "/" + path
	switch s.Type {
	case "object":
		name, err := b.typeName(site, s, false)
		if err != nil {
			return err
		}
		s.GoName = name
		o := b.objects[name]
		if o == nil {
			o = &objectType{Name: name, Schema: s, Ref: s.Ref, sig: s.signature()}
			b.objects[name] = o
		} else if sig := s.signature(); sig != o.sig {
			return fmt.Errorf("object at site %s is named %s but differs from the other %s: give it its own name", site, name, name)
		}
		if o.Ref == "" {
			o.Ref = s.Ref
		}
		o.Users = addSorted(o.Users, b.msg.id())
		for _, p := range s.Props {
			if err := b.name(name, p.Name, p.Schema); err != nil {
				return err
			}
		}
	case "array":
		return b.name(owner, path+"[]", s.Items)
	case "string":
		if s.Enum == nil {
			return nil
		}
		name, err := b.typeName(site, s, true)
		if err != nil {
			return err
		}
		s.GoName = name
		e := b.enums[name]
		if e == nil {
			e = &enumType{Name: name, Values: s.Enum, Ref: s.Ref}
			b.enums[name] = e
		} else if !slices.Equal(e.Values, s.Enum) {
			return fmt.Errorf("enumeration at site %s is named %s but its values %q differ from %q: give it its own name", site, name, s.Enum, e.Values)
		}
		if e.Ref == "" {
			e.Ref = s.Ref
		}
		e.Users = addSorted(e.Users, b.msg.id())
	}
	return nil
}

// typeName names the object or enumeration s at site: from the site
// tables if the Config has them, else from its definition.
func (b *builder) typeName(site string, s *schema, enum bool) (string, error) {
	what, tableName, table, used := "object", "objectNames", b.cfg.ObjectNames, b.usedObject
	if enum {
		what, tableName, table, used = "enumeration", "enumNames", b.cfg.EnumNames, b.usedEnum
	}
	if table == nil {
		if s.Ref == "" || b.cfg.DefinitionName == nil {
			return "", fmt.Errorf("%s at site %s is not a definition: cannot name it", what, site)
		}
		name := b.cfg.DefinitionName(s.Ref, enum)
		if !isIdent(name) {
			return "", fmt.Errorf("%s %s at site %s: name %q is not a Go identifier", what, s.Ref, site, name)
		}
		return name, nil
	}
	name, ok := table[site]
	if !ok {
		return "", fmt.Errorf("%s at site %s has no name: add it to %s in names.go", what, site, tableName)
	}
	used[site] = true
	return name, nil
}

func addSorted(list []string, s string) []string {
	i, found := slices.BinarySearch(list, s)
	if found {
		return list
	}
	return slices.Insert(list, i, s)
}

// constName is the Go constant of an enumeration value: the type's name and
// the value with its punctuation removed, "Interruption.Begin" becoming
// ReadingContextInterruptionBegin and "L1-N" PhaseL1N.
func constName(typeName, value string) (string, error) {
	var b strings.Builder
	b.WriteString(typeName)
	upper := true
	for i := 0; i < len(value); i++ {
		c := value[i]
		switch {
		case isLetter(c):
			if upper {
				c = strings.ToUpper(string(c))[0]
			}
			b.WriteByte(c)
			upper = false
		case isDigit(c):
			b.WriteByte(c)
			upper = false
		case c == '.' || c == '-' || c == '_' || c == ' ':
			upper = true
		default:
			return "", fmt.Errorf("enumeration %s: value %q has a character (%q) the generator cannot put in a name", typeName, value, c)
		}
	}
	if b.Len() == len(typeName) {
		return "", fmt.Errorf("enumeration %s: value %q gives no name", typeName, value)
	}
	return b.String(), nil
}

// fieldName is the Go field of a JSON property: its first letter upper
// case, the rest as OCPP spells it (idTag becomes IdTag).
func fieldName(prop string) string {
	return strings.ToUpper(prop[:1]) + prop[1:]
}

// usesAny reports whether a generated struct has a field of any JSON value
// (json.RawMessage).
func (m *model) usesAny() bool {
	var walk func(s *schema) bool
	walk = func(s *schema) bool {
		switch s.Type {
		case "any":
			return true
		case "array":
			return walk(s.Items)
		case "object":
			for _, p := range s.Props {
				if p.Schema.GoName == "" && walk(p.Schema) {
					return true
				}
			}
		}
		return false
	}
	for _, o := range m.Objects {
		if walk(o.Schema) {
			return true
		}
	}
	for _, a := range m.Actions {
		if walk(a.Req.Schema) || walk(a.Conf.Schema) {
			return true
		}
	}
	return false
}
