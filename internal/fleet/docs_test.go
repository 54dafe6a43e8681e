package fleet

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// block returns the first fenced block of the given language in a
// Markdown file.
func block(t *testing.T, path, lang string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```").FindSubmatch(raw)
	if m == nil {
		t.Fatalf("%s has no %s block", path, lang)
	}
	return string(m[1])
}

// TestTheDocsFleetFileIsValid loads the fleet file of docs/fleet.md
// (with the model of docs/model.md beside it): the sample cannot go
// stale.
func TestTheDocsFleetFileIsValid(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ensto-2x.json"), []byte(block(t, "../../docs/model.md", "json")), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(path, []byte(block(t, "../../docs/fleet.md", "yaml")), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Groups) != 3 || !s.Groups[2].DLM || len(s.Faults) != 4 || s.Groups[0].model.Connectors != 2 {
		t.Errorf("the docs' fleet: %d groups, %d faults, %d connectors in the first group's model", len(s.Groups), len(s.Faults), s.Groups[0].model.Connectors)
	}
}

// TestTheKubernetesJobRunsEveryShard: the manifest's fleet file loads,
// and its pods run shards 0 to completions-1 of completions.
func TestTheKubernetesJobRunsEveryShard(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/fleet-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var fleetFile string
	var completions int
	var args []string
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var doc struct {
			Kind string `yaml:"kind"`
			Data struct {
				Fleet string `yaml:"fleet.yaml"`
			} `yaml:"data"`
			Spec struct {
				CompletionMode string `yaml:"completionMode"`
				Completions    int    `yaml:"completions"`
				Template       struct {
					Spec struct {
						Containers []struct {
							Args []string `yaml:"args"`
						} `yaml:"containers"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		switch doc.Kind {
		case "ConfigMap":
			fleetFile = doc.Data.Fleet
		case "Job":
			if doc.Spec.CompletionMode != "Indexed" {
				t.Errorf("completionMode %q, want Indexed", doc.Spec.CompletionMode)
			}
			completions = doc.Spec.Completions
			args = doc.Spec.Template.Spec.Containers[0].Args
		}
	}
	path := filepath.Join(t.TempDir(), "fleet.yaml")
	if err := os.WriteFile(path, []byte(fleetFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSpec(path); err != nil {
		t.Errorf("the manifest's fleet file: %v", err)
	}
	want := "--shard=$(JOB_COMPLETION_INDEX)/" + strconv.Itoa(completions)
	if !strings.Contains(strings.Join(args, " "), want) {
		t.Errorf("args %q lack %q", args, want)
	}
}
