package ocpp16

import (
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

// Profile is an OCPP 1.6 feature profile, spelled as the
// SupportedFeatureProfiles configuration key spells it. ProfileSecurity,
// not a feature profile of the standard, holds the messages of the
// Security Whitepaper.
type Profile string

// The feature profiles.
const (
	ProfileCore                    Profile = "Core"
	ProfileFirmwareManagement      Profile = "FirmwareManagement"
	ProfileLocalAuthListManagement Profile = "LocalAuthListManagement"
	ProfileReservation             Profile = "Reservation"
	ProfileSmartCharging           Profile = "SmartCharging"
	ProfileRemoteTrigger           Profile = "RemoteTrigger"
	ProfileSecurity                Profile = "Security"
)

// Initiator says which side sends an action's request. It is a set:
// InitiatorBoth holds both sides.
type Initiator uint8

// The initiators.
const (
	InitiatorChargePoint   Initiator = 1 << iota // the charge point sends the request
	InitiatorCentralSystem                       // the central system sends the request
	InitiatorBoth          = InitiatorChargePoint | InitiatorCentralSystem
)

func (i Initiator) String() string {
	var parts []string
	if i&InitiatorChargePoint != 0 {
		parts = append(parts, "ChargePoint")
	}
	if i&InitiatorCentralSystem != 0 {
		parts = append(parts, "CentralSystem")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// Action describes an OCPP action.
type Action struct {
	Name      string    // e.g. "BootNotification"
	Profile   Profile   // the feature profile it belongs to
	Initiator Initiator // who sends its request
	Security  bool      // it comes from the OCPP 1.6 Security Whitepaper

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
