package smartcharging

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var day = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func dt(t time.Time) time.Time { return t }
func ptr[T any](v T) *T        { return &v }

// profile builds a profile; periods are "seconds:limit" or
// "seconds:limit:phases".
func profile(id, level int, purpose Purpose, kind Kind, start time.Time, periods ...string) Profile {
	p := Profile{ID: id, StackLevel: level, Purpose: purpose, Kind: kind, Schedule: Schedule{Start: start, Unit: Amperes}}
	for _, s := range periods {
		var at int
		var limit float64
		var phases int
		fmt.Sscanf(s, "%d:%g:%d", &at, &limit, &phases)
		p.Schedule.Periods = append(p.Schedule.Periods, SchedulePeriod{Start: at, Limit: limit, Phases: phases})
	}
	return p
}

const (
	cpMax  = ChargePointMax
	txDef  = TxDefault
	tx     = Tx
	abs    = Absolute
	rel    = Relative
	recurr = Recurring
)

// show writes a schedule as "offset=limit" items (phases when 1).
func show(ps []Period) string {
	var b []string
	for _, p := range ps {
		item := fmt.Sprintf("%v=%g", p.Start, p.Limit)
		if p.Phases == 1 {
			item += "/1ph"
		}
		b = append(b, item)
	}
	return strings.Join(b, " ")
}

func TestCompositeSchedules(t *testing.T) {
	daily := profile(5, 0, txDef, recurr, dt(day), "0:32", "61200:10", "75600:32") // 17:00-21:00 evening peak
	daily.Recurrency = Daily
	weekly := profile(6, 0, txDef, recurr, dt(day), "0:16", "432000:32") // weekdays 16 A, weekend 32 A (day is a Monday)
	weekly.Recurrency = Weekly
	morning := profile(2, 1, txDef, abs, dt(day), "0:10")
	morning.ValidFrom, morning.ValidTo = dt(day.Add(8*time.Hour)), dt(day.Add(12*time.Hour))
	short := profile(3, 2, txDef, abs, dt(day), "0:6")
	short.Schedule.Duration = ptr(1800)
	txOnly := profile(9, 0, tx, rel, time.Time{}, "0:6", "1800:16")
	otherTx := txOnly
	otherTx.TransactionID = ptr(99)
	session := Session{Active: true, TransactionID: 42, Start: day.Add(time.Hour)}
	for _, c := range []struct {
		name      string
		max, conn []Profile
		s         Session
		from      time.Time
		dur       time.Duration
		want      string
	}{
		{"nothing", nil, nil, Session{}, day, time.Hour, "0s=-1"},
		{"one absolute schedule", nil, []Profile{profile(1, 0, txDef, abs, dt(day), "0:16", "3600:10")}, Session{}, day, 2 * time.Hour,
			"0s=16 1h0m0s=10"},
		{"a window starting inside it", nil, []Profile{profile(1, 0, txDef, abs, dt(day), "0:16", "3600:10")}, Session{}, day.Add(30 * time.Minute), time.Hour,
			"0s=16 30m0s=10"},
		{"the charge point's maximum below", []Profile{profile(1, 0, cpMax, abs, dt(day), "0:20")},
			[]Profile{profile(2, 0, txDef, abs, dt(day), "0:32")}, Session{}, day, time.Hour, "0s=20"},
		{"a higher stack level while valid", nil, []Profile{profile(1, 0, txDef, abs, dt(day), "0:16"), morning}, Session{}, day, 24 * time.Hour,
			"0s=16 8h0m0s=10 12h0m0s=16"},
		{"a higher stack level whose schedule ended", nil, []Profile{profile(1, 0, txDef, abs, dt(day), "0:16"), short}, Session{}, day, time.Hour,
			"0s=6 30m0s=16"},
		{"daily recurring over two days", nil, []Profile{daily}, Session{}, day, 48 * time.Hour,
			"0s=32 17h0m0s=10 21h0m0s=32 41h0m0s=10 45h0m0s=32"},
		{"weekly recurring", nil, []Profile{weekly}, Session{}, day, 14 * 24 * time.Hour,
			"0s=16 120h0m0s=32 168h0m0s=16 288h0m0s=32"},
		{"a TxProfile relative to its transaction beats the default", nil, []Profile{profile(1, 0, txDef, abs, dt(day), "0:32"), txOnly}, session, day, 3 * time.Hour,
			"0s=32 1h0m0s=6 1h30m0s=16"},
		{"a TxProfile of another transaction does not apply", nil, []Profile{profile(1, 0, txDef, abs, dt(day), "0:32"), otherTx}, session, day, 3 * time.Hour,
			"0s=32"},
		{"no transaction: no TxProfile", nil, []Profile{txOnly}, Session{}, day, time.Hour, "0s=-1"},
		{"an Absolute schedule without startSchedule counts from the transaction", nil,
			[]Profile{profile(1, 0, txDef, abs, time.Time{}, "0:10", "600:20")}, session, day, 3 * time.Hour,
			"0s=-1 1h0m0s=10 1h10m0s=20"},
		{"a TxProfile without transactionId applies to a transaction whose id is not known yet", nil,
			[]Profile{txOnly}, Session{Active: true, Start: day}, day, time.Hour, "0s=6 30m0s=16"},
		// OCPP 1.6 CTT TC_072 (Stacking Charging Profiles), worked by hand:
		// stack level 0 gives 6, 8, 10 A from 0, 100, 200 s for 400 s;
		// stack level 1 gives 10 A then 8 A from 50 s for 150 s. Level 1
		// decides while it has a period (0-150 s), level 0 after it: 8 A
		// from 50 s runs on through 150 s into level 0's 8 A.
		{"the CTT's stacking case", nil, []Profile{
			withDuration(profile(1, 0, txDef, abs, dt(day), "0:6", "100:8", "200:10"), 400),
			withDuration(profile(2, 1, txDef, abs, dt(day), "0:10", "50:8"), 150),
		}, Session{}, day, 400 * time.Second, "0s=10 50s=8 3m20s=10"},
		// OCPP 1.6 section 3.13.4's combination: the lower of
		// ChargePointMaxProfile and the TxProfile (which overrides the
		// TxDefaultProfile while its transaction runs).
		{"the charge point's maximum over a TxProfile and a default", []Profile{profile(1, 0, cpMax, abs, dt(day), "0:10")},
			[]Profile{profile(2, 0, txDef, abs, dt(day), "0:16"), profile(3, 0, tx, abs, dt(day), "0:6", "3600:32")}, Session{Active: true, TransactionID: 7, Start: day},
			day, 2 * time.Hour, "0s=6 1h0m0s=10"},
		{"one phase", nil, []Profile{profile(1, 0, txDef, abs, dt(day), "0:16:3", "600:16:1")}, Session{}, day, time.Hour,
			"0s=16 10m0s=16/1ph"},
	} {
		got := show(Composite(c.max, c.conn, c.s, c.from, c.dur))
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func withDuration(p Profile, seconds int) Profile {
	p.Schedule.Duration = ptr(seconds)
	return p
}

func TestNextGivesTheLimitNowAndTheNextBoundary(t *testing.T) {
	daily := profile(5, 0, txDef, recurr, dt(day), "0:32", "61200:10", "75600:32")
	daily.Recurrency = Daily
	minRate := profile(6, 1, txDef, abs, dt(day.Add(72*time.Hour)), "0:8")
	minRate.Schedule.MinRate = 10
	for _, c := range []struct {
		name      string
		at        time.Time
		wantLimit float64
		wantMin   float64
		wantUntil time.Time
	}{
		{"before the evening peak", day.Add(time.Hour), 32, 0, day.Add(17 * time.Hour)},
		{"at the peak's first second", day.Add(17 * time.Hour), 10, 0, day.Add(21 * time.Hour)},
		{"the next day, after the peak", day.Add(46 * time.Hour), 32, 0, day.Add(48 * time.Hour)},
		{"a minimum charging rate", day.Add(72 * time.Hour), 8, 10, day.Add(89 * time.Hour)},
	} {
		p, until := Next(nil, []Profile{daily, minRate}, Session{}, c.at)
		if p.Limit != c.wantLimit || p.MinRate != c.wantMin || !until.Equal(c.wantUntil) {
			t.Errorf("%s: limit %g min %g until %v, want %g %g %v", c.name, p.Limit, p.MinRate, until, c.wantLimit, c.wantMin, c.wantUntil)
		}
	}
	later := profile(7, 0, txDef, recurr, dt(day.Add(30*24*time.Hour)), "0:12")
	later.Recurrency = Daily
	if p, until := Next(nil, []Profile{later}, Session{}, day); p.Limit != NoLimit || !until.Equal(day.Add(30*24*time.Hour)) {
		t.Errorf("a daily profile starting in 30 days: %+v until %v, want no limit until it starts", p, until)
	}
	if p, until := Next(nil, nil, Session{}, day); p.Limit != NoLimit || !until.IsZero() {
		t.Errorf("no profiles: %+v until %v", p, until)
	}
}

func TestScaleSharesTheChargePointMaximum(t *testing.T) {
	max := []Profile{profile(1, 0, cpMax, abs, dt(day), "0:32", "3600:20")}
	got := show(Composite(Scale(max, 0.5), nil, Session{}, day, 2*time.Hour))
	if got != "0s=16 1h0m0s=10" {
		t.Errorf("halved: %s", got)
	}
	if max[0].Schedule.Periods[0].Limit != 32 {
		t.Error("Scale changed its input")
	}
}

func TestMergeSumsConnectorsUnderTheMaximum(t *testing.T) {
	a := []Period{{Start: 0, Limit: 16, Phases: 3}, {Start: time.Hour, Limit: 10, Phases: 3}}
	b := []Period{{Start: 0, Limit: 6, Phases: 3}, {Start: 30 * time.Minute, Limit: 16, Phases: 1}, {Start: 2 * time.Hour, Limit: 16, Phases: 3}}
	max := []Period{{Start: 0, Limit: 30, Phases: 3}}
	sum := func(ls []float64) float64 {
		total := ls[0] + ls[1]
		return min(total, ls[2])
	}
	if got := show(Merge([][]Period{a, b, max}, sum)); got != "0s=22 30m0s=30/1ph 1h0m0s=26/1ph 2h0m0s=26" {
		t.Errorf("merged: %s", got)
	}
}

// BenchmarkComposite255 computes a day's composite schedule over 255
// stacked profiles (ChargeProfileMaxStackLevel, MaxChargingProfilesInstalled)
// of 24 periods each.
func BenchmarkComposite255(b *testing.B) {
	var ps []Profile
	for level := range 255 {
		var periods []string
		for h := range 24 {
			periods = append(periods, fmt.Sprintf("%d:%d", h*3600+level, 6+(level+h)%26))
		}
		p := profile(level+1, level, txDef, abs, dt(day), periods...)
		p.ValidTo = dt(day.Add(time.Duration(12+level%12) * time.Hour)) // the higher ones end earlier, so all count
		ps = append(ps, p)
	}
	for b.Loop() {
		if len(Composite(nil, ps, Session{}, day, 24*time.Hour)) == 0 {
			b.Fatal("empty")
		}
	}
}
