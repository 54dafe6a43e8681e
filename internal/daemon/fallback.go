package daemon

import (
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/config"
)

// fallbackAfter is how many connection attempts a security profile
// raised over OCPP gets before the charge point goes back to the one
// before.
const fallbackAfter = 3

// profileFallback takes a charge point back to its previous security
// profile when the central system raised it (ChangeConfiguration) and
// the charge point cannot connect with the new one: a central system must
// not lock a charge point out by a profile its own side does not serve.
type profileFallback struct {
	settings  *config.Settings
	log       *slog.Logger
	reconnect func()
	// report tells the central system, once connected again, that the
	// profile it raised to fell back.
	report func(chargepoint.SecurityIncident)

	mu       sync.Mutex
	previous string // the profile to go back to; "" when none is on trial
	failures int
}

// changed notes a change of SecurityProfile: a raise over OCPP is on
// trial until a connection is made with it.
func (f *profileFallback) changed(c config.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	from, err1 := strconv.Atoi(c.Old)
	to, err2 := strconv.Atoi(c.New)
	if c.By == config.ActorOCPP && err1 == nil && err2 == nil && to > from {
		f.previous, f.failures = c.Old, 0
		return
	}
	f.previous = ""
}

// connected: the profile on trial works.
func (f *profileFallback) connected() {
	f.mu.Lock()
	f.previous = ""
	f.mu.Unlock()
}

// failed counts a failed connection attempt; the last one allowed goes
// back to the previous profile and connects again with it.
func (f *profileFallback) failed(err error) {
	f.mu.Lock()
	if f.previous == "" {
		f.mu.Unlock()
		return
	}
	f.failures++
	if f.failures < fallbackAfter {
		f.mu.Unlock()
		return
	}
	previous, tried := f.previous, f.settings.Snapshot().SecurityProfile
	f.previous = ""
	f.mu.Unlock()
	if _, serr := f.settings.Set("SecurityProfile", previous, config.ActorInstaller); serr != nil {
		f.log.Error("security profile raised over OCPP cannot connect, and the previous one cannot be restored", "tried", tried, "previous", previous, "err", serr)
		return
	}
	f.log.Warn("the security profile the central system raised to cannot connect: back to the previous one",
		"tried", tried, "previous", previous, "attempts", fallbackAfter, "last_error", err)
	if f.report != nil {
		f.report(chargepoint.SecurityIncident{Type: chargepoint.SecReconfigurationOfSecurityParameters, Tell: true,
			TechInfo: fmt.Sprintf("SecurityProfile %d could not connect (%s); back to %s", tried, failureOf(err), previous)})
	}
	f.reconnect()
}

// failureOf says why a connection failed without its URL: the security
// event's words when it is one, else no more than that it failed.
func failureOf(err error) string {
	if _, info, ok := SecurityEventOf(err); ok {
		return info
	}
	return "the connection failed"
}
