package config

import (
	"os"
	"testing"
)

func TestDocsKeysIsCurrent(t *testing.T) {
	want := mustCatalogue(t).Markdown()
	got, err := os.ReadFile("../../docs/keys.md")
	if err != nil {
		t.Fatalf("docs/keys.md: %v (generate it: go run ./cmd/evse keys > docs/keys.md)", err)
	}
	if string(got) != want {
		t.Fatal("docs/keys.md is stale: run go run ./cmd/evse keys > docs/keys.md")
	}
}
