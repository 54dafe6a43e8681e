package dlm

import (
	"strconv"
	"strings"

	"github.com/evse-dev/evse/internal/config"
)

// SiteOf reads a master's limits from its settings: the Dlm* keys of the
// appendix.
func SiteOf(s *config.Snapshot) Site {
	site := Site{
		PhaseLimit:    [3]float64{float64(s.DlmPhase1Limit), float64(s.DlmPhase2Limit), float64(s.DlmPhase3Limit)},
		OperatorLimit: [3]float64{float64(s.DlmOperatorPhase1Limit), float64(s.DlmOperatorPhase2Limit), float64(s.DlmOperatorPhase3Limit)},
		MainLimit: [3]float64{float64(s.DlmExtMeterMainDistributionLimitPhase1), float64(s.DlmExtMeterMainDistributionLimitPhase2),
			float64(s.DlmExtMeterMainDistributionLimitPhase3)},
		Fallback: [3]float64{float64(s.DlmExtMeterDisconnectedFallbackPhase1), float64(s.DlmExtMeterDisconnectedFallbackPhase2),
			float64(s.DlmExtMeterDisconnectedFallbackPhase3)},
		InputOffsets: [2]Phases{
			{float64(s.DlmInput1CurrOffsetPhase1), float64(s.DlmInput1CurrOffsetPhase2), float64(s.DlmInput1CurrOffsetPhase3)},
			{float64(s.DlmInput2CurrOffsetPhase1), float64(s.DlmInput2CurrOffsetPhase2), float64(s.DlmInput2CurrOffsetPhase3)},
		},
		InputOpto: [2]int{s.DlmInput1CurrOffsetCfg, s.DlmInput2CurrOffsetCfg},
		Meter:     s.DlmExtMeterEnabled == 1,
		Excluding: s.DlmExtMeterLocation == 1,
	}
	if i := s.DlmRecalcInterval; i >= 0 && i < len(RecalcIntervals) {
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
