package v201

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/monitoring"
	"github.com/evse-dev/evse/internal/ocpp201"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// Monitoring's bounds and pace (the MonitoringCtrlr variables tell them).
const (
	// monitorItems is ItemsPerMessage of SetVariableMonitoring and
	// ClearVariableMonitoring.
	monitorItems = 20
	// monitorBytes is BytesPerMessage of both.
	monitorBytes = 8000
	// offlineQueuingSeverity: while the CSMS cannot be told, the events
	// of monitors of this severity or more severe (a lower number) wait,
	// up to maxQueuedEvents (the oldest dropped first); the others are
	// dropped.
	offlineQueuingSeverity = 4
	maxQueuedEvents        = 100
	// monitorTick is how often the monitors read the values they watch
	// and the periodic ones come round.
	monitorTick = time.Second
	// idleTick is the timer's pace while no monitor needs rounds: a round
	// then only while offline (no status is sent then).
	idleTick = 5 * time.Second
	// Where the monitors are kept in the station's store.
	bucketMonitoring = "monitoring"
	keyMonitors      = "monitors"
	// Severities of the maker's monitors.
	problemSeverity      = 2 // SystemFailure
	availabilitySeverity = 7 // Notice
)

// monitors is the station's monitoring: the monitors (package
// monitoring, pure) and the events waiting to be sent. mu guards it. It
// is never held while calling the core or the CSMS; held, it reads the
// settings (Get, which takes no lock of theirs) and writes the store.
// The settings call settingChanged with their writer's lock held, so the
// order is the settings' lock, then mu: nothing under mu may write a
// setting.
type monitors struct {
	mu        sync.Mutex
	set       *monitoring.Set
	queue     []ocpp201.EventData
	nextEvent int
	sending   bool
	// tx names the transaction under way on each EVSE, as last read.
	tx        map[int]string
	stopWatch func()
	// statusChanged: a connector's status changed since the last round
	// (AvailabilityState and Problem follow it); kicked: a round for it
	// is scheduled.
	statusChanged, kicked atomic.Bool
}

// presets are the maker's monitors of a station with n EVSEs: hardwired,
// a Delta on Problem of the station and of each EVSE (any change is
// told); preconfigured, a Delta on AvailabilityState of the station and
// of each EVSE. The stations of a size share one list (a fleet's
// thousands), which nobody changes.
func presets(n int) []monitoring.Monitor {
	if list, ok := presetsOf.Load(n); ok {
		return list.([]monitoring.Monitor)
	}
	list, _ := presetsOf.LoadOrStore(n, makePresets(n))
	return list.([]monitoring.Monitor)
}

// presetsOf are the presets by number of EVSEs.
var presetsOf sync.Map

func makePresets(n int) []monitoring.Monitor {
	var out []monitoring.Monitor
	add := func(kind monitoring.Kind, evse int, variable string, severity int) {
		t := monitoring.Target{Component: "ChargingStation", Variable: variable}
		if evse > 0 {
			t.Component, t.EVSE = "EVSE", evse
		}
		out = append(out, monitoring.Monitor{ID: len(out) + 1, Target: t, Type: monitoring.Delta, Severity: severity, Kind: kind})
	}
	for i := 0; i <= n; i++ {
		add(monitoring.HardWired, i, "Problem", problemSeverity)
	}
	for i := 0; i <= n; i++ {
		add(monitoring.Preconfigured, i, "AvailabilityState", availabilitySeverity)
	}
	return out
}

// startMonitoring restores the monitors from the store, watches the
// settings and starts the rounds.
func (cp *ChargePoint) startMonitoring() {
	var saved *monitoring.Saved
	err := cp.opts.Store.View(func(tx kv.Tx) error {
		raw := tx.Get(bucketMonitoring, keyMonitors)
		if raw == nil {
			return nil
		}
		saved = &monitoring.Saved{}
		return json.Unmarshal(raw, saved)
	})
	if err != nil {
		cp.log.Error("the monitors could not be read; the maker's are in force", "err", err)
		saved = nil
	}
	cp.mon.set = monitoring.New(presets(cp.opts.Settings.Snapshot().NumberOfConnectors), saved)
	cp.mon.stopWatch = cp.opts.Settings.Watch(cp.settingChanged)
	cp.mon.statusChanged.Store(true) // a first round reads every value
	time.AfterFunc(monitorTick, cp.monitorTick)
}

// saveMonitors keeps the monitors durably; mu is held.
func (cp *ChargePoint) saveMonitors() {
	raw, err := json.Marshal(cp.mon.set.Saved())
	if err == nil {
		err = cp.opts.Store.Update(func(tx kv.Tx) error { return tx.Put(bucketMonitoring, keyMonitors, raw) })
	}
	if err != nil {
		cp.log.Error("the monitors could not be kept; they hold until a restart", "err", err)
	}
}

// monitorTick runs a round of the monitors when one is needed (see
// needsRounds: every monitorTick), else every idleTick while offline,
// when no status is sent (statusSeen runs the round after one is), and
// schedules the next, until the station has stopped (a station on a shared runner
// lives as long as its process). An idle station with the maker's
// monitors only reads nothing: a fleet of ten thousand must not ask
// each station its status every second. The ticks are a chain of
// time.AfterFunc, not a goroutine per station; the monitors' times are
// the station's clock's.
func (cp *ChargePoint) monitorTick() {
	if cp.Closed() {
		cp.mon.stopWatch()
		return
	}
	cp.mon.mu.Lock()
	need := needsRounds(cp.mon.set.Active())
	cp.mon.mu.Unlock()
	next := monitorTick
	if !need {
		next = idleTick
	}
	offline := false
	if c := cp.Caller(); c == nil || !c.Connected() {
		offline = true // a fault while offline is seen, and its event waits
	}
	if !cp.mon.statusChanged.Swap(false) && !need && !offline {
		time.AfterFunc(next, cp.monitorTick)
		return
	}
	cp.Go(5*monitorTick, func(ctx context.Context) {
		defer time.AfterFunc(next, cp.monitorTick)
		cp.monitorRound(ctx)
	})
}

// monitorRound reads the values the active monitors watch, tells the
// events of those that tripped or came round, and sends what waits.
func (cp *ChargePoint) monitorRound(ctx context.Context) {
	cp.mon.mu.Lock()
	active := cp.mon.set.Active()
	cp.mon.mu.Unlock()
	st, err := cp.Status(ctx)
	if err != nil {
		return
	}
	tx := map[int]string{}
	for _, c := range st.Connectors {
		if c.Transaction != nil {
			tx[c.ID] = TransactionID(c.Transaction.LocalID)
		}
	}
	var live []liveVariable
	if len(active) > 0 {
		live = cp.liveFrom(st)
	}
	now := cp.opts.Clock.Now()
	cp.mon.mu.Lock()
	cp.mon.tx = tx
	var events []monitoring.Event
	values := map[monitoring.Target]string{}
	for _, m := range active {
		if _, done := values[m.Target]; done {
			continue
		}
		value, numeric, ok := cp.monitoredValue(m.Target, live)
		if !ok {
			continue
		}
		values[m.Target] = value
		events = append(events, cp.mon.set.Observe(m.Target, value, numeric, cp.txOf, now)...)
	}
	for _, e := range cp.mon.set.Due(now, cp.txOf) {
		e.Value = values[e.Monitor.Target]
		events = append(events, e)
	}
	cp.queueEvents(events)
	cp.mon.mu.Unlock()
	cp.sendEvents(ctx)
}

// needsRounds reports whether active monitors must be read every round:
// a periodic one, or one of a live variable that moves without a
// connector's status changing (Power, …). AvailabilityState and Problem
// move with the status, which the link tells (statusSeen); the keys'
// variables with the settings (settingChanged).
func needsRounds(active []monitoring.Monitor) bool {
	for _, m := range active {
		switch {
		case m.Type == monitoring.Periodic || m.Type == monitoring.PeriodicClockAligned:
			return true
		case physical(ocpp201.Component{Name: m.Target.Component}) && m.Target.Variable != "AvailabilityState" && m.Target.Variable != "Problem":
			return true
		}
	}
	return false
}

// statusSeen notes that a connector's status changed: a round reads the
// monitored values within monitorTick, not at the idle tick's pace.
func (cp *ChargePoint) statusSeen() {
	cp.mon.statusChanged.Store(true)
	if !cp.mon.kicked.CompareAndSwap(false, true) {
		return // a round is coming
	}
	time.AfterFunc(monitorTick, func() {
		cp.mon.kicked.Store(false)
		if cp.Closed() || !cp.mon.statusChanged.Swap(false) {
			return
		}
		cp.Go(5*monitorTick, cp.monitorRound)
	})
}

// txOf names the transaction under way on an EVSE (0: on any); mu is
// held.
func (cp *ChargePoint) txOf(evse int) string {
	if evse > 0 {
		return cp.mon.tx[evse]
	}
	for i := 1; i <= len(cp.mon.tx)+1 && len(cp.mon.tx) > 0; i++ {
		if id, ok := cp.mon.tx[i]; ok {
			return id
		}
	}
	return ""
}

// settingChanged tells the events of the monitors on the variables of a
// key that changed (over OCPP, locally or by the station), at once. A
// write-only key (a password) is never monitored.
func (cp *ChargePoint) settingChanged(c config.Change) {
	if c.Key.Access == config.WriteOnly {
		return
	}
	now := cp.opts.Clock.Now()
	cp.mon.mu.Lock()
	var events []monitoring.Event
	for _, v := range cp.model.Variables() {
		if v.Key != c.Key.Name {
			continue
		}
		t := monitoring.Target{Component: v.Component, Variable: v.Name, Instance: v.Instance}
		if cp.mon.set.Watched(t) {
			events = append(events, cp.mon.set.Observe(t, v.Read(c.New), numericKey(c.Key), cp.txOf, now)...)
		}
	}
	n := cp.queueEvents(events)
	cp.mon.mu.Unlock()
	if n > 0 {
		cp.Go(time.Minute, cp.sendEvents)
	}
}

// numericKey reports whether a key's value is a number.
func numericKey(k config.Key) bool { return k.Kind == config.KindInt || k.Kind == config.KindEnum }

// monitoredValue is a monitored variable's value now, and whether it is
// a number; false when it has none to read.
func (cp *ChargePoint) monitoredValue(t monitoring.Target, live []liveVariable) (value string, numeric, ok bool) {
	c, v := componentOf(t), ocpp201.Variable{Name: t.Variable, Instance: t.Instance}
	if physical(c) {
		lv, found, _ := findLive(live, c, v)
		value, has := lv.attr("")
		return value, numericData(lv.dataType), found && has
	}
	dv, found, _ := cp.find(c, v)
	if !found {
		return "", false, false
	}
	if dv.Key == "" {
		return dv.Read(""), false, true
	}
	kv, err := cp.opts.Settings.Get(dv.Key)
	if err != nil || kv.Key.Access == config.WriteOnly {
		return "", false, false
	}
	return dv.Read(kv.Value), numericKey(kv.Key), true
}

func numericData(d ocpp201.Data) bool { return d == ocpp201.DataInteger || d == ocpp201.DataDecimal }

// componentOf is a monitored variable's component.
func componentOf(t monitoring.Target) ocpp201.Component {
	c := ocpp201.Component{Name: t.Component, Instance: t.ComponentInstance}
	if t.EVSE > 0 {
		c.Evse = &ocpp201.EVSE{Id: t.EVSE}
		if t.Connector > 0 {
			n := t.Connector
			c.Evse.ConnectorId = &n
		}
	}
	return c
}

// targetOf is a component's variable as a monitor names it.
func targetOf(c ocpp201.Component, v ocpp201.Variable) monitoring.Target {
	t := monitoring.Target{Component: c.Name, ComponentInstance: c.Instance, Variable: v.Name, Instance: v.Instance}
	if c.Evse != nil {
		t.EVSE = c.Evse.Id
		if c.Evse.ConnectorId != nil {
			t.Connector = *c.Evse.ConnectorId
		}
	}
	return t
}

// queueEvents puts events to tell in the queue, and returns how many
// wait; mu is held. While the CSMS cannot be told, only the severe ones
// wait (offlineQueuingSeverity); the queue keeps the newest
// maxQueuedEvents.
func (cp *ChargePoint) queueEvents(events []monitoring.Event) int {
	online := cp.canNotify()
	for _, e := range events {
		if !online && e.Monitor.Severity > offlineQueuingSeverity {
			continue
		}
		cp.mon.nextEvent++
		d := ocpp201.EventData{EventId: cp.mon.nextEvent, Timestamp: ocpp201.DateTime{Time: e.At}, Trigger: ocpp201.EventTrigger(e.Trigger),
			ActualValue: truncate(e.Value, 2500), TransactionId: e.TransactionID, Component: componentOf(e.Monitor.Target),
			Variable:              ocpp201.Variable{Name: e.Monitor.Target.Variable, Instance: e.Monitor.Target.Instance},
			EventNotificationType: ocpp201.EventNotification(e.Monitor.Kind)}
		id := e.Monitor.ID
		d.VariableMonitoringId = &id
		if e.Cleared {
			cleared := true
			d.Cleared = &cleared
		}
		cp.mon.queue = append(cp.mon.queue, d)
	}
	if over := len(cp.mon.queue) - maxQueuedEvents; over > 0 {
		cp.log.Warn("monitoring events dropped: too many wait", "dropped", over)
		cp.mon.queue = append(cp.mon.queue[:0], cp.mon.queue[over:]...)
	}
	return len(cp.mon.queue)
}

// canNotify reports whether NotifyEvent can go now: the station speaks
// 2.0.1 to a CSMS that accepted it.
func (cp *ChargePoint) canNotify() bool {
	c := cp.Caller()
	return c != nil && c.Connected() && cp.Speaking() == Subprotocol && cp.Registration() == chargepoint.Accepted
}

// sendEvents sends the events that wait with NotifyEvent, in parts of
// reportItems; what the CSMS did not get waits for the next round.
func (cp *ChargePoint) sendEvents(ctx context.Context) {
	cp.mon.mu.Lock()
	if cp.mon.sending || len(cp.mon.queue) == 0 || !cp.canNotify() {
		cp.mon.mu.Unlock()
		return
	}
	cp.mon.sending = true
	events := append([]ocpp201.EventData(nil), cp.mon.queue...)
	cp.mon.mu.Unlock()
	generated := cp.opts.Clock.Now()
	sent, err := cp.sendParts(ctx, "NotifyEvent", len(events), reportItems, func(seq, lo, hi int, tbc *bool) any {
		return ocpp201.NotifyEventRequest{GeneratedAt: ocpp201.DateTime{Time: generated}, SeqNo: seq, Tbc: tbc, EventData: events[lo:hi]}
	})
	if err != nil {
		cp.log.Warn("NotifyEvent not delivered; the events wait", "err", err)
	}
	cp.mon.mu.Lock()
	defer cp.mon.mu.Unlock()
	cp.mon.sending = false
	// The queue may have been cut meanwhile: drop what was sent by id.
	delivered := map[int]bool{}
	for _, e := range events[:sent] {
		delivered[e.EventId] = true
	}
	kept := cp.mon.queue[:0]
	for _, e := range cp.mon.queue {
		if !delivered[e.EventId] {
			kept = append(kept, e)
		}
	}
	cp.mon.queue = kept
}

// sendParts sends n items with action in parts of per items, once
// each, seqNo from 0, tbc on all but the last; part makes a part's
// payload of items [lo, hi). It returns how many items were delivered,
// and the error that stopped it.
func (cp *ChargePoint) sendParts(ctx context.Context, action string, n, per int, part func(seq, lo, hi int, tbc *bool) any) (int, error) {
	caller := cp.Caller()
	if caller == nil {
		return 0, fmt.Errorf("v201: %s: not running", action)
	}
	for seq := 0; seq*per < n; seq++ {
		lo, hi := seq*per, min((seq+1)*per, n)
		var tbc *bool
		if hi < n {
			more := true
			tbc = &more
		}
		payload, err := json.Marshal(part(seq, lo, hi, tbc))
		if err == nil {
			_, err = caller.Call(ctx, action, payload)
		}
		if err != nil {
			return lo, fmt.Errorf("v201: %s part %d: %w", action, seq, err)
		}
	}
	return n, nil
}

// monitoringCtrlr are MonitoringCtrlr's variables, read-only: the
// monitoring is available and enabled, its bounds, the active base and
// level, and which events wait while offline.
func (cp *ChargePoint) monitoringCtrlr() []liveVariable {
	c := ocpp201.Component{Name: "MonitoringCtrlr"}
	integer := func(name, instance string, n int) liveVariable {
		return liveVariable{component: c, variable: name, instance: instance, attrs: []liveAttr{{ocpp201.AttributeActual, strconv.Itoa(n)}},
			dataType: ocpp201.DataInteger, constant: true}
	}
	cp.mon.mu.Lock()
	base, level := cp.mon.set.Base(), cp.mon.set.Level()
	cp.mon.mu.Unlock()
	level9 := float64(monitoring.MaxSeverity)
	out := []liveVariable{
		{component: c, variable: "Available", attrs: []liveAttr{{ocpp201.AttributeActual, "true"}}, dataType: ocpp201.DataBoolean, constant: true},
		{component: c, variable: "Enabled", attrs: []liveAttr{{ocpp201.AttributeActual, "true"}}, dataType: ocpp201.DataBoolean, constant: true},
		integer("ItemsPerMessage", "SetVariableMonitoring", monitorItems),
		integer("ItemsPerMessage", "ClearVariableMonitoring", monitorItems),
		integer("BytesPerMessage", "SetVariableMonitoring", monitorBytes),
		integer("BytesPerMessage", "ClearVariableMonitoring", monitorBytes),
		integer("OfflineQueuingSeverity", "", offlineQueuingSeverity),
		{component: c, variable: "ActiveMonitoringBase", attrs: []liveAttr{{ocpp201.AttributeActual, string(base)}},
			dataType: ocpp201.DataOptionList, valuesList: "All,FactoryDefault,HardWiredOnly"},
		{component: c, variable: "ActiveMonitoringLevel", attrs: []liveAttr{{ocpp201.AttributeActual, strconv.Itoa(level)}},
			dataType: ocpp201.DataInteger, maxLimit: &level9},
	}
	return out
}

// setVariableMonitoring answers SetVariableMonitoring (N04): each monitor
// on a variable of the device model or of the physical components, as
// package monitoring rules (UnknownComponent and UnknownVariable are
// found here; a write-only variable is Rejected). More than
// ItemsPerMessage monitors is OccurrenceConstraintViolation.
func (cp *ChargePoint) setVariableMonitoring(ctx context.Context, r *ocpp201.SetVariableMonitoringRequest) (*ocpp201.SetVariableMonitoringResponse, error) {
	if n := len(r.SetMonitoringData); n > monitorItems {
		return nil, rpc.Errorf(rpc.OccurrenceConstraintViolation, "%d monitors, ItemsPerMessage is %d", n, monitorItems)
	}
	live, err := cp.liveVariables(ctx)
	if err != nil {
		return nil, err
	}
	resp := &ocpp201.SetVariableMonitoringResponse{}
	cp.mon.mu.Lock()
	defer cp.mon.mu.Unlock()
	changed := false
	for _, d := range r.SetMonitoringData {
		res := ocpp201.SetMonitoringResult{Type: d.Type, Component: d.Component, Variable: d.Variable, Severity: d.Severity}
		t, numeric, status := cp.monitorable(d.Component, d.Variable, live)
		if status == ocpp201.SetMonitoringStatusAccepted {
			m := monitoring.Monitor{Target: t, Type: monitoring.Type(d.Type), Value: d.Value, Severity: d.Severity,
				Transaction: d.Transaction != nil && *d.Transaction}
			if d.Id != nil {
				m.ID = *d.Id
			}
			id, s := cp.mon.set.Put(m, numeric)
			status = ocpp201.SetMonitoringStatus(s)
			if s == monitoring.Accepted {
				res.Id, changed = &id, true
			}
		}
		res.Status = status
		resp.SetMonitoringResult = append(resp.SetMonitoringResult, res)
	}
	if changed {
		cp.saveMonitors()
	}
	return resp, nil
}

// monitorable says whether a variable can be monitored: its target and
// whether its value is a number, or why not.
func (cp *ChargePoint) monitorable(c ocpp201.Component, v ocpp201.Variable, live []liveVariable) (monitoring.Target, bool, ocpp201.SetMonitoringStatus) {
	if physical(c) {
		lv, ok, known := findLive(live, c, v)
		switch {
		case !known:
			return monitoring.Target{}, false, ocpp201.SetMonitoringStatusUnknownComponent
		case !ok:
			return monitoring.Target{}, false, ocpp201.SetMonitoringStatusUnknownVariable
		}
		return targetOf(lv.component, v), numericData(lv.dataType), ocpp201.SetMonitoringStatusAccepted
	}
	dv, ok, known := cp.find(c, v)
	switch {
	case !known:
		return monitoring.Target{}, false, ocpp201.SetMonitoringStatusUnknownComponent
	case !ok:
		return monitoring.Target{}, false, ocpp201.SetMonitoringStatusUnknownVariable
	}
	k, _ := cp.opts.Settings.Catalogue().Lookup(dv.Key)
	if dv.Key != "" && k.Access == config.WriteOnly {
		return monitoring.Target{}, false, ocpp201.SetMonitoringStatusRejected
	}
	return targetOf(c, v), dv.Key != "" && numericKey(k), ocpp201.SetMonitoringStatusAccepted
}

// clearVariableMonitoring answers ClearVariableMonitoring (N06).
func (cp *ChargePoint) clearVariableMonitoring(r *ocpp201.ClearVariableMonitoringRequest) (*ocpp201.ClearVariableMonitoringResponse, error) {
	if n := len(r.Id); n > monitorItems {
		return nil, rpc.Errorf(rpc.OccurrenceConstraintViolation, "%d monitors, ItemsPerMessage is %d", n, monitorItems)
	}
	cp.mon.mu.Lock()
	defer cp.mon.mu.Unlock()
	resp := &ocpp201.ClearVariableMonitoringResponse{}
	changed := false
	for _, id := range r.Id {
		s := cp.mon.set.Clear(id)
		changed = changed || s == monitoring.Accepted
		resp.ClearMonitoringResult = append(resp.ClearMonitoringResult, ocpp201.ClearMonitoringResult{Id: id, Status: ocpp201.ClearMonitoringStatus(s)})
	}
	if changed {
		cp.saveMonitors()
	}
	return resp, nil
}

// setMonitoringBase answers SetMonitoringBase (N03).
func (cp *ChargePoint) setMonitoringBase(r *ocpp201.SetMonitoringBaseRequest) *ocpp201.SetMonitoringBaseResponse {
	cp.mon.mu.Lock()
	defer cp.mon.mu.Unlock()
	cp.mon.set.SetBase(monitoring.Base(r.MonitoringBase))
	cp.saveMonitors()
	return &ocpp201.SetMonitoringBaseResponse{Status: ocpp201.GenericDeviceModelStatusAccepted}
}

// setMonitoringLevel answers SetMonitoringLevel (N05): Rejected for a
// severity out of 0–9.
func (cp *ChargePoint) setMonitoringLevel(r *ocpp201.SetMonitoringLevelRequest) *ocpp201.SetMonitoringLevelResponse {
	cp.mon.mu.Lock()
	defer cp.mon.mu.Unlock()
	if !cp.mon.set.SetLevel(r.Severity) {
		return &ocpp201.SetMonitoringLevelResponse{Status: ocpp201.GenericStatusRejected,
			StatusInfo: &ocpp201.StatusInfo{ReasonCode: "InvalidValue", AdditionalInfo: "severity is 0 to 9"}}
	}
	cp.saveMonitors()
	return &ocpp201.SetMonitoringLevelResponse{Status: ocpp201.GenericStatusAccepted}
}

// getMonitoringReport answers GetMonitoringReport (N02): the active
// monitors of the types the criteria name (all without any), on the
// component-variables asked for (all without any), sent after the answer
// with NotifyMonitoringReport in parts; EmptyResultSet when there are
// none.
func (cp *ChargePoint) getMonitoringReport(ctx context.Context, r *ocpp201.GetMonitoringReportRequest) *ocpp201.GetMonitoringReportResponse {
	cp.mon.mu.Lock()
	active := cp.mon.set.Active()
	cp.mon.mu.Unlock()
	var data []ocpp201.MonitoringData
	at := map[monitoring.Target]int{}
	for _, m := range active {
		c, v := componentOf(m.Target), ocpp201.Variable{Name: m.Target.Variable, Instance: m.Target.Instance}
		if !meetsMonitoringCriteria(m, r.MonitoringCriteria) || len(r.ComponentVariable) > 0 && !asked(r.ComponentVariable, ocpp201.ReportData{Component: c, Variable: v}) {
			continue
		}
		vm := ocpp201.VariableMonitoring{Id: m.ID, Transaction: m.Transaction, Value: m.Value, Type: ocpp201.Monitor(m.Type), Severity: m.Severity}
		if i, ok := at[m.Target]; ok {
			data[i].VariableMonitoring = append(data[i].VariableMonitoring, vm)
			continue
		}
		at[m.Target] = len(data)
		data = append(data, ocpp201.MonitoringData{Component: c, Variable: v, VariableMonitoring: []ocpp201.VariableMonitoring{vm}})
	}
	if len(data) == 0 {
		return &ocpp201.GetMonitoringReportResponse{Status: ocpp201.GenericDeviceModelStatusEmptyResultSet}
	}
	generated := cp.opts.Clock.Now()
	ok := cp.sendReportParts(ctx, "NotifyMonitoringReport", r.RequestId, len(data), reportItems, func(seq, lo, hi int, tbc *bool) any {
		return ocpp201.NotifyMonitoringReportRequest{RequestId: r.RequestId, GeneratedAt: ocpp201.DateTime{Time: generated},
			SeqNo: seq, Tbc: tbc, Monitor: data[lo:hi]}
	})
	if !ok {
		return &ocpp201.GetMonitoringReportResponse{Status: ocpp201.GenericDeviceModelStatusRejected,
			StatusInfo: &ocpp201.StatusInfo{ReasonCode: "Busy", AdditionalInfo: "a report is being sent"}}
	}
	return &ocpp201.GetMonitoringReportResponse{Status: ocpp201.GenericDeviceModelStatusAccepted}
}

// meetsMonitoringCriteria reports whether a monitor is of a type the
// criteria name; without criteria every monitor is.
func meetsMonitoringCriteria(m monitoring.Monitor, criteria []ocpp201.MonitoringCriterion) bool {
	if len(criteria) == 0 {
		return true
	}
	for _, c := range criteria {
		switch {
		case c == ocpp201.MonitoringCriterionThresholdMonitoring && m.Threshold(),
			c == ocpp201.MonitoringCriterionDeltaMonitoring && m.Type == monitoring.Delta,
			c == ocpp201.MonitoringCriterionPeriodicMonitoring && m.Periodical():
			return true
		}
	}
	return false
}
