package config

import (
	"fmt"
	"slices"
	"strings"
)

// Access says who may read and write a key over OCPP.
type Access int

// Accessibility of a key over OCPP.
const (
	ReadOnly Access = iota
	ReadWrite
	// WriteOnly keys are never revealed by GetConfiguration.
	WriteOnly
)

func (a Access) String() string {
	switch a {
	case ReadOnly:
		return "R"
	case ReadWrite:
		return "R/W"
	case WriteOnly:
		return "W"
	}
	return fmt.Sprintf("Access(%d)", int(a))
}

// Effect says when a change of a key takes effect.
type Effect int

// When a change takes effect.
const (
	// Immediate changes apply at once (ChangeConfiguration: Accepted).
	Immediate Effect = iota
	// Reboot changes are stored at once and apply at the next boot
	// (ChangeConfiguration: RebootRequired).
	Reboot
)

func (e Effect) String() string {
	if e == Reboot {
		return "reboot"
	}
	return "immediate"
}

// Section is the part of the appendix a key comes from.
type Section int

// Sections of the catalogue.
const (
	// Standard is "Standard OCPP configuration keys" of the appendix.
	Standard Section = iota
	// Ensto is "Ensto charger specific OCPP configuration keys".
	Ensto
	// DLM is "Dynamic Load Management available settings".
	DLM
	// Extra holds standard OCPP 1.6 keys the appendix leaves out but the
	// six feature profiles (and the security extension) need.
	Extra
	// Local holds the charger's local settings, which are not OCPP keys:
	// only the installer sees and sets them (evse config, the local API);
	// over OCPP they do not exist.
	Local
	// OCPP201 holds the variables OCPP 2.0.1 has and 1.6 has no key for
	// (TxStartPoint, the network connection profiles): settable over
	// 2.0.1 and by the installer; over 1.6 they do not exist.
	OCPP201
)

func (s Section) String() string {
	switch s {
	case Standard:
		return "Standard OCPP keys (appendix)"
	case Ensto:
		return "Ensto keys (appendix)"
	case DLM:
		return "Dynamic Load Management keys (appendix)"
	case Extra:
		return "Standard OCPP 1.6 keys not in the appendix"
	case Local:
		return "Local settings (not OCPP keys: installer only)"
	case OCPP201:
		return "OCPP 2.0.1 variables without a 1.6 key"
	}
	return fmt.Sprintf("Section(%d)", int(s))
}

// Kind is how a key's value is checked and read back.
type Kind int

// Kinds of value.
const (
	// KindInt is a decimal integer within [Min, Max].
	KindInt Kind = iota
	// KindBool is a standard OCPP boolean, printed in the appendix as
	// (0)Off (1)On: reads back "true"/"false"; accepts true/false, 1/0,
	// On/Off in any case.
	KindBool
	// KindOfflineTx is AllowOfflineTxForUnknownId: reads back "false",
	// "true" or "ImmediatelyWhenPlugged"; accepts those, 0/1/2 and Off/On.
	KindOfflineTx
	// KindEnum is an Ensto or DLM enumeration: reads back the number of a
	// label; accepts the number or the label in any case.
	KindEnum
	// KindString is free text of at most MaxLen characters.
	KindString
	// KindMeasurands is a comma-separated list of the measurands the meter
	// supports (possibly empty).
	KindMeasurands
	// KindProfiles is a comma-separated list of OCPP 1.6 feature profiles.
	KindProfiles
	// KindRateUnits is a comma-separated list of charging rate units this
	// charge point supports (Current only).
	KindRateUnits
	// KindPhaseRotation is OCPP's ConnectorPhaseRotation list:
	// "<connector>.<rotation>" items separated by commas.
	KindPhaseRotation
	// KindIPPort is an IP address with an optional port, or empty.
	KindIPPort
	// KindHexKey is a hex-encoded secret of 16 to 20 bytes, or empty.
	KindHexKey
	// KindComputed is a value computed at run time, never stored.
	KindComputed
	// KindMeterURL is the external meter's connection (package meter), or
	// empty.
	KindMeterURL
	// KindList is a non-empty comma-separated list of Labels, each at
	// most once (2.0.1's MemberList).
	KindList
)

// Key describes one configuration key. The catalogue's keys are values:
// copy them freely, never change a Key a Catalogue returned.
type Key struct {
	Name string
	// Aliases are other names accepted for the key on input (the name
	// printed without its space, the OCPP 1.5 spelling).
	Aliases []string
	Section Section
	// Scope is the DLM master-slave scope ("Individual" or "Master"), or "".
	Scope  string
	Access Access
	// PrintedType is the type as the appendix prints it ("Int", "UInt",
	// "Uint", "String", "Enum"), or the OCPP type for extra keys.
	PrintedType string
	Kind        Kind
	Min, Max    int64    // KindInt
	Labels      []string // KindEnum, KindBool, KindOfflineTx: label of 0, 1, ...; KindList: the members
	MaxLen      int      // KindString, KindHexKey (in characters)
	// MinLen is the least length of a non-empty KindString value (a
	// secret must not be guessable); 0: none.
	MinLen      int
	Default     string // in read-back form
	Effect      Effect
	Unit        string // for documentation, e.g. "s" or "A"
	Description string
	// SameAs names the key this one is another name of: both read the same
	// value and a write to either changes both.
	SameAs string
}

// OverOCPP16 reports whether the key exists for a 1.6 central system.
func (k Key) OverOCPP16() bool { return k.Section != Local && k.Section != OCPP201 }

// Stored reports whether the key has a stored value (not computed).
func (k Key) Stored() bool { return k.Kind != KindComputed }

// Catalogue is a set of keys in a fixed order. It is immutable and safe for
// concurrent use.
type Catalogue struct {
	keys    []Key
	byName  map[string]int // exact name or alias → index
	byLower map[string]int // lower-case name or alias → index
}

// NewCatalogue returns the appendix's catalogue plus the extra standard
// keys, with the defaults of a model file where it gives other ones
// (defaults maps key name to value, in any accepted input form).
func NewCatalogue(defaults map[string]string) (*Catalogue, error) {
	c := &Catalogue{keys: slices.Clone(allKeys), byName: map[string]int{}, byLower: map[string]int{}}
	for i, k := range c.keys {
		for _, n := range append([]string{k.Name}, k.Aliases...) {
			if _, dup := c.byName[n]; dup {
				return nil, fmt.Errorf("config: key name %q declared twice", n)
			}
			c.byName[n] = i
		}
	}
	for _, k := range c.keys {
		if k.SameAs == "" {
			continue
		}
		if j, ok := c.byName[k.SameAs]; !ok || c.keys[j].SameAs != "" {
			return nil, fmt.Errorf("config: %s is the same as %q, which is not a stored key", k.Name, k.SameAs)
		}
	}
	for i, k := range c.keys {
		for _, n := range append([]string{k.Name}, k.Aliases...) {
			ln := strings.ToLower(n)
			if j, dup := c.byLower[ln]; dup {
				// Names that differ only in case must be one setting
				// (HeartBeatInterval, HeartbeatInterval); the later
				// declared, the OCPP 1.6 spelling, wins.
				if c.root(j) != c.root(i) {
					return nil, fmt.Errorf("config: key names %q and %q differ only in case", n, c.keys[j].Name)
				}
			}
			c.byLower[ln] = i
		}
	}
	// Check the built-in defaults, then apply the model's.
	for _, k := range c.keys {
		if !k.Stored() || k.SameAs != "" {
			continue
		}
		if v, err := k.Parse(k.Default); err != nil || v != k.Default {
			return nil, fmt.Errorf("config: built-in default of %s is %q, parsed %q: %v", k.Name, k.Default, v, err)
		}
	}
	names := make([]string, 0, len(defaults))
	for n := range defaults {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		i, ok := c.index(n)
		if !ok {
			return nil, fmt.Errorf("config: model default for %q: %w", n, ErrUnknownKey)
		}
		k := &c.keys[c.root(i)]
		if !k.Stored() {
			return nil, fmt.Errorf("config: model default for %s: %w", k.Name, ErrNotStored)
		}
		v, err := k.Parse(defaults[n])
		if err != nil {
			return nil, fmt.Errorf("config: model default: %w", err)
		}
		k.Default = v
	}
	// The model's defaults must agree with each other as stored values
	// must (a phase rotation naming connectors the unit has, ...).
	get := func(name string) string { return c.keys[c.byName[name]].Default }
	for _, n := range names {
		i, _ := c.index(n)
		k := c.keys[c.root(i)]
		writes, err := crossCheck(k, k.Default, ActorInstaller, get)
		if err != nil {
			return nil, fmt.Errorf("config: model default: %w", &ValueError{Key: k.Name, Value: k.Default, Reason: err.Error()})
		}
		for wn, wv := range writes {
			c.keys[c.byName[wn]].Default = wv
		}
	}
	for i := range c.keys {
		c.keys[i].Default = c.keys[c.root(i)].Default
	}
	return c, nil
}

// index finds a key by its exact name or alias, else ignoring case: OCPP
// key names are case-insensitive strings.
func (c *Catalogue) index(name string) (int, bool) {
	if i, ok := c.byName[name]; ok {
		return i, true
	}
	i, ok := c.byLower[strings.ToLower(name)]
	return i, ok
}

// root returns the index of the key that stores key i's value.
func (c *Catalogue) root(i int) int {
	if s := c.keys[i].SameAs; s != "" {
		return c.byName[s]
	}
	return i
}

// Keys returns every key in catalogue order.
func (c *Catalogue) Keys() []Key { return slices.Clone(c.keys) }

// Lookup finds a key by its name or an alias: the exact spelling first,
// else ignoring case.
func (c *Catalogue) Lookup(name string) (Key, bool) {
	i, ok := c.index(name)
	if !ok {
		return Key{}, false
	}
	return c.keys[i], true
}

// IsWriteOnly reports whether name (or an alias, in any case) is a
// write-only key of the appendix: its value must never be shown, logged,
// traced or uploaded.
func IsWriteOnly(name string) bool {
	for _, k := range allKeys {
		if k.Access != WriteOnly {
			continue
		}
		if strings.EqualFold(k.Name, name) {
			return true
		}
		for _, a := range k.Aliases {
			if strings.EqualFold(a, name) {
				return true
			}
		}
	}
	return false
}
