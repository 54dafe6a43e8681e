package ocpp16

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
	"github.com/evse-dev/evse/internal/ocppschema"
	"github.com/evse-dev/evse/internal/ocppschema/schematest"
)

// These cases need no schema file: they pin the codes and descriptions.
func TestValidateErrors(t *testing.T) {
	schedule := func(limit string) string {
		return `{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,` +
			`"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Absolute","chargingSchedule":` +
			`{"chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":1.5},{"startPeriod":60,"limit":` + limit + `}]}}}`
	}
	tests := []struct {
		action  string
		kind    Kind
		payload string
		code    rpc.ErrorCode // "" for valid
		desc    string
	}{
		{"Authorize", Request, `{"idTag":"ABC"}`, "", ""},
		{"Nope", Request, `{}`, rpc.NotImplemented, `unknown action "Nope"`},
		{"authorize", Request, `{"idTag":"ABC"}`, rpc.NotImplemented, `unknown action "authorize"`},

		// FormationViolation.
		{"Heartbeat", Request, ``, rpc.FormationViolation, "payload is not JSON: EOF"},
		{"Heartbeat", Request, `{`, rpc.FormationViolation, "payload is not JSON: unexpected EOF"},
		{"Heartbeat", Request, `{} {}`, rpc.FormationViolation, "payload: data after the JSON value"},
		{"Heartbeat", Request, ` {} ` + "\n", "", ""},
		{"Heartbeat", Request, `[]`, rpc.FormationViolation, "payload is an array, not a JSON object"},
		{"Heartbeat", Request, `null`, rpc.FormationViolation, "payload is null, not a JSON object"},
		{"Heartbeat", Request, `"x"`, rpc.FormationViolation, "payload is a string, not a JSON object"},
		{"Heartbeat", Request, `{"x":1}`, rpc.FormationViolation, "x: property not allowed"},
		{"Authorize", Request, `{"idTag":"A","zz":1,"IdTag":2}`, rpc.FormationViolation, "zz: property not allowed"},
		{"Authorize", Request, `{"idTag":"A","idTag":"B"}`, rpc.FormationViolation, "idTag: property repeated"},
		{"Authorize", Response, `{"idTagInfo":{"status":"Accepted","x":null}}`, rpc.FormationViolation, "idTagInfo.x: property not allowed"},
		{"LogStatusNotification", Response, `{"a":1}`, rpc.FormationViolation, "a: property not allowed"},

		// OccurenceConstraintViolation.
		{"Authorize", Request, `{}`, rpc.OccurenceConstraintViolation, "idTag: required property missing"},
		{"BootNotification", Response, `{"interval":60}`, rpc.OccurenceConstraintViolation, "currentTime: required property missing"},
		{"Authorize", Response, `{"idTagInfo":{}}`, rpc.OccurenceConstraintViolation, "idTagInfo.status: required property missing"},
		{"GetInstalledCertificateIds", Response, `{"status":"Accepted","certificateHashData":[]}`,
			rpc.OccurenceConstraintViolation, "certificateHashData: 0 items, at least 1 required"},
		{"MeterValues", Request, `{"connectorId":1,"meterValue":[]}`, "", ""},
		{"MeterValues", Request, `{"connectorId":1,"meterValue":[{"timestamp":"2026-11-24T10:00:00Z"}]}`,
			rpc.OccurenceConstraintViolation, "meterValue[0].sampledValue: required property missing"},

		// TypeConstraintViolation.
		{"UnlockConnector", Request, `{"connectorId":"1"}`, rpc.TypeConstraintViolation, "connectorId: got a string, want an integer"},
		{"UnlockConnector", Request, `{"connectorId":null}`, rpc.TypeConstraintViolation, "connectorId: got null, want an integer"},
		{"UnlockConnector", Request, `{"connectorId":1.5}`, rpc.TypeConstraintViolation, "connectorId: 1.5 is not an integer"},
		{"UnlockConnector", Request, `{"connectorId":1e400}`, rpc.TypeConstraintViolation, "connectorId: 1e400 does not fit in a 64-bit integer"},
		{"UnlockConnector", Request, `{"connectorId":9223372036854775808}`, rpc.TypeConstraintViolation,
			"connectorId: 9223372036854775808 does not fit in a 64-bit integer"},
		{"UnlockConnector", Request, `{"connectorId":9223372036854775807}`, "", ""},
		{"UnlockConnector", Request, `{"connectorId":3.0}`, "", ""},
		{"UnlockConnector", Request, `{"connectorId":-2e1}`, "", ""},
		{"Authorize", Request, `{"idTag":7}`, rpc.TypeConstraintViolation, "idTag: got a number, want a string"},
		{"Authorize", Response, `{"idTagInfo":[]}`, rpc.TypeConstraintViolation, "idTagInfo: got an array, want an object"},
		{"GetConfiguration", Request, `{"key":{}}`, rpc.TypeConstraintViolation, "key: got an object, want an array"},
		{"GetConfiguration", Request, `{"key":["a",true]}`, rpc.TypeConstraintViolation, "key[1]: got a boolean, want a string"},
		{"GetConfiguration", Response, `{"configurationKey":[{"key":"K","readonly":"true"}]}`,
			rpc.TypeConstraintViolation, "configurationKey[0].readonly: got a string, want a boolean"},
		{"SetChargingProfile", Request, schedule("1e400"), rpc.TypeConstraintViolation,
			"csChargingProfiles.chargingSchedule.chargingSchedulePeriod[1].limit: 1e400 does not fit in a 64-bit float"},

		// PropertyConstraintViolation.
		{"Authorize", Response, `{"idTagInfo":{"status":"Foo"}}`, rpc.PropertyConstraintViolation,
			`idTagInfo.status: "Foo" is not one of Accepted, Blocked, Expired, Invalid, ConcurrentTx`},
		{"Authorize", Request, `{"idTag":"` + strings.Repeat("€", 20) + `"}`, "", ""},
		{"Authorize", Request, `{"idTag":"` + strings.Repeat("€", 21) + `"}`, rpc.PropertyConstraintViolation,
			"idTag: 21 characters, at most 20 allowed"},
		{"Heartbeat", Response, `{"currentTime":"2026-11-24 10:00:00Z"}`, rpc.PropertyConstraintViolation,
			`currentTime: "2026-11-24 10:00:00Z" is not an RFC 3339 date-time`},
		{"Heartbeat", Response, `{"currentTime":"2026-11-24T10:00:00\u005a"}`, "", ""},
		{"UpdateFirmware", Request, `{"location":"firmware.bin","retrieveDate":"2026-11-24T10:00:00Z"}`,
			rpc.PropertyConstraintViolation, `location: "firmware.bin" is not an absolute URI`},
		{"SetChargingProfile", Request, schedule("6.05"), rpc.PropertyConstraintViolation,
			"csChargingProfiles.chargingSchedule.chargingSchedulePeriod[1].limit: 6.05 is not a multiple of 0.1"},
		{"SetChargingProfile", Request, schedule("0.30000000000000004"), rpc.PropertyConstraintViolation,
			"csChargingProfiles.chargingSchedule.chargingSchedulePeriod[1].limit: 0.30000000000000004 is not a multiple of 0.1"},
		{"SetChargingProfile", Request, schedule("0.3"), "", ""},
		{"SetChargingProfile", Request, schedule("32"), "", ""},
		{"SetChargingProfile", Request, schedule("1.20e1"), "", ""},

		// Within an object, a property not allowed wins over a required
		// one missing, which wins over a bad value; among equals, the
		// first read.
		{"StartTransaction", Request, `{"timestamp":"bad","meterStart":"x","idTag":"A","connectorId":1}`,
			rpc.PropertyConstraintViolation, `timestamp: "bad" is not an RFC 3339 date-time`},
		{"StartTransaction", Request, `{"b":1,"a":2}`, rpc.FormationViolation, "b: property not allowed"},
		{"StartTransaction", Request, `{"timestamp":"bad","x":1}`, rpc.FormationViolation, "x: property not allowed"},
		{"StartTransaction", Request, `{"timestamp":"bad"}`, rpc.OccurenceConstraintViolation, "connectorId: required property missing"},

		// Direction matters.
		{"BootNotification", Response, `{"chargePointVendor":"V","chargePointModel":"M"}`,
			rpc.FormationViolation, "chargePointVendor: property not allowed"},
	}
	for _, tc := range tests {
		err := Validate(tc.action, tc.kind, []byte(tc.payload))
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s %s %s: %v, want valid", tc.action, tc.kind, tc.payload, err)
			}
			continue
		}
		var oe *rpc.Error
		if !errors.As(err, &oe) {
			t.Errorf("%s %s %s: got %v (%T), want an *rpc.Error", tc.action, tc.kind, tc.payload, err, err)
			continue
		}
		if oe.Code != tc.code || oe.Description != tc.desc {
			t.Errorf("%s %s %s:\n got %s: %s\nwant %s: %s", tc.action, tc.kind, tc.payload, oe.Code, oe.Description, tc.code, tc.desc)
		}
	}
}

func TestValidateRequestResponse(t *testing.T) {
	if err := ValidateRequest("Heartbeat", []byte(`{}`)); err != nil {
		t.Error(err)
	}
	if err := ValidateResponse("Heartbeat", []byte(`{}`)); err == nil {
		t.Error("Heartbeat.conf without currentTime: accepted")
	}
	if err := Validate("Heartbeat", Kind(7), []byte(`{}`)); err == nil {
		t.Error("invalid Kind: accepted")
	}
}

func TestDecode(t *testing.T) {
	v, err := DecodeRequest("StartTransaction",
		[]byte(`{"connectorId":2.0,"idTag":"A\u00e9","meterStart":1.5e3,"reservationId":-0,"timestamp":"2026-11-24T11:00:00.5+01:00"}`))
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 11, 24, 10, 0, 0, 5e8, time.UTC)
	reservation := 0
	want := &StartTransactionRequest{ConnectorId: 2, IdTag: "Aé", MeterStart: 1500, ReservationId: &reservation}
	got := v.(*StartTransactionRequest)
	if !got.Timestamp.Equal(ts) {
		t.Errorf("timestamp %v, want %v", got.Timestamp, ts)
	}
	got.Timestamp = DateTime{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}

	v, err = DecodeResponse("Authorize", []byte(`{"idTagInfo":{"status":"Accepted"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r := v.(*AuthorizeResponse); r.IdTagInfo.Status != AuthorizationStatusAccepted || r.IdTagInfo.ExpiryDate != nil {
		t.Errorf("got %+v", r)
	}

	if _, err := DecodeRequest("Authorize", []byte(`{}`)); err == nil {
		t.Error("invalid payload decoded")
	}
}

// A repeated property is refused: encoding/json would merge the two
// values, the schema would check the last; neither is what the sender
// may have meant.
func TestDecodeRefusesRepeatedKeys(t *testing.T) {
	payload := `{"idTagInfo":{"status":"Accepted","parentIdTag":"` + strings.Repeat("x", 30) + `"},` +
		`"idTagInfo":{"status":"Blocked"},"transactionId":1}`
	_, err := DecodeResponse("StartTransaction", []byte(payload))
	var oe *rpc.Error
	if !errors.As(err, &oe) || oe.Code != rpc.FormationViolation || oe.Description != "idTagInfo: property repeated" {
		t.Errorf("got %v, want FormationViolation: idTagInfo: property repeated", err)
	}
}

// TestSchemasFitTheValidator: the validator tracks an object's properties
// in a 64-bit set.
func TestSchemasFitTheValidator(t *testing.T) {
	var roots []*ocppschema.Node
	for _, e := range actionsByName {
		roots = append(roots, e.nodes[Request], e.nodes[Response])
	}
	schematest.SchemasFitTheValidator(t, roots)
}
