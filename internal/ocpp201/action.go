package ocpp201

import (
	"fmt"
	"sort"
	"strings"

	"github.com/evse-dev/evse/internal/ocppschema"
)

// Kind is the direction of a message (see ocppschema.Kind).
type Kind = ocppschema.Kind

// The directions.
const (
	Request  = ocppschema.Request  // the payload of a CALL
	Response = ocppschema.Response // the payload of a CALLRESULT
)

// Block is a functional block of OCPP 2.0.1 (Part 2), by its letter; an
// action belongs to the block whose use cases define it.
type Block byte

// The functional blocks.
const (
	BlockSecurity                      Block = 'A'
	BlockProvisioning                  Block = 'B'
	BlockAuthorization                 Block = 'C'
	BlockLocalAuthorizationList        Block = 'D'
	BlockTransactions                  Block = 'E'
	BlockRemoteControl                 Block = 'F'
	BlockAvailability                  Block = 'G'
	BlockReservation                   Block = 'H'
	BlockTariffAndCost                 Block = 'I'
	BlockMeterValues                   Block = 'J'
	BlockSmartCharging                 Block = 'K'
	BlockFirmwareManagement            Block = 'L'
	BlockISO15118CertificateManagement Block = 'M'
	BlockDiagnostics                   Block = 'N'
	BlockDisplayMessage                Block = 'O'
	BlockDataTransfer                  Block = 'P'
)

var blockNames = [...]string{
	"Security", "Provisioning", "Authorization", "LocalAuthorizationListManagement",
	"Transactions", "RemoteControl", "Availability", "Reservation", "TariffAndCost",
	"MeterValues", "SmartCharging", "FirmwareManagement", "ISO15118CertificateManagement",
	"Diagnostics", "DisplayMessage", "DataTransfer",
}

// String returns the block's letter and name, e.g. "B Provisioning".
func (b Block) String() string {
	if b < 'A' || b > 'P' {
		return fmt.Sprintf("Block(%d)", byte(b))
	}
	return string(rune(b)) + " " + blockNames[b-'A']
}

// Initiator says which side sends an action's request. It is a set:
// InitiatorBoth holds both sides.
type Initiator uint8

// The initiators. A local controller counts as a charging station: it
// answers PublishFirmware and sends PublishFirmwareStatusNotification.
const (
	InitiatorChargingStation Initiator = 1 << iota // the charging station sends the request
	InitiatorCSMS                                  // the CSMS sends the request
	InitiatorBoth            = InitiatorChargingStation | InitiatorCSMS
)

func (i Initiator) String() string {
	var parts []string
	if i&InitiatorChargingStation != 0 {
		parts = append(parts, "ChargingStation")
	}
	if i&InitiatorCSMS != 0 {
		parts = append(parts, "CSMS")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// Action describes an OCPP 2.0.1 action.
type Action struct {
	Name      string    // e.g. "BootNotification"
	Block     Block     // the functional block it belongs to
	Initiator Initiator // who sends its request

	// NewRequest and NewResponse return a new, zero request or response of
	// the action, as a pointer (e.g. *BootNotificationRequest).
	NewRequest, NewResponse func() any
}

// SentBy reports whether side i may send the action's request.
func (a Action) SentBy(i Initiator) bool { return a.Initiator&i != 0 }

// actionEntry is a row of the generated action table.
type actionEntry struct {
	Action
	nodes [2]*ocppschema.Node // by Kind
}

var actionsByName = func() map[string]*actionEntry {
	m := make(map[string]*actionEntry, len(actionTable))
	for i := range actionTable {
		m[actionTable[i].Name] = &actionTable[i]
	}
	return m
}()

// Lookup returns the action called name (case-sensitive, as on the wire).
func Lookup(name string) (Action, bool) {
	e, ok := actionsByName[name]
	if !ok {
		return Action{}, false
	}
	return e.Action, true
}

// Actions returns every action, sorted by name. The slice is the caller's.
func Actions() []Action {
	out := make([]Action, len(actionTable))
	for i := range actionTable {
		out[i] = actionTable[i].Action
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
