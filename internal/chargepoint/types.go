package chargepoint

import "time"

// ConnectorState is what a connector is doing, as the central system is
// told. The names are OCPP 1.6's; an adapter maps them to its protocol.
type ConnectorState string

// Connector states.
const (
	Available     ConnectorState = "Available"
	Preparing     ConnectorState = "Preparing"
	Charging      ConnectorState = "Charging"
	SuspendedEVSE ConnectorState = "SuspendedEVSE"
	SuspendedEV   ConnectorState = "SuspendedEV"
	Finishing     ConnectorState = "Finishing"
	Reserved      ConnectorState = "Reserved"
	Unavailable   ConnectorState = "Unavailable"
	Faulted       ConnectorState = "Faulted"
)

// Occupied reports whether a session holds the connector (OCPP 2.0.1's
// Occupied).
func (s ConnectorState) Occupied() bool {
	switch s {
	case Preparing, Charging, SuspendedEVSE, SuspendedEV, Finishing:
		return true
	}
	return false
}

// NoError is the error code of a connector without a fault.
const NoError = "NoError"

// InternalError is the error code of the charge point while it cannot
// write its records, with StoreTroubleInfo.
const (
	InternalError    = "InternalError"
	StoreTroubleInfo = "cannot write its data (disk full?)"
)

// StopReason is why a transaction stopped.
type StopReason string

// Stop reasons.
const (
	ReasonLocal          StopReason = "Local"
	ReasonRemote         StopReason = "Remote"
	ReasonEVDisconnected StopReason = "EVDisconnected"
	ReasonEmergencyStop  StopReason = "EmergencyStop"
	ReasonHardReset      StopReason = "HardReset"
	ReasonSoftReset      StopReason = "SoftReset"
	ReasonReboot         StopReason = "Reboot"
	ReasonPowerLoss      StopReason = "PowerLoss"
	ReasonDeAuthorized   StopReason = "DeAuthorized"
	ReasonUnlockCommand  StopReason = "UnlockCommand"
	ReasonOther          StopReason = "Other"
	// ReasonTimeout: the EV was not plugged in within ConnectionTimeOut
	// of a transaction started at authorization (OCPP 2.0.1 only).
	ReasonTimeout StopReason = "Timeout"
)

// FreeMode is how the charge point charges while FreeCharging is on
// (FreeChargingMode), or FreeOff.
type FreeMode int8

// Free-charging modes: the values of FreeChargingMode, and FreeOff.
const (
	FreeOff FreeMode = -1
	// FreeNoOCPP: no authorization, nothing told to the central system.
	FreeNoOCPP FreeMode = 0
	// FreeStatusNoAuth: no authorization; statuses only.
	FreeStatusNoAuth FreeMode = 1
	// FreeStatusAnyTag: any tag starts; statuses only.
	FreeStatusAnyTag FreeMode = 2
	// FreeFixedTagAnyTag: any tag starts; transactions in the fixed tag's
	// name.
	FreeFixedTagAnyTag FreeMode = 3
	// FreeFixedTagNoAuth: no authorization; transactions in the fixed
	// tag's name.
	FreeFixedTagNoAuth FreeMode = 4
	// FreeAnyTag: any tag starts; transactions in its own name.
	FreeAnyTag FreeMode = 5
)

// freeMode is the mode the settings name: FreeChargingMode while
// FreeCharging is on.
func freeMode(freeCharging, mode int) FreeMode {
	if freeCharging == 0 {
		return FreeOff
	}
	return FreeMode(mode)
}

// On reports free charging.
func (m FreeMode) On() bool { return m != FreeOff }

// StatusOnly reports a mode that sends no transaction messages and no
// meter values (0 to 2).
func (m FreeMode) StatusOnly() bool { return m >= FreeNoOCPP && m <= FreeStatusAnyTag }

// Silent reports the mode that tells the central system nothing.
func (m FreeMode) Silent() bool { return m == FreeNoOCPP }

// StartsOnPlug reports a mode that charges as soon as an EV is plugged in,
// without a tag.
func (m FreeMode) StartsOnPlug() bool {
	return m == FreeNoOCPP || m == FreeStatusNoAuth || m == FreeFixedTagNoAuth
}

// TakesTags reports whether presented tags do anything.
func (m FreeMode) TakesTags() bool { return !m.StartsOnPlug() }

// HasTransactions reports whether the mode has transactions a central
// system may start or reserve for (3 to 5, and off).
func (m FreeMode) HasTransactions() bool { return !m.StatusOnly() }

// Registration is the central system's answer to BootNotification.
type Registration string

// Registration statuses; NotRegistered before the first answer.
const (
	NotRegistered Registration = ""
	Accepted      Registration = "Accepted"
	Pending       Registration = "Pending"
	Rejected      Registration = "Rejected"
)

// TagKey is an idTag's case-folded form: idTags are case-insensitive
// (OCPP 1.6, IdToken), so two tags are the same when their keys are, and
// the local list and the cache are kept by key. Only ASCII letters fold;
// what is sent keeps the case the reader read.
func TagKey(idTag string) string {
	for i := 0; i < len(idTag); i++ {
		if c := idTag[i]; c >= 'a' && c <= 'z' {
			b := []byte(idTag)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return idTag
}

// SameTag reports whether two idTags are the same tag (case-insensitive).
func SameTag(a, b string) bool { return len(a) == len(b) && TagKey(a) == TagKey(b) }

// AuthStatus is what the central system, the local list or the cache says
// of an idTag.
type AuthStatus string

// Authorization statuses.
const (
	AuthAccepted     AuthStatus = "Accepted"
	AuthBlocked      AuthStatus = "Blocked"
	AuthExpired      AuthStatus = "Expired"
	AuthInvalid      AuthStatus = "Invalid"
	AuthConcurrentTx AuthStatus = "ConcurrentTx"
)

// AuthInfo is what is known of an idTag.
type AuthInfo struct {
	Status AuthStatus `json:"status"`
	// Expiry is when it stops being valid; zero: never.
	Expiry time.Time `json:"expiry,omitzero"`
	Parent string    `json:"parentIdTag,omitempty"`
	// TokenType is the type of idToken a local list entry is for (OCPP
	// 2.0.1: ISO14443, Central, eMAID…); "": any (1.6). See TokenMatches.
	TokenType string `json:"tokenType,omitempty"`
}

// TokenMatches reports whether a local list entry for tokens of type
// listed authorizes a token presented as type presented ("": read by the
// RFID reader): an entry without a type (1.6's) any token of its value;
// an RFID type (ISO14443, ISO15693) a card at the reader or a token of
// an RFID type; another type (Central, eMAID, KeyCode…) only a token of
// that type (a remote start's).
func TokenMatches(listed, presented string) bool {
	rfid := func(t string) bool { return t == "" || t == "ISO14443" || t == "ISO15693" }
	switch {
	case listed == "" || listed == presented:
		return true
	case rfid(listed):
		return rfid(presented)
	}
	return false
}

// Valid reports whether the information authorizes at t: Accepted and
// not expired.
func (a AuthInfo) Valid(t time.Time) bool {
	return a.Status == AuthAccepted && (a.Expiry.IsZero() || t.Before(a.Expiry))
}

// Known is what the local list and the authorization cache hold of an
// idTag; the runner looks it up before the core sees the tag.
type Known struct {
	List, Cache *AuthInfo
}

// Measurand is a quantity the meter measures.
type Measurand string

// The measurands of the simulated meter.
const (
	EnergyImport Measurand = "Energy.Active.Import.Register" // Wh
	PowerImport  Measurand = "Power.Active.Import"           // W
	CurrentIn    Measurand = "Current.Import"                // A, per phase
)

// ReadingContext says why a sample was taken.
type ReadingContext string

// Reading contexts.
const (
	ContextBegin    ReadingContext = "Transaction.Begin"
	ContextEnd      ReadingContext = "Transaction.End"
	ContextPeriodic ReadingContext = "Sample.Periodic"
	ContextClock    ReadingContext = "Sample.Clock"
	ContextTrigger  ReadingContext = "Trigger"
)

// Sample is one reading of the meter's measurands at a time.
type Sample struct {
	At      time.Time      `json:"at"`
	Context ReadingContext `json:"context"`
	Values  []Value        `json:"values"`
}

// Value is one measurand of a sample.
type Value struct {
	Measurand Measurand `json:"measurand"`
	// Phase is 1 to 3 for a value of one phase, 0 for the whole.
	Phase int `json:"phase,omitempty"`
	// Value is in the measurand's unit (Wh, W, A).
	Value float64 `json:"value"`
}

// FirmwareStatus is the progress of a firmware update.
type FirmwareStatus string

// Firmware statuses.
const (
	FirmwareIdle               FirmwareStatus = "Idle"
	FirmwareDownloading        FirmwareStatus = "Downloading"
	FirmwareDownloaded         FirmwareStatus = "Downloaded"
	FirmwareDownloadFailed     FirmwareStatus = "DownloadFailed"
	FirmwareInstalling         FirmwareStatus = "Installing"
	FirmwareInstalled          FirmwareStatus = "Installed"
	FirmwareInstallationFailed FirmwareStatus = "InstallationFailed"
	// The statuses of a signed update (SignedFirmwareStatusNotification)
	// besides those.
	FirmwareDownloadScheduled         FirmwareStatus = "DownloadScheduled"
	FirmwareSignatureVerified         FirmwareStatus = "SignatureVerified"
	FirmwareInvalidSignature          FirmwareStatus = "InvalidSignature"
	FirmwareInstallScheduled          FirmwareStatus = "InstallScheduled"
	FirmwareInstallRebooting          FirmwareStatus = "InstallRebooting"
	FirmwareInstallVerificationFailed FirmwareStatus = "InstallVerificationFailed"
)

// plain is the status as FirmwareStatusNotification (without the
// security extension) can tell it: a signed update's own statuses as
// the nearest of 1.6's.
func (s FirmwareStatus) plain() FirmwareStatus {
	switch s {
	case FirmwareDownloadScheduled, FirmwareInstallScheduled:
		return FirmwareIdle
	case FirmwareSignatureVerified:
		return FirmwareDownloaded
	case FirmwareInstallRebooting:
		return FirmwareInstalling
	case FirmwareInvalidSignature, FirmwareInstallVerificationFailed:
		return FirmwareInstallationFailed
	}
	return s
}

// DiagnosticsStatus is the progress of a diagnostics upload.
type DiagnosticsStatus string

// Diagnostics statuses.
const (
	DiagnosticsIdle         DiagnosticsStatus = "Idle"
	DiagnosticsUploading    DiagnosticsStatus = "Uploading"
	DiagnosticsUploaded     DiagnosticsStatus = "Uploaded"
	DiagnosticsUploadFailed DiagnosticsStatus = "UploadFailed"
)
