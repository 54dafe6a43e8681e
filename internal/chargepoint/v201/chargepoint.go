// Package v201 is the OCPP 2.0.1 face of the charging core: it turns the
// CSMS's CALLs into the core's commands (and answers them), the core's
// messages into 2.0.1 CALLs (and reads their answers back). A
// [ChargePoint] is a station (package chargepoint/station) with this face,
// alone or next to OCPP 1.6's on the same station. The device model is
// package devicemodel over the same settings as 1.6's keys.
//
// # Caveats
//
// Each connector of the core is an EVSE of one connector. Transactions
// start and end at TxStartPoint and TxStopPoint when the station speaks
// 2.0.1 alone (as 1.6's otherwise), and the station names them
// "EVSE-<local id>".
package v201

import (
	"log/slog"
	"sync/atomic"

	"github.com/evse-dev/evse/internal/chargepoint/runner"
	"github.com/evse-dev/evse/internal/chargepoint/station"
	"github.com/evse-dev/evse/internal/devicemodel"
)

// Subprotocol is OCPP 2.0.1's WebSocket subprotocol.
const Subprotocol = "ocpp2.0.1"

// ChargePoint is one OCPP 2.0.1 charging station: a station with this
// package as its face. It is safe for concurrent use.
type ChargePoint struct {
	*station.Station
	opts  station.Options
	log   *slog.Logger
	model *devicemodel.Model
	// reporting: a report (NotifyReport, NotifyMonitoringReport,
	// NotifyCustomerInformation) is being sent.
	reporting atomic.Bool
	mon       monitors
}

// New returns a charging station restored from its store that speaks
// 2.0.1 only; Run starts it.
func New(opts station.Options) (*ChargePoint, error) {
	cp := Unbound()
	st, err := station.New(opts, nil, cp.Protocol())
	if err != nil {
		return nil, err
	}
	cp.Bind(st)
	return cp, nil
}

// Unbound returns a 2.0.1 face to give a station its Protocol, then
// Bind it to the station.
func Unbound() *ChargePoint { return &ChargePoint{} }

// Protocol is OCPP 2.0.1 for a station.
func (cp *ChargePoint) Protocol() station.Protocol {
	return station.Protocol{Name: Subprotocol, Link: func(c station.Caller) runner.Link { return link{caller: c, statusSeen: cp.statusSeen} },
		NamesTransactions: true, TellsLimits: true, Sign: cp.signCertificate}
}

// Bind makes cp the 2.0.1 face of st.
func (cp *ChargePoint) Bind(st *station.Station) {
	cp.Station, cp.opts = st, st.Options()
	cp.log = cp.opts.Logger
	cp.model = devicemodel.Of(cp.opts.Settings.Catalogue()) // shared by the stations of one catalogue
	cp.startMonitoring()
}
