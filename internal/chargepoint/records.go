package chargepoint

import (
	"math"
	"slices"
	"time"

	"github.com/evse-dev/evse/internal/smartcharging"
)

// Record is a change of the charge point's durable state. The runner
// writes the records of a Ready in one transaction, in order, before the
// messages that depend on them go out. The types of this file are all the
// records there are.
type Record interface{ record() }

// TxOpened keeps a running transaction (it replaces the connector's
// earlier one): a crash leaves enough to stop it after the restart.
type TxOpened struct {
	Tx Transaction
}

// TxClosed forgets a connector's running transaction.
type TxClosed struct {
	Connector int
}

// RegisterKept keeps a connector's last meter register, in Wh.
type RegisterKept struct {
	Connector int
	Wh        float64
}

// Journaled adds a transaction event to the journal.
type Journaled struct {
	Entry JournalEntry
	Event TxEvent
}

// JournalUpdated keeps an entry's attempts.
type JournalUpdated struct {
	Entry JournalEntry
}

// JournalRemoved removes a delivered (or given up) entry.
type JournalRemoved struct {
	Seq uint64
}

// CSMSIDKept keeps the central system's id of a transaction.
type CSMSIDKept struct {
	Local int64
	ID    int
}

// CSMSIDForgotten forgets it, once nothing of the transaction is left to
// send.
type CSMSIDForgotten struct {
	Local int64
}

// AvailabilityKept keeps a connector's (0: the charge point's)
// availability.
type AvailabilityKept struct {
	Connector int
	Operative bool
}

// ReservationsKept replaces the reservations.
type ReservationsKept struct {
	All []Reservation
}

// ProfileKept installs a charging profile.
type ProfileKept struct {
	Profile InstalledProfile
}

// ProfileRemoved removes the charging profile with an id.
type ProfileRemoved struct {
	ID int
}

// Remembered puts what the central system said of an idTag into the
// authorization cache, unless UnlessListed and the idTag is in the local
// list (which the central system keeps itself).
type Remembered struct {
	IDTag        string
	Info         AuthInfo
	UnlessListed bool
}

// FirmwareKept keeps the version of a firmware just installed; its
// FirmwareStatusNotification Installed is due after the reboot.
type FirmwareKept struct {
	Version string
	// Signed and RequestID: a signed update's Installed is told with
	// SignedFirmwareStatusNotification and its request id.
	Signed    bool
	RequestID int
}

// FirmwareReported notes that Installed was told.
type FirmwareReported struct{}

func (TxOpened) record()         {}
func (TxClosed) record()         {}
func (RegisterKept) record()     {}
func (Journaled) record()        {}
func (JournalUpdated) record()   {}
func (JournalRemoved) record()   {}
func (CSMSIDKept) record()       {}
func (CSMSIDForgotten) record()  {}
func (AvailabilityKept) record() {}
func (ReservationsKept) record() {}
func (ProfileKept) record()      {}
func (ProfileRemoved) record()   {}
func (Remembered) record()       {}
func (FirmwareKept) record()     {}
func (FirmwareReported) record() {}

// Transaction is a charging session. It is kept (TxOpened) while it runs.
type Transaction struct {
	// Local is the charge point's own id, unique across restarts.
	Local       int64  `json:"local"`
	Connector   int    `json:"connector"`
	IDTag       string `json:"idTag"`
	ParentIDTag string `json:"parentIdTag,omitempty"`
	// Holder is the tag that may stop the transaction at the charge
	// point, when it is not IDTag (fixed-tag free charging).
	Holder        string    `json:"holder,omitempty"`
	MeterStart    int       `json:"meterStart"`
	Started       time.Time `json:"started"`
	ReservationID *int      `json:"reservationId,omitempty"`
	// RemoteStartID is the id of the remote start that asked for it, and
	// TokenType its token's type ("": the RFID reader's).
	RemoteStartID *int   `json:"remoteStartId,omitempty"`
	TokenType     string `json:"tokenType,omitempty"`
	// Silent: a free-charging session without transaction messages.
	Silent bool `json:"silent,omitempty"`
	// CSMSID is the central system's id, 0 until known.
	CSMSID int `json:"csmsId,omitempty"`
	// Deauthorized: the central system refused the idTag when it
	// confirmed the start and StopTransactionOnInvalidId is off: no
	// energy, the transaction goes on.
	Deauthorized bool `json:"deauthorized,omitempty"`
	// Unauthorized: started at plug-in (TxStartPoint EVConnected), the
	// transaction waits for a driver's authorization: no energy until
	// then.
	Unauthorized bool `json:"unauthorized,omitempty"`
	// EndReason is why the driver's authorization ended, for a
	// transaction that goes on until the EV is unplugged (TxStopPoint
	// without Authorized); "" while authorized.
	EndReason StopReason `json:"endReason,omitempty"`
	// LastWh and LastAt are the last meter reading kept; a PowerLoss stop
	// after a crash reports them.
	LastWh float64   `json:"lastWh"`
	LastAt time.Time `json:"lastAt"`
	// Data holds the StopTxnSampledData and StopTxnAlignedData samples
	// taken so far, for the stop's transaction data.
	Data []Sample `json:"samples,omitempty"`
	// Events is how many of its events were journaled: the next one's
	// SeqNo.
	Events int `json:"events,omitempty"`
	// ChargingState is the state its events told last.
	ChargingState ChargingState `json:"chargingState,omitempty"`
}

// maxData bounds the samples kept for the stop's transaction data: a long
// session keeps its first and last samples and an even thinning of those
// between, so that the message stays small.
const maxData = 64

// keep adds a sample for the transaction data, thinning the middle ones
// when there are too many.
func (t *Transaction) keep(s Sample) {
	t.Data = append(t.Data, s)
	if len(t.Data) <= maxData {
		return
	}
	thinned := t.Data[:1]
	for i := 1; i < len(t.Data)-1; i += 2 {
		thinned = append(thinned, t.Data[i])
	}
	t.Data = append(thinned, t.Data[len(t.Data)-1])
}

// copy returns a copy that shares nothing the transaction changes later.
func (t *Transaction) copy() Transaction {
	c := *t
	c.Data = slices.Clone(t.Data)
	return c
}

// presenter is the tag a user presented to start the transaction, or ""
// when none did (offline on plug-in, fixed-tag free charging).
func (t *Transaction) presenter(fixedTag string) string {
	switch {
	case t.Holder != "":
		return t.Holder
	case t.IDTag == OfflineTag || SameTag(t.IDTag, fixedTag):
		return ""
	}
	return t.IDTag
}

// stoppableBy reports whether presenting idTag stops the transaction: the
// tag that started it does; with none (fixed-tag or offline sessions), no
// tag does.
func (t *Transaction) stoppableBy(idTag, fixedTag string) bool {
	p := t.presenter(fixedTag)
	return p != "" && SameTag(p, idTag)
}

// wh rounds a register to whole Wh, as a transaction's start and stop
// carry it.
func wh(register float64) int { return int(math.Floor(register)) }

// JournalEntry is a transaction event waiting for the central system's
// confirmation: journaled before it is first sent, removed when it is
// confirmed (or given up). The core keeps the entries; the event itself
// is in the store.
type JournalEntry struct {
	Seq  uint64      `json:"seq"`
	Kind TxEventKind `json:"kind"`
	// Tx is the local id of the transaction.
	Tx       int64 `json:"tx"`
	Attempts int   `json:"attempts,omitempty"`
	// IDTag is the event's idTag: what the answer's idTagInfo is about.
	IDTag string `json:"idTag,omitempty"`
}

// TxEventKind is what a transaction event tells.
type TxEventKind string

// Kinds of transaction event.
const (
	TxStarted TxEventKind = "Started"
	TxUpdated TxEventKind = "Updated"
	TxStopped TxEventKind = "Stopped"
	// SecurityNote is a security event the central system is told of,
	// journaled to reach it once (Tx is 0).
	SecurityNote TxEventKind = "Security"
)

// TxTrigger is what made a transaction event, named as OCPP 2.0.1's
// triggerReason.
type TxTrigger string

// Triggers the kind and fields of an event do not tell.
const (
	TriggerAuthorized          TxTrigger = "Authorized"
	TriggerRemoteStart         TxTrigger = "RemoteStart"
	TriggerCablePluggedIn      TxTrigger = "CablePluggedIn"
	TriggerEVCommunicationLost TxTrigger = "EVCommunicationLost"
	TriggerEVConnectTimeout    TxTrigger = "EVConnectTimeout"
	TriggerStopAuthorized      TxTrigger = "StopAuthorized"
	TriggerRemoteStop          TxTrigger = "RemoteStop"
	TriggerDeauthorized        TxTrigger = "Deauthorized"
)

// TxEvent is the body of a journal entry: what a protocol adapter turns
// into StartTransaction, MeterValues or StopTransaction (OCPP 1.6) or
// TransactionEvent (2.0.1), or for a SecurityNote into
// SecurityEventNotification.
type TxEvent struct {
	Connector int `json:"connector"`
	// IDTag is the tag of the start, or the tag that stopped ("": none).
	IDTag string `json:"idTag,omitempty"`
	// MeterWh is the register at the start or the stop, in whole Wh.
	MeterWh int       `json:"meterWh"`
	At      time.Time `json:"at"`
	// ReservationID is the reservation a start used.
	ReservationID *int `json:"reservationId,omitempty"`
	// RemoteStartID is the remote start's id a start answers, TokenType
	// the type of its token.
	RemoteStartID *int   `json:"remoteStartId,omitempty"`
	TokenType     string `json:"tokenType,omitempty"`
	// Reason is why a transaction stopped.
	Reason StopReason `json:"reason,omitempty"`
	// Samples are the meter values of an update, or the transaction data
	// of a stop.
	Samples []Sample `json:"samples,omitempty"`
	// SeqNo numbers a transaction's events from 0, without gaps, across
	// restarts (OCPP 2.0.1's seqNo).
	SeqNo int `json:"seqNo,omitempty"`
	// Offline: the event happened while the link was down (OCPP 2.0.1's
	// offline).
	Offline bool `json:"offline,omitempty"`
	// ChargingState is the transaction's at a start, and what an update
	// without samples tells changed (OCPP 2.0.1's ChargingStateChanged;
	// OCPP 1.6 has no message for it).
	ChargingState ChargingState `json:"chargingState,omitempty"`
	// Trigger is what made the event, when its kind and fields do not
	// tell it (OCPP 2.0.1's triggerReason); "": as they tell.
	Trigger TxTrigger `json:"trigger,omitempty"`
	// Security and TechInfo are a SecurityNote's event.
	Security SecurityEventType `json:"security,omitempty"`
	TechInfo string            `json:"techInfo,omitempty"`
}

// InstalledProfile is a charging profile with the connector it was set on
// (0: the charge point).
type InstalledProfile struct {
	Connector int                   `json:"connector"`
	Profile   smartcharging.Profile `json:"profile"`
}

// Reservation keeps a connector (0: any one) for an idTag, or any idTag of
// its parent, until Expiry.
type Reservation struct {
	ID        int       `json:"id"`
	Connector int       `json:"connector"`
	IDTag     string    `json:"idTag"`
	Parent    string    `json:"parent,omitempty"`
	Expiry    time.Time `json:"expiry"`
}

// matches reports whether an idTag and its parent may use the
// reservation.
func (r *Reservation) matches(idTag, parent string) bool {
	return SameTag(r.IDTag, idTag) || (r.Parent != "" && SameTag(r.Parent, parent))
}

// Restored is the durable state a core starts from, as the runner read
// it from the store.
type Restored struct {
	// Open are the transactions that were running when the charge point
	// stopped; they are stopped with PowerLoss.
	Open []Transaction
	// Journal is the journal, oldest first.
	Journal []JournalEntry
	// CSMSIDs are the central system's ids of transactions, by local id.
	CSMSIDs map[int64]int
	// LastTx and LastSeq are the last local transaction id and journal
	// sequence used.
	LastTx  int64
	LastSeq uint64
	// Inoperative are the connectors made inoperative (0: the charge
	// point).
	Inoperative map[int]bool
	// Reservations and Profiles as kept.
	Reservations []Reservation
	Profiles     []InstalledProfile
	// FirmwareVersion is the version installed last, "" for the model's;
	// FirmwareInstalled: its Installed is still to be told.
	FirmwareVersion   string
	FirmwareInstalled bool
	// FirmwareSigned and FirmwareRequestID are the signed update's whose
	// Installed is still to be told.
	FirmwareSigned    bool
	FirmwareRequestID int
	// SecurityLogSeq is the last sequence of the security log.
	SecurityLogSeq uint64
}
