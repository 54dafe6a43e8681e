// Command gen writes the message types and schema descriptors of package
// ocpp16 from the Open Charge Alliance's OCPP 1.6 JSON schemas, with the
// generator of package ocppgen and the tables of this directory.
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

	"github.com/evse-dev/evse/internal/ocppgen"
)

func main() {
	schemas := flag.String("schemas", "", "path of ocpp1_6-schemas.json (a JSON array of draft-07 schemas)")
	out := flag.String("out", ".", "directory to write the generated files into")
	flag.Parse()
	if err := ocppgen.Run(config16(), *schemas, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
