package ocpp16

import (
	"testing"

	"github.com/evse-dev/evse/internal/ocppschema/schematest"
)

// FuzzValidateRequest checks that the validator never panics, answers with
// a known CALLERROR code, and that whatever it accepts decodes into the Go
// type and encodes back into a valid payload. Responses are checked with
// the same input.
func FuzzValidateRequest(f *testing.F) {
	seeds := []struct{ action, payload string }{
		{"BootNotification", `{"chargePointVendor":"VendorX","chargePointModel":"Model1","firmwareVersion":"1.0.2"}`},
		{"BootNotification", `{"status":"Accepted","currentTime":"2026-11-24T10:00:00.000Z","interval":300}`},
		{"Authorize", `{"idTag":"04A1B2C3D4"}`},
		{"Authorize", `{"idTagInfo":{"status":"Accepted","expiryDate":"2026-12-31T23:59:59Z"}}`},
		{"Heartbeat", `{}`},
		{"StatusNotification", `{"connectorId":1,"errorCode":"NoError","status":"Preparing","timestamp":"2026-11-24T10:00:00Z"}`},
		{"StartTransaction", `{"connectorId":1,"idTag":"04A1B2C3D4","meterStart":0,"timestamp":"2026-11-24T10:00:01Z"}`},
		{"MeterValues", `{"connectorId":1,"transactionId":42,"meterValue":[{"timestamp":"2026-11-24T10:15:00Z","sampledValue":[{"value":"1234.5","measurand":"Energy.Active.Import.Register","unit":"Wh","context":"Sample.Periodic"},{"value":"16.0","measurand":"Current.Import","phase":"L1","unit":"A"}]}]}`},
		{"StopTransaction", `{"transactionId":42,"meterStop":5100,"timestamp":"2026-11-24T11:00:00Z","reason":"EVDisconnected","transactionData":[{"timestamp":"2026-11-24T11:00:00Z","sampledValue":[{"value":"5100"}]}]}`},
		{"SetChargingProfile", `{"connectorId":1,"csChargingProfiles":{"chargingProfileId":7,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Recurring","recurrencyKind":"Daily","chargingSchedule":{"chargingRateUnit":"A","startSchedule":"2026-11-24T00:00:00Z","chargingSchedulePeriod":[{"startPeriod":0,"limit":16.0},{"startPeriod":28800,"limit":6.5,"numberPhases":3}]}}}`},
		{"GetConfiguration", `{"key":["HeartbeatInterval","MeterValueSampleInterval"]}`},
		{"DataTransfer", `{"vendorId":"com.example","messageId":"x","data":"{\"a\":1}"}`},
		{"SendLocalList", `{"listVersion":3,"updateType":"Full","localAuthorizationList":[{"idTag":"A","idTagInfo":{"status":"Blocked"}}]}`},
		{"GetInstalledCertificateIds", `{"status":"Accepted","certificateHashData":[{"hashAlgorithm":"SHA256","issuerNameHash":"ab","issuerKeyHash":"cd","serialNumber":"01"}]}`},
		{"SignedUpdateFirmware", `{"requestId":1,"firmware":{"location":"https://fw.example.com/1.bin","retrieveDateTime":"2026-11-24T10:00:00Z","signingCertificate":"-----BEGIN","signature":"c2ln"}}`},
		{"Reset", `{"type":"Soft","type":3.0}`},
		{"RemoteStopTransaction", `{"transactionId":1e2}`},
		{"NoSuchAction", `{}`},
		{"Heartbeat", `[]`},
	}
	for _, s := range seeds {
		f.Add(s.action, []byte(s.payload))
	}
	schematest.FuzzValidate(f, version)
}
