package ocpp201

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The official schemas are not part of the module; tests that need them
// find them as the README of ../shared/ocpp describes, or skip.

// schemaFilePath returns where ocpp2_0_1-schemas.json should be:
// $EVSE_OCPP_SCHEMAS, or ../shared/ocpp/ next to the module root.
func schemaFilePath() (string, error) {
	if p := os.Getenv("EVSE_OCPP_SCHEMAS"); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "ocpp", "ocpp2_0_1-schemas.json"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// officialSchema is one schema of the file, with the oracle compiled from it.
type officialSchema struct {
	id     string // e.g. "Authorize.req"
	action string
	kind   Kind
	root   map[string]any // as jsonschema.UnmarshalJSON decodes it
	oracle *jsonschema.Schema
}

var (
	loadOnce   sync.Once
	loaded     []*officialSchema
	loadErr    error
	loadedPath string
)

// officialSchemas loads and compiles the schema file once, or skips the test
// when the file is absent.
func officialSchemas(t testing.TB) []*officialSchema {
	t.Helper()
	loadOnce.Do(func() {
		loadedPath, loadErr = schemaFilePath()
		if loadErr != nil {
			return
		}
		var data []byte
		if data, loadErr = os.ReadFile(loadedPath); loadErr != nil {
			return
		}
		loaded, loadErr = compileOracles(data)
	})
	if os.IsNotExist(loadErr) {
		t.Skipf("the official OCPP 2.0.1 schemas are not at %q (set EVSE_OCPP_SCHEMAS to their path): skipping the comparison with them", loadedPath)
	}
	if loadErr != nil {
		t.Fatalf("loading %s: %v", loadedPath, loadErr)
	}
	return loaded
}

// compileOracles compiles every schema with santhosh-tekuri/jsonschema,
// asserting formats, as the independent judge of what is valid.
func compileOracles(data []byte) ([]*officialSchema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	var out []*officialSchema
	for _, v := range doc.([]any) {
		root := v.(map[string]any)
		id := root["$id"].(string)
		if err := c.AddResource(id, root); err != nil {
			return nil, err
		}
		s := &officialSchema{id: strings.TrimPrefix(id, "urn:"), root: root}
		if a, ok := strings.CutSuffix(s.id, ".req"); ok {
			s.action, s.kind = a, Request
		} else {
			s.action, s.kind = strings.TrimSuffix(s.id, ".conf"), Response
		}
		out = append(out, s)
	}
	for _, s := range out {
		if s.oracle, err = c.Compile("urn:" + s.id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// oracleAccepts reports whether the oracle accepts payload.
func (s *officialSchema) oracleAccepts(t failer, payload []byte) bool {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("%s: oracle cannot read %s: %v", s.id, payload, err)
	}
	return s.oracle.Validate(v) == nil
}

// failer is what testing.TB and *rapid.T have in common.
type failer interface {
	Helper()
	Fatalf(format string, args ...any)
}

// resolve follows a local $ref.
func (s *officialSchema) resolve(sch map[string]any) map[string]any {
	if ref, ok := sch["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/definitions/")
		return s.root["definitions"].(map[string]any)[name].(map[string]any)
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

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
