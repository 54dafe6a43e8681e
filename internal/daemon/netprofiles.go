package daemon

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/netprofile"
)

// endpoint is one configuration slot as the station connects with it.
type endpoint struct {
	slot int
	url  string
	// security is the SecurityProfile the station works at with it; -1:
	// the key as it is (slot 0 while it is in use).
	security int
}

// slotWalker chooses the network connection profile the station connects
// with (B10): the slots of NetworkConfigurationPriority in order, from the
// first at each start, NetworkProfileConnectionAttempts attempts each,
// then the slot that connected last; round again after the last. The
// station works at the security profile of the slot in use: entering a
// slot sets the SecurityProfile key, and slot 0 (the installer's --csms)
// gets back the one it had.
//
// With only slot 0 to try it never changes anything.
type slotWalker struct {
	db       kv.Store
	settings *config.Settings
	log      *slog.Logger
	order    []endpoint
	// setURL points the transport at an endpoint (nil until there is
	// one).
	setURL func(url string, requireTLS bool) error
	// reconnect connects again at once, without the backoff (nil until
	// there is a transport).
	reconnect func()

	// now is the URL in use, read without mu (the SecurityProfile
	// key's check runs while enter holds it).
	now atomic.Pointer[string]

	mu       sync.Mutex
	i        int // order[i] is in use
	failures int
	// last is the slot that connected last, as kept; runSlot the one
	// that connected last in this run, -1 before any.
	last, runSlot int
}

// newSlotWalker reads the priority (as it was at this boot) and the kept
// profiles, and enters the first slot: the caller connects to current().
func newSlotWalker(db kv.Store, settings *config.Settings, installerURL string, log *slog.Logger) (*slotWalker, error) {
	st, err := netprofile.ReadState(db)
	if err != nil {
		return nil, err
	}
	var priority []int
	for _, s := range settings.Snapshot().NetworkConfigurationPriority {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("NetworkConfigurationPriority: %q is not a slot", s)
		}
		priority = append(priority, n)
	}
	profiles := map[int]netprofile.Profile{}
	for s := 1; s <= netprofile.LastSlot; s++ {
		p, ok, err := netprofile.Get(db, s)
		if err != nil {
			return nil, err
		}
		if ok {
			profiles[s] = p
		}
	}
	w := &slotWalker{db: db, settings: settings, log: log, last: st.Connected, runSlot: -1}
	for _, s := range netprofile.Order(priority, st.Connected, func(s int) bool { _, ok := profiles[s]; return ok }) {
		if s == netprofile.InstallerSlot {
			w.order = append(w.order, endpoint{slot: s, url: installerURL, security: -1})
			continue
		}
		w.order = append(w.order, endpoint{slot: s, url: profiles[s].URL, security: profiles[s].SecurityProfile})
	}
	for _, s := range priority {
		if _, ok := profiles[s]; s != netprofile.InstallerSlot && !ok {
			log.Warn("NetworkConfigurationPriority names a slot without a network connection profile; skipped", "slot", s)
		}
	}
	if err := w.enter(w.order[0]); err != nil {
		return nil, err
	}
	return w, nil
}

// current is the endpoint in use.
func (w *slotWalker) current() endpoint {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.order[w.i]
}

// url is the URL in use (the SecurityProfile key's check: 2 and 3 need
// wss://).
func (w *slotWalker) url() string { return *w.now.Load() }

// enter makes ep the slot in use: kept in the store, the security
// profile set. It is called with mu held or before the walker is shared.
func (w *slotWalker) enter(ep endpoint) error {
	st, err := netprofile.ReadState(w.db)
	if err != nil {
		return err
	}
	key := w.settings.Snapshot().SecurityProfile
	security := ep.security
	if ep.slot == netprofile.InstallerSlot {
		security = -1
		if st.Active != netprofile.InstallerSlot && st.InstallerSecurity >= 0 {
			security = st.InstallerSecurity
		}
	}
	if st.Active != ep.slot {
		keep := -1
		if st.Active == netprofile.InstallerSlot {
			keep = key // to go back to
		}
		if err := netprofile.SetActive(w.db, ep.slot, keep); err != nil {
			return err
		}
		w.log.Info("network connection profile in use", "slot", ep.slot, "url", ep.url)
	}
	effective := security
	if effective < 0 {
		effective = key
	}
	if w.setURL != nil {
		if err := w.setURL(ep.url, effective >= 2); err != nil {
			return err
		}
	}
	w.now.Store(&ep.url)
	if security >= 0 && security != key {
		if _, err := w.settings.Set("SecurityProfile", strconv.Itoa(security), config.ActorInstaller); err != nil {
			return fmt.Errorf("network connection profile of slot %d: security profile %d: %w", ep.slot, security, err)
		}
	}
	return nil
}

// connected: the slot in use works; it is the one to fall back to.
// moved reports that an earlier connection of this run was to another
// slot: the station registers with this central system anew.
func (w *slotWalker) connected() (moved bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failures = 0
	slot := w.order[w.i].slot
	moved = w.runSlot >= 0 && w.runSlot != slot
	w.runSlot = slot
	if slot == w.last {
		return moved
	}
	if err := netprofile.SetConnected(w.db, slot); err != nil {
		w.log.Error("the connected slot cannot be kept", "err", err)
		return moved
	}
	w.last = slot
	return moved
}

// failed counts a failed connection attempt; after
// NetworkProfileConnectionAttempts of them the next slot is entered
// (one that cannot be entered is passed over).
func (w *slotWalker) failed(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.order) < 2 {
		return
	}
	w.failures++
	attempts := w.settings.Snapshot().NetworkProfileConnectionAttempts
	if w.failures < attempts {
		return
	}
	w.failures = 0
	from := w.order[w.i]
	for range w.order {
		w.i = (w.i + 1) % len(w.order)
		next := w.order[w.i]
		w.log.Warn("network connection profile cannot connect; trying the next", "slot", from.slot, "attempts", attempts,
			"next_slot", next.slot, "next_url", next.url, "last_error", failureOf(err))
		if eerr := w.enter(next); eerr != nil {
			w.log.Error("network connection profile cannot be used", "slot", next.slot, "err", eerr)
			continue
		}
		if w.reconnect != nil {
			w.reconnect() // a new slot is tried at once
		}
		return
	}
}

// keepProfile is the station's SetNetworkProfile: the profile checked
// against the station as it is now, then kept.
func keepProfile(db kv.Store, settings *config.Settings, keys certs.Store, w *slotWalker) func(int, netprofile.Profile) error {
	return func(slot int, p netprofile.Profile) error {
		s := settings.Snapshot()
		_, cerr := keys.Certificate()
		rules := netprofile.Rules{SecurityProfile: s.SecurityProfile, Password: s.AuthorizationKey != "",
			Certificate: cerr == nil, Active: w.current().slot}
		if err := netprofile.Check(slot, p, rules); err != nil {
			return err
		}
		return netprofile.Put(db, slot, p)
	}
}

// checkPriority is the check of NetworkConfigurationPriority: every slot
// it names holds a profile, none at a lower security profile than the
// one in force (A05.FR.10).
func checkPriority(db kv.Store) config.Check {
	return func(k config.Key, v string, _ config.Actor, get func(string) string) error {
		if k.Name != "NetworkConfigurationPriority" {
			return nil
		}
		inForce, _ := strconv.Atoi(get("SecurityProfile"))
		for _, s := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n == netprofile.InstallerSlot {
				continue // the catalogue checks the items
			}
			p, ok, err := netprofile.Get(db, n)
			switch {
			case err != nil:
				return err
			case !ok:
				return fmt.Errorf("slot %d holds no network connection profile (SetNetworkProfile)", n)
			case p.SecurityProfile < inForce:
				return fmt.Errorf("slot %d has security profile %d, lower than the %d in force", n, p.SecurityProfile, inForce)
			}
		}
		return nil
	}
}
