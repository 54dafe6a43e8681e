package config

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Storage keeps the stored values of one charge point.
type Storage interface {
	// LoadConfig returns every stored value by key name.
	LoadConfig() (map[string]string, error)
	// SaveConfig stores the given values together, atomically, and
	// returns only when they are durable.
	SaveConfig(values map[string]string) error
}

// Actor is who changes a value.
type Actor int

// Actors.
const (
	// ActorOCPP is the central system (ChangeConfiguration): read-only keys
	// are refused.
	ActorOCPP Actor = iota
	// ActorInstaller is the local installer (evse config, the local API):
	// any stored key may be set.
	ActorInstaller
)

func (a Actor) String() string {
	if a == ActorInstaller {
		return "installer"
	}
	return "ocpp"
}

// Value is a key with its current value.
type Value struct {
	Key   Key
	Value string
	// IsSet reports a stored value; false means the default (or a computed
	// value).
	IsSet bool
}

// Change is a committed change of one key's value. Key is the key that
// stores the value (HeartbeatInterval for a write to HeartBeatInterval).
type Change struct {
	Key      Key
	Old, New string
	By       Actor
}

// Result is the outcome of an accepted [Settings.Set].
type Result struct {
	// Key is the key written (as named in the catalogue, not the alias).
	Key Key
	// Effect says whether the change applies now or at the next boot.
	Effect Effect
	// Also are the other keys the change set with it (lowering
	// DlmPhase1Limit lowers DlmOperatorPhase1Limit to it).
	Also []Pair
}

// Settings are the live values of one charge point. It is safe for
// concurrent use; it is the only owner of the values.
//
// Lock order: wmu, then mu. Neither is held while a computed value is
// computed; wmu is held across the storage write and the watchers.
type Settings struct {
	cat     *Catalogue
	storage Storage
	log     *slog.Logger

	// wmu serializes writers: their checks, the storage write and the
	// watchers, so that watchers see changes in commit order.
	wmu    sync.Mutex
	checks []Check // guarded by wmu

	// mu guards values and computed for readers; a writer holds it only
	// to apply a committed change.
	mu       sync.RWMutex
	values   map[string]string // stored values by root key name
	computed map[string]func() string
	// snap is the typed view of values, rebuilt with every commit.
	snap atomic.Pointer[Snapshot]

	subMu  sync.Mutex
	subs   map[int]func(Change)
	nextID int
}

// Check is a rule a running charge point adds to the catalogue's own
// checks (see [Settings.AddCheck]): it returns an error, the reason, when
// value may not be set for k. get reads a key's value as it would be after
// the pairs before it.
type Check func(k Key, value string, by Actor, get func(name string) string) error

// Open loads the stored values. A stored value that no longer parses, or a
// stored key the catalogue does not know, is ignored with a warning.
func Open(cat *Catalogue, storage Storage, log *slog.Logger) (*Settings, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	stored, err := storage.LoadConfig()
	if err != nil {
		return nil, fmt.Errorf("config: load: %w", err)
	}
	s := &Settings{cat: cat, storage: storage, log: log, values: map[string]string{},
		computed: map[string]func() string{}, subs: map[int]func(Change){}}
	for name, v := range stored {
		i, ok := cat.byName[name]
		if !ok || cat.root(i) != i || !cat.keys[i].Stored() {
			log.Warn("ignoring stored value of an unknown key", "key", name)
			continue
		}
		k := cat.keys[i]
		canon, err := k.Parse(v)
		if err != nil {
			log.Warn("ignoring stored value that is no longer valid", "key", name, "err", err)
			continue
		}
		s.values[k.Name] = canon
	}
	s.rebuildSnapshot()
	return s, nil
}

// Catalogue returns the catalogue the settings follow.
func (s *Settings) Catalogue() *Catalogue { return s.cat }

// SetComputed installs the function that computes a computed key's value
// (DlmState). It must be safe for concurrent use and must not block; it may
// read the settings (it is never called with a lock held).
func (s *Settings) SetComputed(name string, fn func() string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.computed[name] = fn
}

// Get returns a key's value by name or alias.
func (s *Settings) Get(name string) (Value, error) {
	i, ok := s.cat.index(name)
	if !ok {
		return Value{}, fmt.Errorf("%q: %w", name, ErrUnknownKey)
	}
	s.mu.RLock()
	v, compute := s.peekLocked(i)
	s.mu.RUnlock()
	if compute != nil {
		v.Value = compute()
	}
	return v, nil
}

// peekLocked returns key i's value, or, for a computed key, the function
// that computes it, to be called once mu is released. mu must be held.
func (s *Settings) peekLocked(i int) (Value, func() string) {
	k := s.cat.keys[i]
	root := s.cat.keys[s.cat.root(i)]
	if !root.Stored() {
		if fn := s.computed[root.Name]; fn != nil {
			return Value{Key: k}, fn
		}
		return Value{Key: k, Value: root.Default}, nil
	}
	if v, ok := s.values[root.Name]; ok {
		return Value{Key: k, Value: v, IsSet: true}, nil
	}
	return Value{Key: k, Value: root.Default}, nil
}

// All returns every key with its value, in catalogue order.
func (s *Settings) All() []Value {
	out := make([]Value, len(s.cat.keys))
	compute := make([]func() string, len(s.cat.keys))
	s.mu.RLock()
	for i := range s.cat.keys {
		out[i], compute[i] = s.peekLocked(i)
	}
	s.mu.RUnlock()
	for i, fn := range compute {
		if fn != nil {
			out[i].Value = fn()
		}
	}
	return out
}

// AddCheck adds a rule every later Set and SetAll must pass, for both
// actors (for example: security profile 2 needs the wss:// URL the charge
// point was started with).
func (s *Settings) AddCheck(c Check) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.checks = append(s.checks, c)
}

// Watch calls fn after every committed change, in the goroutine that made
// it, after the change is durable, in commit order. fn must not block and
// must not call Set or SetAll (it may read).
// The returned function stops the calls.
func (s *Settings) Watch(fn func(Change)) (stop func()) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	id := s.nextID
	s.nextID++
	s.subs[id] = fn
	return func() {
		s.subMu.Lock()
		defer s.subMu.Unlock()
		delete(s.subs, id)
	}
}

// Set validates a value, stores it durably and applies it. Errors:
// ErrUnknownKey, ErrReadOnly (OCPP writing a read-only key), ErrNotStored
// (a computed key), a *ValueError (ErrInvalid), or a storage error; on any
// error nothing changes.
func (s *Settings) Set(name, value string, by Actor) (Result, error) {
	res, err := s.SetAll([]Pair{{Key: name, Value: value}}, by)
	if err != nil {
		return Result{}, err
	}
	return res[0], nil
}

// Pair is a key name and a value to set.
type Pair struct{ Key, Value string }

// SetAll sets several keys, all or nothing: each pair is checked in order
// against the values before it, the result against the rules that tie
// keys together, and all are stored in one durable write. The errors are
// Set's.
func (s *Settings) SetAll(pairs []Pair, by Actor) ([]Result, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	// Values change only under wmu, which this writer holds: it may read
	// them without mu.
	pending := map[string]string{} // root key name → new value
	get := func(name string) string {
		if v, ok := pending[name]; ok {
			return v
		}
		v, _ := s.peekLocked(s.cat.byName[name])
		return v.Value
	}
	results := make([]Result, 0, len(pairs))
	for _, p := range pairs {
		res, writes, err := s.check(p, by, get)
		if err != nil {
			return nil, err
		}
		maps.Copy(pending, writes)
		results = append(results, res)
	}
	if err := invariants(results, get); err != nil {
		return nil, err
	}
	if err := s.storage.SaveConfig(pending); err != nil {
		return nil, fmt.Errorf("config: store: %w", err)
	}
	var changes []Change
	s.mu.Lock()
	for _, k := range s.cat.keys { // catalogue order, for stable events
		v, ok := pending[k.Name]
		if !ok {
			continue
		}
		old, _ := s.peekLocked(s.cat.byName[k.Name])
		s.values[k.Name] = v
		if old.Value != v {
			changes = append(changes, Change{Key: k, Old: old.Value, New: v, By: by})
		}
	}
	s.rebuildSnapshot()
	s.mu.Unlock()

	s.subMu.Lock()
	subs := maps.Clone(s.subs)
	s.subMu.Unlock()
	for _, c := range changes {
		for _, fn := range subs {
			fn(c)
		}
	}
	return results, nil
}

// invariants checks the rules that hold between keys whatever the order
// of the pairs that set them.
func invariants(results []Result, get func(string) string) error {
	if p := get("SecurityProfile"); (p == "1" || p == "2") && get("AuthorizationKey") == "" {
		// Report it on the key the caller touched last.
		name := "SecurityProfile"
		for _, r := range results {
			if r.Key.Name == "AuthorizationKey" || r.Key.Name == "SecurityProfile" {
				name = r.Key.Name
			}
		}
		return &ValueError{Key: name, Value: get(name), Secret: name == "AuthorizationKey",
			Reason: "security profile " + get("SecurityProfile") + " needs an AuthorizationKey"}
	}
	return nil
}

// check validates one pair and returns the writes it makes, by root key name.
func (s *Settings) check(p Pair, by Actor, get func(string) string) (Result, map[string]string, error) {
	i, ok := s.cat.index(p.Key)
	if !ok {
		return Result{}, nil, fmt.Errorf("%q: %w", p.Key, ErrUnknownKey)
	}
	k := s.cat.keys[i]
	if by == ActorOCPP && k.Section == Local {
		return Result{}, nil, fmt.Errorf("%q: %w", p.Key, ErrUnknownKey)
	}
	if by == ActorOCPP && k.Access == ReadOnly {
		return Result{}, nil, fmt.Errorf("%s: %w", k.Name, ErrReadOnly)
	}
	root := s.cat.keys[s.cat.root(i)]
	if !root.Stored() {
		if by == ActorOCPP {
			return Result{}, nil, fmt.Errorf("%s: %w", k.Name, ErrReadOnly)
		}
		return Result{}, nil, fmt.Errorf("%s: %w", k.Name, ErrNotStored)
	}
	secret := k.Access == WriteOnly
	canon, err := root.Parse(p.Value)
	if err != nil {
		if ve, ok := err.(*ValueError); ok {
			ve.Key, ve.Secret = k.Name, secret
		}
		return Result{}, nil, err
	}
	writes, err := crossCheck(root, canon, by, get)
	if err == nil {
		for _, c := range s.checks {
			if err = c(root, canon, by, get); err != nil {
				break
			}
		}
	}
	if err != nil {
		return Result{}, nil, &ValueError{Key: k.Name, Value: p.Value, Secret: secret, Reason: err.Error()}
	}
	var also []Pair
	for name, v := range writes {
		also = append(also, Pair{Key: name, Value: v})
	}
	slices.SortFunc(also, func(a, b Pair) int { return strings.Compare(a.Key, b.Key) })
	writes[root.Name] = canon
	return Result{Key: k, Effect: root.Effect, Also: also}, writes, nil
}

// crossCheck checks a value against the other keys, read with get, and
// returns the other writes it implies.
func crossCheck(k Key, v string, by Actor, get func(string) string) (map[string]string, error) {
	writes := map[string]string{}
	atoi := func(x string) int64 { n, _ := strconv.ParseInt(x, 10, 64); return n }
	switch k.Name {
	case "DlmOperatorPhase1Limit", "DlmOperatorPhase2Limit", "DlmOperatorPhase3Limit":
		phase := "DlmPhase" + k.Name[len("DlmOperatorPhase"):]
		if atoi(v) > atoi(get(phase)) {
			return nil, fmt.Errorf("above %s (%s A)", phase, get(phase))
		}
	case "DlmPhase1Limit", "DlmPhase2Limit", "DlmPhase3Limit":
		// The operator limit is never above the sub-distribution limit:
		// lowering the latter lowers the former with it.
		op := "DlmOperatorPhase" + k.Name[len("DlmPhase"):]
		if atoi(get(op)) > atoi(v) {
			writes[op] = v
		}
	case "ConnectorPhaseRotation":
		items, _ := ParsePhaseRotation(v)
		if maxLen := atoi(get("ConnectorPhaseRotationMaxLength")); int64(len(items)) > maxLen {
			return nil, fmt.Errorf("%d items, ConnectorPhaseRotationMaxLength is %d", len(items), maxLen)
		}
		n := atoi(get("NumberOfConnectors"))
		for _, it := range items {
			if int64(it.Connector) > n {
				return nil, fmt.Errorf("no connector %d (NumberOfConnectors is %d)", it.Connector, n)
			}
		}
	case "ConnectorPhaseRotationMaxLength":
		items, _ := ParsePhaseRotation(get("ConnectorPhaseRotation"))
		if int64(len(items)) > atoi(v) {
			return nil, fmt.Errorf("ConnectorPhaseRotation already holds %d items", len(items))
		}
	case "NumberOfConnectors":
		items, _ := ParsePhaseRotation(get("ConnectorPhaseRotation"))
		for _, it := range items {
			if int64(it.Connector) > atoi(v) {
				return nil, fmt.Errorf("ConnectorPhaseRotation names connector %d", it.Connector)
			}
		}
	case "SecurityProfile":
		n := atoi(v)
		if by == ActorOCPP && n < atoi(get("SecurityProfile")) {
			return nil, fmt.Errorf("the security profile cannot be lowered over OCPP")
		}
	}
	return writes, nil
}

// MemStorage is a Storage in memory, for tests and simulations. It is safe
// for concurrent use.
type MemStorage struct {
	mu     sync.Mutex
	values map[string]string
	// Fail, when set, makes SaveConfig fail with it.
	Fail error
}

// LoadConfig returns a copy of the stored values.
func (m *MemStorage) LoadConfig() (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.values), nil
}

// SaveConfig stores the values unless Fail is set.
func (m *MemStorage) SaveConfig(values map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	if m.values == nil {
		m.values = map[string]string{}
	}
	maps.Copy(m.values, values)
	return nil
}
