package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/evse-dev/evse/internal/site"
	"github.com/evse-dev/evse/internal/web"
)

// exitOverLimit is the exit status of evse site when the trace shows a
// phase over what was available beyond the allowed transition time.
const exitOverLimit = 3

func newSiteCommand() *cobra.Command {
	var scenario, tracePath, plotPath, reportPath string
	var compare bool
	cmd := &cobra.Command{
		Use:   "site --scenario FILE --trace OUT.jsonl [--plot OUT.svg] [--report OUT.html] [--compare]",
		Short: "Simulate a DLM site in virtual time (a day in seconds)",
		Long: `site runs a DLM master and its slaves with their real load-management code
and the real charging core of every charger, over an in-process network,
with simulated EVs and external meter, in virtual time. It writes a
JSON-lines trace of every connector and, with --plot, an SVG picture of the
day: currents per grid phase, events, and each car's energy and waiting.
With --report, an interactive HTML report of the same (zoom, each car's
offer, draw and state under the cursor): one self-contained file to mail.
The scenario format is in docs/site.md.

With --compare the same day also runs without load management (every
charger's DlmMode 0): the summary and the picture show both.

It then checks the trace: if a phase carried more than was available for
longer than an offer takes to arrive (1 s), or than the slowest EV takes
to follow (plus 1 s), it says so and exits with status 3. A site without a
master has no limit to keep: its peaks are shown instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := os.Open(scenario)
			if err != nil {
				return err
			}
			sc, err := site.Parse(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", scenario, err)
			}
			// The outputs are made first: a path that cannot be written
			// fails now, not after the simulation.
			out, err := os.Create(tracePath)
			if err != nil {
				return err
			}
			var plotOut, reportOut *os.File
			if plotPath != "" {
				if plotOut, err = os.Create(plotPath); err != nil {
					out.Close()
					return err
				}
				defer plotOut.Close()
			}
			if reportPath != "" {
				if reportOut, err = os.Create(reportPath); err != nil {
					out.Close()
					return err
				}
				defer reportOut.Close()
			}
			w := cmd.OutOrStdout()
			began := time.Now()
			st, err := simulate(cmd.Context(), sc, out)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "simulated %v of %d chargers in %v; %d trace lines in %s; %.1f kWh delivered\n",
				st.Simulated, len(sc.Chargers), time.Since(began).Round(time.Millisecond), st.Lines, tracePath, st.EnergyWh/1000)
			fmt.Fprintf(w, "%s\n", carsLine(st))
			var without bytes.Buffer
			if compare {
				wst, err := simulate(cmd.Context(), withoutDLM(sc), &without)
				if err != nil {
					return fmt.Errorf("the day without load management: %w", err)
				}
				fmt.Fprintf(w, "without load management: %.1f kWh delivered; %s; peak %s\n", wst.EnergyWh/1000, carsLine(wst), peaks(wst.Peak))
				fmt.Fprintf(w, "with load management: peak %s\n", peaks(st.Peak))
			}
			if plotOut != nil {
				tf, err := os.Open(tracePath)
				if err != nil {
					return err
				}
				o := site.PlotOptions{Scenario: sc, Cars: st.Cars}
				if compare {
					o.Without = bytes.NewReader(without.Bytes())
				}
				err = site.Plot(tf, plotOut, o)
				tf.Close()
				if cerr := plotOut.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return fmt.Errorf("plot: %w", err)
				}
				fmt.Fprintf(w, "plot in %s\n", plotPath)
			}
			if reportOut != nil {
				var withoutTrace io.Reader
				if compare {
					withoutTrace = bytes.NewReader(without.Bytes())
				}
				if err := writeReport(reportOut, tracePath, sc, st, withoutTrace, scenario); err != nil {
					return fmt.Errorf("report: %w", err)
				}
				if err := reportOut.Close(); err != nil {
					return err
				}
				fmt.Fprintf(w, "report in %s\n", reportPath)
			}
			if !hasMaster(sc) {
				fmt.Fprintf(w, "no load management on this site: no limit to keep; peak %s\n", peaks(st.Peak))
				return nil
			}
			tf, err := os.Open(tracePath)
			if err != nil {
				return err
			}
			defer tf.Close()
			offerGrace, drawnGrace := site.Graces(sc)
			v, err := site.CheckTrace(tf, offerGrace, drawnGrace)
			if err != nil {
				return err
			}
			if len(v) == 0 {
				fmt.Fprintf(w, "no phase over what was available (offers within %v, drawn current within %v)\n", offerGrace, drawnGrace)
				return nil
			}
			for _, x := range v {
				fmt.Fprintln(w, "OVER LIMIT:", x)
			}
			return exitError{code: exitOverLimit, err: fmt.Errorf("%d times over a phase limit", len(v))}
		},
	}
	cmd.Flags().StringVar(&scenario, "scenario", "", "scenario file (JSON, see docs/site.md)")
	cmd.Flags().StringVar(&tracePath, "trace", "", "trace file to write (JSON lines)")
	cmd.Flags().StringVar(&plotPath, "plot", "", "SVG picture of the day to write")
	cmd.Flags().StringVar(&reportPath, "report", "", "interactive HTML report of the day to write (self-contained)")
	cmd.Flags().BoolVar(&compare, "compare", false, "also run the day without load management, and show both")
	cmd.MarkFlagRequired("scenario")
	cmd.MarkFlagRequired("trace")
	return cmd
}

// simulate runs a scenario, its trace to w, until it ends or ctx does
// (Ctrl-C).
func simulate(ctx context.Context, sc *site.Scenario, w io.Writer) (site.Stats, error) {
	s, err := site.New(sc)
	if err != nil {
		return site.Stats{}, err
	}
	return s.RunContext(ctx, &site.TraceOptions{W: w})
}

// withoutDLM is the same day with every charger's load management off.
func withoutDLM(sc *site.Scenario) *site.Scenario {
	c := *sc
	c.Chargers = append([]site.Charger(nil), sc.Chargers...)
	for i := range c.Chargers {
		c.Chargers[i].Mode = 0
	}
	return &c
}

func hasMaster(sc *site.Scenario) bool {
	for _, c := range sc.Chargers {
		if c.Mode == 1 || c.Mode == 2 {
			return true
		}
	}
	return false
}

// carsLine sums up the cars of a run.
func carsLine(st site.Stats) string {
	full := 0
	var waited time.Duration
	for _, c := range st.Cars {
		if c.Full {
			full++
		}
		waited += c.Waiting
	}
	return fmt.Sprintf("%d cars, %d full when they left, %v waiting in all", len(st.Cars), full, waited.Round(time.Minute))
}

func peaks(p [3]float64) string {
	var parts []string
	for i, a := range p {
		parts = append(parts, fmt.Sprintf("L%d %.1f A", i+1, a))
	}
	return strings.Join(parts, ", ")
}

// writeReport writes the interactive report of a simulated day.
func writeReport(out io.Writer, tracePath string, sc *site.Scenario, st site.Stats, without io.Reader, name string) error {
	tf, err := os.Open(tracePath)
	if err != nil {
		return err
	}
	defer tf.Close()
	data, err := site.Report(tf, site.PlotOptions{Scenario: sc, Without: without})
	if err != nil {
		return err
	}
	r := web.SiteReport{Title: "Site report: " + filepath.Base(name), Data: data,
		Summary: []string{fmt.Sprintf("%v of %d chargers; %.1f kWh delivered", st.Simulated, len(sc.Chargers), st.EnergyWh/1000),
			carsLine(st), "peak with load management: " + peaks(st.Peak)}}
	if without != nil {
		r.Summary = append(r.Summary, "the day without load management is the red dashed line of each chart")
	}
	for _, c := range st.Cars {
		r.Cars = append(r.Cars, web.CarRow{Connector: fmt.Sprintf("%s/%d", c.Charger, c.Connector),
			Arrival: clockOf(c.Arrival), Departed: clockOf(c.Departure), KWh: fmt.Sprintf("%.1f kWh", c.EnergyWh/1000),
			Waiting: c.Waiting.Round(time.Minute).String(), Full: c.Full})
	}
	return web.WriteSiteReport(out, r)
}

// clockOf is seconds from the start as a clock shows them.
func clockOf(s float64) string {
	d := time.Duration(s * float64(time.Second))
	day, rest := d/(24*time.Hour), d%(24*time.Hour)
	text := fmt.Sprintf("%02d:%02d", int(rest.Hours()), int(rest.Minutes())%60)
	if day > 0 {
		text = fmt.Sprintf("day %d %s", day+1, text)
	}
	return text
}
