package chargepoint

import (
	"time"
)

// sampleOf is one reading of a connector's measurands, false when the
// list is empty. Currents are given for each phase the connector has.
func (c *Core) sampleOf(cn *connector, list []string, ctx ReadingContext, at time.Time) (Sample, bool) {
	if len(list) == 0 {
		return Sample{}, false
	}
	r := c.meters[cn.id-1]
	s := Sample{At: at, Context: ctx}
	for _, m := range list {
		switch Measurand(m) {
		case EnergyImport:
			s.Values = append(s.Values, Value{Measurand: EnergyImport, Value: r.EnergyWh})
		case PowerImport:
			s.Values = append(s.Values, Value{Measurand: PowerImport, Value: r.PowerW})
		case CurrentIn:
			for i := range c.cfg.Phases {
				s.Values = append(s.Values, Value{Measurand: CurrentIn, Phase: i + 1, Value: r.Current[i]})
			}
		}
	}
	return s, true
}

// sample sends MeterValuesSampledData of a transaction and keeps
// StopTxnSampledData for its stop.
func (c *Core) sample(cn *connector, at time.Time) {
	t := cn.tx
	if t == nil || t.Silent {
		return
	}
	if s, ok := c.sampleOf(cn, c.s.StopTxnSampledData, ContextPeriodic, at); ok {
		t.keep(s)
	}
	s, ok := c.sampleOf(cn, c.s.MeterValuesSampledData, ContextPeriodic, at)
	c.keepReading(cn, at, s, ok)
}

// alignedSample sends MeterValuesAlignedData of every connector at a
// clock-aligned boundary (journaled for a transaction, sent if online
// otherwise) and keeps StopTxnAlignedData.
func (c *Core) alignedSample(at time.Time) {
	for _, cn := range c.conns {
		s, ok := c.sampleOf(cn, c.s.MeterValuesAlignedData, ContextClock, at)
		if t := cn.tx; t != nil && !t.Silent {
			if sv, ok := c.sampleOf(cn, c.s.StopTxnAlignedData, ContextClock, at); ok {
				t.keep(sv)
			}
			c.keepReading(cn, at, s, ok)
			continue
		}
		if ok && !c.free.StatusOnly() && c.online() {
			c.call(MeterValues{Connector: cn.id, Sample: s}, pendingCall{kind: callOther})
		}
	}
}

// keepReading keeps a transaction's reading and journals its sample, if
// any, in the same records.
func (c *Core) keepReading(cn *connector, at time.Time, s Sample, journal bool) {
	t := cn.tx
	r := c.meters[cn.id-1]
	t.LastWh, t.LastAt = r.EnergyWh, at
	seqNo := t.Events
	if journal {
		t.Events++ // kept with the event, in the same records
	}
	c.record(TxOpened{Tx: t.copy()})
	c.record(RegisterKept{Connector: cn.id, Wh: r.EnergyWh})
	if journal {
		c.journal.append(c, t.Local, TxUpdated, TxEvent{Connector: cn.id, At: at, Samples: []Sample{s}, SeqNo: seqNo})
	}
}

// keepReadings keeps the readings of the running transactions.
func (c *Core) keepReadings() {
	c.checkpoint = time.Time{}
	for _, cn := range c.conns {
		if cn.tx != nil {
			c.keepReading(cn, c.now, Sample{}, false)
			c.checkpoint = c.now.Add(c.rules.Checkpoint)
		}
	}
}

// scheduleSample sets when a transaction's next sampled meter value is due.
func (c *Core) scheduleSample(cn *connector, from time.Time) {
	cn.nextSample = time.Time{}
	if iv := c.s.MeterValueSampleInterval; iv > 0 && cn.tx != nil && !cn.tx.Silent {
		cn.nextSample = from.Add(time.Duration(iv) * time.Second)
	}
}

// scheduleAligned sets the next clock-aligned boundary.
func (c *Core) scheduleAligned(from time.Time) {
	c.aligned = time.Time{}
	if iv := c.s.ClockAlignedDataInterval; iv > 0 {
		c.aligned = nextAligned(from, time.Duration(iv)*time.Second)
	}
}

// rescheduleMetering applies a change of the metering intervals.
func (c *Core) rescheduleMetering() {
	c.scheduleAligned(c.now)
	for _, cn := range c.conns {
		c.scheduleSample(cn, c.now)
	}
}

// triggeredMeterValues sends the readings of a connector (all with -1)
// for a Trigger.
func (c *Core) triggeredMeterValues(connector int) {
	list := c.s.MeterValuesSampledData
	if len(list) == 0 {
		list = []string{string(EnergyImport)}
	}
	for _, cn := range c.conns {
		if connector > 0 && cn.id != connector {
			continue
		}
		s, _ := c.sampleOf(cn, list, ContextTrigger, c.now)
		m := MeterValues{Connector: cn.id, Sample: s}
		if t := cn.tx; t != nil {
			m.CSMSID = t.CSMSID
		}
		if c.online() {
			c.call(m, pendingCall{kind: callOther})
		}
	}
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

// ChargingState is a transaction's state of charge as OCPP 2.0.1 tells it.
type ChargingState string

// Charging states.
const (
	ChargingEVConnected   ChargingState = "EVConnected"
	ChargingCharging      ChargingState = "Charging"
	ChargingSuspendedEV   ChargingState = "SuspendedEV"
	ChargingSuspendedEVSE ChargingState = "SuspendedEVSE"
	ChargingIdle          ChargingState = "Idle"
)

// chargingState is a running transaction's state now.
func (cn *connector) chargingState() ChargingState {
	switch state, _ := cn.state(); {
	case !cn.pilot.Plugged():
		return ChargingIdle
	case cn.awaitingDriver():
		return ChargingEVConnected
	case state == Charging:
		return ChargingCharging
	case state == SuspendedEVSE:
		return ChargingSuspendedEVSE
	}
	return ChargingSuspendedEV
}

// journalChargingStates journals, for each running transaction whose
// charging state changed since its last event, an update that tells it.
func (c *Core) journalChargingStates() {
	for _, cn := range c.conns {
		t := cn.tx
		if t == nil || t.Silent || c.storeTrouble != "" {
			continue
		}
		st := cn.chargingState()
		if t.ChargingState == "" {
			t.ChargingState = st // a transaction of an older store: from its next change on
			continue
		}
		if st == t.ChargingState {
			continue
		}
		var trigger TxTrigger
		switch {
		case t.ChargingState == ChargingIdle:
			trigger = TriggerCablePluggedIn
		case st == ChargingIdle:
			trigger = TriggerEVCommunicationLost
		}
		t.ChargingState = st
		c.journalUpdate(cn, TxEvent{ChargingState: st, Trigger: trigger})
	}
}
