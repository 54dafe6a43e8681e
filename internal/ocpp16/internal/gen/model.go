package main

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
	Profile   string // e.g. "Core"
	Initiator string // "ChargePoint", "CentralSystem" or "Both"
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

// reserved are the exported names of the hand-written part of package
// ocpp16; no generated type may take them.
var reserved = []string{"DateTime", "ParseDateTime", "Action", "Actions", "Lookup", "Profile", "Initiator",
	"Kind", "Request", "Response", "Validate", "ValidateRequest", "ValidateResponse",
	"Decode", "DecodeRequest", "DecodeResponse"}

type builder struct {
	objects    map[string]*objectType
	enums      map[string]*enumType
	usedObject map[string]bool
	usedEnum   map[string]bool
	msg        *message // being walked
}

func buildModel(msgs []*message) (*model, error) {
	b := &builder{
		objects:    map[string]*objectType{},
		enums:      map[string]*enumType{},
		usedObject: map[string]bool{},
		usedEnum:   map[string]bool{},
	}
	byAction := map[string]*action{}
	for _, m := range msgs {
		a := byAction[m.Action]
		if a == nil {
			info, ok := actionInfo[m.Action]
			if !ok {
				return nil, fmt.Errorf("action %s: not in actionInfo (actions.go); add its profile and initiator", m.Action)
			}
			a = &action{Name: m.Action, Profile: info.profile, Initiator: info.initiator}
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
		if profileNames[a.Profile] == "" || initiatorPhrases[a.Initiator] == "" {
			return nil, fmt.Errorf("action %s: unknown profile %q or initiator %q", name, a.Profile, a.Initiator)
		}
		out.Actions = append(out.Actions, a)
	}
	for name := range actionInfo {
		if byAction[name] == nil {
			return nil, fmt.Errorf("actionInfo lists %s, which has no schema", name)
		}
	}
	for site := range objectNames {
		if !b.usedObject[site] {
			return nil, fmt.Errorf("objectNames: site %s does not exist in the schemas", site)
		}
	}
	for site := range enumNames {
		if !b.usedEnum[site] {
			return nil, fmt.Errorf("enumNames: site %s does not exist in the schemas", site)
		}
	}

	// Structurally identical objects must share one type.
	bySig := map[string]string{}
	for _, o := range b.objects {
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
	for _, r := range reserved {
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
		name, ok := objectNames[site]
		if !ok {
			return fmt.Errorf("object at site %s has no name: add it to objectNames in names.go", site)
		}
		b.usedObject[site] = true
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
		name, ok := enumNames[site]
		if !ok {
			return fmt.Errorf("enumeration at site %s has no name: add it to enumNames in names.go", site)
		}
		b.usedEnum[site] = true
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
