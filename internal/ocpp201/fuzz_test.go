package ocpp201

import (
	"testing"

	"github.com/evse-dev/evse/internal/ocppschema/schematest"
)

// FuzzValidateRequest checks that the validator never panics, answers with
// a CALLERROR code of OCPP-J 2.0.1, and that whatever it accepts decodes
// into the Go type and encodes back into a valid payload. Responses are
// checked with the same input.
func FuzzValidateRequest(f *testing.F) {
	seeds := []struct{ action, payload string }{
		{"BootNotification", `{"reason":"PowerUp","chargingStation":{"model":"M1","vendorName":"VendorX","firmwareVersion":"1.0.2","modem":{"iccid":"89"}}}`},
		{"BootNotification", `{"currentTime":"2026-11-24T10:00:00.000Z","interval":300,"status":"Accepted","statusInfo":{"reasonCode":"ok"}}`},
		{"Authorize", `{"idToken":{"idToken":"04A1B2C3D4","type":"ISO14443","additionalInfo":[{"additionalIdToken":"x","type":"y"}]}}`},
		{"Authorize", `{"idTokenInfo":{"status":"Accepted","cacheExpiryDateTime":"2026-12-31T23:59:59Z"}}`},
		{"Heartbeat", `{}`},
		{"Heartbeat", `{"customData":{"vendorId":"com.example","x":[1,{"y":null}],"z":"\u00e9"}}`},
		{"StatusNotification", `{"timestamp":"2026-11-24T10:00:00Z","connectorStatus":"Occupied","evseId":1,"connectorId":1}`},
		{"TransactionEvent", `{"eventType":"Started","timestamp":"2026-11-24T10:00:01Z","triggerReason":"Authorized","seqNo":0,"transactionInfo":{"transactionId":"t1","chargingState":"Charging"},"evse":{"id":1,"connectorId":1},"meterValue":[{"timestamp":"2026-11-24T10:00:01Z","sampledValue":[{"value":12.5,"measurand":"Energy.Active.Import.Register","unitOfMeasure":{"unit":"Wh","multiplier":3}}]}]}`},
		{"NotifyEVChargingNeeds", `{"evseId":1,"chargingNeeds":{"requestedEnergyTransfer":"DC","dcChargingParameters":{"evMaxCurrent":100,"evMaxVoltage":400,"stateOfCharge":101}}}`},
		{"SetChargingProfile", `{"evseId":0,"chargingProfile":{"id":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute","chargingSchedule":[{"id":1,"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16.0}]}]}}`},
		{"GetVariables", `{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}`},
		{"DataTransfer", `{"vendorId":"com.example","messageId":"x","data":{"a":[1,2,"3"]}}`},
		{"DataTransfer", `{"status":"Accepted","data":null}`},
		{"Reset", `{"type":"Immediate","type":"OnIdle"}`},
		{"GetReport", `{"requestId":1,"componentCriteria":["Active","Available","Enabled","Problem","Active"]}`},
		{"NoSuchAction", `{}`},
		{"Heartbeat", `[]`},
	}
	for _, s := range seeds {
		f.Add(s.action, []byte(s.payload))
	}
	schematest.FuzzValidate(f, version)
}
