package chargepoint

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/smartcharging"
)

// bucketProfiles keeps the installed charging profiles: chargingProfileId,
// zero-padded → installedProfile.
const bucketProfiles = "profiles"

// installedProfile is a charging profile with the connector it was set on
// (0: the charge point).
type installedProfile struct {
	Connector int                    `json:"connector"`
	Profile   ocpp16.ChargingProfile `json:"profile"`
}

// schedule is what the charging profiles allow a connector now.
type schedule struct {
	limit   float64 // A per phase; negative: no profile limits it
	phases  int     // 1 or 3
	minRate float64 // the EV does not charge below it; 0: unknown
}

var noSchedule = schedule{limit: smartcharging.NoLimit, phases: 3}

// The startSchedule a profile may have.
var (
	earliestSchedule = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	latestSchedule   = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// loadProfiles reads the installed profiles. TxProfiles are dropped: no
// transaction survives a restart.
func (c *core) loadProfiles(tx kv.Tx) error {
	var stale []string
	err := tx.ForEach(bucketProfiles, func(k string, v []byte) error {
		var p installedProfile
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("chargepoint: charging profile %s: %w", k, err)
		}
		if p.Profile.ChargingProfilePurpose == ocpp16.ChargingProfilePurposeTypeTxProfile {
			stale = append(stale, k)
			return nil
		}
		c.profiles = append(c.profiles, p)
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range stale {
		if err := tx.Delete(bucketProfiles, k); err != nil {
			return err
		}
	}
	c.schedDirty = true
	return nil
}

// stacks returns the profiles that bear on a connector: the charge
// point's maximum, and the connector's own (its TxProfiles, and the
// TxDefaultProfiles set on it or on connector 0). At the same stack
// level, a connector's own TxDefaultProfile comes first, and so wins over
// connector 0's.
func (c *core) stacks(id int) (cpMax, own []smartcharging.Profile) {
	var shared []smartcharging.Profile
	for _, p := range c.profiles {
		switch {
		case p.Profile.ChargingProfilePurpose == ocpp16.ChargingProfilePurposeTypeChargePointMaxProfile:
			cpMax = append(cpMax, toDomain(p.Profile))
		case p.Connector == id:
			own = append(own, toDomain(p.Profile))
		case p.Connector == 0 && p.Profile.ChargingProfilePurpose == ocpp16.ChargingProfilePurposeTypeTxDefaultProfile:
			shared = append(shared, toDomain(p.Profile))
		}
	}
	return cpMax, append(own, shared...)
}

// chargingSession is what a connector's schedule depends on besides
// profiles.
func chargingSession(cn *connector) smartcharging.Session {
	if t := cn.tx; t != nil {
		return smartcharging.Session{Active: true, TransactionID: t.CSMSID, Start: t.Started}
	}
	return smartcharging.Session{}
}

// sharing is how many connectors share the ChargePointMaxProfile: those
// with a transaction, at least one.
func (c *core) sharing() int {
	n := 0
	for _, cn := range c.conns {
		if cn.tx != nil {
			n++
		}
	}
	return max(n, 1)
}

// maxShare returns the ChargePointMaxProfiles as one connector's share.
func (c *core) maxShare(cpMax []smartcharging.Profile) []smartcharging.Profile {
	if n := c.sharing(); n > 1 && len(cpMax) > 0 {
		return smartcharging.Scale(cpMax, 1/float64(n))
	}
	return cpMax
}

// refreshSchedules works out each connector's schedule when a profile, a
// session or a period boundary asks for it.
func (c *core) refreshSchedules(now time.Time) {
	if !c.schedDirty && (c.schedUntil.IsZero() || now.Before(c.schedUntil)) {
		return
	}
	c.schedDirty, c.schedUntil = false, time.Time{}
	for _, cn := range c.conns {
		cpMax, own := c.stacks(cn.id)
		p, until := smartcharging.Next(c.maxShare(cpMax), own, chargingSession(cn), now)
		s := schedule{limit: p.Limit, phases: p.Phases, minRate: p.MinRate}
		if s != cn.sched {
			c.cp.log.Info("charging schedule", "connector", cn.id, "limit", s.limit, "phases", s.phases, "min_rate", s.minRate)
		}
		cn.sched = s
		if !until.IsZero() && (c.schedUntil.IsZero() || until.Before(c.schedUntil)) {
			c.schedUntil = until
		}
	}
}

// scheduleCap applies a connector's schedule to an offer (under every
// other cap): its limit, and its minChargingRate, under which the EV is
// said not to charge: a pause, not a trickle.
func (cn *connector) scheduleCap(offer float64) float64 {
	s := cn.sched
	if s.limit >= 0 {
		offer = math.Min(offer, s.limit)
	}
	if offer < s.minRate {
		return 0
	}
	return offer
}

// canSwitchPhases reports whether a schedule's numberPhases 1 switches
// the connector, rather than only limiting its current.
func (c *core) canSwitchPhases(cn *connector) bool {
	_, ok := cn.hw.(hw.PhaseSwitcher)
	return ok && c.cp.settings.Bool("ConnectorSwitch3to1PhaseSupported")
}

// targetPhases is what a connector should be switched to: one phase when
// load management or the schedule asks for it (the schedule only with
// ConnectorSwitch3to1PhaseSupported On), else what load management asked
// for, else three once the schedule lets go; 0 for no switch.
func (c *core) targetPhases(cn *connector) int {
	if cn.sched.phases == 1 && c.canSwitchPhases(cn) {
		return 1
	}
	if cn.wantPhases == 0 && cn.phasesNow == 1 {
		return 3
	}
	return cn.wantPhases
}

// checkProfile tells why a charging profile for connector id cannot be
// installed, "" when it can.
func (c *core) checkProfile(id int, p ocpp16.ChargingProfile) string {
	s := c.cp.settings
	sched := p.ChargingSchedule
	switch {
	case id < 0 || id > len(c.conns):
		return fmt.Sprintf("no connector %d", id)
	case sched.ChargingRateUnit != ocpp16.ChargingRateUnitTypeA:
		return fmt.Sprintf("chargingRateUnit %s: ChargingScheduleAllowedChargingRateUnit is Current", sched.ChargingRateUnit)
	case p.StackLevel < 0 || p.StackLevel > s.Int("ChargeProfileMaxStackLevel"):
		return fmt.Sprintf("stackLevel %d is over ChargeProfileMaxStackLevel %d", p.StackLevel, s.Int("ChargeProfileMaxStackLevel"))
	case len(sched.ChargingSchedulePeriod) == 0:
		return "no chargingSchedulePeriod"
	case len(sched.ChargingSchedulePeriod) > s.Int("ChargingScheduleMaxPeriods"):
		return fmt.Sprintf("%d periods are over ChargingScheduleMaxPeriods %d", len(sched.ChargingSchedulePeriod), s.Int("ChargingScheduleMaxPeriods"))
	case sched.Duration != nil && (*sched.Duration < 0 || *sched.Duration > math.MaxInt32):
		return fmt.Sprintf("duration %d", *sched.Duration)
	case p.ChargingProfileKind == ocpp16.ChargingProfileKindTypeRecurring && (p.RecurrencyKind == "" || sched.StartSchedule == nil):
		return "a Recurring profile needs recurrencyKind and startSchedule"
	case p.ChargingProfilePurpose == ocpp16.ChargingProfilePurposeTypeChargePointMaxProfile && id != 0:
		return "a ChargePointMaxProfile is set on connector 0 only"
	case p.ChargingProfilePurpose == ocpp16.ChargingProfilePurposeTypeTxProfile && id == 0:
		return "a TxProfile is set on a connector, not on 0"
	case p.TransactionId != nil && p.ChargingProfilePurpose != ocpp16.ChargingProfilePurposeTypeTxProfile:
		return "transactionId is for TxProfiles only"
	case p.ValidFrom != nil && p.ValidTo != nil && !p.ValidTo.Time.After(p.ValidFrom.Time):
		return "validTo is not after validFrom"
	case sched.StartSchedule != nil && (sched.StartSchedule.Time.Before(earliestSchedule) || sched.StartSchedule.Time.After(latestSchedule)):
		// Time arithmetic saturates about 292 years from now; a
		// Recurring schedule from year 1 would also take the charge
		// point through every day since.
		return fmt.Sprintf("startSchedule %v is out of range", sched.StartSchedule.Time)
	}
	last := -1
	for _, per := range sched.ChargingSchedulePeriod {
		switch {
		case per.StartPeriod <= last:
			return "periods' startPeriod must increase"
		case per.StartPeriod > math.MaxInt32:
			return fmt.Sprintf("startPeriod %d", per.StartPeriod)
		case per.Limit < 0:
			return fmt.Sprintf("a negative limit %g", per.Limit)
		case per.NumberPhases != nil && (*per.NumberPhases < 1 || *per.NumberPhases > 3):
			return fmt.Sprintf("numberPhases %d", *per.NumberPhases)
		}
		last = per.StartPeriod
	}
	return ""
}

// setProfile installs a charging profile on connector id, durably; it
// replaces a profile of the same id, and one of the same connector,
// purpose and stack level. It returns why not, "" when installed.
func (c *core) setProfile(id int, p ocpp16.ChargingProfile) string {
	if why := c.checkProfile(id, p); why != "" {
		return why
	}
	if p.ChargingProfilePurpose == ocpp16.ChargingProfilePurposeTypeTxProfile {
		t := c.conn(id).tx
		switch {
		case t == nil:
			return fmt.Sprintf("no transaction on connector %d", id)
		case p.TransactionId != nil && *p.TransactionId != t.CSMSID:
			return fmt.Sprintf("transaction %d is not the one on connector %d", *p.TransactionId, id)
		}
	}
	replaced := func(q installedProfile) bool {
		return q.Profile.ChargingProfileId == p.ChargingProfileId ||
			q.Connector == id && q.Profile.ChargingProfilePurpose == p.ChargingProfilePurpose && q.Profile.StackLevel == p.StackLevel
	}
	kept := slices.DeleteFunc(slices.Clone(c.profiles), replaced)
	if max := c.cp.settings.Int("MaxChargingProfilesInstalled"); len(kept)+c.promised()+1 > max {
		return fmt.Sprintf("MaxChargingProfilesInstalled %d are installed or promised", max)
	}
	err := c.cp.store.Update(func(tx kv.Tx) error {
		for _, q := range c.profiles {
			if replaced(q) {
				if err := tx.Delete(bucketProfiles, pad(int64(q.Profile.ChargingProfileId))); err != nil {
					return err
				}
			}
		}
		raw, err := json.Marshal(installedProfile{Connector: id, Profile: p})
		if err != nil {
			return err
		}
		return tx.Put(bucketProfiles, pad(int64(p.ChargingProfileId)), raw)
	})
	if err != nil {
		c.cp.log.Error("charging profile not stored", "err", err)
		return "the store failed"
	}
	c.profiles = append(kept, installedProfile{Connector: id, Profile: p})
	c.schedDirty = true
	return ""
}

// clearProfiles removes the profiles match selects, durably, and reports
// how many.
func (c *core) clearProfiles(match func(installedProfile) bool) (int, error) {
	var gone []installedProfile
	for _, q := range c.profiles {
		if match(q) {
			gone = append(gone, q)
		}
	}
	if len(gone) == 0 {
		return 0, nil
	}
	err := c.cp.store.Update(func(tx kv.Tx) error {
		for _, q := range gone {
			if err := tx.Delete(bucketProfiles, pad(int64(q.Profile.ChargingProfileId))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("chargepoint: clear charging profiles: %w", err)
	}
	c.profiles = slices.DeleteFunc(c.profiles, match)
	c.schedDirty = true
	return len(gone), nil
}

// endTxProfiles removes a connector's TxProfiles when its transaction
// ends.
func (c *core) endTxProfiles(cn *connector) {
	_, err := c.clearProfiles(func(q installedProfile) bool {
		return q.Connector == cn.id && q.Profile.ChargingProfilePurpose == ocpp16.ChargingProfilePurposeTypeTxProfile
	})
	if err != nil {
		c.cp.log.Error("TxProfiles not removed", "connector", cn.id, "err", err)
	}
}

// promiseSlack is how long, besides ConnectionTimeOut, the TxProfile of
// an accepted RemoteStartTransaction keeps its place: the Authorize it
// may wait for.
const promiseSlack = 2 * time.Minute

// promise keeps a place among MaxChargingProfilesInstalled for the
// TxProfile of an accepted RemoteStartTransaction until its transaction
// starts (start keeps the promise), its authorization lapses, or
// ConnectionTimeOut and promiseSlack have passed.
func (c *core) promise(p *ocpp16.ChargingProfile) {
	if c.promises == nil {
		c.promises = map[*ocpp16.ChargingProfile]time.Time{}
	}
	c.promises[p] = c.now().Add(time.Duration(c.cp.settings.Int("ConnectionTimeOut"))*time.Second + promiseSlack)
}

// promised counts the places promised and not lapsed.
func (c *core) promised() int {
	now := c.now()
	for p, until := range c.promises {
		if !now.Before(until) {
			delete(c.promises, p)
		}
	}
	return len(c.promises)
}

// checkRemoteProfile tells why the charging profile of a
// RemoteStartTransaction on connector id cannot be taken, "" when it can.
func (c *core) checkRemoteProfile(id int, p ocpp16.ChargingProfile) string {
	if p.ChargingProfilePurpose != ocpp16.ChargingProfilePurposeTypeTxProfile {
		return "the profile of a RemoteStartTransaction is a TxProfile"
	}
	if why := c.checkProfile(id, p); why != "" {
		return why
	}
	if max := c.cp.settings.Int("MaxChargingProfilesInstalled"); len(c.profiles)+c.promised()+1 > max {
		return fmt.Sprintf("MaxChargingProfilesInstalled %d are installed or promised", max)
	}
	return ""
}

func (cp *ChargePoint) setChargingProfile(ctx context.Context, req *ocpp16.SetChargingProfileRequest) (*ocpp16.SetChargingProfileResponse, error) {
	status := ocpp16.ChargingProfileStatusRejected
	err := cp.exec(ctx, func(c *core) {
		if why := c.setProfile(req.ConnectorId, req.CsChargingProfiles); why != "" {
			cp.log.Info("SetChargingProfile rejected", "connector", req.ConnectorId, "id", req.CsChargingProfiles.ChargingProfileId, "why", why)
			return
		}
		status = ocpp16.ChargingProfileStatusAccepted
	})
	if err != nil {
		return nil, err
	}
	return &ocpp16.SetChargingProfileResponse{Status: status}, nil
}

// clearChargingProfile answers ClearChargingProfile: with an id, that
// profile; else every profile matching all the filters given (none: all).
func (cp *ChargePoint) clearChargingProfile(ctx context.Context, req *ocpp16.ClearChargingProfileRequest) (*ocpp16.ClearChargingProfileResponse, error) {
	match := func(q installedProfile) bool {
		if req.Id != nil {
			return q.Profile.ChargingProfileId == *req.Id
		}
		return (req.ConnectorId == nil || q.Connector == *req.ConnectorId) &&
			(req.ChargingProfilePurpose == "" || q.Profile.ChargingProfilePurpose == req.ChargingProfilePurpose) &&
			(req.StackLevel == nil || q.Profile.StackLevel == *req.StackLevel)
	}
	var n int
	var clearErr error
	if err := cp.exec(ctx, func(c *core) { n, clearErr = c.clearProfiles(match) }); err != nil {
		return nil, err
	}
	if clearErr != nil {
		return nil, clearErr
	}
	if n == 0 {
		return &ocpp16.ClearChargingProfileResponse{Status: ocpp16.ClearChargingProfileStatusUnknown}, nil
	}
	return &ocpp16.ClearChargingProfileResponse{Status: ocpp16.ClearChargingProfileStatusAccepted}, nil
}

// maxCompositeDuration bounds what GetCompositeSchedule computes: a week
// covers every recurrence, and a year of 255 daily profiles of 255
// periods would hold the answer up for a minute.
const maxCompositeDuration = 7 * 24 * time.Hour

// stackCopy is what one connector's composite schedule is computed from,
// taken from the core so that the computation runs outside it.
type stackCopy struct {
	cpMax, own []smartcharging.Profile
	session    smartcharging.Session
	switchable bool
}

// getCompositeSchedule answers GetCompositeSchedule in A (the only unit
// this charge point supports; W is Rejected), for at most a week. For a
// connector: what its profiles allow, its share of the
// ChargePointMaxProfile and the hardware maximum; where no profile
// limits it, the hardware maximum. For connector 0: the most the charge
// point may draw, the connectors' schedules summed under the
// ChargePointMaxProfile. A period of one phase is reported as such only
// where the connector can switch to one phase
// (ConnectorSwitch3to1PhaseSupported On); else it is honoured as a
// current limit only and reported with three. The core only copies the
// profiles: the computation does not hold up charging.
func (cp *ChargePoint) getCompositeSchedule(ctx context.Context, req *ocpp16.GetCompositeScheduleRequest) (*ocpp16.GetCompositeScheduleResponse, error) {
	rejected := &ocpp16.GetCompositeScheduleResponse{Status: ocpp16.GetCompositeScheduleStatusRejected}
	if req.ChargingRateUnit != "" && req.ChargingRateUnit != ocpp16.ChargingRateUnitTypeA || req.Duration < 0 {
		return rejected, nil
	}
	var start time.Time
	var stacks []stackCopy // one per connector, or every connector for 0
	err := cp.exec(ctx, func(c *core) {
		if req.ConnectorId < 0 || req.ConnectorId > len(c.conns) {
			return
		}
		start = c.now().Truncate(time.Second)
		for _, cn := range c.conns {
			if req.ConnectorId != 0 && cn.id != req.ConnectorId {
				continue
			}
			cpMax, own := c.stacks(cn.id)
			if req.ConnectorId != 0 {
				cpMax = c.maxShare(cpMax)
			}
			stacks = append(stacks, stackCopy{cpMax: cpMax, own: own, session: chargingSession(cn), switchable: c.canSwitchPhases(cn)})
		}
	})
	if err != nil {
		return nil, err
	}
	if stacks == nil {
		return rejected, nil
	}
	dur := min(time.Duration(req.Duration)*time.Second, maxCompositeDuration)
	hwMax := float64(cp.opts.Model.MaxCurrent)
	var periods []smartcharging.Period
	if req.ConnectorId > 0 {
		st := stacks[0]
		periods = reported(smartcharging.Composite(st.cpMax, st.own, st.session, start, dur), hwMax, st.switchable)
	} else {
		var all [][]smartcharging.Period
		for _, st := range stacks {
			all = append(all, reported(smartcharging.Composite(nil, st.own, st.session, start, dur), hwMax, st.switchable))
		}
		all = append(all, smartcharging.Composite(stacks[0].cpMax, nil, smartcharging.Session{}, start, dur))
		periods = smartcharging.Merge(all, func(ls []float64) float64 {
			sum := 0.0
			for _, l := range ls[:len(ls)-1] {
				sum += l
			}
			if m := ls[len(ls)-1]; m >= 0 {
				return min(sum, m)
			}
			return sum
		})
	}
	seconds := int(dur / time.Second)
	sched := &ocpp16.ChargingSchedule{Duration: &seconds, StartSchedule: &ocpp16.DateTime{Time: start},
		ChargingRateUnit: ocpp16.ChargingRateUnitTypeA}
	for _, p := range periods {
		per := ocpp16.ChargingSchedulePeriod{StartPeriod: int(p.Start / time.Second), Limit: math.Floor(p.Limit*10) / 10}
		if p.Phases != 3 {
			ph := p.Phases
			per.NumberPhases = &ph
		}
		sched.ChargingSchedulePeriod = append(sched.ChargingSchedulePeriod, per)
	}
	if len(periods) > 0 && periods[0].MinRate > 0 {
		m := periods[0].MinRate
		sched.MinChargingRate = &m
	}
	id := req.ConnectorId
	return &ocpp16.GetCompositeScheduleResponse{Status: ocpp16.GetCompositeScheduleStatusAccepted,
		ConnectorId: &id, ScheduleStart: &ocpp16.DateTime{Time: start}, ChargingSchedule: sched}, nil
}

// reported is a connector's schedule as it will be followed: capped at
// the hardware maximum, which also stands where no profile limits, and
// with three phases where the connector cannot switch to one.
func reported(ps []smartcharging.Period, hwMax float64, switchable bool) []smartcharging.Period {
	var out []smartcharging.Period
	for _, p := range ps {
		if p.Limit < 0 || p.Limit > hwMax {
			p.Limit = hwMax
		}
		if !switchable {
			p.Phases = 3
		}
		if n := len(out); n > 0 && out[n-1].Limit == p.Limit && out[n-1].Phases == p.Phases && out[n-1].MinRate == p.MinRate {
			continue
		}
		out = append(out, p)
	}
	return out
}

// toDomain converts an OCPP 1.6 charging profile.
func toDomain(p ocpp16.ChargingProfile) smartcharging.Profile {
	purpose := map[ocpp16.ChargingProfilePurposeType]smartcharging.Purpose{
		ocpp16.ChargingProfilePurposeTypeChargePointMaxProfile: smartcharging.ChargePointMax,
		ocpp16.ChargingProfilePurposeTypeTxDefaultProfile:      smartcharging.TxDefault,
		ocpp16.ChargingProfilePurposeTypeTxProfile:             smartcharging.Tx,
	}[p.ChargingProfilePurpose]
	out := smartcharging.Profile{ID: p.ChargingProfileId, StackLevel: p.StackLevel, Purpose: purpose,
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
			sp.Phases = *per.NumberPhases
		}
		out.Schedule.Periods = append(out.Schedule.Periods, sp)
	}
	return out
}
