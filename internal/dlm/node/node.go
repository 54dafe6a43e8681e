// Package node runs a DLM master or slave on a real network: the
// decisions of package dlm, the protocol of package wire, TCP links
// between master and slaves and UDP discovery on the LAN.
package node

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/evse-dev/evse/internal/dlm"
	"github.com/evse-dev/evse/internal/dlm/wire"
)

// Charger is the charge point whose connectors a node manages.
type Charger interface {
	// Reports returns every connector's state, by connector number.
	Reports() map[int]dlm.ConnectorReport
	// SetLimits caps connectors' offers.
	SetLimits(limits map[int]float64)
	// SetPhases sets how many phases (1 or 3) connectors' sessions may
	// use; only chargers with ConnectorSwitch3to1PhaseSupported are ever
	// told 1.
	SetPhases(phases map[int]int)
	// Changed delivers a value when a connector's readiness or offer
	// changed.
	Changed() <-chan struct{}
}

// Timeouts of the links.
const (
	handshakeTimeout = 5 * time.Second
	writeTimeout     = 5 * time.Second
	// idleTimeout closes a link that carried nothing this long: slaves
	// report every dlm.ReportInterval and the master answers each.
	idleTimeout = 30 * time.Second
)

// lineReader reads lines of at most wire.MaxLine bytes.
type lineReader struct{ r *bufio.Reader }

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{bufio.NewReaderSize(r, 4096)}
}

// next returns the next parsed line.
func (lr *lineReader) next() (wire.Line, error) {
	var buf []byte
	for {
		chunk, err := lr.r.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > wire.MaxLine {
			return wire.Line{}, fmt.Errorf("%w: line over %d bytes", wire.ErrMalformed, wire.MaxLine)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return wire.Line{}, err
		}
	}
	return wire.Parse(buf[:len(buf)-1])
}

// writeLine writes one line within writeTimeout.
func writeLine(c net.Conn, line []byte) error {
	c.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := c.Write(line)
	return err
}

// toReports turns a report message into the master's terms.
func toReports(cs []wire.Connector) map[int]dlm.ConnectorReport {
	out := make(map[int]dlm.ConnectorReport, len(cs))
	for _, c := range cs {
		var rot [3]int
		for i, g := range c.Rotation {
			rot[i] = ((g % 3) + 3) % 3
		}
		out[c.N] = dlm.ConnectorReport{Ready: c.Ready, Phases: c.Phases, Rotation: rot, Max: c.Max,
			Min: c.Min, Disconnected: c.Disconnected, Applied: c.Applied, Drawn: c.Drawn, CanSwitch: c.CanSwitch}
	}
	return out
}

// fromReports turns a charger's reports into a report message's
// connectors, with the offers applied now.
func fromReports(rs map[int]dlm.ConnectorReport) []wire.Connector {
	out := make([]wire.Connector, 0, len(rs))
	for n := 1; len(out) < len(rs) && n <= 255; n++ {
		r, ok := rs[n]
		if !ok {
			continue
		}
		out = append(out, wire.Connector{N: n, Ready: r.Ready, Phases: r.Phases, Rotation: r.Rotation, Max: r.Max,
			Min: r.Min, Disconnected: r.Disconnected, Applied: r.Applied, Drawn: r.Drawn, CanSwitch: r.CanSwitch})
	}
	return out
}

// validReport checks a report's values before the master acts on them.
func validReport(cs []wire.Connector) error {
	if len(cs) > 255 {
		return fmt.Errorf("%d connectors", len(cs))
	}
	seen := map[int]bool{}
	for _, c := range cs {
		switch {
		case c.N < 1 || c.N > 255 || seen[c.N]:
			return fmt.Errorf("connector number %d", c.N)
		case c.Phases != 0 && c.Phases != 1 && c.Phases != 3:
			return fmt.Errorf("connector %d: phases %d", c.N, c.Phases)
		case !inRange(c.Max) || !inRange(c.Min) || !inRange(c.Disconnected) || !inRange(c.Applied) ||
			!inRange(c.Drawn[0]) || !inRange(c.Drawn[1]) || !inRange(c.Drawn[2]):
			return fmt.Errorf("connector %d: a current out of 0..1000 A", c.N)
		}
		for _, g := range c.Rotation {
			if g < 0 || g > 2 {
				return fmt.Errorf("connector %d: rotation %v", c.N, c.Rotation)
			}
		}
		seen[c.N] = true
	}
	return nil
}

func inRange(a float64) bool { return a >= 0 && a <= 1000 }
