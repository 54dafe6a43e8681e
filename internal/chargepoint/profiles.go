package chargepoint

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/evse-dev/evse/internal/smartcharging"
)

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

// stacks returns the profiles that bear on a connector: the charge
// point's maximum, and the connector's own (its Tx profiles, and the
// TxDefault profiles set on it or on connector 0). At the same stack
// level, a connector's own TxDefault profile comes first, and so wins over
// connector 0's.
func (c *Core) stacks(id int) (cpMax, own []smartcharging.Profile) {
	var shared []smartcharging.Profile
	for _, p := range c.profiles {
		switch {
		case p.Profile.Purpose == smartcharging.ChargePointMax:
			cpMax = append(cpMax, p.Profile)
		case p.Connector == id:
			own = append(own, p.Profile)
		case p.Connector == 0 && p.Profile.Purpose == smartcharging.TxDefault:
			shared = append(shared, p.Profile)
		}
	}
	return cpMax, append(own, shared...)
}

// chargingSession is what a connector's schedule depends on besides
// profiles.
func (c *Core) chargingSession(cn *connector) smartcharging.Session {
	if t := cn.tx; t != nil {
		return smartcharging.Session{Active: true, TransactionID: c.txID(t), Start: t.Started}
	}
	return smartcharging.Session{}
}

// txID is the id the central system knows a transaction by: the charge
// point's own where it names them (2.0.1), known from the start; else
// the central system's, 0 until its answer to the start.
func (c *Core) txID(t *Transaction) int {
	if c.cfg.NamesTransactions {
		return int(t.Local)
	}
	return t.CSMSID
}

// maxShare returns the ChargePointMax profiles as one connector's share:
// the charge point's maximum is shared equally by the connectors with a
// transaction.
func (c *Core) maxShare(cpMax []smartcharging.Profile) []smartcharging.Profile {
	n := 0
	for _, cn := range c.conns {
		if cn.tx != nil {
			n++
		}
	}
	if n > 1 && len(cpMax) > 0 {
		return smartcharging.Scale(cpMax, 1/float64(n))
	}
	return cpMax
}

// refreshSchedules works out each connector's schedule when a profile, a
// session or a period boundary asks for it.
func (c *Core) refreshSchedules() {
	now := c.now
	if !c.schedDirty && (c.schedUntil.IsZero() || now.Before(c.schedUntil)) {
		return
	}
	c.schedDirty, c.schedUntil = false, time.Time{}
	for _, cn := range c.conns {
		s, until := noSchedule, time.Time{}
		if len(c.profiles) > 0 {
			cpMax, own := c.stacks(cn.id)
			var p smartcharging.Period
			p, until = smartcharging.Next(c.maxShare(cpMax), own, c.chargingSession(cn), now)
			s = schedule{limit: p.Limit, phases: p.Phases, minRate: p.MinRate}
		}
		if s != cn.sched {
			c.log.Info("charging schedule", "connector", cn.id, "limit", s.limit, "phases", s.phases, "min_rate", s.minRate)
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

// checkProfile tells why a charging profile for connector id cannot be
// installed, "" when it can.
func (c *Core) checkProfile(id int, p smartcharging.Profile) string {
	s := c.s
	sched := p.Schedule
	switch {
	case id < 0 || id > len(c.conns):
		return fmt.Sprintf("no connector %d", id)
	case sched.Unit != smartcharging.Amperes:
		return fmt.Sprintf("chargingRateUnit %s: ChargingScheduleAllowedChargingRateUnit is Current", sched.Unit)
	case p.StackLevel < 0 || p.StackLevel > s.ChargeProfileMaxStackLevel:
		return fmt.Sprintf("stackLevel %d is over ChargeProfileMaxStackLevel %d", p.StackLevel, s.ChargeProfileMaxStackLevel)
	case len(sched.Periods) == 0:
		return "no chargingSchedulePeriod"
	case len(sched.Periods) > s.ChargingScheduleMaxPeriods:
		return fmt.Sprintf("%d periods are over ChargingScheduleMaxPeriods %d", len(sched.Periods), s.ChargingScheduleMaxPeriods)
	case sched.Duration != nil && (*sched.Duration < 0 || *sched.Duration > math.MaxInt32):
		return fmt.Sprintf("duration %d", *sched.Duration)
	case p.Kind == smartcharging.Recurring && (p.Recurrency.Every() == 0 || sched.Start.IsZero()):
		return "a Recurring profile needs recurrencyKind and startSchedule"
	case p.Purpose == smartcharging.ChargePointMax && id != 0:
		return "a ChargePointMaxProfile is set on connector 0 only"
	case p.Purpose == smartcharging.Tx && id == 0:
		return "a TxProfile is set on a connector, not on 0"
	case p.TransactionID != nil && p.Purpose != smartcharging.Tx:
		return "transactionId is for TxProfiles only"
	case !p.ValidFrom.IsZero() && !p.ValidTo.IsZero() && !p.ValidTo.After(p.ValidFrom):
		return "validTo is not after validFrom"
	case !sched.Start.IsZero() && (sched.Start.Before(earliestSchedule) || sched.Start.After(latestSchedule)):
		// Time arithmetic saturates about 292 years from now; a
		// Recurring schedule from year 1 would also take the charge
		// point through every day since.
		return fmt.Sprintf("startSchedule %v is out of range", sched.Start)
	}
	last := -1
	for _, per := range sched.Periods {
		switch {
		case per.Start <= last:
			return "periods' startPeriod must increase"
		case per.Start > math.MaxInt32:
			return fmt.Sprintf("startPeriod %d", per.Start)
		case per.Limit < 0:
			return fmt.Sprintf("a negative limit %g", per.Limit)
		case per.Phases < 0 || per.Phases > 3:
			return fmt.Sprintf("numberPhases %d", per.Phases)
		}
		last = per.Start
	}
	return ""
}

// setProfile installs a charging profile on connector id; it replaces a
// profile of the same id, and one of the same connector, purpose and
// stack level. It returns why not, "" when installed.
func (c *Core) setProfile(id int, p smartcharging.Profile) string {
	if why := c.checkProfile(id, p); why != "" {
		return why
	}
	if p.Purpose == smartcharging.Tx {
		t := c.conn(id).tx
		switch {
		case t == nil:
			return fmt.Sprintf("no transaction on connector %d", id)
		case p.TransactionID != nil && *p.TransactionID != c.txID(t):
			return fmt.Sprintf("transaction %d is not the one on connector %d", *p.TransactionID, id)
		}
	}
	replaced := func(q InstalledProfile) bool {
		return q.Profile.ID == p.ID || q.Connector == id && q.Profile.Purpose == p.Purpose && q.Profile.StackLevel == p.StackLevel
	}
	kept := slices.DeleteFunc(slices.Clone(c.profiles), replaced)
	if max := c.s.MaxChargingProfilesInstalled; len(kept)+c.promised()+1 > max {
		return fmt.Sprintf("MaxChargingProfilesInstalled %d are installed or promised", max)
	}
	for _, q := range c.profiles {
		if replaced(q) {
			c.record(ProfileRemoved{ID: q.Profile.ID})
		}
	}
	ip := InstalledProfile{Connector: id, Profile: p}
	c.record(ProfileKept{Profile: ip})
	c.profiles = append(kept, ip)
	c.schedDirty = true
	return ""
}

// clearProfiles removes the profiles a ClearProfiles selects and reports
// how many.
func (c *Core) clearProfiles(r ClearProfiles) int {
	return c.removeProfiles(func(q InstalledProfile) bool {
		if r.ID != nil {
			return q.Profile.ID == *r.ID
		}
		return (r.Connector == nil || q.Connector == *r.Connector) &&
			(r.Purpose == "" || q.Profile.Purpose == r.Purpose) &&
			(r.StackLevel == nil || q.Profile.StackLevel == *r.StackLevel)
	})
}

// removeProfiles removes the profiles match selects.
func (c *Core) removeProfiles(match func(InstalledProfile) bool) int {
	n := 0
	for _, q := range c.profiles {
		if match(q) {
			c.record(ProfileRemoved{ID: q.Profile.ID})
			n++
		}
	}
	if n > 0 {
		c.profiles = slices.DeleteFunc(c.profiles, match)
		c.schedDirty = true
	}
	return n
}

// endTxProfiles removes a connector's Tx profiles when its transaction
// ends.
func (c *Core) endTxProfiles(cn *connector) {
	c.removeProfiles(func(q InstalledProfile) bool {
		return q.Connector == cn.id && q.Profile.Purpose == smartcharging.Tx
	})
}

// promise keeps a place among MaxChargingProfilesInstalled for the Tx
// profile of an accepted remote start until its transaction starts, its
// authorization lapses, or ConnectionTimeOut and PromiseSlack have
// passed.
func (c *Core) promise(p *smartcharging.Profile) {
	if c.promises == nil {
		c.promises = map[*smartcharging.Profile]time.Time{}
	}
	c.promises[p] = c.now.Add(time.Duration(c.s.ConnectionTimeOut)*time.Second + c.rules.PromiseSlack)
}

// promised counts the places promised and not lapsed.
func (c *Core) promised() int {
	for p, until := range c.promises {
		if !c.now.Before(until) {
			delete(c.promises, p)
		}
	}
	return len(c.promises)
}

// checkRemoteProfile tells why the charging profile of a remote start on
// connector id cannot be taken, "" when it can.
func (c *Core) checkRemoteProfile(id int, p smartcharging.Profile) string {
	if p.Purpose != smartcharging.Tx {
		return "the profile of a RemoteStartTransaction is a TxProfile"
	}
	if why := c.checkProfile(id, p); why != "" {
		return why
	}
	if max := c.s.MaxChargingProfilesInstalled; len(c.profiles)+c.promised()+1 > max {
		return fmt.Sprintf("MaxChargingProfilesInstalled %d are installed or promised", max)
	}
	return ""
}

// compositeInputs copies what connector id's composite schedule (0: the
// charge point's) is computed from; nil for no such connector.
func (c *Core) compositeInputs(id int) *CompositeInputs {
	if id < 0 || id > len(c.conns) {
		return nil
	}
	in := &CompositeInputs{Start: c.now.Truncate(time.Second), MaxCurrent: c.cfg.MaxCurrent}
	for _, cn := range c.conns {
		if id != 0 && cn.id != id {
			continue
		}
		cpMax, own := c.stacks(cn.id)
		if id != 0 {
			cpMax = c.maxShare(cpMax)
		}
		in.Stacks = append(in.Stacks, Stack{Connector: cn.id, CPMax: cpMax, Own: own, Session: c.chargingSession(cn),
			Switchable: c.canSwitchPhases()})
	}
	return in
}
