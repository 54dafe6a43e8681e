package chargepoint

import (
	"strconv"
	"strings"
	"time"

	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// measurands splits a measurand list key's value.
func measurands(list string) []string {
	if list == "" {
		return nil
	}
	return strings.Split(list, ",")
}

// meterValue is one reading of the measurands, or nil when the list is
// empty. Currents are reported for each phase the connector has.
func meterValue(r hw.Reading, list []string, ctx ocpp16.ReadingContext, at time.Time, phases int) *ocpp16.MeterValue {
	if len(list) == 0 {
		return nil
	}
	mv := &ocpp16.MeterValue{Timestamp: ocpp16.DateTime{Time: at}}
	add := func(m ocpp16.Measurand, value string, unit ocpp16.UnitOfMeasure, phase ocpp16.Phase) {
		mv.SampledValue = append(mv.SampledValue, ocpp16.SampledValue{
			Value: value, Context: ctx, Format: ocpp16.ValueFormatRaw, Measurand: m,
			Phase: phase, Location: ocpp16.LocationOutlet, Unit: unit,
		})
	}
	for _, m := range list {
		switch ocpp16.Measurand(m) {
		case ocpp16.MeasurandEnergyActiveImportRegister:
			add(ocpp16.MeasurandEnergyActiveImportRegister, strconv.Itoa(wh(r.EnergyWh)), ocpp16.UnitOfMeasureWh, "")
		case ocpp16.MeasurandPowerActiveImport:
			add(ocpp16.MeasurandPowerActiveImport, strconv.FormatFloat(r.PowerW, 'f', 0, 64), ocpp16.UnitOfMeasureW, "")
		case ocpp16.MeasurandCurrentImport:
			for i, p := range []ocpp16.Phase{ocpp16.PhaseL1, ocpp16.PhaseL2, ocpp16.PhaseL3}[:phases] {
				add(ocpp16.MeasurandCurrentImport, strconv.FormatFloat(r.Current[i], 'f', 1, 64), ocpp16.UnitOfMeasureA, p)
			}
		}
	}
	return mv
}

// nextAligned returns the next boundary of a clock-aligned interval after
// t: intervals are counted from midnight (of t's location), as OCPP asks.
func nextAligned(t time.Time, interval time.Duration) time.Time {
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	n := t.Sub(midnight)/interval + 1
	next := midnight.Add(n * interval)
	if tomorrow := midnight.AddDate(0, 0, 1); next.After(tomorrow) {
		return tomorrow
	}
	return next
}
