package v16

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/ocpp16"
)

func TestMeterValueHasEveryMeasurandAndIsValid(t *testing.T) {
	mv := meterValue(chargepoint.Sample{At: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), Context: chargepoint.ContextPeriodic,
		Values: []chargepoint.Value{{Measurand: chargepoint.EnergyImport, Value: 12345.9}, {Measurand: chargepoint.PowerImport, Value: 11040},
			{Measurand: chargepoint.CurrentIn, Phase: 1, Value: 16}, {Measurand: chargepoint.CurrentIn, Phase: 2, Value: 16},
			{Measurand: chargepoint.CurrentIn, Phase: 3, Value: 16}}})
	var got []string
	for _, sv := range mv.SampledValue {
		got = append(got, string(sv.Measurand)+"/"+string(sv.Phase)+"="+sv.Value+string(sv.Unit))
	}
	want := "[Energy.Active.Import.Register/=12345Wh Power.Active.Import/=11040W Current.Import/L1=16.0A Current.Import/L2=16.0A Current.Import/L3=16.0A]"
	if s := fmt.Sprint(got); s != want {
		t.Errorf("sampled values %s, want %s", s, want)
	}
	payload, _ := json.Marshal(ocpp16.MeterValuesRequest{ConnectorId: 1, MeterValue: []ocpp16.MeterValue{mv}})
	if err := ocpp16.ValidateRequest("MeterValues", payload); err != nil {
		t.Errorf("MeterValues breaks the schema: %v", err)
	}
}
