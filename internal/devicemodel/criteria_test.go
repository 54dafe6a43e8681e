package devicemodel

import (
	"strings"
	"testing"

	"github.com/evse-dev/evse/internal/config"
)

// TestMeetsCriteria: Active, Available and Enabled hold for a component
// with that variable true or without it; Problem only with Problem true;
// the criteria of one request combine with OR.
func TestMeetsCriteria(t *testing.T) {
	enabledOff := map[string]string{"Enabled": "false", "Available": "true"}
	faulted := map[string]string{"AvailabilityState": "Faulted", "Problem": "true", "Available": "true"}
	healthy := map[string]string{"AvailabilityState": "Available", "Problem": "false"}
	none := map[string]string{"HeartbeatInterval": "240"}
	for _, c := range []struct {
		name     string
		actual   map[string]string
		criteria string
		want     bool
	}{
		{"no criteria", none, "", true},
		{"Enabled false", enabledOff, "Enabled", false},
		{"Enabled false, but Available", enabledOff, "Enabled,Available", true},
		{"without Enabled", none, "Enabled", true},
		{"without Active", none, "Active", true},
		{"Available true", faulted, "Available", true},
		{"Problem true", faulted, "Problem", true},
		{"Problem false", healthy, "Problem", false},
		{"without Problem", none, "Problem", false},
		{"Enabled false or Problem false", map[string]string{"Enabled": "false", "Problem": "false"}, "Enabled,Problem", false},
		{"a boolean in capitals", map[string]string{"Enabled": "TRUE"}, "Enabled", true},
	} {
		var criteria []string
		if c.criteria != "" {
			criteria = strings.Split(c.criteria, ",")
		}
		if got := MeetsCriteria(c.actual, criteria); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestFixedVariablesAreBooleans: a variable without a key tells how the
// station works, as a boolean.
func TestFixedVariablesAreBooleans(t *testing.T) {
	cat, _ := config.NewCatalogue(nil)
	n := 0
	for _, v := range New(cat).Variables() {
		if v.Key != "" {
			continue
		}
		n++
		if v.Fixed != "true" && v.Fixed != "false" {
			t.Errorf("%s.%s is fixed at %q, not a boolean", v.Component, v.Name, v.Fixed)
		}
	}
	if n == 0 {
		t.Error("no fixed variables")
	}
}
