package dlm

import (
	"strconv"
	"strings"

	"github.com/evse-dev/evse/internal/config"
)

// SiteFromSettings reads a master's limits from its settings: the Dlm*
// keys of the appendix.
func SiteFromSettings(s *config.Settings) Site {
	var site Site
	for p := range 3 {
		n := strconv.Itoa(p + 1)
		site.PhaseLimit[p] = float64(s.Int("DlmPhase" + n + "Limit"))
		site.OperatorLimit[p] = float64(s.Int("DlmOperatorPhase" + n + "Limit"))
		site.MainLimit[p] = float64(s.Int("DlmExtMeterMainDistributionLimitPhase" + n))
		site.Fallback[p] = float64(s.Int("DlmExtMeterDisconnectedFallbackPhase" + n))
		for in := range 2 {
			site.InputOffsets[in][p] = float64(s.Int("DlmInput" + strconv.Itoa(in+1) + "CurrOffset Phase" + n))
		}
	}
	for in := range 2 {
		site.InputOpto[in] = s.Int("DlmInput" + strconv.Itoa(in+1) + "CurrOffset Cfg")
	}
	site.Meter = s.Int("DlmExtMeterEnabled") == 1
	site.Excluding = s.Int("DlmExtMeterLocation") == 1
	if i := s.Int("DlmRecalcInterval"); i >= 0 && i < len(RecalcIntervals) {
		site.Recalc = RecalcIntervals[i]
	}
	return site
}

// Rotations parses ConnectorPhaseRotation ("0.RST,1.STR") into the grid
// phase (0, 1, 2) of each connector phase, by connector; NotApplicable
// and Unknown items are left out.
func Rotations(v string) map[int][3]int {
	out := map[int][3]int{}
	for _, item := range strings.Split(v, ",") {
		c, r, ok := strings.Cut(strings.TrimSpace(item), ".")
		n, err := strconv.Atoi(c)
		if !ok || err != nil || len(r) != 3 {
			continue
		}
		var x [3]int
		good := true
		for i, ch := range r {
			switch ch {
			case 'R':
				x[i] = 0
			case 'S':
				x[i] = 1
			case 'T':
				x[i] = 2
			default:
				good = false
			}
		}
		if good {
			out[n] = x
		}
	}
	return out
}

// RotationOf is connector n's rotation: its own item, else connector 0's
// (the charge point's supply), else RST.
func RotationOf(rot map[int][3]int, n int) [3]int {
	if x, ok := rot[n]; ok {
		return x
	}
	if x, ok := rot[0]; ok {
		return x
	}
	return [3]int{0, 1, 2}
}
