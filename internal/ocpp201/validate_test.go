package ocpp201

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
	"github.com/evse-dev/evse/internal/ocppschema"
	"github.com/evse-dev/evse/internal/ocppschema/schematest"
)

// These cases need no schema file: they pin the codes and descriptions.
func TestValidateErrors(t *testing.T) {
	needs := func(soc string) string {
		return `{"evseId":1,"chargingNeeds":{"requestedEnergyTransfer":"DC","dcChargingParameters":` +
			`{"evMaxCurrent":100,"evMaxVoltage":400,"stateOfCharge":` + soc + `}}}`
	}
	criteria := func(n int) string {
		return `{"requestId":1,"componentCriteria":[` + strings.TrimSuffix(strings.Repeat(`"Active",`, n), ",") + `]}`
	}
	tests := []struct {
		action  string
		kind    Kind
		payload string
		code    rpc.ErrorCode // "" for valid
		desc    string
	}{
		{"Heartbeat", Request, `{}`, "", ""},
		{"Nope", Request, `{}`, rpc.NotImplemented, `unknown action "Nope"`},

		// FormatViolation.
		{"Heartbeat", Request, `{`, rpc.FormatViolation, "payload is not JSON: unexpected EOF"},
		{"Heartbeat", Request, `[]`, rpc.FormatViolation, "payload is an array, not a JSON object"},
		{"Heartbeat", Request, `{"x":1}`, rpc.FormatViolation, "x: property not allowed"},
		{"Reset", Request, `{"type":"Immediate","type":"OnIdle"}`, rpc.FormatViolation, "type: property repeated"},
		{"Heartbeat", Request, `{"customData":{"vendorId":"v","a":1,"a":2}}`, rpc.FormatViolation, "customData.a: property repeated"},

		// customData takes any other property.
		{"Heartbeat", Request, `{"customData":{"vendorId":"v","a":[1,{"b":null}],"c":"\u00e9"}}`, "", ""},
		{"Heartbeat", Request, `{"customData":{"a":1}}`, rpc.OccurrenceConstraintViolation, "customData.vendorId: required property missing"},

		// OccurrenceConstraintViolation.
		{"Authorize", Request, `{}`, rpc.OccurrenceConstraintViolation, "idToken: required property missing"},
		{"GetReport", Request, `{"requestId":1,"componentCriteria":[]}`, rpc.OccurrenceConstraintViolation,
			"componentCriteria: 0 items, at least 1 required"},
		{"GetReport", Request, criteria(4), "", ""},
		{"GetReport", Request, criteria(5), rpc.OccurrenceConstraintViolation, "componentCriteria: 5 items, at most 4 allowed"},

		// TypeConstraintViolation.
		{"Reset", Request, `{"type":"Immediate","evseId":"1"}`, rpc.TypeConstraintViolation, "evseId: got a string, want an integer"},
		{"Reset", Request, `{"type":"Immediate","evseId":1.5}`, rpc.TypeConstraintViolation, "evseId: 1.5 is not an integer"},
		{"Reset", Request, `{"type":"Immediate","evseId":1e2}`, "", ""},

		// PropertyConstraintViolation.
		{"Reset", Request, `{"type":"Now"}`, rpc.PropertyConstraintViolation, `type: "Now" is not one of Immediate, OnIdle`},
		{"NotifyEVChargingNeeds", Request, needs("100"), "", ""},
		{"NotifyEVChargingNeeds", Request, needs("0"), "", ""},
		{"NotifyEVChargingNeeds", Request, needs("1e2"), "", ""},
		{"NotifyEVChargingNeeds", Request, needs("101"), rpc.PropertyConstraintViolation,
			"chargingNeeds.dcChargingParameters.stateOfCharge: 101 is more than the maximum 100"},
		{"NotifyEVChargingNeeds", Request, needs("-1"), rpc.PropertyConstraintViolation,
			"chargingNeeds.dcChargingParameters.stateOfCharge: -1 is less than the minimum 0"},
		{"Heartbeat", Response, `{"currentTime":"2026-11-24 10:00:00Z"}`, rpc.PropertyConstraintViolation,
			`currentTime: "2026-11-24 10:00:00Z" is not an RFC 3339 date-time`},

		// DataTransfer's data is any value.
		{"DataTransfer", Request, `{"vendorId":"v","data":null}`, "", ""},
		{"DataTransfer", Request, `{"vendorId":"v","data":[1,"x",{"y":true}]}`, "", ""},
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

func TestDecodeCustomDataAndData(t *testing.T) {
	v, err := DecodeRequest("DataTransfer",
		[]byte(`{"vendorId":"com.example","data": {"a" : [1.50, "é"]},"customData":{"vendorId":"com.example","n":1.0,"s":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	got := v.(*DataTransferRequest)
	want := &DataTransferRequest{
		VendorId: "com.example",
		Data:     json.RawMessage(`{"a" : [1.50, "é"]}`),
		CustomData: &CustomData{VendorId: "com.example", Extra: map[string]json.RawMessage{
			"n": json.RawMessage(`1.0`), "s": json.RawMessage(`"x"`),
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"customData":{"n":1.0,"s":"x","vendorId":"com.example"},"data":{"a":[1.50,"é"]},"vendorId":"com.example"}`
	if string(b) != wantJSON {
		t.Errorf("marshal: %s\nwant %s", b, wantJSON)
	}
}

func TestDecodeFromPeer(t *testing.T) {
	v, notes, err := DecodeFromPeer("Heartbeat", Response, []byte(`{"currentTime":"2026-11-24T10:00:00"}`))
	if err != nil || len(notes) != 1 {
		t.Fatalf("got %v, %q, %v", v, notes, err)
	}
	if got := v.(*HeartbeatResponse).CurrentTime.Format("2006-01-02T15:04:05Z07:00"); got != "2026-11-24T10:00:00Z" {
		t.Errorf("currentTime %s", got)
	}
	if _, err := Decode("Heartbeat", Response, []byte(`{"currentTime":"2026-11-24T10:00:00"}`)); err == nil {
		t.Error("Decode took a date-time without an offset")
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
