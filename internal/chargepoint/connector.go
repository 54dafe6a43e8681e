package chargepoint

import (
	"time"

	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// connector is the state of one connector, owned by the core goroutine.
type connector struct {
	id int
	hw hw.Connector

	pilot hw.PilotState
	fault string // hardware fault (ChargePointErrorCode), or ""
	// inoperative is set by ChangeAvailability (it survives restarts);
	// inoperativeLater is an Inoperative scheduled for the end of the
	// transaction.
	inoperative      bool
	inoperativeLater bool

	// auth is an authorized idTag waiting for the cable (ConnectionTimeOut).
	auth *pendingAuth
	// authorizing is the idTag an Authorize is out for.
	authorizing string
	tx          *transaction
	// finishing: a transaction ended and the EV is still plugged.
	finishing bool
	// heldFor keeps the cable locked after an EV-side unplug until this
	// idTag is presented (UnlockConnectorOnEVSideDisconnect off).
	heldFor string

	// holdFor is the journal sequence of the connector's last
	// StartTransaction or StopTransaction: its status is not reported
	// before that message is delivered, so that the central system learns
	// of a transaction before it sees the connector Charging (or
	// Available again).
	holdFor uint64

	offered float64 // A per phase
	// limit caps the offer (load management's share); negative: no cap.
	limit float64
	// sched is what the charging profiles allow now.
	sched schedule
	// reserved: a reservation keeps the connector (core.markReserved).
	reserved bool
	// wantPhases is what load management asks (1 or 3; 0: never asked),
	// phasesNow what the hardware is switched to (0: as wired, 3).
	wantPhases, phasesNow int
	// idleSince: the EV has left the offer unused since then; evDone:
	// long enough to be done charging (see evDoneAfter).
	idleSince time.Time
	evDone    bool
	doneAt    time.Time
	// switchSince: a phase switch waits for the EV to stop drawing since.
	switchSince time.Time
	nextSample  time.Time // of MeterValuesSampledData, zero when none is due
	// immediateAt is when ImmediatelyWhenPlugged looks again, zero when it
	// does not.
	immediateAt time.Time
}

// grant is what an authorization allows: a transaction in the name of
// idTag.
type grant struct {
	idTag  string // the idTag of the transaction messages
	holder string // the tag that may stop it at the charge point ("": idTag)
	parent string
	// silent: a free-charging session without transaction messages.
	silent bool
	// profile is the TxProfile of the RemoteStartTransaction that asked
	// for the transaction, if any.
	profile *ocpp16.ChargingProfile
}

// pendingAuth is an authorization waiting for an EV.
type pendingAuth struct {
	grant
	deadline time.Time
}

// busyStarting reports whether the connector has a transaction or one on
// its way (an authorization pending or out).
func (c *connector) busyStarting() bool {
	return c.tx != nil || c.auth != nil || c.authorizing != ""
}

// status derives the OCPP status of the connector and its error code.
func (c *connector) status() (ocpp16.ChargePointStatus, ocpp16.ChargePointErrorCode) {
	if c.fault != "" {
		return ocpp16.ChargePointStatusFaulted, ocpp16.ChargePointErrorCode(c.fault)
	}
	ok := ocpp16.ChargePointErrorCodeNoError
	switch {
	case c.tx != nil:
		switch {
		case !c.pilot.Plugged(): // unplugged, StopTransactionOnEVSideDisconnect off
			return ocpp16.ChargePointStatusSuspendedEV, ok
		case c.tx.Deauthorized || c.offered < hw.MinCurrent:
			return ocpp16.ChargePointStatusSuspendedEVSE, ok
		case c.pilot.Charging():
			return ocpp16.ChargePointStatusCharging, ok
		default: // the EV does not ask for energy
			return ocpp16.ChargePointStatusSuspendedEV, ok
		}
	case c.inoperative:
		return ocpp16.ChargePointStatusUnavailable, ok
	case c.finishing && c.pilot.Plugged():
		return ocpp16.ChargePointStatusFinishing, ok
	case c.pilot.Plugged() || c.auth != nil || c.authorizing != "":
		return ocpp16.ChargePointStatusPreparing, ok
	case c.reserved:
		return ocpp16.ChargePointStatusReserved, ok
	}
	return ocpp16.ChargePointStatusAvailable, ok
}
