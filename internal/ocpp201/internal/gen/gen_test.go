package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/evse-dev/evse/internal/ocppgen"
)

// schemaFile finds ocpp2_0_1-schemas.json as the ocpp201 tests do, or skips.
func schemaFile(t *testing.T) string {
	t.Helper()
	p := os.Getenv("EVSE_OCPP_SCHEMAS")
	if p == "" {
		p = besideModule(t)
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("the official OCPP 2.0.1 schemas are not at %q (set EVSE_OCPP_SCHEMAS to their path): cannot check the generated files", p)
	}
	return p
}

// besideModule returns ../shared/ocpp/ocpp2_0_1-schemas.json from the module
// root.
func besideModule(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the working directory")
		}
		dir = parent
	}
	return filepath.Join(dir, "..", "shared", "ocpp", "ocpp2_0_1-schemas.json")
}

// TestGeneratedFilesUpToDate runs the generator into a temporary directory
// and compares its output with the committed files.
func TestGeneratedFilesUpToDate(t *testing.T) {
	src := schemaFile(t)
	tmp := t.TempDir()
	if err := ocppgen.Run(config201(), src, tmp); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("generator wrote %d files, want 2", len(entries))
	}
	for _, e := range entries {
		want, err := os.ReadFile(filepath.Join(tmp, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", "..", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date: run go generate ./internal/ocpp201", e.Name())
		}
	}
}

func TestDefinitionName(t *testing.T) {
	for _, tc := range []struct {
		def  string
		enum bool
		want string
	}{
		{"RegistrationStatusEnumType", true, "RegistrationStatus"},
		{"IdTokenType", false, "IdToken"},
		{"IdTokenEnumType", true, "IdTokenEnum"},
		{"VPNEnumType", true, "VPNEnum"},
		{"AuthorizationData", false, "AuthorizationData"},
	} {
		if got := definitionName(tc.def, tc.enum); got != tc.want {
			t.Errorf("definitionName(%q, %t) = %q, want %q", tc.def, tc.enum, got, tc.want)
		}
	}
}
