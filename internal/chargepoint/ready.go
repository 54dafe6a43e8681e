package chargepoint

import (
	"time"

	"github.com/evse-dev/evse/internal/smartcharging"
)

// Actuation is an order for the hardware of one connector. [Core.Step]
// returns them; the runner applies them at once, before it writes any
// record of the step.
type Actuation struct {
	Connector int
	Kind      ActuationKind
	// Amps is the offer of an Offer, in A per phase (0: none).
	Amps float64
	// On closes the contactor (Contactor) or locks the cable (Lock).
	On bool
	// Phases is 1 or 3 (Phases).
	Phases int
	// For is the command waiting for a Lock's outcome (a LockResult
	// event), 0: none.
	For uint64
}

// ActuationKind is what an Actuation drives.
type ActuationKind int

// Kinds of actuation.
const (
	// Offer sets the PWM offer.
	Offer ActuationKind = iota
	// Contactor closes or opens the power contactor.
	Contactor
	// Lock locks or unlocks the cable.
	Lock
	// Phases switches the session between three phases and one (the
	// offer is 0 and the contactor open when it comes).
	Phases
)

// Ready is what the steps since the last Ready leave to do, in this
// order: make the records durable, then send the messages; and when to
// step again.
type Ready struct {
	// Records are written together, in order, before any message of the
	// same Ready is sent.
	Records []Record
	// Messages go out in order: the core's CALLs, and replies to
	// commands. A CALL after a reply must not go out before the reply.
	Messages []Message
	// Jobs are long I/O the runner does and reports on with an event.
	Jobs []Job
	// Settings are values the core sets (the heartbeat interval of an
	// accepted BootNotification), stored as the central system's.
	Settings []Setting
	// Loads is the connectors' state for load management, when it
	// changed; nil otherwise.
	Loads []Load
	// Halt asks the runner to stop the core once the records and messages
	// are out, and to start it again (a reset or a new firmware).
	Halt *Halt
	// Next is when the core must be stepped again if nothing happens
	// before (with a Tick); zero: not for time's sake.
	Next time.Time
}

// Setting is a configuration value to store.
type Setting struct {
	Key, Value string
}

// Halt says why the core stops.
type Halt struct {
	Hard bool // a hard reset (a new firmware reboots hard)
	// Shutdown: the charge point is going down (Shutdown), not
	// restarting.
	Shutdown bool
}

// Message is a CALL of the core (Call not 0) or the reply to a command
// (Reply not 0). Body is one of the message types below, or for a reply
// the result the command names.
type Message struct {
	Call  uint64
	Reply uint64
	Body  any
	// Now: a reply that acknowledges nothing (a query): it need not wait
	// for the records before it, which a failing disk may hold up.
	Now bool
}

// The CALLs the core sends.

// BootNotification registers the charge point.
type BootNotification struct {
	Identity Identity
	Reason   BootReason
}

// BootReason is why a BootNotification is sent (OCPP 2.0.1's reasons this
// charge point has).
type BootReason string

// Boot reasons.
const (
	BootPowerUp        BootReason = "PowerUp"
	BootRemoteReset    BootReason = "RemoteReset"
	BootFirmwareUpdate BootReason = "FirmwareUpdate"
	BootTriggered      BootReason = "Triggered"
)

// Heartbeat tells the central system the charge point lives.
type Heartbeat struct{}

// StatusNotification tells a connector's (0: the charge point's) state.
type StatusNotification struct {
	Connector int
	State     ConnectorState
	// Error is the fault's code, or NoError.
	Error string
	// Info is free text about it ("" for none).
	Info string
	// Since is when the connector took this state.
	Since time.Time
	// Plugged: an EV was in the connector when it took this state.
	Plugged bool
}

// TxMessage sends a journaled transaction event; the runner reads its
// body from the store. CSMSID is the central system's id of the
// transaction (0 for its start).
type TxMessage struct {
	Entry  JournalEntry
	CSMSID int
}

// Authorize asks the central system about an idTag (of TokenType, ""
// for the RFID reader's).
type Authorize struct {
	IDTag     string
	TokenType string
}

// MeterValues sends a sample that is not journaled (a clock-aligned one
// without a transaction, a triggered one). CSMSID is the transaction's, 0
// for none.
type MeterValues struct {
	Connector int
	CSMSID    int
	Sample    Sample
}

// ChargingLimitSet tells that load management limits a connector's
// transaction to Limit, A per phase (OCPP 2.0.1's NotifyChargingLimit
// with source EMS; 1.6 has no message).
type ChargingLimitSet struct {
	Connector int
	Limit     float64
	At        time.Time
}

// ChargingLimitCleared tells that load management's limit of a
// connector no longer applies (2.0.1's ClearedChargingLimit).
type ChargingLimitCleared struct {
	Connector int
}

// ReservationExpired tells that a reservation ended unused at its expiry
// (OCPP 2.0.1's ReservationStatusUpdate Expired; 1.6 has no message).
type ReservationExpired struct {
	ID int
}

// FirmwareStatusNotification tells the progress of a firmware update; of
// a signed one (SignedFirmwareStatusNotification) with its request id.
type FirmwareStatusNotification struct {
	Status    FirmwareStatus
	Signed    bool
	RequestID int
}

// DiagnosticsStatusNotification tells the progress of a diagnostics
// upload.
type DiagnosticsStatusNotification struct {
	Status DiagnosticsStatus
}

// LogStatusNotification tells the progress of a log upload (GetLog).
type LogStatusNotification struct {
	Status    LogStatus
	RequestID int
}

// LogStatus is the progress of a log upload.
type LogStatus string

// Log upload statuses.
const (
	LogIdle          LogStatus = "Idle"
	LogUploading     LogStatus = "Uploading"
	LogUploaded      LogStatus = "Uploaded"
	LogUploadFailure LogStatus = "UploadFailure"
)

// Identity is the unit BootNotification describes.
type Identity struct {
	Vendor, Model                             string
	SerialNumber, ChargeBoxSerialNumber       string
	FirmwareVersion                           string
	ICCID, IMSI, MeterType, MeterSerialNumber string
}

// Jobs.

// Job is long I/O: Download or Upload.
type Job interface{ job() }

// Download fetches and checks a firmware image; the runner answers with
// Downloaded.
type Download struct {
	Location string
	// Signature of a signed update: the image must match it.
	Signature *FirmwareSignature
	// Seq numbers the download; its Downloaded carries it.
	Seq uint64
}

// Upload sends the diagnostics archive; the runner answers with
// Uploaded.
type Upload struct {
	Location, Name string
	From, To       time.Time
	// Status is the charge point's state, for the archive.
	Status Status
	// Log is GetLog's log, "" for GetDiagnostics (the archive).
	Log LogType
	// Seq numbers the upload; its Uploaded carries it.
	Seq uint64
}

func (Download) job() {}
func (Upload) job()   {}

// Load is what load management needs to know of one connector.
type Load struct {
	Connector int
	// Ready: a session may charge here (authorized, plugged, no fault)
	// and its EV has not finished.
	Ready bool
	// Applied is the current offered now (PWM), in A per phase.
	Applied float64
}

// CompositeInputs is what a composite schedule is computed from, copied
// out of the core so that the computation does not hold it up.
type CompositeInputs struct {
	Start time.Time
	// Stacks has one entry per connector asked for (all of them for 0).
	Stacks []Stack
	// MaxCurrent is the hardware maximum, A per phase.
	MaxCurrent float64
}

// Stack is what one connector's schedule depends on.
type Stack struct {
	Connector  int
	CPMax, Own []smartcharging.Profile
	Session    smartcharging.Session
	// Switchable: a one-phase period switches the connector.
	Switchable bool
}
