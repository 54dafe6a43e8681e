package ocpp16_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

func ExampleDecodeRequest() {
	payload := json.RawMessage(`{"connectorId":1,"idTag":"04A1B2C3D4","meterStart":1200,"timestamp":"2026-11-24T11:00:00+01:00"}`)
	v, err := ocpp16.DecodeRequest("StartTransaction", payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	req := v.(*ocpp16.StartTransactionRequest)
	fmt.Println(req.ConnectorId, req.IdTag, req.MeterStart, req.ReservationId == nil)

	out, _ := json.Marshal(req)
	fmt.Println(string(out))

	_, err = ocpp16.DecodeResponse("Authorize", json.RawMessage(`{"idTagInfo":{"status":"Foo"}}`))
	var callErr *rpc.Error
	if errors.As(err, &callErr) {
		fmt.Println(callErr.Code, "-", callErr.Description)
	}
	// Output:
	// 1 04A1B2C3D4 1200 true
	// {"connectorId":1,"idTag":"04A1B2C3D4","meterStart":1200,"timestamp":"2026-11-24T10:00:00.000Z"}
	// PropertyConstraintViolation - idTagInfo.status: "Foo" is not one of Accepted, Blocked, Expired, Invalid, ConcurrentTx
}

func ExampleLookup() {
	a, _ := ocpp16.Lookup("SetChargingProfile")
	fmt.Println(a.Profile, a.Initiator, a.SentBy(ocpp16.InitiatorCentralSystem))
	// Output: SmartCharging CentralSystem true
}
