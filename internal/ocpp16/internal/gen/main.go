// Command gen writes the message types and schema descriptors of package
// ocpp16 from the Open Charge Alliance's OCPP 1.6 JSON schemas.
//
// Usage (from internal/ocpp16, see the go:generate line in doc.go):
//
//	go run ./internal/gen -schemas ../../../shared/ocpp/ocpp1_6-schemas.json
//
// It writes messages_gen.go and schema_gen.go into -out (default "."). It
// fails, rather than guess, on a schema keyword it does not know, on an
// object or enumeration the naming tables in names.go do not name, and on an
// action the table in actions.go does not place in a feature profile.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	schemas := flag.String("schemas", "", "path of ocpp1_6-schemas.json (a JSON array of draft-07 schemas)")
	out := flag.String("out", ".", "directory to write the generated files into")
	flag.Parse()
	if err := run(*schemas, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// run reads the schema file and writes the generated files into outDir.
func run(schemaPath, outDir string) error {
	if schemaPath == "" {
		return fmt.Errorf("-schemas is required")
	}
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	files, err := generate(data)
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

// generate turns the schema file's contents into the generated files, by
// file name.
func generate(data []byte) (map[string][]byte, error) {
	msgs, err := parseFile(data)
	if err != nil {
		return nil, err
	}
	m, err := buildModel(msgs)
	if err != nil {
		return nil, err
	}
	messages, err := emitMessages(m)
	if err != nil {
		return nil, fmt.Errorf("messages_gen.go: %w", err)
	}
	schema, err := emitSchema(m)
	if err != nil {
		return nil, fmt.Errorf("schema_gen.go: %w", err)
	}
	return map[string][]byte{
		"messages_gen.go": messages,
		"schema_gen.go":   schema,
	}, nil
}
