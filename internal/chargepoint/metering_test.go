package chargepoint

import (
	"testing"
	"time"
)

func TestNextAlignedCountsFromMidnight(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		at       time.Duration
		interval time.Duration
		want     time.Duration
	}{
		{0, 15 * time.Minute, 15 * time.Minute},
		{14*time.Minute + 59*time.Second, 15 * time.Minute, 15 * time.Minute},
		{15 * time.Minute, 15 * time.Minute, 30 * time.Minute},
		{23*time.Hour + 50*time.Minute, 15 * time.Minute, 24 * time.Hour},
		{23*time.Hour + 50*time.Minute, 7 * time.Hour, 24 * time.Hour}, // the last interval of the day is cut at midnight
		{time.Hour, 7 * time.Hour, 7 * time.Hour},
	} {
		if got := nextAligned(day.Add(c.at), c.interval); !got.Equal(day.Add(c.want)) {
			t.Errorf("after %v every %v: %v, want %v", c.at, c.interval, got.Sub(day), c.want)
		}
	}
}
