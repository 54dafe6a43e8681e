package dlm

import "github.com/evse-dev/evse/internal/config"

// Load is one connector's load as its charge point publishes it.
type Load struct {
	Connector int
	// Ready: a session may charge and its EV has not finished.
	Ready bool
	// Applied is the current offered now, in A per phase.
	Applied float64
	// Drawn is the current drawn on the connector's phases L1, L2, L3.
	Drawn [3]float64
}

// Reporter makes a charger's reports to its master from its loads and
// settings; it remembers on how many phases each session was seen
// drawing. It is not safe for concurrent use.
type Reporter struct {
	phases map[int]int
}

// Reports are the connectors' reports: maxCurrent is the model's
// maximum, wired the phases wired to each connector.
func (r *Reporter) Reports(loads []Load, s *config.Snapshot, maxCurrent float64, wired int) map[int]ConnectorReport {
	if r.phases == nil {
		r.phases = map[int]int{}
	}
	rot := Rotations(s.ConnectorPhaseRotation)
	out := make(map[int]ConnectorReport, len(loads))
	for _, l := range loads {
		rep := ConnectorReport{Ready: l.Ready, Rotation: RotationOf(rot, l.Connector), Max: maxCurrent,
			Min: float64(s.DlmMinCurrentRating), Disconnected: float64(s.DlmDisconnectedLimit),
			Applied: l.Applied, Drawn: l.Drawn, CanSwitch: s.ConnectorSwitch3to1PhaseSupported}
		if !l.Ready {
			delete(r.phases, l.Connector)
		} else if n := drawingPhases(l.Drawn); n > r.phases[l.Connector] {
			r.phases[l.Connector] = n
		}
		rep.Phases = r.phases[l.Connector]
		if wired == 1 {
			rep.Phases = 1
		}
		out[l.Connector] = rep
	}
	return out
}

// drawingPhases is 1 or 3 when an EV draws on one or more phases, 0 while
// it draws nothing.
func drawingPhases(d [3]float64) int {
	n := 0
	for _, a := range d {
		if a >= 1 {
			n++
		}
	}
	switch {
	case n == 0:
		return 0
	case n == 1:
		return 1
	}
	return 3
}
