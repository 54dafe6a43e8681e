package ocppschema

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDateTimeMarshal(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), `"2026-11-24T10:00:00.000Z"`},
		{time.Date(2026, 11, 24, 11, 0, 0, 123456789, time.FixedZone("CET", 3600)), `"2026-11-24T10:00:00.123Z"`},
		{time.Time{}, `"0001-01-01T00:00:00.000Z"`},
		// The year in UTC would be -1: keep the offset.
		{time.Date(0, 1, 1, 0, 30, 0, 0, time.FixedZone("", 3600)), `"0000-01-01T00:30:00.000+01:00"`},
	}
	for _, tc := range tests {
		got, err := json.Marshal(DateTime{tc.in})
		if err != nil || string(got) != tc.want {
			t.Errorf("marshal %v = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if b, err := json.Marshal(DateTime{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Errorf("year 10000 marshalled as %s", b)
	}
}

func TestDateTimeUnmarshal(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{`"2026-11-24T10:00:00Z"`, time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)},
		{`"2026-11-24t11:00:00.5+01:00"`, time.Date(2026, 11, 24, 10, 0, 0, 5e8, time.UTC)},
		{`"2026-11-24T10:00:00.1234567891234z"`, time.Date(2026, 11, 24, 10, 0, 0, 123456789, time.UTC)},
		{`"2026-11-24T05:30:00-04:30"`, time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)},
		{`"2016-12-31T23:59:60Z"`, time.Date(2016, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{`"2026-11-24T10:00:00\u005a"`, time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		var d DateTime
		if err := json.Unmarshal([]byte(tc.in), &d); err != nil || !d.Equal(tc.want) {
			t.Errorf("unmarshal %s = %v, %v; want %v", tc.in, d, err, tc.want)
		}
	}
	d, _ := ParseDateTime("2026-11-24T11:00:00+01:00")
	if _, off := d.Zone(); off != 3600 {
		t.Errorf("offset %d, want the 3600 it was written with", off)
	}
	for _, in := range []string{`"2026-11-24"`, `"2026-11-24T10:00:00"`, `12`, `"2026-02-29T00:00:00Z"`, `"2026-11-24T10:59:60Z"`} {
		var d DateTime
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("unmarshal %s: accepted as %v", in, d)
		}
	}
	var p *DateTime
	if err := json.Unmarshal([]byte(`null`), &p); err != nil || p != nil {
		t.Errorf("null: %v, %v", p, err)
	}
}
