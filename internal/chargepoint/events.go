package chargepoint

import (
	"errors"
	"time"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/smartcharging"
)

// Event is an input of [Core.Step]: something that happened. The types of
// this file are all the events there are.
type Event interface{ event() }

// Started is the first event of a core: the hardware as it is at the
// start. The connectors offer nothing, their contactors are opened, and
// the transactions a crash interrupted are stopped.
type Started struct {
	Sensed []Sensed // one per connector
}

// Sensed is a connector's hardware state after a change: the control
// pilot and the fault the hardware reports ("" for none).
type Sensed struct {
	Connector int
	Pilot     hw.PilotState
	Fault     string
	// CableMax is the current the plugged cable is rated for (its
	// proximity pilot), in A; 0: not limited by a cable.
	CableMax float64
	// Cable: a cable is in the connector's socket, with or without an EV
	// (a socket connector; always false on a tethered one).
	Cable bool
}

// TagPresented is an RFID tag held to the reader, for a connector (0: the
// charge point picks), with what the local list and the cache know of it.
type TagPresented struct {
	Connector int
	IDTag     string
	Known     Known
}

// LinkUp: the connection to the central system is up (again).
// ReplayDelay is how long the journal waits before it is replayed, drawn
// by the runner so that many charge points coming back at once do not
// send together.
type LinkUp struct {
	ReplayDelay time.Duration
	// NewServer: the connection is to another central system than the
	// last one (another network connection profile): the charge point
	// registers with it anew, BootNotification first.
	NewServer bool
}

// LinkDown: the connection to the central system is lost.
type LinkDown struct{}

// Failure says how a CALL of the core failed.
type Failure int

// Failures of a CALL.
const (
	// Delivered: no failure.
	Delivered Failure = iota
	// Refused: a CALLERROR, or an answer that breaks the schema.
	Refused
	// Unanswered: it timed out while the connection stayed up.
	Unanswered
	// Lost: the connection dropped before the answer, or it could not be
	// sent.
	Lost
)

// ErrUnsupported is wrapped in a Refused CALL's Err when the central
// system said it does not take the message at all (a CALLERROR
// NotImplemented or NotSupported): trying again will not help.
var ErrUnsupported = errors.New("the central system does not take this message")

// Answered is the outcome of one of the core's CALLs: its answer (one of
// the *Answer types, or nil for those that carry nothing) or how it
// failed.
type Answered struct {
	Call    uint64
	Answer  any
	Failure Failure
	// Err describes a failure, for the log.
	Err error
}

// BootAnswer is the answer to BootNotification.
type BootAnswer struct {
	Status Registration
	// Interval is the heartbeat interval (Accepted) or the wait before
	// the next BootNotification (Pending, Rejected); 0: not given.
	Interval time.Duration
}

// StartAnswer is the answer to a transaction's start.
type StartAnswer struct {
	// TransactionID is the central system's id of the transaction.
	TransactionID int
	Info          AuthInfo
}

// StopAnswer is the answer to a transaction's stop.
type StopAnswer struct {
	Info *AuthInfo
}

// UpdateAnswer is the answer to a transaction update that told an idTag
// (OCPP 2.0.1: the driver of a transaction started at plug-in).
type UpdateAnswer struct {
	Info AuthInfo
}

// AuthorizeAnswer is the answer to Authorize.
type AuthorizeAnswer struct {
	Info AuthInfo
}

// Command is a request to the core, from the central system through a
// protocol adapter or from the installer; the core answers it with a
// Message whose Reply is ID. Cmd is one of the command types below.
type Command struct {
	ID  uint64
	Cmd any
}

// SettingsChanged brings the settings after a change.
type SettingsChanged struct {
	Settings *config.Snapshot
}

// LimitsSet caps connectors' offers: load management's shares, in A per
// phase. A connector not named keeps its cap. A negative amount removes
// it, unless the core is Managed: there a negative amount, like one that
// is not a number, is a share of 0.
type LimitsSet struct {
	Limits map[int]float64
}

// PhasesSet sets how many phases (1 or 3) connectors' sessions may use,
// where the hardware can switch; a connector not named keeps its setting.
type PhasesSet struct {
	Phases map[int]int
}

// LockResult is the outcome of a lock actuation that a command waits for.
type LockResult struct {
	Connector int
	For       uint64 // the command
	Err       error  // nil: the lock moved
}

// Downloaded is the outcome of a firmware download and check.
type Downloaded struct {
	// Err: the download failed (it may be tried again).
	Err error
	// Bad: the image was downloaded but is not valid (not retried).
	Bad error
	// Version is the image's version when it is valid.
	Version string
	// BadSignature: a signed update's image does not match its signature
	// (never installed).
	BadSignature error
	// Seq is the Download's.
	Seq uint64
}

// Uploaded is the outcome of a diagnostics or log upload: Seq is its
// Upload's.
type Uploaded struct {
	Err error
	Seq uint64
}

// StoreTrouble: the store cannot write (a full or failing disk: Err says
// why), or, with Err "", it can again. While it cannot, what the core
// records waits, in order, and nothing new starts.
type StoreTrouble struct {
	Err string
}

// Tick: only time passed.
type Tick struct{}

// Shutdown: the charge point is going down; running transactions stop
// (reason Reboot), nothing new starts, and the core halts (a Halt with
// Shutdown) once the journal is delivered, the link is down, or
// Rules.ResetFlush has passed.
type Shutdown struct{}

func (Started) event()         {}
func (Sensed) event()          {}
func (TagPresented) event()    {}
func (LinkUp) event()          {}
func (LinkDown) event()        {}
func (Answered) event()        {}
func (Command) event()         {}
func (SettingsChanged) event() {}
func (LimitsSet) event()       {}
func (PhasesSet) event()       {}
func (LockResult) event()      {}
func (Downloaded) event()      {}
func (Uploaded) event()        {}
func (Tick) event()            {}
func (StoreTrouble) event()    {}
func (Shutdown) event()        {}

// The commands.

// RemoteStart asks for a transaction for IDTag on a connector (0: the
// charge point picks), with an optional Tx profile. Reply: bool accepted.
type RemoteStart struct {
	Connector int
	IDTag     string
	Profile   *smartcharging.Profile
	Known     Known
	// RemoteStartID is OCPP 2.0.1's remoteStartId, carried into the
	// transaction's start; nil: none.
	RemoteStartID *int
	// TokenType is OCPP 2.0.1's type of the id token (Central, eMAID…),
	// told with the tag; "": read by the RFID reader.
	TokenType string
}

// RemoteStartResult is the reply to RemoteStart: Accepted when the charge
// point will try; Waiting, the local id of the transaction started at
// plug-in (TxStartPoint EVConnected) it is for, 0 for none.
type RemoteStartResult struct {
	Accepted bool
	Waiting  int64
}

// RemoteStop asks to stop the transaction with the central system's id.
// Reply: bool accepted.
type RemoteStop struct {
	TransactionID int
}

// Reset asks for a restart after the transactions are stopped.
type Reset struct {
	Hard bool
	// OnIdle waits until no transaction runs (OCPP 2.0.1's OnIdle); no
	// new one starts meanwhile. Reply: ResetResult.
	OnIdle bool
}

// ResetResult is the answer to Reset.
type ResetResult string

// Answers to Reset.
const (
	ResetAccepted  ResetResult = "Accepted"
	ResetScheduled ResetResult = "Scheduled"
)

// ChangeAvailability makes a connector (0: all of them) operative or not.
// Reply: AvailabilityResult.
type ChangeAvailability struct {
	Connector int
	Operative bool
}

// AvailabilityResult is the answer to ChangeAvailability.
type AvailabilityResult string

// Answers to ChangeAvailability.
const (
	AvailabilityAccepted  AvailabilityResult = "Accepted"
	AvailabilityRejected  AvailabilityResult = "Rejected"
	AvailabilityScheduled AvailabilityResult = "Scheduled"
)

// Unlock stops a connector's transaction and unlocks its cable. Reply:
// UnlockResult.
type Unlock struct {
	Connector int
}

// UnlockResult is the answer to Unlock.
type UnlockResult string

// Answers to Unlock.
const (
	Unlocked     UnlockResult = "Unlocked"
	UnlockFailed UnlockResult = "UnlockFailed"
	NoSuchLock   UnlockResult = "NotSupported"
)

// ReserveNow keeps a connector (0: any) for an idTag or its group. Reply:
// ReserveResult.
type ReserveNow struct {
	Reservation Reservation
}

// ReserveResult is the answer to ReserveNow.
type ReserveResult string

// Answers to ReserveNow.
const (
	ReserveAccepted    ReserveResult = "Accepted"
	ReserveFaulted     ReserveResult = "Faulted"
	ReserveOccupied    ReserveResult = "Occupied"
	ReserveRejected    ReserveResult = "Rejected"
	ReserveUnavailable ReserveResult = "Unavailable"
)

// CancelReservation drops a reservation. Reply: bool accepted.
type CancelReservation struct {
	ID int
}

// SetProfile installs a charging profile on a connector (0: the charge
// point). Reply: ProfileResult.
type SetProfile struct {
	Connector int
	Profile   smartcharging.Profile
}

// ProfileResult is the answer to SetProfile: why the profile was not
// installed, "" when it was.
type ProfileResult struct {
	Why string
}

// ClearProfiles removes the profile with ID, or else every profile that
// matches all the filters given (none: all). Reply: int, how many.
type ClearProfiles struct {
	ID         *int
	Connector  *int
	Purpose    smartcharging.Purpose
	StackLevel *int
}

// ListProfiles asks for the charging profiles installed. Reply:
// []InstalledProfile, a copy.
type ListProfiles struct{}

// CompositeRequest asks what a connector's (0: the charge point's)
// composite schedule is computed from. Reply: *CompositeInputs, nil for
// no such connector.
type CompositeRequest struct {
	Connector int
}

// Trigger asks for a message now; Connector is -1 for all. Reply:
// TriggerResult.
type Trigger struct {
	Message   TriggerMessage
	Connector int
}

// TriggerMessage is a message Trigger may ask for.
type TriggerMessage string

// Messages a Trigger may ask for.
const (
	TriggerBoot        TriggerMessage = "BootNotification"
	TriggerHeartbeat   TriggerMessage = "Heartbeat"
	TriggerStatus      TriggerMessage = "StatusNotification"
	TriggerMeterValues TriggerMessage = "MeterValues"
	TriggerFirmware    TriggerMessage = "FirmwareStatusNotification"
	TriggerDiagnostics TriggerMessage = "DiagnosticsStatusNotification"
	TriggerLog         TriggerMessage = "LogStatusNotification"
	// TriggerSignedFirmware asks for SignedFirmwareStatusNotification
	// (ExtendedTriggerMessage's FirmwareStatusNotification).
	TriggerSignedFirmware TriggerMessage = "SignedFirmwareStatusNotification"
)

// TriggerResult is the answer to Trigger.
type TriggerResult string

// Answers to Trigger.
const (
	TriggerAccepted       TriggerResult = "Accepted"
	TriggerRejected       TriggerResult = "Rejected"
	TriggerNotImplemented TriggerResult = "NotImplemented"
)

// EmergencyStop stops every transaction at once. Reply: nil.
type EmergencyStop struct{}

// Query asks for the charge point's state. Reply: Status.
type Query struct{}

// QueryQueue asks how many journaled messages of a transaction (by its
// local id; 0: of any transaction) wait for the central system. Reply:
// int.
type QueryQueue struct {
	Tx int64
}

// UpdateFirmware downloads, checks and installs a firmware image from At
// on, with Retries more attempts Interval apart, then reboots. With a
// Signature (SignedUpdateFirmware, whose signing certificate the adapter
// checked), the image's signature is verified before anything else, it is
// installed at InstallAt (zero: at once), its statuses are told with
// RequestID, and it cancels an update under way. Tracked gives an update
// without a Signature all of that but the signature's check (2.0.1's
// UpdateFirmware without a signing certificate, L02). Reply: UpdateResult.
type UpdateFirmware struct {
	Location  string
	At        time.Time
	Retries   int
	Interval  time.Duration
	Signature *FirmwareSignature
	Tracked   bool
	RequestID int
	InstallAt time.Time
}

// FirmwareSignature is a signed update's signing certificate (PEM) and
// its signature over the image (base64).
type FirmwareSignature struct {
	Certificate, Signature string
}

// UpdateResult is the answer to UpdateFirmware.
type UpdateResult string

// Answers to UpdateFirmware.
const (
	UpdateAccepted         UpdateResult = "Accepted"
	UpdateRejected         UpdateResult = "Rejected"
	UpdateAcceptedCanceled UpdateResult = "AcceptedCanceled"
)

// GetDiagnostics uploads the logs of [From, To] (zero: open) with the
// state and configuration, with Retries more attempts Interval apart.
// Reply: string, the file name ("" when an upload is under way).
type GetDiagnostics struct {
	Location string
	From, To time.Time
	Retries  int
	Interval time.Duration
}

// GetLog uploads a log (the security whitepaper's GetLog): the
// diagnostics archive, or the security log, of [From, To] (zero: open),
// with Retries more attempts Interval apart. An upload under way is
// canceled. Reply: LogResult.
type GetLog struct {
	Type      LogType
	RequestID int
	Location  string
	From, To  time.Time
	Retries   int
	Interval  time.Duration
}

// LogType is the log GetLog asks for.
type LogType string

// Logs GetLog may ask for.
const (
	DiagnosticsLog LogType = "DiagnosticsLog"
	SecurityLog    LogType = "SecurityLog"
)

// LogResult is the answer to GetLog.
type LogResult struct {
	Status   LogAnswer
	FileName string
}

// LogAnswer is GetLog's status.
type LogAnswer string

// Answers to GetLog.
const (
	LogAccepted         LogAnswer = "Accepted"
	LogAcceptedCanceled LogAnswer = "AcceptedCanceled"
)
