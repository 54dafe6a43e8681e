// Package ocppgen writes the message types and schema descriptors of an
// OCPP message package (ocpp16, ocpp201) from the Open Charge Alliance's
// JSON schemas. Each package has a small command, internal/gen, that holds
// its tables (names, actions) in a [Config] and calls [Run].
//
// It fails, rather than guess, on a schema keyword its Config does not
// allow, on an object or enumeration it cannot name, and on an action the
// Config does not place.
package ocppgen

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Config is what differs between OCPP versions.
type Config struct {
	Package string // the Go package written, e.g. "ocpp16"
	Version string // the OCPP version, for doc comments, e.g. "1.6"

	// Reserved are the exported names of the hand-written part of the
	// package; no generated name may take them.
	Reserved []string

	// Actions places every action; an action missing from it, or listed
	// without a schema, makes the generator fail.
	Actions map[string]ActionInfo

	// ObjectNames and EnumNames name the objects and enumerations by site
	// (see Site). If they are nil, DefinitionName names them from the
	// definition they were referenced from ($ref).
	ObjectNames, EnumNames map[string]string
	DefinitionName         func(def string, enum bool) string

	// HandWritten are object types the package defines by hand: their
	// descriptors are generated, their Go types are not. Only they may be
	// open (allow properties the schema does not name).
	HandWritten map[string]bool

	// StringPointers are the optional strings ("<Go struct>.<property>")
	// whose empty value must be told apart from no value: they become
	// *string.
	StringPointers map[string]bool

	// MaxUsers caps the messages listed in a type's doc comment; 0 lists
	// them all.
	MaxUsers int

	// Features are the schema keywords beyond those of OCPP 1.6 that the
	// package's validator supports.
	Features Features
}

// Features are schema keywords the validator of a package supports beyond
// the OCPP 1.6 set (type, properties, required, additionalProperties: false,
// items, minItems, maxLength, enum, format date-time and uri, multipleOf a
// power of ten).
type Features struct {
	// Annotations: description, default, $comment, comment and javaType,
	// which do not constrain values, are allowed (and ignored, but for
	// default, which goes into the field's comment).
	Annotations bool
	// MaxItems: maxItems on arrays.
	MaxItems bool
	// AdditionalItems: additionalItems: false next to a single items
	// schema, where JSON Schema gives it no effect.
	AdditionalItems bool
	// Bounds: minimum and maximum, integers only, on integers and numbers.
	Bounds bool
	// Any: a schema with no type and no constraint (any JSON value).
	Any bool
	// OpenObjects: objects without additionalProperties: false.
	OpenObjects bool
}

// ActionInfo places an action.
type ActionInfo struct {
	// Phrase goes into the doc comment of the request type, in brackets:
	// "Core, sent by the charge point".
	Phrase string
	// Fields are the Go fields of the action's entry in the generated
	// Action table besides its name and constructors, e.g.
	// "Profile: ProfileCore".
	Fields []string
}

// Run reads the schema file at schemaPath and writes messages_gen.go and
// schema_gen.go into outDir.
func Run(cfg *Config, schemaPath, outDir string) error {
	if schemaPath == "" {
		return fmt.Errorf("-schemas is required")
	}
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	files, err := Generate(cfg, data)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(outDir, name), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Generate turns the schema file's contents into the generated files, by
// file name.
func Generate(cfg *Config, data []byte) (map[string][]byte, error) {
	msgs, err := parseFile(cfg, data)
	if err != nil {
		return nil, err
	}
	m, err := buildModel(cfg, msgs)
	if err != nil {
		return nil, err
	}
	messages, err := emitMessages(cfg, m)
	if err != nil {
		return nil, fmt.Errorf("messages_gen.go: %w", err)
	}
	schema, err := emitSchema(cfg, m)
	if err != nil {
		return nil, fmt.Errorf("schema_gen.go: %w", err)
	}
	return map[string][]byte{
		"messages_gen.go": messages,
		"schema_gen.go":   schema,
	}, nil
}
