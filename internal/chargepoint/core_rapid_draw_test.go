package chargepoint

// The random inputs of the property tests (core_rapid_test.go) and their
// descriptions in failure messages.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/evse-dev/evse/internal/hw"
	"github.com/evse-dev/evse/internal/smartcharging"
)

// The events.

// drawEvent draws the next event from what can happen now; nil when it
// stepped the core itself.
func (w *propWorld) drawEvent() Event {
	t := w.rt
	ops := []string{"tick", "sense", "sense", "sense", "sense", "sense", "tag", "tag", "tag", "command", "command",
		"command", "command", "command", "settings"}
	if w.connected {
		ops = append(ops, "linkDown")
	} else {
		ops = append(ops, "linkUp", "linkUp", "linkUp", "linkUp", "linkUp")
	}
	if len(w.pending) > 0 {
		ops = append(ops, "answer", "answer", "answer", "answer", "answer", "answerAll", "answerAll", "answerAll")
	}
	if w.cfg.Managed {
		ops = append(ops, "limits", "limits", "limits")
	}
	if w.cfg.CanSwitchPhases {
		ops = append(ops, "phases")
	}
	if len(w.locks) > 0 {
		ops = append(ops, "lockResult")
	}
	n := len(w.conns)
	switch rapid.SampledFrom(ops).Draw(t, "op") {
	case "sense":
		return Sensed{Connector: rapid.IntRange(1, n).Draw(t, "connector"),
			Pilot: rapid.SampledFrom([]hw.PilotState{hw.PilotC, hw.PilotA, hw.PilotB, hw.PilotC, hw.PilotB, hw.PilotA,
				hw.PilotD, hw.PilotE, hw.PilotF}).Draw(t, "pilot"),
			Fault:    rapid.SampledFrom([]string{"", "", "", "", "", "GroundFailure"}).Draw(t, "fault"),
			CableMax: rapid.SampledFrom([]float64{0, 32, 20, 16, 13, 5}).Draw(t, "cable")}
	case "tag":
		return TagPresented{Connector: rapid.IntRange(0, n).Draw(t, "connector"),
			IDTag: rapid.SampledFrom(propTags).Draw(t, "tag"), Known: w.drawKnown()}
	case "linkUp":
		return LinkUp{ReplayDelay: rapid.SampledFrom([]time.Duration{0, 3 * time.Second}).Draw(t, "replayDelay")}
	case "linkDown":
		return LinkDown{}
	case "answer":
		i := rapid.IntRange(0, len(w.pending)-1).Draw(t, "call")
		c := w.pending[i]
		w.pending = slices.Delete(w.pending, i, i+1)
		return w.drawAnswer(c)
	case "answerAll": // as a central system does, in order
		for len(w.pending) > 0 && !w.halted {
			c := w.pending[0]
			w.pending = w.pending[1:]
			w.step(w.drawAnswer(c))
		}
		return nil
	case "command":
		w.cmd++
		return Command{ID: w.cmd, Cmd: w.drawCommand()}
	case "limits":
		amps := []float64{16, 0, 6, 10, 32, 4, 7.5, -1, -5}
		l := map[int]float64{rapid.IntRange(1, n).Draw(t, "connector"): rapid.SampledFrom(amps).Draw(t, "share")}
		if n == 2 && rapid.Bool().Draw(t, "both") {
			l[1], l[2] = rapid.SampledFrom(amps).Draw(t, "share1"), rapid.SampledFrom(amps).Draw(t, "share2")
		}
		return LimitsSet{Limits: l}
	case "phases":
		return PhasesSet{Phases: map[int]int{rapid.IntRange(1, n).Draw(t, "connector"): rapid.SampledFrom([]int{1, 3}).Draw(t, "phases")}}
	case "settings":
		s := *w.snap
		s.FreeCharging = rapid.IntRange(0, 1).Draw(t, "FreeCharging")
		s.FreeChargingMode = rapid.IntRange(0, 5).Draw(t, "FreeChargingMode")
		return SettingsChanged{Settings: &s}
	case "lockResult":
		i := rapid.IntRange(0, len(w.locks)-1).Draw(t, "lock")
		r := w.locks[i]
		w.locks = slices.Delete(w.locks, i, i+1)
		if rapid.Bool().Draw(t, "lockFails") {
			r.Err = errPropDrawn
		}
		return r
	}
	return Tick{}
}

// drawInfo draws what the central system says of a tag.
func (w *propWorld) drawInfo() AuthInfo {
	t := w.rt
	info := AuthInfo{Status: rapid.SampledFrom([]AuthStatus{AuthAccepted, AuthAccepted, AuthBlocked, AuthInvalid,
		AuthExpired, AuthConcurrentTx}).Draw(t, "status")}
	info.Parent = rapid.SampledFrom([]string{"", "GROUP"}).Draw(t, "parent")
	switch rapid.IntRange(0, 3).Draw(t, "expiry") {
	case 1:
		info.Expiry = w.now.Add(-time.Hour)
	case 2:
		info.Expiry = w.now.Add(10 * time.Minute)
	}
	return info
}

// drawKnown draws what the local list and the cache hold of a tag.
func (w *propWorld) drawKnown() Known {
	var k Known
	if rapid.IntRange(0, 2).Draw(w.rt, "inList") == 2 {
		info := w.drawInfo()
		k.List = &info
	}
	if rapid.IntRange(0, 1).Draw(w.rt, "inCache") == 1 {
		info := w.drawInfo()
		k.Cache = &info
	}
	return k
}

// drawAnswer answers one of the core's CALLs: failed, or as a central
// system may answer it. A CALL that went out on a connection since lost
// is lost.
func (w *propWorld) drawAnswer(c propCall) Answered {
	t := w.rt
	a := Answered{Call: c.msg.Call}
	if c.epoch != w.epoch {
		a.Failure, a.Err = Lost, errPropDrawn
		return a
	}
	a.Failure = rapid.SampledFrom([]Failure{Delivered, Delivered, Delivered, Delivered, Delivered, Refused,
		Unanswered, Lost}).Draw(t, "failure")
	if a.Failure != Delivered {
		a.Err = errPropDrawn
		return a
	}
	switch b := c.msg.Body.(type) {
	case BootNotification:
		a.Answer = BootAnswer{Status: rapid.SampledFrom([]Registration{Accepted, Accepted, Pending, Rejected}).Draw(t, "boot"),
			Interval: rapid.SampledFrom([]time.Duration{0, 60 * time.Second, 5 * time.Second}).Draw(t, "interval")}
	case TxMessage:
		switch b.Entry.Kind {
		case TxStarted:
			a.Answer = StartAnswer{TransactionID: 1000 + int(b.Entry.Tx), Info: w.drawInfo()}
		case TxStopped:
			if rapid.Bool().Draw(t, "stopInfo") {
				info := w.drawInfo()
				a.Answer = StopAnswer{Info: &info}
			} else {
				a.Answer = StopAnswer{}
			}
		}
	case Authorize:
		a.Answer = AuthorizeAnswer{Info: w.drawInfo()}
	}
	return a
}

// drawCommand draws a command of the central system.
func (w *propWorld) drawCommand() any {
	t := w.rt
	n := len(w.conns)
	switch rapid.SampledFrom([]string{"SetProfile", "RemoteStart", "RemoteStop", "SetProfile", "RemoteStart",
		"ClearProfiles", "ChangeAvailability", "EmergencyStop", "Unlock", "ReserveNow", "CancelReservation",
		"Trigger"}).Draw(t, "command") {
	case "SetProfile":
		purpose := rapid.SampledFrom([]smartcharging.Purpose{smartcharging.TxDefault, smartcharging.ChargePointMax,
			smartcharging.Tx}).Draw(t, "purpose")
		conn := 0
		switch purpose {
		case smartcharging.TxDefault:
			conn = rapid.IntRange(0, n).Draw(t, "connector")
		case smartcharging.Tx:
			conn = rapid.IntRange(1, n).Draw(t, "connector")
		}
		return SetProfile{Connector: conn, Profile: w.drawProfile(purpose)}
	case "RemoteStart":
		r := RemoteStart{Connector: rapid.IntRange(0, n).Draw(t, "connector"),
			IDTag: rapid.SampledFrom(propTags).Draw(t, "tag"), Known: w.drawKnown()}
		if rapid.Bool().Draw(t, "withProfile") {
			p := w.drawProfile(smartcharging.Tx)
			r.Profile = &p
		}
		return r
	case "RemoteStop":
		id := 999
		if len(w.csmsIDs) > 0 {
			id = w.csmsIDs[rapid.IntRange(0, len(w.csmsIDs)-1).Draw(t, "transaction")]
		}
		return RemoteStop{TransactionID: id}
	case "ClearProfiles":
		var c ClearProfiles
		switch rapid.IntRange(0, 3).Draw(t, "filter") {
		case 1:
			id := rapid.IntRange(1, 6).Draw(t, "id")
			c.ID = &id
		case 2:
			conn := rapid.IntRange(0, n).Draw(t, "connector")
			c.Connector = &conn
		case 3:
			c.Purpose = rapid.SampledFrom([]smartcharging.Purpose{smartcharging.TxDefault, smartcharging.ChargePointMax,
				smartcharging.Tx}).Draw(t, "purpose")
		}
		return c
	case "ChangeAvailability":
		return ChangeAvailability{Connector: rapid.IntRange(0, n).Draw(t, "connector"), Operative: rapid.Bool().Draw(t, "operative")}
	case "EmergencyStop":
		return EmergencyStop{}
	case "Unlock":
		return Unlock{Connector: rapid.IntRange(1, n).Draw(t, "connector")}
	case "ReserveNow":
		return ReserveNow{Reservation: Reservation{ID: rapid.IntRange(1, 3).Draw(t, "reservation"),
			Connector: rapid.IntRange(0, n).Draw(t, "connector"), IDTag: rapid.SampledFrom(propTags).Draw(t, "tag"),
			Parent: rapid.SampledFrom([]string{"", "GROUP"}).Draw(t, "parent"),
			Expiry: w.now.Add(rapid.SampledFrom([]time.Duration{10 * time.Minute, time.Minute, time.Hour}).Draw(t, "expiry"))}}
	case "CancelReservation":
		return CancelReservation{ID: rapid.IntRange(1, 3).Draw(t, "reservation")}
	}
	return Trigger{Message: rapid.SampledFrom([]TriggerMessage{TriggerStatus, TriggerMeterValues, TriggerHeartbeat,
		TriggerBoot}).Draw(t, "trigger"), Connector: rapid.IntRange(-1, n).Draw(t, "connector")}
}

// drawProfile draws a charging profile whose limit the test can work out:
// one period from 0 in A, in force for the whole transaction (Relative,
// or Absolute without a start) or from the test's start, sometimes only
// from or until a time.
func (w *propWorld) drawProfile(purpose smartcharging.Purpose) smartcharging.Profile {
	t := w.rt
	p := smartcharging.Profile{ID: rapid.IntRange(1, 6).Draw(t, "id"), StackLevel: rapid.IntRange(0, 3).Draw(t, "level"),
		Purpose: purpose, Kind: rapid.SampledFrom([]smartcharging.Kind{smartcharging.Absolute, smartcharging.Relative}).Draw(t, "kind")}
	if p.Kind == smartcharging.Absolute && rapid.Bool().Draw(t, "fromT0") {
		p.Schedule.Start = propT0
	}
	p.Schedule.Unit = smartcharging.Amperes
	p.Schedule.Periods = []smartcharging.SchedulePeriod{{
		Limit:  rapid.SampledFrom([]float64{16, 10, 0, 6, 8, 13, 20, 32, 40, 7.5, 3}).Draw(t, "limit"),
		Phases: rapid.SampledFrom([]int{0, 3, 1}).Draw(t, "periodPhases")}}
	p.Schedule.MinRate = rapid.SampledFrom([]float64{0, 0, 0, 8, 12}).Draw(t, "minRate")
	switch rapid.IntRange(0, 5).Draw(t, "validity") {
	case 1:
		p.ValidTo = w.now.Add(rapid.SampledFrom([]time.Duration{3 * time.Minute, 30 * time.Second, 20 * time.Minute}).Draw(t, "validTo"))
	case 2:
		p.ValidFrom = w.now.Add(rapid.SampledFrom([]time.Duration{3 * time.Minute, 30 * time.Second, 20 * time.Minute}).Draw(t, "validFrom"))
	case 3:
		p.ValidFrom = w.now.Add(time.Minute)
		p.ValidTo = p.ValidFrom.Add(rapid.SampledFrom([]time.Duration{3 * time.Minute, 30 * time.Second}).Draw(t, "validFor"))
	}
	return p
}

// Descriptions for failure messages.

func propDescribe(ev Event) string {
	switch e := ev.(type) {
	case TagPresented:
		return fmt.Sprintf("TagPresented{Connector:%d IDTag:%s Known:%s}", e.Connector, e.IDTag, propKnown(e.Known))
	case Command:
		switch c := e.Cmd.(type) {
		case RemoteStart:
			p := "none"
			if c.Profile != nil {
				p = propProfile(*c.Profile)
			}
			return fmt.Sprintf("Command#%d RemoteStart{Connector:%d IDTag:%s Known:%s Profile:%s}", e.ID, c.Connector, c.IDTag, propKnown(c.Known), p)
		case SetProfile:
			return fmt.Sprintf("Command#%d SetProfile{Connector:%d %s}", e.ID, c.Connector, propProfile(c.Profile))
		case ClearProfiles:
			return fmt.Sprintf("Command#%d ClearProfiles{ID:%s Connector:%s Purpose:%q}", e.ID, propPtr(c.ID), propPtr(c.Connector), c.Purpose)
		case ReserveNow:
			r := c.Reservation
			return fmt.Sprintf("Command#%d ReserveNow{ID:%d Connector:%d IDTag:%s Parent:%s Expiry:%s}", e.ID, r.ID, r.Connector, r.IDTag, r.Parent, r.Expiry.Sub(propT0))
		}
		return fmt.Sprintf("Command#%d %T%+v", e.ID, e.Cmd, e.Cmd)
	case Answered:
		switch e.Failure {
		case Refused, Unanswered, Lost:
			return fmt.Sprintf("Answered{Call:%d Failure:%s}", e.Call, [...]string{"", "Refused", "Unanswered", "Lost"}[e.Failure])
		}
		switch a := e.Answer.(type) {
		case StopAnswer:
			if a.Info != nil {
				return fmt.Sprintf("Answered{Call:%d StopAnswer{Info:%s}}", e.Call, propInfo(*a.Info))
			}
		case StartAnswer:
			return fmt.Sprintf("Answered{Call:%d StartAnswer{TransactionID:%d Info:%s}}", e.Call, a.TransactionID, propInfo(a.Info))
		case AuthorizeAnswer:
			return fmt.Sprintf("Answered{Call:%d AuthorizeAnswer{Info:%s}}", e.Call, propInfo(a.Info))
		}
		if e.Answer == nil {
			return fmt.Sprintf("Answered{Call:%d}", e.Call)
		}
		return fmt.Sprintf("Answered{Call:%d %T%+v}", e.Call, e.Answer, e.Answer)
	case SettingsChanged:
		return fmt.Sprintf("SettingsChanged{FreeCharging:%d FreeChargingMode:%d}", e.Settings.FreeCharging, e.Settings.FreeChargingMode)
	}
	return fmt.Sprintf("%T%+v", ev, ev)
}

func propKnown(k Known) string {
	s := func(i *AuthInfo) string {
		if i == nil {
			return "-"
		}
		return propInfo(*i)
	}
	return "list " + s(k.List) + " cache " + s(k.Cache)
}

func propInfo(i AuthInfo) string {
	s := string(i.Status)
	if i.Parent != "" {
		s += "/" + i.Parent
	}
	if !i.Expiry.IsZero() {
		s += " until +" + i.Expiry.Sub(propT0).String()
	}
	return s
}

func propProfile(p smartcharging.Profile) string {
	s := fmt.Sprintf("id %d level %d %s %s", p.ID, p.StackLevel, p.Purpose, p.Kind)
	if !p.Schedule.Start.IsZero() {
		s += " from t0"
	}
	for _, per := range p.Schedule.Periods {
		s += fmt.Sprintf(" limit %gA phases %d", per.Limit, per.Phases)
	}
	if p.Schedule.MinRate != 0 {
		s += fmt.Sprintf(" minRate %g", p.Schedule.MinRate)
	}
	if !p.ValidFrom.IsZero() {
		s += " validFrom +" + p.ValidFrom.Sub(propT0).String()
	}
	if !p.ValidTo.IsZero() {
		s += " validTo +" + p.ValidTo.Sub(propT0).String()
	}
	return s
}

func propPtr(p *int) string {
	if p == nil {
		return "-"
	}
	return strconv.Itoa(*p)
}

func propActs(acts []Actuation) string {
	var out []string
	for _, a := range acts {
		switch a.Kind {
		case Offer:
			out = append(out, fmt.Sprintf("%d:offer %g", a.Connector, a.Amps))
		case Contactor:
			out = append(out, fmt.Sprintf("%d:contactor %v", a.Connector, a.On))
		case Lock:
			out = append(out, fmt.Sprintf("%d:lock %v", a.Connector, a.On))
		case Phases:
			out = append(out, fmt.Sprintf("%d:phases %d", a.Connector, a.Phases))
		}
	}
	return strings.Join(out, ", ")
}
