package v16

import (
	"log/slog"
	"sync/atomic"

	"github.com/evse-dev/evse/internal/chargepoint/runner"
	"github.com/evse-dev/evse/internal/chargepoint/station"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// Options configure a [ChargePoint]: those of its station.
type Options = station.Options

// Caller sends the charge point's CALLs to the central system.
type Caller = station.Caller

// ErrReset is returned by Run after the central system asked for a Reset
// (or a new firmware was installed): the caller starts the charge point
// again, as a reboot.
var ErrReset = station.ErrReset

// Subprotocol is OCPP 1.6's WebSocket subprotocol.
const Subprotocol = "ocpp1.6"

// ChargePoint is one OCPP 1.6 charge point: a station (the charging core
// run in real time) with this package as its face to the central system.
// It is safe for concurrent use.
type ChargePoint struct {
	*station.Station
	opts Options
	log  *slog.Logger
	// lenientWarned: the warning about what the central system sends
	// that was read leniently has been logged.
	lenientWarned atomic.Bool
}

// readLeniently warns, once, that the central system sends what OCPP 1.6
// does not allow but evse reads anyway (a date-time without a UTC offset,
// read as UTC).
func (cp *ChargePoint) readLeniently(action string, notes []string) {
	if cp.lenientWarned.CompareAndSwap(false, true) {
		cp.log.Warn("the central system sends date-times without a UTC offset; reading them as UTC (OCPP asks for RFC 3339)",
			"action", action, "first", notes[0])
	}
}

// New returns a charge point restored from its store that speaks 1.6
// only; Run starts it.
func New(opts Options) (*ChargePoint, error) {
	cp := Unbound()
	st, err := station.New(opts, Legacy{}, cp.Protocol())
	if err != nil {
		return nil, err
	}
	cp.Bind(st)
	return cp, nil
}

// Unbound returns a 1.6 face to give a station its Protocol, then Bind it
// to the station.
func Unbound() *ChargePoint { return &ChargePoint{} }

// Protocol is OCPP 1.6 for a station: its link renders the core's
// messages (cp's lenient reading warned once).
func (cp *ChargePoint) Protocol() station.Protocol {
	return station.Protocol{Name: Subprotocol, Link: func(c station.Caller) runner.Link {
		return link{caller: c, lenient: cp.readLeniently}
	}, Sign: cp.signCertificate}
}

// Bind makes cp the 1.6 face of st.
func (cp *ChargePoint) Bind(st *station.Station) {
	cp.Station, cp.opts = st, st.Options()
	cp.log = cp.opts.Logger
}

// Registration returns the status of the last BootNotification answer, ""
// before the first.
func (cp *ChargePoint) Registration() ocpp16.RegistrationStatus {
	return ocpp16.RegistrationStatus(cp.Station.Registration())
}

// LocalListEntry returns an idTag's entry in the local list, for the
// installer: its status, parent and expiry; ok false when not listed.
func (cp *ChargePoint) LocalListEntry(idTag string) (ocpp16.IdTagInfo, bool, error) {
	info, ok, err := cp.Unit().Auth().ListEntryOf(idTag)
	return idTagInfo(info), ok, err
}

// LastRegisters returns the last meter register the store knows of each
// connector (index 0: connector 1).
func LastRegisters(store kv.Store, connectors int) ([]float64, error) {
	return runner.LastRegisters(store, connectors)
}
