package config

// allKeys is the catalogue: the appendix's 60 keys in its order, then the
// extra standard keys. Descriptions are ours; the appendix is the source of
// the names, types, ranges, defaults and accessibility.
var allKeys = []Key{
	// Standard OCPP configuration keys.
	{Name: "StopTxnSampledData", Section: Standard, Access: ReadWrite, PrintedType: "String", Kind: KindMeasurands,
		Default:     "Energy.Active.Import.Register",
		Description: "Measurands sampled during a transaction and sent in StopTransaction's transactionData."},
	{Name: "StopTxnAlignedData", Section: Standard, Access: ReadWrite, PrintedType: "String", Kind: KindMeasurands,
		Default:     "Energy.Active.Import.Register",
		Description: "Clock-aligned measurands sent in StopTransaction's transactionData."},
	{Name: "MeterValuesAlignedData", Section: Standard, Access: ReadWrite, PrintedType: "String", Kind: KindMeasurands,
		Default:     "Energy.Active.Import.Register",
		Description: "Measurands sent in MeterValues at every ClockAlignedDataInterval boundary. Supported: Energy.Active.Import.Register, Power.Active.Import, Current.Import."},
	{Name: "MeterValuesSampledData", Section: Standard, Access: ReadWrite, PrintedType: "String", Kind: KindMeasurands,
		Default:     "Energy.Active.Import.Register",
		Description: "Measurands sent in MeterValues every MeterValueSampleInterval during a transaction. Supported: Energy.Active.Import.Register, Power.Active.Import, Current.Import."},
	{Name: "SupportedFeatureProfiles", Section: Standard, Access: ReadOnly, PrintedType: "String", Kind: KindProfiles,
		Default:     "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger",
		Description: "The OCPP 1.6 feature profiles this charge point implements."},
	{Name: "ChargingScheduleAllowedChargingRateUnit", Section: Standard, Access: ReadOnly, PrintedType: "String", Kind: KindRateUnits,
		Default:     "Current",
		Description: "Units a charging schedule may use: amperes only."},
	{Name: "HeartBeatInterval", SameAs: "HeartbeatInterval", Section: Standard, Access: ReadWrite, PrintedType: "Int", Kind: KindInt,
		Min: 10, Max: 3600, Default: "240", Unit: "s",
		Description: "OCPP 1.5 spelling of HeartbeatInterval: the same setting, a write to either changes both."},
	{Name: "HeartbeatInterval", Section: Standard, Access: ReadWrite, PrintedType: "Int", Kind: KindInt,
		Min: 10, Max: 3600, Default: "240", Unit: "s",
		Description: "Seconds between Heartbeat messages. Also set by the interval of an accepted BootNotification."},
	{Name: "ConnectionTimeOut", Section: Standard, Access: ReadWrite, PrintedType: "Int", Kind: KindInt,
		Min: 10, Max: 300, Default: "45", Unit: "s",
		Description: "Seconds after an authorization within which the cable must be plugged in, or the session is cancelled."},
	{Name: "NumberOfConnectors", Section: Standard, Access: ReadOnly, PrintedType: "Int", Kind: KindInt,
		Min: 0, Max: 254, Default: "1",
		Description: "Physical connectors of this charge point."},
	{Name: "GetConfigurationMaxKeys", Section: Standard, Access: ReadOnly, PrintedType: "Int", Kind: KindInt,
		Min: 0, Max: 2000, Default: "1",
		Description: "Most keys one GetConfiguration may name; a request naming more gets OccurenceConstraintViolation. An empty list (all keys) is always allowed."},
	{Name: "LocalAuthListMaxLength", Section: Standard, Access: ReadOnly, PrintedType: "UInt", Kind: KindInt,
		Min: 0, Max: 1000000, Default: "1000000",
		Description: "Most entries the Local Authorization List holds."},
	{Name: "SendLocalListMaxLength", Section: Standard, Access: ReadOnly, PrintedType: "UInt", Kind: KindInt,
		Min: 0, Max: 45000, Default: "45000",
		Description: "Most entries one SendLocalList may carry."},
	{Name: "ConnectorPhaseRotationMaxLength", Section: Standard, Access: ReadOnly, PrintedType: "UInt", Kind: KindInt,
		Min: 1, Max: 255, Default: "1",
		Description: "Most items ConnectorPhaseRotation may hold."},
	{Name: "ChargeProfileMaxStackLevel", Section: Standard, Access: ReadOnly, PrintedType: "UInt", Kind: KindInt,
		Min: 1, Max: 255, Default: "255",
		Description: "Highest stackLevel a charging profile may have."},
	{Name: "ChargingScheduleMaxPeriods", Section: Standard, Access: ReadOnly, PrintedType: "UInt", Kind: KindInt,
		Min: 1, Max: 255, Default: "255",
		Description: "Most periods one charging schedule may have."},
	{Name: "MaxChargingProfilesInstalled", Section: Standard, Access: ReadOnly, PrintedType: "UInt", Kind: KindInt,
		Min: 1, Max: 255, Default: "255",
		Description: "Most charging profiles installed at once."},
	{Name: "LocalAuthListEnabled", Section: Standard, Access: ReadOnly, PrintedType: "Enum", Kind: KindBool,
		Labels: offOn, Default: "false",
		Description: "Whether the Local Authorization List is used."},
	{Name: "AuthorizeRemoteTxRequests", Section: Standard, Access: ReadWrite, PrintedType: "Enum", Kind: KindBool,
		Labels: offOn, Default: "true",
		Description: "Whether a RemoteStartTransaction's idTag is authorized (cache, list or Authorize) before the transaction starts."},
	{Name: "AllowOfflineTxForUnknownId", Section: Standard, Access: ReadWrite, PrintedType: "Enum", Kind: KindOfflineTx,
		Labels: []string{"Off", "On", "ImmediatelyWhenPlugged"}, Default: "false",
		Description: "Whether an idTag that cannot be authorized because the central system is unreachable may charge anyway; ImmediatelyWhenPlugged starts as soon as a cable is plugged in while offline."},
	{Name: "LocalAuthorizeOffline", Section: Standard, Access: ReadWrite, PrintedType: "Enum", Kind: KindBool,
		Labels: offOn, Default: "true",
		Description: "Whether, offline, an idTag valid in the cache or the local list starts a transaction."},
	{Name: "AuthorizationCacheEnabled", Section: Standard, Access: ReadWrite, PrintedType: "Enum", Kind: KindBool,
		Labels: offOn, Default: "true",
		Description: "Whether idTagInfo received from the central system is kept in the authorization cache."},
	{Name: "LocalPreAuthorize", Section: Standard, Access: ReadWrite, PrintedType: "Enum", Kind: KindBool,
		Labels: offOn, Default: "true",
		Description: "Whether, online, an idTag valid in the cache or the local list starts a transaction without waiting for Authorize."},
	{Name: "StopTransactionOnEVSideDisconnect", Section: Standard, Access: ReadOnly, PrintedType: "Enum", Kind: KindBool,
		Labels: offOn, Default: "true",
		Description: "Whether unplugging the cable at the EV stops the transaction."},
	{Name: "UnlockConnectorOnEVSideDisconnect", Section: Standard, Access: ReadOnly, PrintedType: "Enum", Kind: KindBool,
		Labels: offOn, Default: "true",
		Description: "Whether unplugging the cable at the EV unlocks it at the charge point."},
	{Name: "ReserveConnectorZeroSupported", Section: Standard, Access: ReadOnly, PrintedType: "Enum", Kind: KindBool,
		Labels: offOn, Default: "true",
		Description: "Whether a reservation of connector 0 (any connector) is supported."},
	{Name: "ConnectorSwitch3to1PhaseSupported", Section: Standard, Access: ReadOnly, PrintedType: "Enum", Kind: KindBool,
		Labels: offOn, Default: "false",
		Description: "Whether a charging session may switch from three phases to one."},

	// Ensto keys.
	{Name: "RfidTagFreeCharging", Section: Ensto, Access: ReadWrite, PrintedType: "String", Kind: KindString,
		MaxLen: 20, Default: "",
		Description: "The idTag used for free charging in the FreeChargingMode modes with a fixed tag (3 and 4)."},
	{Name: "FreeChargingMode", Section: Ensto, Access: ReadWrite, PrintedType: "Enum", Kind: KindEnum,
		Labels: []string{
			"No OCPP",
			"With OCPP status notif without auth",
			"With OCPP status notif with auth",
			"With OCPP Full fixed Rfid with auth",
			"With OCPP Full fixed Rfid without auth",
			"With OCPP Full any Rfid",
		}, Default: "0",
		Description: "What the charge point tells the central system while FreeCharging is On. A DLM master's mode is copied to its slaves."},
	{Name: "FreeCharging", Section: Ensto, Access: ReadWrite, PrintedType: "Enum", Kind: KindEnum,
		Labels: []string{"Off", "On"}, Default: "0",
		Description: "Charging without RFID or central system authorization: it starts as soon as a vehicle is connected."},

	// Dynamic Load Management keys.
	{Name: "DlmState", Section: DLM, Scope: "Individual", Access: ReadOnly, PrintedType: "String", Kind: KindComputed,
		Description: "A short status of this charge point's DLM role, link and currents."},
	{Name: "DlmMasterIp", Section: DLM, Scope: "Individual", Access: ReadWrite, PrintedType: "String", Kind: KindIPPort,
		Default: "", Effect: Reboot,
		Description: "Address of the DLM master, IP[:port], for a slave with DlmMode 4 (Master-Fixed-IP)."},
	dlmOffset(1, 1), dlmOffset(1, 2), dlmOffset(1, 3),
	dlmOffset(2, 1), dlmOffset(2, 2), dlmOffset(2, 3),
	dlmLimit("DlmPhase1Limit", "UInt", Reboot),
	dlmLimit("DlmPhase2Limit", "Uint", Reboot),
	dlmLimit("DlmPhase3Limit", "Uint", Reboot),
	dlmLimit("DlmOperatorPhase1Limit", "Uint", Immediate),
	dlmLimit("DlmOperatorPhase2Limit", "Uint", Immediate),
	dlmLimit("DlmOperatorPhase3Limit", "Uint", Immediate),
	dlmMeter("DlmExtMeterMainDistributionLimitPhase", 1, "100"),
	dlmMeter("DlmExtMeterMainDistributionLimitPhase", 2, "100"),
	dlmMeter("DlmExtMeterMainDistributionLimitPhase", 3, "100"),
	dlmMeter("DlmExtMeterDisconnectedFallbackPhase", 1, "9999"),
	dlmMeter("DlmExtMeterDisconnectedFallbackPhase", 2, "9999"),
	dlmMeter("DlmExtMeterDisconnectedFallbackPhase", 3, "9999"),
	{Name: "DlmDisconnectedLimit", Section: DLM, Scope: "Individual", Access: ReadWrite, PrintedType: "Uint", Kind: KindInt,
		Min: 0, Max: 1000, Default: "6", Unit: "A",
		Description: "Current per phase this charge point offers while it has no link to its DLM master."},
	{Name: "DlmMinCurrentRating", Section: DLM, Scope: "Individual", Access: ReadWrite, PrintedType: "Uint", Kind: KindInt,
		Min: 0, Max: 1000, Default: "6", Unit: "A",
		Description: "Smallest current an EV is offered: it gets this much or nothing."},
	{Name: "DlmDiscoveryNetworkId", Section: DLM, Scope: "Individual", Access: ReadWrite, PrintedType: "Uint", Kind: KindInt,
		Min: 0, Max: 255, Default: "0", Effect: Reboot,
		Description: "Separates DLM groups sharing one LAN: an auto-discovering slave only joins a master with the same id."},
	{Name: "DlmMode", Section: DLM, Scope: "Individual", Access: ReadWrite, PrintedType: "Enum", Kind: KindEnum,
		Labels: []string{
			"Disabled",
			"DLM Master (With internal DLM-Slave)",
			"DLM Master (Standalone)",
			"DLM Slave (Master-Auto-Discovery)",
			"DLM Slave (Master-Fixed-IP)",
		}, Default: "0", Effect: Reboot,
		Description: "This charge point's role in a DLM group. A standalone master does not control its own charging."},
	{Name: "DlmAlgo", Section: DLM, Scope: "Master", Access: ReadWrite, PrintedType: "Enum", Kind: KindEnum,
		Labels: []string{"Fair Trade (FIFO)"}, Default: "0", Effect: Reboot,
		Description: "Allocation algorithm of the master: equal shares, and first come first served when current runs short."},
	{Name: "DlmExtMeterEnabled", Section: DLM, Scope: "Master", Access: ReadWrite, PrintedType: "Enum", Kind: KindEnum,
		Labels: []string{"Off", "On"}, Default: "0", Effect: Reboot,
		Description: "Whether an external meter's reading of other loads limits the current for EVs."},
	{Name: "DlmExtMeterLocation", Section: DLM, Scope: "Master", Access: ReadWrite, PrintedType: "Enum", Kind: KindEnum,
		Labels: []string{"Including EVSE Sub-Distribution", "Excluding EVSE Sub-Distribution"}, Default: "0", Effect: Reboot,
		Description: "Whether the external meter measures the chargers together with the other loads (Including) or the other loads only (Excluding)."},
	{Name: "DlmRecalcInterval", Section: DLM, Scope: "Master", Access: ReadWrite, PrintedType: "Enum", Kind: KindEnum,
		Labels: []string{"2 sec", "5 sec", "15 sec", "30 sec", "1 min", "10 min", "15 min"}, Default: "3",
		Description: "Shortest time between two allocations; meter readings are averaged in between. An EV getting ready is served at once."},
	dlmInputCfg(1), dlmInputCfg(2),

	// Standard OCPP 1.6 keys the appendix leaves out.
	{Name: "MeterValueSampleInterval", Section: Extra, Access: ReadWrite, PrintedType: "integer", Kind: KindInt,
		Min: 0, Max: 86400, Default: "60", Unit: "s",
		Description: "Seconds between sampled MeterValues during a transaction; 0 sends none."},
	{Name: "ClockAlignedDataInterval", Section: Extra, Access: ReadWrite, PrintedType: "integer", Kind: KindInt,
		Min: 0, Max: 86400, Default: "900", Unit: "s",
		Description: "Length of the clock-aligned metering interval, counted from midnight; 0 sends no clock-aligned data."},
	{Name: "TransactionMessageAttempts", Section: Extra, Access: ReadWrite, PrintedType: "integer", Kind: KindInt,
		Min: 0, Max: 100, Default: "3",
		Description: "How often a transaction message the central system failed to process is tried."},
	{Name: "TransactionMessageRetryInterval", Section: Extra, Access: ReadWrite, PrintedType: "integer", Kind: KindInt,
		Min: 0, Max: 86400, Default: "60", Unit: "s",
		Description: "Seconds before the first retry of a failed transaction message; each further retry waits this times the attempt number."},
	{Name: "ResetRetries", Section: Extra, Access: ReadWrite, PrintedType: "integer", Kind: KindInt,
		Min: 0, Max: 10, Default: "3",
		Description: "How often a failed reset is tried again."},
	{Name: "WebSocketPingInterval", Section: Extra, Access: ReadWrite, PrintedType: "integer", Kind: KindInt,
		Min: 0, Max: 3600, Default: "60", Unit: "s",
		Description: "Seconds between WebSocket pings; a connection whose pong does not come back is re-established. 0 sends no pings."},
	{Name: "MinimumStatusDuration", Section: Extra, Access: ReadWrite, PrintedType: "integer", Kind: KindInt,
		Min: 0, Max: 3600, Default: "0", Unit: "s",
		Description: "Seconds a connector status must last before it is reported."},
	{Name: "ConnectorPhaseRotation", Section: Extra, Access: ReadWrite, PrintedType: "CSL", Kind: KindPhaseRotation,
		Default:     "1.RST",
		Description: "How each connector's phases are wired to the grid's: items <connector>.<rotation> with rotation RST, RTS, SRT, STR, TRS, TSR, NotApplicable or Unknown (connector 0: the charge point's supply)."},
	{Name: "StopTransactionOnInvalidId", Section: Extra, Access: ReadWrite, PrintedType: "boolean", Kind: KindBool,
		Labels: offOn, Default: "true",
		Description: "Whether a transaction whose idTag the central system reports invalid in StartTransaction's answer is stopped."},
	{Name: "AuthorizationKey", Section: Extra, Access: WriteOnly, PrintedType: "String", Kind: KindHexKey,
		MaxLen: 40, Default: "",
		Description: "Password of HTTP Basic authentication (security profiles 1 and 2), hex-encoded, 16 to 20 bytes. Never read back; cannot be emptied while SecurityProfile is 1 or 2; a change reconnects with the new password."},
	{Name: "SecurityProfile", Section: Extra, Access: ReadWrite, PrintedType: "integer", Kind: KindInt,
		Min: 0, Max: 3, Default: "0",
		Description: "0: no authentication; 1: HTTP Basic authentication; 2: Basic authentication over TLS (wss://); 3: TLS with the charge point's client certificate (its own key, made on the unit; the certificate installed with evse cert). Over OCPP it can only be raised; 1 and 2 need an AuthorizationKey, 2 and 3 a wss:// URL, 3 an installed certificate. A change reconnects with the new profile, and goes back to the previous one if the new one cannot connect."},
	{Name: "CpoName", Section: Extra, Access: ReadWrite, PrintedType: "string", Kind: KindString,
		MaxLen: 64, Default: "",
		Description: "The CPO's name: the organization (O) of the charge point's certificate signing requests (security extension)."},
	{Name: "CertificateStoreMaxLength", Section: Extra, Access: ReadOnly, PrintedType: "integer", Kind: KindInt,
		Min: 1, Max: 100, Default: "20",
		Description: "The most central system root certificates the charge point keeps (security extension)."},
	{Name: "CertificateSignedMaxChainSize", Section: Extra, Access: ReadOnly, PrintedType: "integer", Kind: KindInt,
		Min: 1000, Max: 65536, Default: "10000", Unit: "bytes",
		Description: "The largest certificate chain the charge point takes for its own certificate, in bytes of PEM (security extension)."},
	{Name: "AdditionalRootCertificateCheck", Section: Extra, Access: ReadOnly, PrintedType: "boolean", Kind: KindBool,
		Labels: offOn, Default: "false",
		Description: "Whether a new central system root must be signed by the one it replaces (security extension). Not done by this charger: false."},

	// OCPP 2.0.1 variables without a 1.6 key.
	{Name: "TxStartPoint", Section: OCPP201, Access: ReadWrite, PrintedType: "MemberList", Kind: KindList,
		Labels: []string{"EVConnected", "Authorized", "PowerPathClosed"}, Default: "PowerPathClosed",
		Description: "OCPP 2.0.1 (TxCtrlr): when a transaction starts, at the first of the listed points: EVConnected (the EV plugged in), Authorized (the driver authorized), PowerPathClosed (both). Over 1.6 a transaction starts at PowerPathClosed."},
	{Name: "LocalAuthListEntries", Section: OCPP201, Access: ReadOnly, PrintedType: "integer", Kind: KindComputed,
		Min: 0, Max: 1000000,
		Description: "OCPP 2.0.1 (LocalAuthListCtrlr.Entries): how many entries the local authorization list holds now (at most LocalAuthListMaxLength)."},
	{Name: "CertSigningWaitMinimum", Section: OCPP201, Access: ReadWrite, PrintedType: "integer", Kind: KindInt,
		Min: 0, Max: 86400, Default: "60", Unit: "s",
		Description: "OCPP 2.0.1 (SecurityCtrlr): seconds to wait for CertificateSigned after an accepted SignCertificate before asking again (the wait doubles each time); 0: never ask again."},
	{Name: "CertSigningRepeatTimes", Section: OCPP201, Access: ReadWrite, PrintedType: "integer", Kind: KindInt,
		Min: 0, Max: 10, Default: "0",
		Description: "OCPP 2.0.1 (SecurityCtrlr): how many times SignCertificate is sent again when no CertificateSigned comes; 0: not again."},
	{Name: "TxStopPoint", Section: OCPP201, Access: ReadWrite, PrintedType: "MemberList", Kind: KindList,
		Labels: []string{"EVConnected", "Authorized", "PowerPathClosed"}, Default: "EVConnected,Authorized",
		Description: "OCPP 2.0.1 (TxCtrlr): when a transaction ends, at the first listed point that no longer holds: EVConnected (the EV unplugged), Authorized (the driver's authorization ended), PowerPathClosed (either). Over 1.6 a transaction ends when the authorization ends, or at unplug with StopTransactionOnEVSideDisconnect."},
	{Name: "NetworkConfigurationPriority", Section: OCPP201, Access: ReadWrite, PrintedType: "SequenceList", Kind: KindList,
		Labels: []string{"0", "1", "2", "3"}, Default: "0", Effect: Reboot,
		Description: "OCPP 2.0.1 (OCPPCommCtrlr): the configuration slots of the network connection profiles the station tries, in order, from the next boot: slot 0 is the installer's (the --csms URL and SecurityProfile), slots 1 to 3 are set with SetNetworkProfile; every slot listed must hold a profile, none with a lower security profile than the one in force. A slot that cannot connect in NetworkProfileConnectionAttempts attempts gives way to the next, then to the slot that connected last."},
	{Name: "NetworkProfileConnectionAttempts", Section: OCPP201, Access: ReadWrite, PrintedType: "integer", Kind: KindInt,
		Min: 1, Max: 100, Default: "3",
		Description: "OCPP 2.0.1 (OCPPCommCtrlr): connection attempts the station makes with one network connection profile before it tries the next of NetworkConfigurationPriority."},

	// Local settings: the appendix's "Meter configuration (Second)" and
	// what DLM's network needs.
	{Name: "DlmSiteKey", Section: Local, Access: WriteOnly, PrintedType: "String", Kind: KindString,
		MinLen: 16, MaxLen: 64, Default: "",
		Description: "Shared secret of a DLM site: the master and every slave must hold the same. It authenticates every DLM message, so that a LAN neighbour cannot pose as master or slave. DLM stays off (slaves at DlmDisconnectedLimit) while it is empty. At least 16 characters (a random one: evse config set DlmSiteKey=$(openssl rand -hex 16)). Never read back."},
	{Name: "DlmExtMeter", Section: Local, Access: ReadWrite, PrintedType: "String", Kind: KindMeterURL,
		Default: "", Effect: Reboot,
		Description: "The appendix's 'Meter configuration (Second)': how the DLM master reads the external meter (DlmExtMeterEnabled), a URL naming the Modbus connection and the meter's register map. Empty: no meter, so the fallback values apply while DlmExtMeterEnabled is On."},
	{Name: "DlmPort", Section: Local, Access: ReadWrite, PrintedType: "integer", Kind: KindInt,
		Min: 1, Max: 65535, Default: "47810", Effect: Reboot,
		Description: "TCP port a DLM master listens on and UDP port of DLM discovery; a DlmMasterIp without port means this port."},
}

var offOn = []string{"Off", "On"}

func dlmOffset(input, phase int) Key {
	name := "DlmInput" + itoa(input) + "CurrOffset Phase" + itoa(phase)
	return Key{Name: name, Aliases: []string{noSpace(name)}, Section: DLM, Scope: "Master",
		Access: ReadWrite, PrintedType: "Int", Kind: KindInt, Min: -1000, Max: 0, Default: "0", Unit: "A",
		Description: "Added to the sub-distribution limit of phase " + itoa(phase) + " while external input " + itoa(input) + " is high (0 or negative)."}
}

func dlmLimit(name, printed string, effect Effect) Key {
	phase := name[len(name)-len("1Limit") : len(name)-len("Limit")]
	desc := "EVSE sub-distribution limit of phase " + phase + ": the current DLM may share among EVs."
	if effect == Immediate {
		desc = "Operator limit of phase " + phase + ": at most DlmPhase" + phase + "Limit, applies at once, so a central system can move the current available to EVs."
	}
	return Key{Name: name, Section: DLM, Scope: "Master", Access: ReadWrite, PrintedType: printed, Kind: KindInt,
		Min: 0, Max: 1000, Default: "16", Unit: "A", Effect: effect, Description: desc}
}

func dlmMeter(prefix string, phase int, def string) Key {
	desc := "Limit of phase " + itoa(phase) + " of the main distribution, shared by EVs and the other loads the external meter sees."
	if def == "9999" {
		desc = "Reading assumed for phase " + itoa(phase) + " while the external meter is failed or silent; a value at or above the main limit stops charging."
	}
	return Key{Name: prefix + itoa(phase), Section: DLM, Scope: "Master", Access: ReadWrite, PrintedType: "Uint", Kind: KindInt,
		Min: 0, Max: 10000, Default: def, Unit: "A", Effect: Reboot, Description: desc}
}

func dlmInputCfg(input int) Key {
	name := "DlmInput" + itoa(input) + "CurrOffset Cfg"
	return Key{Name: name, Aliases: []string{noSpace(name)}, Section: DLM, Scope: "Master", Access: ReadWrite,
		PrintedType: "Enum", Kind: KindEnum, Labels: []string{"DISABLE", "ENABLE OPTO 1", "ENABLE OPTO 2"},
		Default: "0", Effect: Reboot,
		Description: "Which opto input, if any, switches the DlmInput" + itoa(input) + "CurrOffset phase offsets on."}
}

func itoa(n int) string { return string(rune('0' + n)) }

func noSpace(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			out = append(out, s[i])
		}
	}
	return string(out)
}
