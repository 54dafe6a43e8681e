package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestTheVendoredFilesAreThePinnedOnes: every vendored file is listed in
// VENDOR.md with its SHA-256, and is that file; every listed one is
// there, with its licence.
func TestTheVendoredFilesAreThePinnedOnes(t *testing.T) {
	table, err := fs.ReadFile(assetsFS, "vendor/VENDOR.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|.*`(licenses/[^`]+)` \\| `([0-9a-f]{64})` \\|$").FindAllStringSubmatch(string(table), -1)
	listed := map[string]bool{}
	for _, r := range rows {
		name, licence, want := r[1], r[2], r[3]
		listed[name] = true
		raw, err := fs.ReadFile(assetsFS, "vendor/"+name)
		if err != nil {
			t.Errorf("%s is listed, not there: %v", name, err)
			continue
		}
		sum := sha256.Sum256(raw)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: SHA-256 %s, VENDOR.md pins %s", name, got, want)
		}
		if _, err := fs.Stat(assetsFS, "vendor/"+licence); err != nil {
			t.Errorf("%s: no licence file %s", name, licence)
		}
	}
	entries, err := fs.ReadDir(assetsFS, "vendor")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() && !strings.HasSuffix(e.Name(), ".md") && !listed[e.Name()] {
			t.Errorf("vendor/%s is not listed in VENDOR.md", e.Name())
		}
	}
	if len(rows) != 4 {
		t.Errorf("VENDOR.md lists %d files, want 4", len(rows))
	}
}

// TestThePagesNeedNothingFromTheInternet: no page or script names an
// address beyond the charge point's own.
func TestThePagesNeedNothingFromTheInternet(t *testing.T) {
	for _, dir := range []string{"templates", "assets"} {
		fs.WalkDir(files, dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasPrefix(path, "assets/vendor/") {
				return err
			}
			raw, _ := fs.ReadFile(files, path)
			if m := regexp.MustCompile(`(src|href)="(https?:)?//`).Find(raw); m != nil {
				t.Errorf("%s loads %s from elsewhere", path, m)
			}
			return nil
		})
	}
}
