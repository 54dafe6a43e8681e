package chargepoint

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/ocpp16"
)

func TestNextAlignedCountsFromMidnight(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		at       time.Duration
		interval time.Duration
		want     time.Duration
	}{
		{0, 15 * time.Minute, 15 * time.Minute},
		{14*time.Minute + 59*time.Second, 15 * time.Minute, 15 * time.Minute},
		{15 * time.Minute, 15 * time.Minute, 30 * time.Minute},
		{23*time.Hour + 50*time.Minute, 15 * time.Minute, 24 * time.Hour},
		{23*time.Hour + 50*time.Minute, 7 * time.Hour, 24 * time.Hour}, // the last interval of the day is cut at midnight
		{time.Hour, 7 * time.Hour, 7 * time.Hour},
	} {
		if got := nextAligned(day.Add(c.at), c.interval); !got.Equal(day.Add(c.want)) {
			t.Errorf("after %v every %v: %v, want %v", c.at, c.interval, got.Sub(day), c.want)
		}
	}
}

func TestMeterValueHasEveryMeasurandAndIsValid(t *testing.T) {
	r := hw.Reading{EnergyWh: 12345.9, PowerW: 11040, Current: [3]float64{16, 16, 16}}
	mv := meterValue(r, measurands("Energy.Active.Import.Register,Power.Active.Import,Current.Import"),
		ocpp16.ReadingContextSamplePeriodic, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), 3)
	var got []string
	for _, sv := range mv.SampledValue {
		got = append(got, string(sv.Measurand)+"/"+string(sv.Phase)+"="+sv.Value+string(sv.Unit))
	}
	want := "[Energy.Active.Import.Register/=12345Wh Power.Active.Import/=11040W Current.Import/L1=16.0A Current.Import/L2=16.0A Current.Import/L3=16.0A]"
	if s := fmt.Sprint(got); s != want {
		t.Errorf("sampled values %s, want %s", s, want)
	}
	payload, _ := json.Marshal(ocpp16.MeterValuesRequest{ConnectorId: 1, MeterValue: []ocpp16.MeterValue{*mv}})
	if err := ocpp16.ValidateRequest("MeterValues", payload); err != nil {
		t.Errorf("MeterValues breaks the schema: %v", err)
	}
	if meterValue(r, nil, ocpp16.ReadingContextSampleClock, time.Now(), 3) != nil {
		t.Error("an empty measurand list gave a meter value")
	}
}
