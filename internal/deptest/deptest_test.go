package deptest

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// forbidden are the packages the domain does not import: I/O belongs to
// the shells (ocppj, store, daemon, cmd).
var forbidden = []string{"github.com/coder/websocket", "go.etcd.io/bbolt", "net/http"}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func list(t *testing.T, path string) pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", path).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", path, err)
	}
	var p pkg
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDomainPackagesImportNoIO(t *testing.T) {
	const mod = "github.com/evse-dev/evse/internal/"
	for _, name := range []string{"config", "clock", "model", "chargepoint", "ocpp16", "ocpp201", "ocppschema", "ocppj/rpc", "dlm", "dlm/wire", "smartcharging", "firmsign", "netprofile", "display", "monitoring", "devicemodel"} {
		p := list(t, mod+name)
		for _, d := range p.Deps {
			for _, f := range forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("%s depends on %s", name, d)
				}
			}
		}
	}
}

// TestTheCoreIsPureAndSpeaksNoProtocol: the charging core imports no
// protocol, storage, clock or locking package, starts no goroutine and
// reads no clock: everything reaches it as an event with its time.
func TestTheCoreIsPureAndSpeaksNoProtocol(t *testing.T) {
	const mod = "github.com/evse-dev/evse/internal/"
	p := list(t, mod+"chargepoint")
	for _, d := range p.Deps {
		for _, f := range []string{mod + "ocpp16", mod + "ocpp201", mod + "ocppj", mod + "kv", mod + "store", mod + "clock", "net/http", "os/exec"} {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("the core depends on %s", d)
			}
		}

	}
	for _, d := range p.Imports {
		switch d {
		case "sync", "sync/atomic", "os", "math/rand", "math/rand/v2", "runtime":
			t.Errorf("the core imports %s", d)
		}
	}
	fset := token.NewFileSet()
	files, _ := filepath.Glob("../chargepoint/*.go")
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: the core starts a goroutine", fset.Position(n.Pos()))
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "time" {
					switch n.Sel.Name {
					case "Now", "Since", "Until", "Sleep", "After", "AfterFunc", "NewTimer", "NewTicker", "Tick":
						t.Errorf("%s: the core calls time.%s", fset.Position(n.Pos()), n.Sel.Name)
					}
				}
			}
			return true
		})
	}
}

// TestOnlyTestsImportSchematest: the shared schema test machinery
// (ocppschema/schematest, which brings rapid and an oracle JSON Schema
// validator) stays out of every production package.
func TestOnlyTestsImportSchematest(t *testing.T) {
	const st = "github.com/evse-dev/evse/internal/ocppschema/schematest"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "github.com/evse-dev/evse/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] == st {
			continue
		}
		for _, d := range fields[1:] {
			if d == st {
				t.Errorf("%s depends on %s", fields[0], st)
			}
		}
	}
}
