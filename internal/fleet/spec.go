package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	v16 "github.com/evse-dev/evse/internal/chargepoint/v16"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/daemon"
	"github.com/evse-dev/evse/internal/model"
)

// Spec is a fleet: its groups, the ramp of connections and the faults
// scheduled. A fleet file (YAML) holds one; `evse fleet --count N` makes
// one of a single group.
type Spec struct {
	// CSMS is the central system's URL; the command line's --csms wins.
	CSMS   string  `yaml:"csms"`
	Ramp   Ramp    `yaml:"ramp"`
	Groups []Group `yaml:"groups"`
	// Faults happen at their time after the fleet starts.
	Faults []Fault `yaml:"faults"`
}

// Ramp bounds how fast the fleet's charge points connect: at most Rate
// connection attempts a second over the whole fleet (reconnections
// too), each delayed by a random part of Jitter.
type Ramp struct {
	Rate   float64  `yaml:"rate"`
	Jitter Duration `yaml:"jitter"`
}

// DefaultRamp is gentle enough for a small central system: 20
// connections a second, each up to 1 s late.
var DefaultRamp = Ramp{Rate: 20, Jitter: Duration(time.Second)}

// Group is a set of alike charge points.
type Group struct {
	Name  string `yaml:"name"`
	Count int    `yaml:"count"`
	// ID is the pattern of the ids: "{n}" is the charge point's number in
	// the group (from 1), "{n:05}" the same zero-padded to 5 digits.
	// Default "<name>-{n:05}".
	ID string `yaml:"id"`
	// Model is a model file (JSON, see docs/model.md), relative to the
	// fleet file; default the neutral unit.
	Model string `yaml:"model"`
	// Keys are configuration values that differ from the model's
	// defaults, as an installer would set them.
	Keys map[string]string `yaml:"keys"`
	// Security is the OCPP security profile (0 or 1 over ws://, 2 or 3
	// over wss://) and its credentials.
	Security Security `yaml:"security"`
	// Behaviour drives the group's simulated cars and drivers; zero: no
	// car ever comes.
	Behaviour Behaviour `yaml:"behaviour"`
	// OCPP are the OCPP versions the group's charge points offer, in
	// order of preference: a list ([2.0.1, 1.6]) or a string
	// ("2.0.1,1.6"). Each charge point speaks the one the central system
	// picks. Default 1.6 only.
	OCPP Versions `yaml:"ocpp"`
	// Misbehave makes the group's charge points break OCPP on purpose,
	// to test how a central system copes; zero: they do not.
	Misbehave Misbehave `yaml:"misbehave"`
	// DLM makes the group one DLM site: its first charge point the
	// master (DlmMode 1, charging too), the others its slaves (DlmMode
	// 4), over TCP on loopback. The site's limits are keys
	// (DlmPhase1Limit…); DlmSiteKey is drawn from the seed unless the
	// keys give one.
	DLM bool `yaml:"dlm"`
	// DLMPort is the port the master listens on; 0: a free one.
	DLMPort int `yaml:"dlmPort"`

	model model.Model // loaded
}

// Versions are OCPP versions as subprotocols (ocpp2.0.1, ocpp1.6), in
// order of preference.
type Versions []string

// UnmarshalYAML reads versions written as a list ([2.0.1, 1.6]) or a
// string ("2.0.1,1.6"); "ocpp1.6" is 1.6 too.
func (v *Versions) UnmarshalYAML(n *yaml.Node) error {
	var list []string
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Value != "" {
			list = strings.Split(n.Value, ",")
		}
	case yaml.SequenceNode:
		if err := n.Decode(&list); err != nil {
			return err
		}
	default:
		return fmt.Errorf("line %d: ocpp: want a list of versions ([2.0.1, 1.6]) or a string (\"2.0.1,1.6\")", n.Line)
	}
	if len(list) == 0 {
		return fmt.Errorf("line %d: ocpp: no version (1.6, 2.0.1 or both)", n.Line)
	}
	parsed, err := daemon.ParseVersions(strings.Join(list, ","))
	if err != nil {
		return fmt.Errorf("line %d: ocpp: %w", n.Line, err)
	}
	*v = parsed
	return nil
}

// ParseVersions reads a list of versions as `evse run --ocpp` does
// ("2.0.1,1.6").
func ParseVersions(list string) (Versions, error) {
	v, err := daemon.ParseVersions(list)
	return Versions(v), err
}

// DlmMode values a DLM group gives its charge points.
const (
	dlmMaster = "1" // master, with its own connectors managed
	dlmSlave  = "4" // slave of a fixed master address
)

// Security is a group's security profile and credentials.
type Security struct {
	Profile int `yaml:"profile"`
	// AuthorizationKey is the Basic authentication password as 32 to 40
	// hex digits (AuthorizationKey's form), the same for every charge
	// point of the group (profiles 1 and 2).
	AuthorizationKey string `yaml:"authorizationKey"`
	// CA is a directory holding the central system's CA for charge point
	// certificates, ca.pem and ca-key.pem (what evse csms keeps),
	// relative to the fleet file; profile 3 only. At its first start each
	// charge point makes its key, has the CA sign it and installs ca.pem
	// as its CentralSystemRootCertificate.
	CA string `yaml:"ca"`
	// Validity is how long those certificates are valid; default a year.
	Validity Duration `yaml:"validity"`

	ca *csmstest.CA // loaded
}

// defaultValidity is the validity of a certificate the fleet signs.
const defaultValidity = 365 * 24 * time.Hour

// Duration is a time.Duration written as "30s", "5m", "2h".
type Duration time.Duration

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// D is the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Limits of a fleet file: a bound on everything a file can ask for.
const (
	maxFleet  = 200_000
	maxGroups = 1000
	maxFaults = 10_000
	maxFile   = 4 << 20
)

// LoadSpec reads and checks a fleet file.
func LoadSpec(path string) (Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, fmt.Errorf("fleet file: %w", err)
	}
	if len(data) > maxFile {
		return Spec{}, fmt.Errorf("fleet file %s: over %d bytes", path, maxFile)
	}
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("fleet file %s: %w", path, err)
	}
	if err := s.check(filepath.Dir(path)); err != nil {
		return Spec{}, fmt.Errorf("fleet file %s: %w", path, err)
	}
	return s, nil
}

// Simple is the fleet of `evse fleet --count N --id-prefix P`: one group
// of N neutral charge points, P00001 on, that no car visits.
func Simple(count int, prefix string) (Spec, error) {
	s := Spec{Groups: []Group{{Name: "fleet", Count: count, ID: prefix + "{n:05}"}}}
	return s, s.check("")
}

var idPattern = regexp.MustCompile(`\{n(?::0(\d))?\}`)

// check validates the spec and loads its models (relative to dir).
func (s *Spec) check(dir string) error {
	if s.Ramp == (Ramp{}) {
		s.Ramp = DefaultRamp
	}
	if s.Ramp.Rate <= 0 || s.Ramp.Rate > 100_000 {
		return fmt.Errorf("ramp rate %g: want above 0 and at most 100000 a second", s.Ramp.Rate)
	}
	if len(s.Groups) == 0 {
		return errors.New("no groups")
	}
	if len(s.Groups) > maxGroups {
		return fmt.Errorf("%d groups: at most %d", len(s.Groups), maxGroups)
	}
	total := 0
	names := map[string]bool{}
	for i := range s.Groups {
		g := &s.Groups[i]
		if g.Name == "" {
			g.Name = fmt.Sprintf("group%d", i+1)
		}
		if names[g.Name] {
			return fmt.Errorf("group %q twice", g.Name)
		}
		names[g.Name] = true
		if g.Count < 1 || g.Count > maxFleet {
			return fmt.Errorf("group %s: count %d: want 1 to %d", g.Name, g.Count, maxFleet)
		}
		total += g.Count
		if total > maxFleet {
			return fmt.Errorf("%d charge points: at most %d in one fleet (use shards beyond)", total, maxFleet)
		}
		if g.ID == "" {
			g.ID = g.Name + "-{n:05}"
		}
		if !idPattern.MatchString(g.ID) {
			return fmt.Errorf("group %s: id pattern %q has no {n}", g.Name, g.ID)
		}
		if len(g.OCPP) == 0 {
			g.OCPP = Versions{v16.Subprotocol}
		}
		if _, err := daemon.ParseVersions(strings.Join(g.OCPP, ",")); err != nil {
			return fmt.Errorf("group %s: ocpp: %w", g.Name, err)
		}
		g.model = model.Default()
		if g.Model != "" {
			path := g.Model
			if !filepath.IsAbs(path) && dir != "" {
				path = filepath.Join(dir, path)
			}
			m, err := model.Load(path)
			if err != nil {
				return fmt.Errorf("group %s: %w", g.Name, err)
			}
			g.model = m
		}
		if g.DLM {
			if g.Count < 2 {
				return fmt.Errorf("group %s: a DLM site needs a master and at least one slave (count 2 or more)", g.Name)
			}
			for _, k := range []string{"DlmMode", "DlmMasterIp", "DlmPort"} {
				if _, set := g.Keys[k]; set {
					return fmt.Errorf("group %s: a DLM group sets %s itself", g.Name, k)
				}
			}
			if g.DLMPort < 0 || g.DLMPort > 65535 {
				return fmt.Errorf("group %s: dlmPort %d", g.Name, g.DLMPort)
			}
		}
		if err := g.Security.check(dir); err != nil {
			return fmt.Errorf("group %s: %w", g.Name, err)
		}
		if _, err := g.catalogue(roleDefaults{}); err != nil {
			return fmt.Errorf("group %s: %w", g.Name, err)
		}
		if err := g.Behaviour.check(); err != nil {
			return fmt.Errorf("group %s: behaviour: %w", g.Name, err)
		}
		if err := g.Misbehave.check(); err != nil {
			return fmt.Errorf("group %s: misbehave: %w", g.Name, err)
		}
	}
	seen := map[string]string{}
	for _, g := range s.Groups {
		for n := 1; n <= g.Count; n++ {
			id := g.id(n)
			if other, dup := seen[id]; dup {
				return fmt.Errorf("charge point id %q in groups %s and %s", id, other, g.Name)
			}
			seen[id] = g.Name
		}
	}
	if len(s.Faults) > maxFaults {
		return fmt.Errorf("%d faults: at most %d", len(s.Faults), maxFaults)
	}
	for i, f := range s.Faults {
		if err := f.check(names); err != nil {
			return fmt.Errorf("fault %d: %w", i+1, err)
		}
	}
	return nil
}

// check validates a group's security and loads its CA (relative to dir).
func (s *Security) check(dir string) error {
	switch p := s.Profile; {
	case p < 0 || p > 3:
		return fmt.Errorf("security profile %d: want 0 to 3", p)
	case (p == 1 || p == 2) && s.AuthorizationKey == "":
		return fmt.Errorf("security profile %d needs an authorizationKey", p)
	case p == 3 && s.CA == "":
		return errors.New("security profile 3 needs a ca: the directory of the central system's CA (ca.pem and ca-key.pem)")
	case p != 3 && (s.CA != "" || s.Validity != 0):
		return fmt.Errorf("security: ca and validity are for profile 3, not %d", p)
	}
	if s.Profile != 3 {
		return nil
	}
	if s.Validity < 0 {
		return fmt.Errorf("security: validity %s", s.Validity.D())
	}
	if s.Validity == 0 {
		s.Validity = Duration(defaultValidity)
	}
	path := s.CA
	if !filepath.IsAbs(path) && dir != "" {
		path = filepath.Join(dir, path)
	}
	ca, err := csmstest.LoadCA(path)
	if err != nil {
		return fmt.Errorf("security: ca: %w", err)
	}
	s.ca = ca
	return nil
}

// id is the id of the group's n-th charge point.
func (g Group) id(n int) string {
	return idPattern.ReplaceAllStringFunc(g.ID, func(m string) string {
		width := 0
		if sub := idPattern.FindStringSubmatch(m); sub[1] != "" {
			width, _ = strconv.Atoi(sub[1])
		}
		return fmt.Sprintf("%0*d", width, n)
	})
}

// roleDefaults are the keys a charge point's role in a DLM group adds.
type roleDefaults map[string]string

// catalogue is the group's catalogue: the model's defaults with the
// group's keys as defaults, then role's, checked as an installer's
// values are.
func (g Group) catalogue(role roleDefaults) (*config.Catalogue, error) {
	defaults := g.model.ConfigDefaults()
	for k, v := range g.Keys {
		defaults[k] = v
	}
	for k, v := range role {
		defaults[k] = v
	}
	if g.Security.Profile > 0 {
		defaults["SecurityProfile"] = strconv.Itoa(g.Security.Profile)
	}
	if g.Security.AuthorizationKey != "" {
		// A default, as the group's keys are: no write for each charge
		// point of a big fleet.
		defaults["AuthorizationKey"] = g.Security.AuthorizationKey
	}
	cat, err := config.NewCatalogue(defaults)
	if err != nil {
		if g.Security.AuthorizationKey != "" && strings.Contains(err.Error(), "AuthorizationKey") {
			return nil, fmt.Errorf("authorizationKey: %w", err)
		}
		return nil, fmt.Errorf("keys: %w", err)
	}
	if n := g.model.Connectors; n < 1 {
		return nil, fmt.Errorf("model with %d connectors", n)
	}
	return cat, nil
}

// Shard is the part i of n of a fleet (0 ≤ i < n) a process runs: the
// charge points whose id hashes to i. Every id is in exactly one shard
// whatever the order of the file, and the shards are about equal.
type Shard struct{ I, N int }

// ParseShard reads "i/n".
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{0, 1}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || n > 10_000 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: want i/n with 0 ≤ i < n ≤ 10000", s)
	}
	return Shard{i, n}, nil
}

// Has reports whether the charge point id is in the shard.
func (s Shard) Has(id string) bool {
	if s.N <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()%uint64(s.N) == uint64(s.I)
}

// member is one charge point of the spec.
type member struct {
	id    string
	group int // index in Spec.Groups
	n     int // number in the group, from 1
}

// members lists the spec's charge points in the shard, in file order.
func (s Spec) members(shard Shard) []member {
	var out []member
	for gi, g := range s.Groups {
		for n := 1; n <= g.Count; n++ {
			if id := g.id(n); shard.Has(id) {
				out = append(out, member{id: id, group: gi, n: n})
			}
		}
	}
	return out
}
