package schematest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// SchemaFileOrSkip returns the path of the official schema file called
// name (see SchemaFilePath), or skips the test, saying why it needed the
// file, when it is not there. version is the OCPP version, e.g. "1.6".
func SchemaFileOrSkip(t testing.TB, name, version, why string) string {
	t.Helper()
	p, err := SchemaFilePath(name)
	if err == nil {
		_, err = os.Stat(p)
	}
	if err != nil {
		t.Skipf("the official OCPP %s schemas are not at %q (set EVSE_OCPP_SCHEMAS to their path): %s", version, p, why)
	}
	return p
}

// GeneratedFilesUpToDate runs generate into a temporary directory and
// compares its output, two files, with the committed files in dir, the
// directory of the package pkg (e.g. "ocpp16").
func GeneratedFilesUpToDate(t *testing.T, generate func(dst string) error, dir, pkg string) {
	t.Helper()
	tmp := t.TempDir()
	if err := generate(tmp); err != nil {
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
		got, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date: run go generate ./internal/%s", e.Name(), pkg)
		}
	}
}
