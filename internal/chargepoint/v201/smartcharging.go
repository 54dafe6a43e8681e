package v201

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/ocpp201"
	"github.com/evse-dev/evse/internal/smartcharging"
)

// Charging profiles over 2.0.1 are the core's, as over 1.6: each EVSE is
// a connector, EVSE 0 the station. A profile's one schedule is in A (the
// appendix's ChargingScheduleAllowedChargingRateUnit). 2.0.1's purposes
// map to 1.6's: ChargingStationMaxProfile to ChargePointMaxProfile, and
// the Tx ones by name; ChargingStationExternalConstraints is the
// station's own (load management, told with NotifyChargingLimit) and not
// the CSMS's to set.
var purposeOf = map[ocpp201.ChargingProfilePurpose]smartcharging.Purpose{
	ocpp201.ChargingProfilePurposeChargingStationMaxProfile: smartcharging.ChargePointMax,
	ocpp201.ChargingProfilePurposeTxDefaultProfile:          smartcharging.TxDefault,
	ocpp201.ChargingProfilePurposeTxProfile:                 smartcharging.Tx,
}

// purpose201 is a core purpose as 2.0.1 names it.
func purpose201(p smartcharging.Purpose) ocpp201.ChargingProfilePurpose {
	for k, v := range purposeOf {
		if v == p {
			return k
		}
	}
	return ""
}

// profileError is why a 2.0.1 profile is refused, with the reasonCode
// told.
type profileError struct {
	reason, why string
}

func (e *profileError) Error() string { return e.why }

func refuse(reason, format string, args ...any) error {
	return &profileError{reason: reason, why: fmt.Sprintf(format, args...)}
}

// coreProfile reads a 2.0.1 charging profile as the core's.
func coreProfile(p ocpp201.ChargingProfile) (smartcharging.Profile, error) {
	purpose, ok := purposeOf[p.ChargingProfilePurpose]
	if !ok {
		return smartcharging.Profile{}, refuse("InvalidProfile", "%s is set by the station's load management, not by the CSMS", p.ChargingProfilePurpose)
	}
	if len(p.ChargingSchedule) != 1 {
		return smartcharging.Profile{}, refuse("InvalidSchedule", "%d charging schedules: this station follows one (no ISO 15118)", len(p.ChargingSchedule))
	}
	s := p.ChargingSchedule[0]
	if s.ChargingRateUnit != ocpp201.ChargingRateUnitA {
		return smartcharging.Profile{}, refuse("InvalidSchedule", "chargingRateUnit %s: SmartChargingCtrlr.RateUnit is A", s.ChargingRateUnit)
	}
	out := smartcharging.Profile{ID: p.Id, StackLevel: p.StackLevel, Purpose: purpose,
		Kind: smartcharging.Kind(p.ChargingProfileKind), Recurrency: smartcharging.Recurrency(p.RecurrencyKind)}
	if p.ValidFrom != nil {
		out.ValidFrom = p.ValidFrom.Time
	}
	if p.ValidTo != nil {
		out.ValidTo = p.ValidTo.Time
	}
	if p.TransactionId != "" {
		local, ok := localOf(p.TransactionId)
		if !ok || local > math.MaxInt32 {
			return out, refuse("TxNotFound", "transaction %q is not this station's", p.TransactionId)
		}
		id := int(local)
		out.TransactionID = &id
	}
	out.Schedule = smartcharging.Schedule{ID: s.Id, Duration: s.Duration, Unit: smartcharging.Amperes}
	if s.StartSchedule != nil {
		out.Schedule.Start = s.StartSchedule.Time
	}
	if s.MinChargingRate != nil {
		out.Schedule.MinRate = *s.MinChargingRate
	}
	for _, per := range s.ChargingSchedulePeriod {
		sp := smartcharging.SchedulePeriod{Start: per.StartPeriod, Limit: per.Limit}
		if per.NumberPhases != nil {
			sp.Phases = *per.NumberPhases
		}
		if per.PhaseToUse != nil && (sp.Phases != 1 || *per.PhaseToUse < 1 || *per.PhaseToUse > 3) {
			return out, refuse("InvalidSchedule", "phaseToUse %d without numberPhases 1", *per.PhaseToUse)
		}
		out.Schedule.Periods = append(out.Schedule.Periods, sp)
	}
	return out, nil
}

// profile201 is an installed profile as 2.0.1 reports it.
func profile201(p smartcharging.Profile) ocpp201.ChargingProfile {
	s := p.Schedule
	out := ocpp201.ChargingProfile{Id: p.ID, StackLevel: p.StackLevel, ChargingProfilePurpose: purpose201(p.Purpose),
		ChargingProfileKind: ocpp201.ChargingProfileKind(p.Kind), RecurrencyKind: ocpp201.RecurrencyKind(p.Recurrency)}
	if !p.ValidFrom.IsZero() {
		out.ValidFrom = &ocpp201.DateTime{Time: p.ValidFrom}
	}
	if !p.ValidTo.IsZero() {
		out.ValidTo = &ocpp201.DateTime{Time: p.ValidTo}
	}
	if p.TransactionID != nil {
		out.TransactionId = TransactionID(int64(*p.TransactionID))
	}
	sched := ocpp201.ChargingSchedule{Id: s.ID, Duration: s.Duration, ChargingRateUnit: ocpp201.ChargingRateUnitA}
	if !s.Start.IsZero() {
		sched.StartSchedule = &ocpp201.DateTime{Time: s.Start}
	}
	if s.MinRate > 0 {
		m := s.MinRate
		sched.MinChargingRate = &m
	}
	for _, per := range s.Periods {
		sp := ocpp201.ChargingSchedulePeriod{StartPeriod: per.Start, Limit: per.Limit}
		if per.Phases > 0 {
			n := per.Phases
			sp.NumberPhases = &n
		}
		sched.ChargingSchedulePeriod = append(sched.ChargingSchedulePeriod, sp)
	}
	out.ChargingSchedule = []ocpp201.ChargingSchedule{sched}
	return out
}

// installed is the station's charging profiles now.
func (cp *ChargePoint) installed(ctx context.Context) ([]chargepoint.InstalledProfile, error) {
	out, err := cp.Exec(ctx, chargepoint.ListProfiles{})
	if err != nil {
		return nil, err
	}
	list, _ := out.([]chargepoint.InstalledProfile)
	return list, nil
}

// overlaps reports whether two profiles' validity periods meet (zero
// bounds are open).
func overlaps(a, b smartcharging.Profile) bool {
	before := func(end, start time.Time) bool { return !end.IsZero() && !start.IsZero() && !end.After(start) }
	return !before(a.ValidTo, b.ValidFrom) && !before(b.ValidTo, a.ValidFrom)
}

// setChargingProfile answers SetChargingProfile (K01): the profile read
// as the core's and installed by it, with its rules and the appendix's
// limits (ChargeProfileMaxStackLevel, ChargingScheduleMaxPeriods,
// MaxChargingProfilesInstalled). A profile with the id of an installed
// one replaces it; another of the same EVSE, purpose and stack level
// whose validity overlaps is Rejected (DuplicateProfile, K01.FR.39); a
// TxProfile needs the transactionId of the EVSE's running transaction.
func (cp *ChargePoint) setChargingProfile(ctx context.Context, r *ocpp201.SetChargingProfileRequest) (*ocpp201.SetChargingProfileResponse, error) {
	rejected := func(err error) *ocpp201.SetChargingProfileResponse {
		reason := "InvalidValue"
		var pe *profileError
		if e, ok := err.(*profileError); ok {
			pe = e
			reason = pe.reason
		}
		cp.log.Info("SetChargingProfile rejected", "evse", r.EvseId, "id", r.ChargingProfile.Id, "why", err)
		return &ocpp201.SetChargingProfileResponse{Status: ocpp201.ChargingProfileStatusRejected,
			StatusInfo: &ocpp201.StatusInfo{ReasonCode: reason, AdditionalInfo: truncate(err.Error(), 512)}}
	}
	p, err := coreProfile(r.ChargingProfile)
	if err != nil {
		return rejected(err), nil
	}
	if p.Purpose == smartcharging.Tx && p.TransactionID == nil {
		return rejected(refuse("TxNotFound", "a TxProfile names its transaction")), nil
	}
	list, err := cp.installed(ctx)
	if err != nil {
		return nil, err
	}
	for _, q := range list {
		if q.Profile.ID != p.ID && q.Connector == r.EvseId && q.Profile.Purpose == p.Purpose &&
			q.Profile.StackLevel == p.StackLevel && overlaps(q.Profile, p) {
			return rejected(refuse("DuplicateProfile", "profile %d has the same EVSE, purpose and stack level", q.Profile.ID)), nil
		}
	}
	out, err := cp.Exec(ctx, chargepoint.SetProfile{Connector: r.EvseId, Profile: p})
	if err != nil {
		return nil, err
	}
	if res, _ := out.(chargepoint.ProfileResult); res.Why != "" {
		return rejected(fmt.Errorf("%s", res.Why)), nil
	}
	return &ocpp201.SetChargingProfileResponse{Status: ocpp201.ChargingProfileStatusAccepted}, nil
}

// getChargingProfiles answers GetChargingProfiles (K09): Accepted, then
// ReportChargingProfiles with the matching profiles of each EVSE (one
// message per EVSE, tbc on all but the last), after the answer; or
// NoProfiles. The station's profiles all come from the CSMS (CSO).
func (cp *ChargePoint) getChargingProfiles(ctx context.Context, r *ocpp201.GetChargingProfilesRequest) (*ocpp201.GetChargingProfilesResponse, error) {
	list, err := cp.installed(ctx)
	if err != nil {
		return nil, err
	}
	crit := r.ChargingProfile
	match := func(q chargepoint.InstalledProfile) bool {
		switch {
		case r.EvseId != nil && q.Connector != *r.EvseId:
		case crit.ChargingProfilePurpose != "" && purpose201(q.Profile.Purpose) != crit.ChargingProfilePurpose:
		case crit.StackLevel != nil && q.Profile.StackLevel != *crit.StackLevel:
		case len(crit.ChargingProfileId) > 0 && !slices.Contains(crit.ChargingProfileId, q.Profile.ID):
		case len(crit.ChargingLimitSource) > 0 && !slices.Contains(crit.ChargingLimitSource, ocpp201.ChargingLimitSourceCSO):
		default:
			return true
		}
		return false
	}
	byEVSE := map[int][]ocpp201.ChargingProfile{}
	var evses []int
	for _, q := range list {
		if !match(q) {
			continue
		}
		if _, seen := byEVSE[q.Connector]; !seen {
			evses = append(evses, q.Connector)
		}
		byEVSE[q.Connector] = append(byEVSE[q.Connector], profile201(q.Profile))
	}
	if len(evses) == 0 {
		return &ocpp201.GetChargingProfilesResponse{Status: ocpp201.GetChargingProfileStatusNoProfiles}, nil
	}
	slices.Sort(evses)
	var reports []*ocpp201.ReportChargingProfilesRequest
	for i, evse := range evses {
		rep := &ocpp201.ReportChargingProfilesRequest{RequestId: r.RequestId, ChargingLimitSource: ocpp201.ChargingLimitSourceCSO,
			EvseId: evse, ChargingProfile: byEVSE[evse]}
		if i < len(evses)-1 {
			tbc := true
			rep.Tbc = &tbc
		}
		reports = append(reports, rep)
	}
	cp.afterAnswer(ctx, "ReportChargingProfiles", func(send func(any) error) {
		for _, rep := range reports {
			if err := send(rep); err != nil {
				cp.log.Warn("ReportChargingProfiles not delivered", "request", r.RequestId, "err", err)
				return
			}
		}
	})
	return &ocpp201.GetChargingProfilesResponse{Status: ocpp201.GetChargingProfileStatusAccepted}, nil
}

// clearChargingProfile answers ClearChargingProfile (K10): by id, or by
// the criteria (EVSE, purpose, stack level; none: every profile);
// Unknown when none matched. ChargingStationExternalConstraints are not
// the CSMS's: none matches them.
func (cp *ChargePoint) clearChargingProfile(ctx context.Context, r *ocpp201.ClearChargingProfileRequest) (*ocpp201.ClearChargingProfileResponse, error) {
	unknown := &ocpp201.ClearChargingProfileResponse{Status: ocpp201.ClearChargingProfileStatusUnknown}
	c := chargepoint.ClearProfiles{ID: r.ChargingProfileId}
	if k := r.ChargingProfileCriteria; k != nil && r.ChargingProfileId == nil {
		c.Connector, c.StackLevel = k.EvseId, k.StackLevel
		if k.ChargingProfilePurpose != "" {
			p, ok := purposeOf[k.ChargingProfilePurpose]
			if !ok {
				return unknown, nil
			}
			c.Purpose = p
		}
	}
	out, err := cp.Exec(ctx, c)
	if err != nil {
		return nil, err
	}
	if n, _ := out.(int); n == 0 {
		return unknown, nil
	}
	return &ocpp201.ClearChargingProfileResponse{Status: ocpp201.ClearChargingProfileStatusAccepted}, nil
}

// getCompositeSchedule answers GetCompositeSchedule (K08) with the
// schedule the core follows (CompositeInputs.Schedule, as over 1.6), in
// A, for at most a week; W is Rejected.
func (cp *ChargePoint) getCompositeSchedule(ctx context.Context, r *ocpp201.GetCompositeScheduleRequest) (*ocpp201.GetCompositeScheduleResponse, error) {
	rejected := func(reason string) *ocpp201.GetCompositeScheduleResponse {
		return &ocpp201.GetCompositeScheduleResponse{Status: ocpp201.GenericStatusRejected, StatusInfo: &ocpp201.StatusInfo{ReasonCode: reason}}
	}
	if r.ChargingRateUnit != "" && r.ChargingRateUnit != ocpp201.ChargingRateUnitA {
		return rejected("UnsupportedRateUnit"), nil
	}
	if r.Duration < 0 {
		return rejected("InvalidValue"), nil
	}
	out, err := cp.Exec(ctx, chargepoint.CompositeRequest{Connector: r.EvseId})
	if err != nil {
		return nil, err
	}
	in, _ := out.(*chargepoint.CompositeInputs)
	if in == nil || len(in.Stacks) == 0 {
		return rejected("UnknownEvse"), nil
	}
	dur := chargepoint.CompositeDuration(r.Duration)
	sched := &ocpp201.CompositeSchedule{EvseId: r.EvseId, Duration: int(dur / time.Second),
		ScheduleStart: ocpp201.DateTime{Time: in.Start}, ChargingRateUnit: ocpp201.ChargingRateUnitA}
	for _, p := range in.Schedule(r.EvseId, dur) {
		per := ocpp201.ChargingSchedulePeriod{StartPeriod: int(p.Start / time.Second), Limit: math.Floor(p.Limit*10) / 10}
		if p.Phases != 3 {
			ph := p.Phases
			per.NumberPhases = &ph
		}
		sched.ChargingSchedulePeriod = append(sched.ChargingSchedulePeriod, per)
	}
	if len(sched.ChargingSchedulePeriod) == 0 {
		return rejected("NoSchedule"), nil
	}
	return &ocpp201.GetCompositeScheduleResponse{Status: ocpp201.GenericStatusAccepted, Schedule: sched}, nil
}
