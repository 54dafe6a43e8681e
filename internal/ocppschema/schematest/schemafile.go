// Package schematest holds the test machinery that the OCPP packages
// (ocpp16, ocpp201) share: it loads the official schema file, compiles
// each schema with an independent JSON Schema validator (the oracle),
// builds samples from the schemas, and runs the comparisons. A Version
// says what differs from one OCPP version to the next.
//
// It is for tests only: no production package imports it (see
// internal/deptest).
package schematest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
	"github.com/evse-dev/evse/internal/ocppschema"
)

// Kind is the direction of a message (see ocppschema.Kind).
type Kind = ocppschema.Kind

// The directions.
const (
	Request  = ocppschema.Request
	Response = ocppschema.Response
)

// Version is what the shared tests need to know of one OCPP version.
type Version struct {
	// Name is the version in messages, e.g. "1.6".
	Name string
	// SchemaFile is the name of the official schema file, e.g.
	// "ocpp1_6-schemas.json".
	SchemaFile string
	// Dialect is the validator's dialect of the version.
	Dialect ocppschema.Dialect
	// Known reports whether c is a CALLERROR code of the version.
	Known func(c rpc.ErrorCode) bool

	// Validate, Decode and New are the package's Validate, Decode and
	// the Action's NewRequest or NewResponse; New reports false for an
	// action the package does not have.
	Validate func(action string, kind Kind, payload []byte) error
	Decode   func(action string, kind Kind, payload []byte) (any, error)
	New      func(action string, kind Kind) (any, bool)

	// TrimArrays makes the mutations start from a maximal payload with
	// one item per array (nested arrays would otherwise make payloads of
	// megabytes).
	TrimArrays bool
	// MaxRandomItems is the most items of a random array.
	MaxRandomItems int

	loadOnce   sync.Once
	loaded     []*Schema
	loadErr    error
	loadedPath string
}

// The official schemas are not part of the module; tests that need them
// find them as the README of ../shared/ocpp describes, or skip.

// SchemaFilePath returns where the schema file called name should be:
// $EVSE_OCPP_SCHEMAS, or ../shared/ocpp/ next to the module root.
func SchemaFilePath(name string) (string, error) {
	if p := os.Getenv("EVSE_OCPP_SCHEMAS"); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "ocpp", name), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// Schema is one schema of the file, with the oracle compiled from it.
type Schema struct {
	ID     string // e.g. "Authorize.req"
	Action string
	Kind   Kind
	Root   map[string]any // as jsonschema.UnmarshalJSON decodes it
	oracle *jsonschema.Schema
}

// Schemas loads and compiles the schema file once, or skips the test
// when the file is absent.
func (v *Version) Schemas(t testing.TB) []*Schema {
	t.Helper()
	v.loadOnce.Do(func() {
		v.loadedPath, v.loadErr = SchemaFilePath(v.SchemaFile)
		if v.loadErr != nil {
			return
		}
		var data []byte
		if data, v.loadErr = os.ReadFile(v.loadedPath); v.loadErr != nil {
			return
		}
		v.loaded, v.loadErr = compileOracles(data)
	})
	if os.IsNotExist(v.loadErr) {
		t.Skipf("the official OCPP %s schemas are not at %q (set EVSE_OCPP_SCHEMAS to their path): skipping the comparison with them", v.Name, v.loadedPath)
	}
	if v.loadErr != nil {
		t.Fatalf("loading %s: %v", v.loadedPath, v.loadErr)
	}
	return v.loaded
}

// compileOracles compiles every schema with santhosh-tekuri/jsonschema,
// asserting formats, as the independent judge of what is valid.
func compileOracles(data []byte) ([]*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	var out []*Schema
	for _, v := range doc.([]any) {
		root := v.(map[string]any)
		id := root["$id"].(string)
		if err := c.AddResource(id, root); err != nil {
			return nil, err
		}
		s := &Schema{ID: strings.TrimPrefix(id, "urn:"), Root: root}
		if a, ok := strings.CutSuffix(s.ID, ".req"); ok {
			s.Action, s.Kind = a, Request
		} else {
			s.Action, s.Kind = strings.TrimSuffix(s.ID, ".conf"), Response
		}
		out = append(out, s)
	}
	for _, s := range out {
		if s.oracle, err = c.Compile("urn:" + s.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// OracleAccepts reports whether the oracle accepts payload.
func (s *Schema) OracleAccepts(t Failer, payload []byte) bool {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("%s: oracle cannot read %s: %v", s.ID, payload, err)
	}
	return s.oracle.Validate(v) == nil
}

// Failer is what testing.TB and *rapid.T have in common.
type Failer interface {
	Helper()
	Fatalf(format string, args ...any)
}

// resolve follows a local $ref.
func (s *Schema) resolve(sch map[string]any) map[string]any {
	if ref, ok := sch["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/definitions/")
		return s.Root["definitions"].(map[string]any)[name].(map[string]any)
	}
	return sch
}

// oneFormatOracle compiles {"type":"string","format":f} with the oracle.
func oneFormatOracle(t testing.TB, format string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	if err := c.AddResource("urn:format", map[string]any{"type": "string", "format": format}); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("urn:format")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// MustMarshal is json.Marshal that fails the test on an error.
func MustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SchemasFitTheValidator checks that no object of the schemas rooted at
// roots has more properties than the validator tracks in its 64-bit set.
func SchemasFitTheValidator(t *testing.T, roots []*ocppschema.Node) {
	t.Helper()
	check := func(n *ocppschema.Node) {
		if len(n.Props) > ocppschema.MaxProps {
			t.Errorf("an object of %d properties", len(n.Props))
		}
	}
	for _, r := range roots {
		r.Walk(check)
	}
}
