package main

// The naming tables. A site is "<owner>/<path>": owner is the message
// ("Authorize.conf") or the named object type ("IdTagInfo") nearest above
// the site, path the property names below it, "[]" marking array items. A
// site the tables do not name makes the generator fail; so does an entry no
// site uses.

// objectNames names the Go struct of every non-root object. Sites that get
// the same name must have the same structure.
var objectNames = map[string]string{
	"Authorize.conf/idTagInfo":        "IdTagInfo",
	"StartTransaction.conf/idTagInfo": "IdTagInfo",
	"StopTransaction.conf/idTagInfo":  "IdTagInfo",
	"AuthorizationData/idTagInfo":     "IdTagInfo",

	"SendLocalList.req/localAuthorizationList[]": "AuthorizationData",

	"RemoteStartTransaction.req/chargingProfile": "ChargingProfile",
	"SetChargingProfile.req/csChargingProfiles":  "ChargingProfile",

	"ChargingProfile/chargingSchedule":           "ChargingSchedule",
	"GetCompositeSchedule.conf/chargingSchedule": "ChargingSchedule",

	"ChargingSchedule/chargingSchedulePeriod[]": "ChargingSchedulePeriod",

	"GetConfiguration.conf/configurationKey[]": "KeyValue",

	"MeterValues.req/meterValue[]":          "MeterValue",
	"StopTransaction.req/transactionData[]": "MeterValue",
	"MeterValue/sampledValue[]":             "SampledValue",

	"DeleteCertificate.req/certificateHashData":             "CertificateHashData",
	"GetInstalledCertificateIds.conf/certificateHashData[]": "CertificateHashData",

	"GetLog.req/log":                    "LogParameters",
	"SignedUpdateFirmware.req/firmware": "Firmware",
}

// enumNames names the Go string type of every enumeration, after the data
// types of OCPP 1.6 (chapter 7) and of the security whitepaper (whose
// "...EnumType" names lose the suffix). Sites that get the same name must
// list the same values in the same order.
var enumNames = map[string]string{
	"IdTagInfo/status":                                "AuthorizationStatus",
	"BootNotification.conf/status":                    "RegistrationStatus",
	"CancelReservation.conf/status":                   "CancelReservationStatus",
	"ChangeAvailability.req/type":                     "AvailabilityType",
	"ChangeAvailability.conf/status":                  "AvailabilityStatus",
	"ChangeConfiguration.conf/status":                 "ConfigurationStatus",
	"ClearCache.conf/status":                          "ClearCacheStatus",
	"ClearChargingProfile.req/chargingProfilePurpose": "ChargingProfilePurposeType",
	"ClearChargingProfile.conf/status":                "ClearChargingProfileStatus",
	"DataTransfer.conf/status":                        "DataTransferStatus",
	"DiagnosticsStatusNotification.req/status":        "DiagnosticsStatus",
	"FirmwareStatusNotification.req/status":           "FirmwareStatus",
	"GetCompositeSchedule.req/chargingRateUnit":       "ChargingRateUnitType",
	"GetCompositeSchedule.conf/status":                "GetCompositeScheduleStatus",
	"ChargingSchedule/chargingRateUnit":               "ChargingRateUnitType",
	"ChargingProfile/chargingProfilePurpose":          "ChargingProfilePurposeType",
	"ChargingProfile/chargingProfileKind":             "ChargingProfileKindType",
	"ChargingProfile/recurrencyKind":                  "RecurrencyKindType",
	"SampledValue/context":                            "ReadingContext",
	"SampledValue/format":                             "ValueFormat",
	"SampledValue/measurand":                          "Measurand",
	"SampledValue/phase":                              "Phase",
	"SampledValue/location":                           "Location",
	"SampledValue/unit":                               "UnitOfMeasure",
	"RemoteStartTransaction.conf/status":              "RemoteStartStopStatus",
	"RemoteStopTransaction.conf/status":               "RemoteStartStopStatus",
	"ReserveNow.conf/status":                          "ReservationStatus",
	"Reset.req/type":                                  "ResetType",
	"Reset.conf/status":                               "ResetStatus",
	"SendLocalList.req/updateType":                    "UpdateType",
	"SendLocalList.conf/status":                       "UpdateStatus",
	"SetChargingProfile.conf/status":                  "ChargingProfileStatus",
	"StatusNotification.req/errorCode":                "ChargePointErrorCode",
	"StatusNotification.req/status":                   "ChargePointStatus",
	"StopTransaction.req/reason":                      "Reason",
	"TriggerMessage.req/requestedMessage":             "MessageTrigger",
	"TriggerMessage.conf/status":                      "TriggerMessageStatus",
	"UnlockConnector.conf/status":                     "UnlockStatus",

	// Security whitepaper.
	"CertificateSigned.conf/status":                  "CertificateSignedStatus",
	"CertificateHashData/hashAlgorithm":              "HashAlgorithm",
	"DeleteCertificate.conf/status":                  "DeleteCertificateStatus",
	"ExtendedTriggerMessage.req/requestedMessage":    "ExtendedMessageTrigger", // MessageTriggerEnumType; 1.6 already has a MessageTrigger
	"ExtendedTriggerMessage.conf/status":             "TriggerMessageStatus",   // TriggerMessageStatusEnumType: the same values as 1.6's
	"GetInstalledCertificateIds.req/certificateType": "CertificateUse",
	"GetInstalledCertificateIds.conf/status":         "GetInstalledCertificateStatus",
	"GetLog.req/logType":                             "LogType", // LogEnumType
	"GetLog.conf/status":                             "LogStatus",
	"InstallCertificate.req/certificateType":         "CertificateUse",
	"InstallCertificate.conf/status":                 "InstallCertificateStatus",
	"LogStatusNotification.req/status":               "UploadLogStatus",
	"SignCertificate.conf/status":                    "GenericStatus",
	"SignedFirmwareStatusNotification.req/status":    "SignedFirmwareStatus", // FirmwareStatusEnumType; 1.6 already has a FirmwareStatus
	"SignedUpdateFirmware.conf/status":               "UpdateFirmwareStatus",
}

// stringPointers are the optional strings ("<Go struct>.<property>") whose
// empty value must be told apart from no value: a configuration key whose
// value is "" (GetConfiguration) and DataTransfer's data.
var stringPointers = map[string]bool{
	"KeyValue.value":            true,
	"DataTransferRequest.data":  true,
	"DataTransferResponse.data": true,
}
