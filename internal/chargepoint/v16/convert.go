package v16

import (
	"fmt"
	"math"
	"strconv"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/smartcharging"
)

// meterValue renders a sample: energy in whole Wh, power in whole W,
// current per phase with one decimal, at the outlet.
func meterValue(s chargepoint.Sample) ocpp16.MeterValue {
	mv := ocpp16.MeterValue{Timestamp: ocpp16.DateTime{Time: s.At}}
	for _, v := range s.Values {
		sv := ocpp16.SampledValue{Context: ocpp16.ReadingContext(s.Context), Format: ocpp16.ValueFormatRaw,
			Measurand: ocpp16.Measurand(v.Measurand), Location: ocpp16.LocationOutlet}
		switch v.Measurand {
		case chargepoint.EnergyImport:
			sv.Value, sv.Unit = strconv.Itoa(int(math.Floor(v.Value))), ocpp16.UnitOfMeasureWh
		case chargepoint.PowerImport:
			sv.Value, sv.Unit = strconv.FormatFloat(v.Value, 'f', 0, 64), ocpp16.UnitOfMeasureW
		case chargepoint.CurrentIn:
			sv.Value, sv.Unit = strconv.FormatFloat(v.Value, 'f', 1, 64), ocpp16.UnitOfMeasureA
			if v.Phase >= 1 && v.Phase <= 3 {
				sv.Phase = []ocpp16.Phase{ocpp16.PhaseL1, ocpp16.PhaseL2, ocpp16.PhaseL3}[v.Phase-1]
			}
		}
		mv.SampledValue = append(mv.SampledValue, sv)
	}
	return mv
}

func meterValues(ss []chargepoint.Sample) []ocpp16.MeterValue {
	if len(ss) == 0 {
		return nil
	}
	out := make([]ocpp16.MeterValue, len(ss))
	for i, s := range ss {
		out[i] = meterValue(s)
	}
	return out
}

// sample reads a 1.6 meter value back (for a store of the earlier
// layout).
func sample(mv ocpp16.MeterValue) (chargepoint.Sample, error) {
	s := chargepoint.Sample{At: mv.Timestamp.Time}
	for _, sv := range mv.SampledValue {
		v, err := strconv.ParseFloat(sv.Value, 64)
		if err != nil {
			return s, fmt.Errorf("sampled value %q: %w", sv.Value, err)
		}
		s.Context = chargepoint.ReadingContext(sv.Context)
		val := chargepoint.Value{Measurand: chargepoint.Measurand(sv.Measurand), Value: v}
		if sv.Measurand == "" {
			val.Measurand = chargepoint.EnergyImport
		}
		switch sv.Phase {
		case ocpp16.PhaseL1:
			val.Phase = 1
		case ocpp16.PhaseL2:
			val.Phase = 2
		case ocpp16.PhaseL3:
			val.Phase = 3
		}
		s.Values = append(s.Values, val)
	}
	return s, nil
}

// authInfo reads an idTagInfo.
func authInfo(i ocpp16.IdTagInfo) chargepoint.AuthInfo {
	a := chargepoint.AuthInfo{Status: chargepoint.AuthStatus(i.Status), Parent: i.ParentIdTag}
	if i.ExpiryDate != nil {
		a.Expiry = i.ExpiryDate.Time
	}
	return a
}

// idTagInfo renders what is known of an idTag.
func idTagInfo(a chargepoint.AuthInfo) ocpp16.IdTagInfo {
	i := ocpp16.IdTagInfo{Status: ocpp16.AuthorizationStatus(a.Status), ParentIdTag: a.Parent}
	if !a.Expiry.IsZero() {
		i.ExpiryDate = &ocpp16.DateTime{Time: a.Expiry}
	}
	return i
}

var purposes = map[ocpp16.ChargingProfilePurposeType]smartcharging.Purpose{
	ocpp16.ChargingProfilePurposeTypeChargePointMaxProfile: smartcharging.ChargePointMax,
	ocpp16.ChargingProfilePurposeTypeTxDefaultProfile:      smartcharging.TxDefault,
	ocpp16.ChargingProfilePurposeTypeTxProfile:             smartcharging.Tx,
}

// profile reads a 1.6 charging profile; an error names what no profile
// may hold (a numberPhases outside 1 to 3).
func profile(p ocpp16.ChargingProfile) (smartcharging.Profile, error) {
	out := smartcharging.Profile{ID: p.ChargingProfileId, StackLevel: p.StackLevel, Purpose: purposes[p.ChargingProfilePurpose],
		Kind: smartcharging.Kind(p.ChargingProfileKind), Recurrency: smartcharging.Recurrency(p.RecurrencyKind),
		TransactionID: p.TransactionId}
	if p.ValidFrom != nil {
		out.ValidFrom = p.ValidFrom.Time
	}
	if p.ValidTo != nil {
		out.ValidTo = p.ValidTo.Time
	}
	s := p.ChargingSchedule
	out.Schedule = smartcharging.Schedule{Duration: s.Duration, Unit: smartcharging.Unit(s.ChargingRateUnit)}
	if s.StartSchedule != nil {
		out.Schedule.Start = s.StartSchedule.Time
	}
	if s.MinChargingRate != nil {
		out.Schedule.MinRate = *s.MinChargingRate
	}
	for _, per := range s.ChargingSchedulePeriod {
		sp := smartcharging.SchedulePeriod{Start: per.StartPeriod, Limit: per.Limit}
		if per.NumberPhases != nil {
			if n := *per.NumberPhases; n < 1 || n > 3 {
				return out, fmt.Errorf("numberPhases %d", n)
			}
			sp.Phases = *per.NumberPhases
		}
		out.Schedule.Periods = append(out.Schedule.Periods, sp)
	}
	return out, nil
}
