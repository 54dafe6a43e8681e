package web

import (
	"strconv"
	"strings"
)

func strconvFormat(f float64, digits int) string { return strconv.FormatFloat(f, 'f', digits, 64) }

// phaseText is currents on L1, L2, L3.
func phaseText(c []float64) string {
	if len(c) == 0 {
		return "–"
	}
	parts := make([]string, len(c))
	for i, a := range c {
		parts[i] = "L" + strconv.Itoa(i+1) + " " + trimFloat(a, 1)
	}
	return strings.Join(parts, " · ") + " A"
}
