package config

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// appendixRow is one key row of the appendix's tables.
type appendixRow struct {
	name, access, typ, rng string
}

// appendixPath finds ../shared/spec/ensto-configuration-keys.txt next to
// the module root, or $EVSE_APPENDIX.
func appendixPath(t *testing.T) string {
	if p := os.Getenv("EVSE_APPENDIX"); p != "" {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "spec", "ensto-configuration-keys.txt")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func readAppendix(t *testing.T) []appendixRow {
	t.Helper()
	p := appendixPath(t)
	f, err := os.Open(p)
	if err != nil {
		t.Skipf("appendix not available (%v): the catalogue is checked against it where ../shared/spec exists", err)
	}
	defer f.Close()
	var rows []appendixRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 5 {
			continue
		}
		name := strings.TrimSpace(strings.NewReplacer("⁽¹⁾", "", "¹", "").Replace(cols[0]))
		if strings.EqualFold(name, "Key name") {
			continue
		}
		n := len(cols)
		rows = append(rows, appendixRow{name: name, access: cols[n-3], typ: cols[n-2], rng: strings.TrimSpace(cols[n-1])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

var (
	rangeRE = regexp.MustCompile(`^\[(-?\d+)\.\.(-?\d+)\] Def:(-?\d+)$`)
	labelRE = regexp.MustCompile(`\((\d+)\)(.*?)\s*(?:\(\d+\)|Def:|$)`)
)

// TestCatalogueMatchesAppendix reads the appendix and checks that every key
// it prints is in the catalogue with exactly its accessibility, type,
// range, labels and default, and that the catalogue has no other appendix
// key.
func TestCatalogueMatchesAppendix(t *testing.T) {
	rows := readAppendix(t)
	if len(rows) != 60 {
		t.Fatalf("appendix has %d key rows, want 60", len(rows))
	}
	cat, err := NewCatalogue(nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		k, ok := cat.byName[r.name]
		if !ok {
			t.Errorf("%s: not in the catalogue", r.name)
			continue
		}
		key := cat.keys[k]
		seen[key.Name] = true
		if key.Name != r.name {
			t.Errorf("%s: catalogue name %q", r.name, key.Name)
		}
		if key.Access.String() != r.access {
			t.Errorf("%s: access %s, appendix %s", r.name, key.Access, r.access)
		}
		if key.PrintedType != r.typ {
			t.Errorf("%s: type %q, appendix %q", r.name, key.PrintedType, r.typ)
		}
		switch {
		case rangeRE.MatchString(r.rng):
			m := rangeRE.FindStringSubmatch(r.rng)
			lo, _ := strconv.ParseInt(m[1], 10, 64)
			hi, _ := strconv.ParseInt(m[2], 10, 64)
			if key.Kind != KindInt || key.Min != lo || key.Max != hi || key.Default != m[3] {
				t.Errorf("%s: kind %d [%d..%d] default %q, appendix %s", r.name, key.Kind, key.Min, key.Max, key.Default, r.rng)
			}
		case strings.HasPrefix(r.rng, "(0)"):
			body, def, _ := strings.Cut(r.rng, " Def:")
			var labels []string
			for rest := body + " "; rest != ""; {
				m := labelRE.FindStringSubmatchIndex(rest)
				if m == nil {
					break
				}
				labels = append(labels, strings.TrimSpace(rest[m[4]:m[5]]))
				rest = rest[m[5]:]
				rest = strings.TrimLeft(rest, " ")
			}
			if strings.Join(labels, "|") != strings.Join(key.Labels, "|") {
				t.Errorf("%s: labels %q, appendix %q", r.name, key.Labels, labels)
			}
			defIndex := -1
			for i, l := range labels {
				if l == def {
					defIndex = i
				}
			}
			if defIndex < 0 {
				t.Fatalf("%s: appendix default %q is not a label", r.name, def)
			}
			// The default must read back as PRODUCT.md decides: booleans
			// true/false, AllowOfflineTxForUnknownId false/true/..., Ensto
			// and DLM enums the number.
			want := strconv.Itoa(defIndex)
			switch key.Kind {
			case KindBool:
				want = strconv.FormatBool(defIndex == 1)
			case KindOfflineTx:
				want = []string{"false", "true", "ImmediatelyWhenPlugged"}[defIndex]
			case KindEnum:
			default:
				t.Errorf("%s: kind %d for an enumeration", r.name, key.Kind)
			}
			if key.Default != want {
				t.Errorf("%s: default %q, want %q (appendix Def:%s)", r.name, key.Default, want, def)
			}
		case r.rng == "":
			// No default printed: SupportedFeatureProfiles and
			// DlmState are filled in by the charge point; the others
			// are empty.
			switch r.name {
			case "SupportedFeatureProfiles":
				if key.Default != "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger" {
					t.Errorf("%s: default %q", r.name, key.Default)
				}
			case "DlmState":
				if key.Stored() {
					t.Errorf("DlmState must be computed")
				}
			default:
				if key.Default != "" {
					t.Errorf("%s: default %q, appendix prints none", r.name, key.Default)
				}
			}
		default: // an example value, which is our default
			if key.Default != r.rng {
				t.Errorf("%s: default %q, appendix %q", r.name, key.Default, r.rng)
			}
		}
	}
	var appendixKeys int
	for _, k := range cat.keys {
		if k.Section != Extra && k.Section != Local && k.Section != OCPP201 {
			appendixKeys++
			if !seen[k.Name] {
				t.Errorf("%s: in an appendix section of the catalogue but not in the appendix", k.Name)
			}
		}
	}
	if appendixKeys != 60 {
		t.Errorf("catalogue has %d appendix keys, want 60", appendixKeys)
	}
}
