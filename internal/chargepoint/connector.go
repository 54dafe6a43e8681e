package chargepoint

import (
	"time"

	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/smartcharging"
)

// connector is the state of one connector.
type connector struct {
	id int

	pilot hw.PilotState
	fault string // hardware fault (an OCPP error code), or ""
	// cable: a cable is in the socket (a socket connector), with or
	// without an EV at its end.
	cable bool
	// cableMax is the plugged cable's rating, A; 0: not limited.
	cableMax float64
	// inoperative is set by ChangeAvailability (it survives restarts);
	// inoperativeLater is an Inoperative scheduled for the end of the
	// transaction.
	inoperative      bool
	inoperativeLater bool

	// auth is an authorized idTag waiting for the cable (ConnectionTimeOut).
	auth *pendingAuth
	// authorizing is the idTag an Authorize is out for.
	authorizing string
	tx          *Transaction
	// finishing: a transaction ended and the EV is still plugged.
	finishing bool
	// heldFor keeps the cable locked after an EV-side unplug until this
	// idTag is presented (UnlockConnectorOnEVSideDisconnect off).
	heldFor string

	// holdFor is the journal sequence of the connector's last start or
	// stop: its status is not reported before that is delivered, so that
	// the central system learns of a transaction before it sees the
	// connector Charging (or Available again).
	holdFor uint64

	offered   float64 // A per phase
	contactor bool
	// limit caps the offer (load management's share); negative: no cap.
	limit float64
	// sched is what the charging profiles allow now.
	sched schedule
	// reserved: a reservation keeps the connector (markReserved).
	reserved bool
	// wantPhases is what load management asks (1 or 3; 0: never asked),
	// phasesNow what the hardware is switched to (0: as wired, 3).
	wantPhases, phasesNow int
	// idleSince: the EV has left the offer unused since then; evDone:
	// long enough to be done charging (Rules.EVDoneAfter).
	idleSince time.Time
	evDone    bool
	doneAt    time.Time
	// switchSince: a phase switch waits for the EV to stop drawing since.
	switchSince time.Time
	nextSample  time.Time // of MeterValuesSampledData, zero when none is due
	// immediateAt is when ImmediatelyWhenPlugged looks again, zero when it
	// does not.
	immediateAt time.Time
	// limitTold is the load management limit last told to the central
	// system (TellsLimits), A; negative: none told. limitNow is the
	// limit in force since limitSince (negative: none), told once it
	// has held for Rules.LimitSettle.
	limitTold, limitNow float64
	limitSince          time.Time
	// shared: load management gave the running transaction current; the
	// nothing a managed connector has before is the wait for its first
	// share, not a limit.
	shared bool
	// plugBy: the transaction started at authorization (TxStartPoint
	// Authorized) ends if no EV is plugged in by then; zero when none
	// waits.
	plugBy time.Time
}

// grant is what an authorization allows: a transaction in the name of
// idTag.
type grant struct {
	idTag  string // the idTag of the transaction messages
	holder string // the tag that may stop it at the charge point ("": idTag)
	parent string
	// silent: a free-charging session without transaction messages.
	silent bool
	// profile is the Tx profile of the remote start that asked for the
	// transaction, if any.
	profile *smartcharging.Profile
	// remoteID is the remote start's id (OCPP 2.0.1's remoteStartId), if
	// it gave one; tokenType its token's type.
	remoteID  *int
	tokenType string
	// awaiting: no driver yet; the transaction starts at plug-in
	// (TxStartPoint EVConnected) and its energy waits for one.
	awaiting bool
}

// pendingAuth is an authorization waiting for an EV.
type pendingAuth struct {
	grant
	deadline time.Time
}

// busyStarting reports whether the connector has a transaction or one on
// its way (an authorization pending or out).
func (cn *connector) busyStarting() bool {
	return cn.tx != nil || cn.auth != nil || cn.authorizing != ""
}

// state derives the connector's state and error code.
func (cn *connector) state() (ConnectorState, string) {
	if cn.fault != "" {
		return Faulted, cn.fault
	}
	switch {
	case cn.tx != nil:
		switch {
		case !cn.pilot.Plugged(): // unplugged, StopTransactionOnEVSideDisconnect off
			return SuspendedEV, NoError
		case cn.tx.Deauthorized || cn.offered < hw.MinCurrent:
			return SuspendedEVSE, NoError
		case cn.pilot.Charging():
			return Charging, NoError
		default: // the EV does not ask for energy
			return SuspendedEV, NoError
		}
	case cn.inoperative:
		return Unavailable, NoError
	case cn.finishing && (cn.pilot.Plugged() || cn.cable):
		return Finishing, NoError
	case cn.pilot.Plugged() || cn.cable || cn.auth != nil || cn.authorizing != "":
		return Preparing, NoError
	case cn.reserved:
		return Reserved, NoError
	}
	return Available, NoError
}

// closed reports whether no transaction may start on the connector: it or
// the charge point is inoperative, it is faulted, the charge point is
// going down for a reset (or waits to, OnIdle), or it cannot write its
// records.
func (c *Core) closed(cn *connector) bool {
	return cn.inoperative || c.inoperative || cn.fault != "" || c.halting != nil || c.storeTrouble != "" || c.resetOnIdle
}
