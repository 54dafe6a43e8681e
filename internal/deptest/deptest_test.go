package deptest

import (
	"encoding/json"
	"os/exec"
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
	for _, name := range []string{"config", "clock", "model", "chargepoint", "ocpp16", "ocppj/rpc", "dlm", "dlm/wire", "smartcharging"} {
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
