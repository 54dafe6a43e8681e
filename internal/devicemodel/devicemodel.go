// Package devicemodel is OCPP 2.0.1's device model over the key catalogue
// of package config: every key a central system may see is a variable of
// a component, the standard one 2.0.1 has for it where there is one, else
// one of the vendor components EnstoCtrlr (the Ensto keys, and the 1.6
// keys 2.0.1 has no variable for) and DLMCtrlr (the load management
// keys). There is one key model underneath: a value set over 1.6 reads
// the same over 2.0.1, with the key's type, range, default and effect.
//
// It is a table and pure functions; reading and writing values is the
// settings' (config.Settings).
package devicemodel

import (
	"encoding/hex"
	"strings"

	"github.com/evse-dev/evse/internal/config"
)

// Vendor components.
const (
	Ensto = "EnstoCtrlr"
	DLM   = "DLMCtrlr"
)

// Variable is one variable of the device model and the key that holds
// its value.
type Variable struct {
	Component string
	Name      string
	// Instance is the variable's instance, "" for none.
	Instance string
	// Key is the catalogue key; "" for a variable that tells how the
	// station works (Fixed), which no key changes.
	Key string
	// Fixed is the value of a variable without a key: a boolean
	// ("true", "false"), read-only.
	Fixed string
	// View, when set, is how the variable reads the key's value (a
	// standard boolean over a key with more values); writing goes
	// through Write.
	View  func(string) string
	Write func(string) (string, bool)
}

// standard maps the keys that have a standard variable in OCPP 2.0.1.
var standard = []Variable{
	{Component: "OCPPCommCtrlr", Name: "HeartbeatInterval", Key: "HeartbeatInterval"},
	{Component: "OCPPCommCtrlr", Name: "MessageAttempts", Instance: "TransactionEvent", Key: "TransactionMessageAttempts"},
	{Component: "OCPPCommCtrlr", Name: "MessageAttemptInterval", Instance: "TransactionEvent", Key: "TransactionMessageRetryInterval"},
	{Component: "OCPPCommCtrlr", Name: "ResetRetries", Key: "ResetRetries"},
	{Component: "OCPPCommCtrlr", Name: "WebSocketPingInterval", Key: "WebSocketPingInterval"},
	{Component: "OCPPCommCtrlr", Name: "UnlockOnEVSideDisconnect", Key: "UnlockConnectorOnEVSideDisconnect"},
	{Component: "OCPPCommCtrlr", Name: "NetworkConfigurationPriority", Key: "NetworkConfigurationPriority"},
	{Component: "OCPPCommCtrlr", Name: "NetworkProfileConnectionAttempts", Key: "NetworkProfileConnectionAttempts"},
	{Component: "AuthCtrlr", Name: "AuthorizeRemoteStart", Key: "AuthorizeRemoteTxRequests"},
	{Component: "AuthCtrlr", Name: "LocalAuthorizeOffline", Key: "LocalAuthorizeOffline"},
	{Component: "AuthCtrlr", Name: "LocalPreAuthorize", Key: "LocalPreAuthorize"},
	{Component: "AuthCtrlr", Name: "OfflineTxForUnknownIdEnabled", Key: "AllowOfflineTxForUnknownId",
		View: offlineTxView, Write: offlineTxWrite},
	// Its Ensto mode ImmediatelyWhenPlugged, which the boolean cannot say.
	{Component: Ensto, Name: "AllowOfflineTxForUnknownId", Key: "AllowOfflineTxForUnknownId"},
	{Component: "AuthCacheCtrlr", Name: "Enabled", Key: "AuthorizationCacheEnabled"},
	{Component: "AuthCacheCtrlr", Name: "Available", Fixed: "true"},
	{Component: "LocalAuthListCtrlr", Name: "Enabled", Key: "LocalAuthListEnabled"},
	// The core consults the local list whatever the protocol.
	{Component: "LocalAuthListCtrlr", Name: "Available", Fixed: "true"},
	{Component: "LocalAuthListCtrlr", Name: "ItemsPerMessage", Key: "SendLocalListMaxLength"},
	{Component: "LocalAuthListCtrlr", Name: "Entries", Key: "LocalAuthListEntries"},
	{Component: "TxCtrlr", Name: "EVConnectionTimeOut", Key: "ConnectionTimeOut"},
	{Component: "TxCtrlr", Name: "StopTxOnEVSideDisconnect", Key: "StopTransactionOnEVSideDisconnect"},
	{Component: "TxCtrlr", Name: "StopTxOnInvalidId", Key: "StopTransactionOnInvalidId"},
	{Component: "TxCtrlr", Name: "TxStartPoint", Key: "TxStartPoint"},
	{Component: "TxCtrlr", Name: "TxStopPoint", Key: "TxStopPoint"},
	{Component: "SampledDataCtrlr", Name: "Available", Fixed: "true"},
	{Component: "SampledDataCtrlr", Name: "Enabled", Fixed: "true"},
	{Component: "SampledDataCtrlr", Name: "TxUpdatedInterval", Key: "MeterValueSampleInterval"},
	{Component: "SampledDataCtrlr", Name: "TxUpdatedMeasurands", Key: "MeterValuesSampledData"},
	{Component: "SampledDataCtrlr", Name: "TxEndedMeasurands", Key: "StopTxnSampledData"},
	{Component: "AlignedDataCtrlr", Name: "Available", Fixed: "true"},
	{Component: "AlignedDataCtrlr", Name: "Enabled", Fixed: "true"},
	{Component: "AlignedDataCtrlr", Name: "Interval", Key: "ClockAlignedDataInterval"},
	{Component: "AlignedDataCtrlr", Name: "Measurands", Key: "MeterValuesAlignedData"},
	{Component: "AlignedDataCtrlr", Name: "TxEndedMeasurands", Key: "StopTxnAlignedData"},
	{Component: "ReservationCtrlr", Name: "Available", Fixed: "true"},
	{Component: "ReservationCtrlr", Name: "Enabled", Fixed: "true"},
	{Component: "ReservationCtrlr", Name: "NonEvseSpecific", Key: "ReserveConnectorZeroSupported"},
	{Component: "SmartChargingCtrlr", Name: "Available", Fixed: "true"},
	{Component: "SmartChargingCtrlr", Name: "Enabled", Fixed: "true"},
	{Component: "SmartChargingCtrlr", Name: "ProfileStackLevel", Key: "ChargeProfileMaxStackLevel"},
	{Component: "SmartChargingCtrlr", Name: "PeriodsPerSchedule", Key: "ChargingScheduleMaxPeriods"},
	{Component: "SmartChargingCtrlr", Name: "Phases3to1", Key: "ConnectorSwitch3to1PhaseSupported"},
	{Component: "SmartChargingCtrlr", Name: "RateUnit", Key: "ChargingScheduleAllowedChargingRateUnit", View: rateUnitView},
	{Component: "SecurityCtrlr", Name: "SecurityProfile", Key: "SecurityProfile"},
	{Component: "SecurityCtrlr", Name: "OrganizationName", Key: "CpoName"},
	{Component: "SecurityCtrlr", Name: "MaxCertificateChainSize", Key: "CertificateSignedMaxChainSize"},
	{Component: "SecurityCtrlr", Name: "BasicAuthPassword", Key: "AuthorizationKey",
		View: func(string) string { return "" }, Write: passwordWrite},
	{Component: "SecurityCtrlr", Name: "AdditionalRootCertificateCheck", Key: "AdditionalRootCertificateCheck"},
	{Component: "SecurityCtrlr", Name: "CertSigningWaitMinimum", Key: "CertSigningWaitMinimum"},
	{Component: "SecurityCtrlr", Name: "CertSigningRepeatTimes", Key: "CertSigningRepeatTimes"},
	{Component: "DeviceDataCtrlr", Name: "ItemsPerMessage", Instance: "GetVariables", Key: "GetConfigurationMaxKeys"},
	{Component: "DeviceDataCtrlr", Name: "ItemsPerMessage", Instance: "SetVariables", Key: "GetConfigurationMaxKeys"},
}

// offlineTxView reads AllowOfflineTxForUnknownId (false, true,
// ImmediatelyWhenPlugged) as 2.0.1's boolean: enabled unless false.
func offlineTxView(v string) string {
	if v == "false" {
		return "false"
	}
	return "true"
}

// offlineTxWrite takes a 2.0.1 boolean for AllowOfflineTxForUnknownId;
// the Ensto mode ImmediatelyWhenPlugged is set through EnstoCtrlr.
func offlineTxWrite(v string) (string, bool) {
	switch strings.ToLower(v) {
	case "true":
		return "true", true
	case "false":
		return "false", true
	}
	return "", false
}

// passwordWrite takes 2.0.1's BasicAuthPassword, the password itself,
// into AuthorizationKey, which keeps it hex-encoded (1.6's form): of the
// 16 to 40 characters 2.0.1 allows, the key holds 16 to 20.
func passwordWrite(v string) (string, bool) {
	if len(v) < 16 || len(v) > 20 {
		return "", false
	}
	return hex.EncodeToString([]byte(v)), true
}

// rateUnitView reads 1.6's rate units (Current, Power) as 2.0.1's (A, W).
func rateUnitView(v string) string {
	r := strings.NewReplacer("Current", "A", "Power", "W")
	return r.Replace(v)
}

// Model is the device model of one catalogue.
type Model struct {
	vars []Variable
	// byName is by component, variable and instance.
	byName map[[3]string]int
}

// New returns the device model of a catalogue: the standard variables of
// its keys, and the others in the vendor components. Keys only an
// installer sets (config.Local) and aliases are left out.
func New(cat *config.Catalogue) *Model {
	m := &Model{byName: map[[3]string]int{}}
	mapped := map[string]bool{}
	for _, v := range standard {
		if _, ok := cat.Lookup(v.Key); !ok && v.Key != "" {
			continue
		}
		m.add(v)
		mapped[v.Key] = true
	}
	for _, k := range cat.Keys() {
		if mapped[k.Name] || k.Section == config.Local || k.SameAs != "" {
			continue
		}
		v := Variable{Component: Ensto, Name: k.Name, Key: k.Name}
		if k.Section == config.DLM {
			v.Component = DLM
		}
		// "DlmInput1CurrOffset Phase1": the variable and its instance.
		if name, instance, ok := strings.Cut(k.Name, " "); ok {
			v.Name, v.Instance = name, instance
		}
		m.add(v)
	}
	return m
}

func (m *Model) add(v Variable) {
	m.byName[[3]string{v.Component, v.Name, v.Instance}] = len(m.vars)
	m.vars = append(m.vars, v)
}

// Variables returns every variable, the standard ones first.
func (m *Model) Variables() []Variable { return append([]Variable(nil), m.vars...) }

// Find returns the variable of a component (without its instance or
// EVSE: the station-wide components this model has) by name and instance.
// known reports whether the component exists at all, for
// UnknownComponent against UnknownVariable.
func (m *Model) Find(component, name, instance string) (v Variable, ok, known bool) {
	if i, ok := m.byName[[3]string{component, name, instance}]; ok {
		return m.vars[i], true, true
	}
	for _, v := range m.vars {
		if v.Component == component {
			return Variable{}, false, true
		}
	}
	return Variable{}, false, false
}

// Read is the variable's value as 2.0.1 reads it, from the key's value.
func (v Variable) Read(keyValue string) string {
	if v.Key == "" {
		return v.Fixed
	}
	if v.View != nil {
		return v.View(keyValue)
	}
	return keyValue
}

// ToKey is the key's value a 2.0.1 write of value sets; false when the
// variable's view cannot take it.
func (v Variable) ToKey(value string) (string, bool) {
	if v.Write != nil {
		return v.Write(value)
	}
	if v.View != nil {
		return "", false // a view without a way back
	}
	return value, true
}

// Markdown is the device model as a Markdown table: each variable, its
// key, and how it is reached (docs/ocpp201.md holds it).
func (m *Model) Markdown(cat *config.Catalogue) string {
	var b strings.Builder
	b.WriteString("| Component | Variable | Instance | Key (or fixed value) | Mutability |\n|---|---|---|---|---|\n")
	for _, v := range m.vars {
		k, _ := cat.Lookup(v.Key)
		mut := "ReadWrite"
		switch k.Access {
		case config.ReadOnly:
			mut = "ReadOnly"
		case config.WriteOnly:
			mut = "WriteOnly"
		}
		if v.View != nil && v.Write == nil || v.Key == "" {
			mut = "ReadOnly"
		}
		key := "`" + v.Key + "`"
		switch {
		case v.Key == "":
			key = "none: `" + v.Fixed + "`"
		case v.View != nil:
			key += " (a view)"
		}
		b.WriteString("| " + v.Component + " | " + v.Name + " | " + v.Instance + " | " + key + " | " + mut + " |\n")
	}
	return b.String()
}
