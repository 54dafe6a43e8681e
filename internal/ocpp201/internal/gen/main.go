// Command gen writes the message types and schema descriptors of package
// ocpp201 from the Open Charge Alliance's OCPP 2.0.1 JSON schemas, with
// the generator of package ocppgen and the tables of this directory.
//
// Usage (from internal/ocpp201, see the go:generate line in doc.go):
//
//	go run ./internal/gen -schemas ../../../shared/ocpp/ocpp2_0_1-schemas.json
//
// It writes messages_gen.go and schema_gen.go into -out (default "."). It
// fails, rather than guess, on a schema keyword it does not know, on an
// object or enumeration that is not a definition of the schemas, on two
// types that would get one Go name, and on an action the table in
// actions.go does not place in a functional block.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/evse-dev/evse/internal/ocppgen"
)

func main() {
	schemas := flag.String("schemas", "", "path of ocpp2_0_1-schemas.json (a JSON array of draft-07 schemas)")
	out := flag.String("out", ".", "directory to write the generated files into")
	flag.Parse()
	if err := ocppgen.Run(config201(), *schemas, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// config201 is the generator's configuration for package ocpp201.
func config201() *ocppgen.Config {
	actions := map[string]ocppgen.ActionInfo{}
	for name, info := range actionInfo {
		actions[name] = ocppgen.ActionInfo{
			Phrase: fmt.Sprintf("functional block %c %s, %s", info.block, blockNames[info.block], initiatorPhrases[info.initiator]),
			Fields: []string{fmt.Sprintf("Block: Block%s", blockConsts[info.block]), "Initiator: Initiator" + info.initiator},
		}
	}
	return &ocppgen.Config{
		Package: "ocpp201",
		Version: "2.0.1",
		Reserved: []string{"DateTime", "ParseDateTime", "Action", "Actions", "Lookup", "Block", "Initiator",
			"Kind", "Request", "Response", "Validate", "ValidateRequest", "ValidateResponse",
			"Decode", "DecodeRequest", "DecodeResponse", "DecodeFromPeer"},
		Actions:        actions,
		DefinitionName: definitionName,
		HandWritten:    map[string]bool{"CustomData": true},
		StringPointers: stringPointers,
		MaxUsers:       6,
		Features: ocppgen.Features{
			Annotations:     true,
			MaxItems:        true,
			AdditionalItems: true,
			Bounds:          true,
			Any:             true,
			OpenObjects:     true,
		},
	}
}
