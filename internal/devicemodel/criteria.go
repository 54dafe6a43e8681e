package devicemodel

import "strings"

// MeetsCriteria reports whether a component meets one of GetReport's
// component criteria (2.0.1's ComponentCriterionEnumType: Active,
// Available, Enabled, Problem), each the name of a boolean variable
// (B08.FR.07 to FR.10): a component meets Active, Available or Enabled
// when it has that variable true or has not the variable at all, and
// Problem only when it has Problem true. actual holds the Actual values
// of the component's variables without an instance, by name. Without
// criteria every component meets them.
func MeetsCriteria(actual map[string]string, criteria []string) bool {
	if len(criteria) == 0 {
		return true
	}
	for _, c := range criteria {
		v, has := actual[c]
		if strings.EqualFold(v, "true") || !has && c != "Problem" {
			return true
		}
	}
	return false
}
