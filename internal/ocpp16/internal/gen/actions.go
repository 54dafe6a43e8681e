package main

import "github.com/evse-dev/evse/internal/ocppgen"

// actionInfo places every action in its feature profile and says who sends
// its request, after OCPP 1.6 edition 2, section 3.1 (Feature Profiles) and
// chapters 4 and 5, and the OCPP 1.6 Security Whitepaper (edition 2). The
// profile and initiator strings are the names of the Go constants without
// their "Profile" or "Initiator" prefix.
var actionInfo = map[string]struct{ profile, initiator string }{
	// Core.
	"Authorize":              {"Core", "ChargePoint"},
	"BootNotification":       {"Core", "ChargePoint"},
	"ChangeAvailability":     {"Core", "CentralSystem"},
	"ChangeConfiguration":    {"Core", "CentralSystem"},
	"ClearCache":             {"Core", "CentralSystem"},
	"DataTransfer":           {"Core", "Both"},
	"GetConfiguration":       {"Core", "CentralSystem"},
	"Heartbeat":              {"Core", "ChargePoint"},
	"MeterValues":            {"Core", "ChargePoint"},
	"RemoteStartTransaction": {"Core", "CentralSystem"},
	"RemoteStopTransaction":  {"Core", "CentralSystem"},
	"Reset":                  {"Core", "CentralSystem"},
	"StartTransaction":       {"Core", "ChargePoint"},
	"StatusNotification":     {"Core", "ChargePoint"},
	"StopTransaction":        {"Core", "ChargePoint"},
	"UnlockConnector":        {"Core", "CentralSystem"},

	// Firmware Management.
	"DiagnosticsStatusNotification": {"FirmwareManagement", "ChargePoint"},
	"FirmwareStatusNotification":    {"FirmwareManagement", "ChargePoint"},
	"GetDiagnostics":                {"FirmwareManagement", "CentralSystem"},
	"UpdateFirmware":                {"FirmwareManagement", "CentralSystem"},

	// Local Auth List Management.
	"GetLocalListVersion": {"LocalAuthListManagement", "CentralSystem"},
	"SendLocalList":       {"LocalAuthListManagement", "CentralSystem"},

	// Reservation.
	"CancelReservation": {"Reservation", "CentralSystem"},
	"ReserveNow":        {"Reservation", "CentralSystem"},

	// Smart Charging.
	"ClearChargingProfile": {"SmartCharging", "CentralSystem"},
	"GetCompositeSchedule": {"SmartCharging", "CentralSystem"},
	"SetChargingProfile":   {"SmartCharging", "CentralSystem"},

	// Remote Trigger.
	"TriggerMessage": {"RemoteTrigger", "CentralSystem"},

	// Security Whitepaper.
	"CertificateSigned":                {"Security", "CentralSystem"},
	"DeleteCertificate":                {"Security", "CentralSystem"},
	"ExtendedTriggerMessage":           {"Security", "CentralSystem"},
	"GetInstalledCertificateIds":       {"Security", "CentralSystem"},
	"GetLog":                           {"Security", "CentralSystem"},
	"InstallCertificate":               {"Security", "CentralSystem"},
	"LogStatusNotification":            {"Security", "ChargePoint"},
	"SecurityEventNotification":        {"Security", "ChargePoint"},
	"SignCertificate":                  {"Security", "ChargePoint"},
	"SignedFirmwareStatusNotification": {"Security", "ChargePoint"},
	"SignedUpdateFirmware":             {"Security", "CentralSystem"},
}

// config16 is the generator's configuration for package ocpp16.
func config16() *ocppgen.Config {
	actions := map[string]ocppgen.ActionInfo{}
	for name, info := range actionInfo {
		a := ocppgen.ActionInfo{
			Phrase: profileNames[info.profile] + ", " + initiatorPhrases[info.initiator],
			Fields: []string{"Profile: Profile" + info.profile, "Initiator: Initiator" + info.initiator},
		}
		if info.profile == "Security" {
			a.Fields = append(a.Fields, "Security: true")
		}
		actions[name] = a
	}
	return &ocppgen.Config{
		Package: "ocpp16",
		Version: "1.6",
		Reserved: []string{"DateTime", "ParseDateTime", "Action", "Actions", "Lookup", "Profile", "Initiator",
			"Kind", "Request", "Response", "Validate", "ValidateRequest", "ValidateResponse",
			"Decode", "DecodeRequest", "DecodeResponse"},
		Actions:        actions,
		ObjectNames:    objectNames,
		EnumNames:      enumNames,
		StringPointers: stringPointers,
	}
}

// profileNames spell the profiles out for doc comments.
var profileNames = map[string]string{
	"Core":                    "Core",
	"FirmwareManagement":      "Firmware Management",
	"LocalAuthListManagement": "Local Auth List Management",
	"Reservation":             "Reservation",
	"SmartCharging":           "Smart Charging",
	"RemoteTrigger":           "Remote Trigger",
	"Security":                "Security Whitepaper",
}

// initiatorPhrases describe who sends an action's request, for doc comments.
var initiatorPhrases = map[string]string{
	"ChargePoint":   "sent by the charge point",
	"CentralSystem": "sent by the central system",
	"Both":          "sent by either side",
}
