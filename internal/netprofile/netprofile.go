package netprofile

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"

	"github.com/evse-dev/evse/internal/kv"
)

// Configuration slots.
const (
	// InstallerSlot is the installer's profile: the --csms URL and the
	// SecurityProfile key.
	InstallerSlot = 0
	// LastSlot is the highest slot SetNetworkProfile may set (from 1).
	LastSlot = 3
)

// Profile is one network connection profile: how the station reaches a
// central system.
type Profile struct {
	// URL is the central system's ws:// or wss:// URL; the station's
	// identity is appended to it.
	URL string `json:"url"`
	// SecurityProfile is the OCPP security profile, 0 to 3, the station
	// works at while it uses this profile.
	SecurityProfile int `json:"securityProfile"`
	// MessageTimeout is the central system's messageTimeout in s, kept
	// as given.
	MessageTimeout int `json:"messageTimeout,omitempty"`
}

// Rules are the station's state a new profile is checked against.
type Rules struct {
	// SecurityProfile is the security profile in force now.
	SecurityProfile int
	// Password: the station has a Basic authentication password
	// (AuthorizationKey), which profiles 1 and 2 need.
	Password bool
	// Certificate: the station has its client certificate, which
	// profile 3 needs.
	Certificate bool
	// Active is the slot the station uses now.
	Active int
}

// Rejection is why a profile is refused, with OCPP 2.0.1's reason code
// (statusInfo.reasonCode).
type Rejection struct {
	Reason string // InvalidConfSlot, NoSecurityDowngrade, InvalidNetworkConf
	Info   string
}

func (r *Rejection) Error() string { return r.Reason + ": " + r.Info }

// Reason codes of a Rejection.
const (
	ReasonSlot      = "InvalidConfSlot"
	ReasonDowngrade = "NoSecurityDowngrade"
	ReasonInvalid   = "InvalidNetworkConf"
)

func reject(reason, format string, a ...any) *Rejection {
	return &Rejection{Reason: reason, Info: fmt.Sprintf(format, a...)}
}

// Check returns nil if p may be kept in slot, or a *Rejection: a slot
// outside 1 to LastSlot or the one in use, a securityProfile outside 0
// to 3 or lower than the one in force, a URL that is not ws:// or
// wss:// (wss:// for profiles 2 and 3), a profile whose credentials the
// station lacks, a messageTimeout below 1 s.
func Check(slot int, p Profile, r Rules) error {
	switch {
	case slot == InstallerSlot:
		return reject(ReasonSlot, "slot 0 is the installer's (--csms)")
	case slot < 1 || slot > LastSlot:
		return reject(ReasonSlot, "slot %d: the slots are 1 to %d", slot, LastSlot)
	case slot == r.Active:
		return reject(ReasonSlot, "slot %d is the one in use", slot)
	case p.SecurityProfile < 0 || p.SecurityProfile > 3:
		return reject(ReasonInvalid, "securityProfile %d: 0 to 3", p.SecurityProfile)
	case p.SecurityProfile < r.SecurityProfile:
		return reject(ReasonDowngrade, "securityProfile %d is lower than the %d in force", p.SecurityProfile, r.SecurityProfile)
	case p.MessageTimeout < 1:
		return reject(ReasonInvalid, "messageTimeout %d: at least 1 s", p.MessageTimeout)
	}
	u, err := url.Parse(p.URL)
	switch {
	case err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Hostname() == "":
		return reject(ReasonInvalid, "ocppCsmsUrl: want ws://host/path or wss://host/path")
	case u.User != nil || u.Fragment != "":
		return reject(ReasonInvalid, "ocppCsmsUrl: no user or fragment")
	case p.SecurityProfile >= 2 && u.Scheme != "wss":
		return reject(ReasonInvalid, "securityProfile %d needs a wss:// URL", p.SecurityProfile)
	case (p.SecurityProfile == 1 || p.SecurityProfile == 2) && !r.Password:
		return reject(ReasonInvalid, "securityProfile %d needs a BasicAuthPassword", p.SecurityProfile)
	case p.SecurityProfile == 3 && !r.Certificate:
		return reject(ReasonInvalid, "securityProfile 3 needs the station's certificate")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return reject(ReasonInvalid, "ocppCsmsUrl: port %s is not 1 to 65535", port)
		}
	}
	return nil
}

// Order is the slots the station tries, in order: those of priority
// (NetworkConfigurationPriority) that it has a profile for (has), then
// the slot that connected last (B10's fallback) if it is not among
// them. It is never empty: the installer's slot when nothing else is.
func Order(priority []int, connected int, has func(slot int) bool) []int {
	var out []int
	for _, s := range append(slices.Clone(priority), connected) {
		if (s == InstallerSlot || has(s)) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		out = []int{InstallerSlot}
	}
	return out
}

// The store's bucket and keys.
const (
	bucket       = "netprofile"
	keyActive    = "active"
	keyConnected = "connected"
	// keyInstallerSecurity is the SecurityProfile of slot 0, kept while
	// another slot is in use.
	keyInstallerSecurity = "installer-security"
)

func slotKey(slot int) string { return "slot-" + strconv.Itoa(slot) }

// Put keeps p in slot (1 to LastSlot), durably.
func Put(db kv.Store, slot int, p Profile) error {
	if slot < 1 || slot > LastSlot {
		return fmt.Errorf("netprofile: slot %d: the slots are 1 to %d", slot, LastSlot)
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := db.Update(func(tx kv.Tx) error { return tx.Put(bucket, slotKey(slot), raw) }); err != nil {
		return fmt.Errorf("netprofile: keep slot %d: %w", slot, err)
	}
	return nil
}

// Get reads the profile of slot; ok is false when there is none.
func Get(db kv.Store, slot int) (p Profile, ok bool, err error) {
	err = db.View(func(tx kv.Tx) error {
		raw := tx.Get(bucket, slotKey(slot))
		if raw == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(raw, &p)
	})
	if err != nil {
		return Profile{}, false, fmt.Errorf("netprofile: read slot %d: %w", slot, err)
	}
	return p, ok, nil
}

// State is what the store keeps of the slots in use.
type State struct {
	// Active is the slot the station uses (InstallerSlot at first).
	Active int
	// Connected is the slot that connected last (InstallerSlot at first).
	Connected int
	// InstallerSecurity is the SecurityProfile of slot 0, kept while
	// another slot is active; -1 when none is kept.
	InstallerSecurity int
}

// ReadState reads the state of the slots.
func ReadState(db kv.Store) (State, error) {
	st := State{InstallerSecurity: -1}
	err := db.View(func(tx kv.Tx) error {
		for key, to := range map[string]*int{keyActive: &st.Active, keyConnected: &st.Connected, keyInstallerSecurity: &st.InstallerSecurity} {
			if raw := tx.Get(bucket, key); raw != nil {
				n, err := strconv.Atoi(string(raw))
				if err != nil {
					return fmt.Errorf("%s: %w", key, err)
				}
				*to = n
			}
		}
		return nil
	})
	if err != nil {
		return State{}, fmt.Errorf("netprofile: read state: %w", err)
	}
	return st, nil
}

// SetActive keeps slot as the one in use; leaving slot 0, it keeps
// installerSecurity, slot 0's SecurityProfile, to go back to.
func SetActive(db kv.Store, slot, installerSecurity int) error {
	err := db.Update(func(tx kv.Tx) error {
		if slot != InstallerSlot && installerSecurity >= 0 {
			if err := tx.Put(bucket, keyInstallerSecurity, []byte(strconv.Itoa(installerSecurity))); err != nil {
				return err
			}
		}
		return tx.Put(bucket, keyActive, []byte(strconv.Itoa(slot)))
	})
	if err != nil {
		return fmt.Errorf("netprofile: keep the active slot: %w", err)
	}
	return nil
}

// SetConnected keeps slot as the one that connected last.
func SetConnected(db kv.Store, slot int) error {
	err := db.Update(func(tx kv.Tx) error { return tx.Put(bucket, keyConnected, []byte(strconv.Itoa(slot))) })
	if err != nil {
		return fmt.Errorf("netprofile: keep the connected slot: %w", err)
	}
	return nil
}
