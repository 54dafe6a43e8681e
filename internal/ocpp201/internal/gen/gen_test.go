package main

import (
	"path/filepath"
	"testing"

	"github.com/evse-dev/evse/internal/ocppgen"
	"github.com/evse-dev/evse/internal/ocppschema/schematest"
)

// TestGeneratedFilesUpToDate runs the generator into a temporary directory
// and compares its output with the committed files.
func TestGeneratedFilesUpToDate(t *testing.T) {
	src := schematest.SchemaFileOrSkip(t, "ocpp2_0_1-schemas.json", "2.0.1", "cannot check the generated files")
	schematest.GeneratedFilesUpToDate(t, func(dst string) error {
		return ocppgen.Run(config201(), src, dst)
	}, filepath.Join("..", ".."), "ocpp201")
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
