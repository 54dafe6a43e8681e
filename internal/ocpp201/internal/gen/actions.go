package main

// actionInfo places every action in the functional block (OCPP 2.0.1 Part
// 2) whose use cases define it, and says who sends its request. The
// initiator strings are the names of the Go constants without their
// "Initiator" prefix. PublishFirmware and UnpublishFirmware go to a local
// controller, which answers as a charging station; it sends
// PublishFirmwareStatusNotification.
var actionInfo = map[string]struct {
	block     byte
	initiator string
}{
	// A Security.
	"CertificateSigned":         {'A', "CSMS"},
	"SecurityEventNotification": {'A', "ChargingStation"},
	"SignCertificate":           {'A', "ChargingStation"},

	// B Provisioning.
	"BootNotification":  {'B', "ChargingStation"},
	"GetBaseReport":     {'B', "CSMS"},
	"GetReport":         {'B', "CSMS"},
	"GetVariables":      {'B', "CSMS"},
	"NotifyReport":      {'B', "ChargingStation"},
	"Reset":             {'B', "CSMS"},
	"SetNetworkProfile": {'B', "CSMS"},
	"SetVariables":      {'B', "CSMS"},

	// C Authorization.
	"Authorize":  {'C', "ChargingStation"},
	"ClearCache": {'C', "CSMS"},

	// D Local Authorization List Management.
	"GetLocalListVersion": {'D', "CSMS"},
	"SendLocalList":       {'D', "CSMS"},

	// E Transactions.
	"GetTransactionStatus": {'E', "CSMS"},
	"TransactionEvent":     {'E', "ChargingStation"},

	// F Remote Control.
	"RequestStartTransaction": {'F', "CSMS"},
	"RequestStopTransaction":  {'F', "CSMS"},
	"TriggerMessage":          {'F', "CSMS"},
	"UnlockConnector":         {'F', "CSMS"},

	// G Availability.
	"ChangeAvailability": {'G', "CSMS"},
	"Heartbeat":          {'G', "ChargingStation"},
	"StatusNotification": {'G', "ChargingStation"},

	// H Reservation.
	"CancelReservation":       {'H', "CSMS"},
	"ReservationStatusUpdate": {'H', "ChargingStation"},
	"ReserveNow":              {'H', "CSMS"},

	// I Tariff and Cost.
	"CostUpdated": {'I', "CSMS"},

	// J Meter Values.
	"MeterValues": {'J', "ChargingStation"},

	// K Smart Charging.
	"ClearChargingProfile":     {'K', "CSMS"},
	"ClearedChargingLimit":     {'K', "ChargingStation"},
	"GetChargingProfiles":      {'K', "CSMS"},
	"GetCompositeSchedule":     {'K', "CSMS"},
	"NotifyChargingLimit":      {'K', "ChargingStation"},
	"NotifyEVChargingNeeds":    {'K', "ChargingStation"},
	"NotifyEVChargingSchedule": {'K', "ChargingStation"},
	"ReportChargingProfiles":   {'K', "ChargingStation"},
	"SetChargingProfile":       {'K', "CSMS"},

	// L Firmware Management.
	"FirmwareStatusNotification":        {'L', "ChargingStation"},
	"PublishFirmware":                   {'L', "CSMS"},
	"PublishFirmwareStatusNotification": {'L', "ChargingStation"},
	"UnpublishFirmware":                 {'L', "CSMS"},
	"UpdateFirmware":                    {'L', "CSMS"},

	// M ISO 15118 Certificate Management.
	"DeleteCertificate":          {'M', "CSMS"},
	"Get15118EVCertificate":      {'M', "ChargingStation"},
	"GetCertificateStatus":       {'M', "ChargingStation"},
	"GetInstalledCertificateIds": {'M', "CSMS"},
	"InstallCertificate":         {'M', "CSMS"},

	// N Diagnostics.
	"ClearVariableMonitoring":   {'N', "CSMS"},
	"CustomerInformation":       {'N', "CSMS"},
	"GetLog":                    {'N', "CSMS"},
	"GetMonitoringReport":       {'N', "CSMS"},
	"LogStatusNotification":     {'N', "ChargingStation"},
	"NotifyCustomerInformation": {'N', "ChargingStation"},
	"NotifyEvent":               {'N', "ChargingStation"},
	"NotifyMonitoringReport":    {'N', "ChargingStation"},
	"SetMonitoringBase":         {'N', "CSMS"},
	"SetMonitoringLevel":        {'N', "CSMS"},
	"SetVariableMonitoring":     {'N', "CSMS"},

	// O Display Message.
	"ClearDisplayMessage":   {'O', "CSMS"},
	"GetDisplayMessages":    {'O', "CSMS"},
	"NotifyDisplayMessages": {'O', "ChargingStation"},
	"SetDisplayMessage":     {'O', "CSMS"},

	// P Data Transfer.
	"DataTransfer": {'P', "Both"},
}

// blockNames spell the functional blocks out for doc comments.
var blockNames = map[byte]string{
	'A': "Security",
	'B': "Provisioning",
	'C': "Authorization",
	'D': "Local Authorization List Management",
	'E': "Transactions",
	'F': "Remote Control",
	'G': "Availability",
	'H': "Reservation",
	'I': "Tariff and Cost",
	'J': "Meter Values",
	'K': "Smart Charging",
	'L': "Firmware Management",
	'M': "ISO 15118 Certificate Management",
	'N': "Diagnostics",
	'O': "Display Message",
	'P': "Data Transfer",
}

// blockConsts are the names of the Go constants of the blocks without
// their "Block" prefix.
var blockConsts = map[byte]string{
	'A': "Security",
	'B': "Provisioning",
	'C': "Authorization",
	'D': "LocalAuthorizationList",
	'E': "Transactions",
	'F': "RemoteControl",
	'G': "Availability",
	'H': "Reservation",
	'I': "TariffAndCost",
	'J': "MeterValues",
	'K': "SmartCharging",
	'L': "FirmwareManagement",
	'M': "ISO15118CertificateManagement",
	'N': "Diagnostics",
	'O': "DisplayMessage",
	'P': "DataTransfer",
}

// initiatorPhrases describe who sends an action's request, for doc comments.
var initiatorPhrases = map[string]string{
	"ChargingStation": "sent by the charging station",
	"CSMS":            "sent by the CSMS",
	"Both":            "sent by either side",
}
