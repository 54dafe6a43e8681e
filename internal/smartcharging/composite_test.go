package smartcharging

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/ocpp16"
)

var day = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func dt(t time.Time) *ocpp16.DateTime { return &ocpp16.DateTime{Time: t} }
func ptr[T any](v T) *T               { return &v }

// profile builds a profile; periods are "seconds:limit" or
// "seconds:limit:phases".
func profile(id, level int, purpose ocpp16.ChargingProfilePurposeType, kind ocpp16.ChargingProfileKindType, start *ocpp16.DateTime, periods ...string) ocpp16.ChargingProfile {
	p := ocpp16.ChargingProfile{ChargingProfileId: id, StackLevel: level, ChargingProfilePurpose: purpose, ChargingProfileKind: kind,
		ChargingSchedule: ocpp16.ChargingSchedule{StartSchedule: start, ChargingRateUnit: ocpp16.ChargingRateUnitTypeA}}
	for _, s := range periods {
		var at int
		var limit float64
		var phases int
		if n, _ := fmt.Sscanf(s, "%d:%g:%d", &at, &limit, &phases); n == 3 {
			p.ChargingSchedule.ChargingSchedulePeriod = append(p.ChargingSchedule.ChargingSchedulePeriod,
				ocpp16.ChargingSchedulePeriod{StartPeriod: at, Limit: limit, NumberPhases: ptr(phases)})
			continue
		}
		p.ChargingSchedule.ChargingSchedulePeriod = append(p.ChargingSchedule.ChargingSchedulePeriod,
			ocpp16.ChargingSchedulePeriod{StartPeriod: at, Limit: limit})
	}
	return p
}

const (
	cpMax  = ocpp16.ChargingProfilePurposeTypeChargePointMaxProfile
	txDef  = ocpp16.ChargingProfilePurposeTypeTxDefaultProfile
	tx     = ocpp16.ChargingProfilePurposeTypeTxProfile
	abs    = ocpp16.ChargingProfileKindTypeAbsolute
	rel    = ocpp16.ChargingProfileKindTypeRelative
	recurr = ocpp16.ChargingProfileKindTypeRecurring
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
	daily.RecurrencyKind = ocpp16.RecurrencyKindTypeDaily
	weekly := profile(6, 0, txDef, recurr, dt(day), "0:16", "432000:32") // weekdays 16 A, weekend 32 A (day is a Monday)
	weekly.RecurrencyKind = ocpp16.RecurrencyKindTypeWeekly
	morning := profile(2, 1, txDef, abs, dt(day), "0:10")
	morning.ValidFrom, morning.ValidTo = dt(day.Add(8*time.Hour)), dt(day.Add(12*time.Hour))
	short := profile(3, 2, txDef, abs, dt(day), "0:6")
	short.ChargingSchedule.Duration = ptr(1800)
	txOnly := profile(9, 0, tx, rel, nil, "0:6", "1800:16")
	otherTx := txOnly
	otherTx.TransactionId = ptr(99)
	session := Session{TransactionID: 42, Start: day.Add(time.Hour)}
	for _, c := range []struct {
		name      string
		max, conn []ocpp16.ChargingProfile
		s         Session
		from      time.Time
		dur       time.Duration
		want      string
	}{
		{"nothing", nil, nil, Session{}, day, time.Hour, "0s=-1"},
		{"one absolute schedule", nil, []ocpp16.ChargingProfile{profile(1, 0, txDef, abs, dt(day), "0:16", "3600:10")}, Session{}, day, 2 * time.Hour,
			"0s=16 1h0m0s=10"},
		{"a window starting inside it", nil, []ocpp16.ChargingProfile{profile(1, 0, txDef, abs, dt(day), "0:16", "3600:10")}, Session{}, day.Add(30 * time.Minute), time.Hour,
			"0s=16 30m0s=10"},
		{"the charge point's maximum below", []ocpp16.ChargingProfile{profile(1, 0, cpMax, abs, dt(day), "0:20")},
			[]ocpp16.ChargingProfile{profile(2, 0, txDef, abs, dt(day), "0:32")}, Session{}, day, time.Hour, "0s=20"},
		{"a higher stack level while valid", nil, []ocpp16.ChargingProfile{profile(1, 0, txDef, abs, dt(day), "0:16"), morning}, Session{}, day, 24 * time.Hour,
			"0s=16 8h0m0s=10 12h0m0s=16"},
		{"a higher stack level whose schedule ended", nil, []ocpp16.ChargingProfile{profile(1, 0, txDef, abs, dt(day), "0:16"), short}, Session{}, day, time.Hour,
			"0s=6 30m0s=16"},
		{"daily recurring over two days", nil, []ocpp16.ChargingProfile{daily}, Session{}, day, 48 * time.Hour,
			"0s=32 17h0m0s=10 21h0m0s=32 41h0m0s=10 45h0m0s=32"},
		{"weekly recurring", nil, []ocpp16.ChargingProfile{weekly}, Session{}, day, 14 * 24 * time.Hour,
			"0s=16 120h0m0s=32 168h0m0s=16 288h0m0s=32"},
		{"a TxProfile relative to its transaction beats the default", nil, []ocpp16.ChargingProfile{profile(1, 0, txDef, abs, dt(day), "0:32"), txOnly}, session, day, 3 * time.Hour,
			"0s=32 1h0m0s=6 1h30m0s=16"},
		{"a TxProfile of another transaction does not apply", nil, []ocpp16.ChargingProfile{profile(1, 0, txDef, abs, dt(day), "0:32"), otherTx}, session, day, 3 * time.Hour,
			"0s=32"},
		{"no transaction: no TxProfile", nil, []ocpp16.ChargingProfile{txOnly}, Session{}, day, time.Hour, "0s=-1"},
		{"one phase", nil, []ocpp16.ChargingProfile{profile(1, 0, txDef, abs, dt(day), "0:16:3", "600:16:1")}, Session{}, day, time.Hour,
			"0s=16 10m0s=16/1ph"},
	} {
		got := show(Composite(c.max, c.conn, c.s, c.from, c.dur))
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

// BenchmarkComposite255 computes a day's composite schedule over 255
// stacked profiles (ChargeProfileMaxStackLevel, MaxChargingProfilesInstalled)
// of 24 periods each.
func BenchmarkComposite255(b *testing.B) {
	var ps []ocpp16.ChargingProfile
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
