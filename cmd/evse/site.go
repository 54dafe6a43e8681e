package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/evse-dev/evse/internal/site"
)

// exitOverLimit is the exit status of evse site when the trace shows a
// phase over what was available beyond the allowed transition time.
const exitOverLimit = 3

func newSiteCommand() *cobra.Command {
	var scenario, tracePath, plotPath string
	cmd := &cobra.Command{
		Use:   "site --scenario FILE --trace OUT.jsonl [--plot OUT.svg]",
		Short: "Simulate a DLM site in virtual time (a day in seconds)",
		Long: `site runs a DLM master and its slaves with their real load-management code
over an in-process network, with simulated EVs and external meter, in
virtual time. It writes a JSON-lines trace of every connector and, with
--plot, an SVG picture of the day. The scenario format is in docs/site.md.

It then checks the trace: if a phase carried more than was available for
longer than an offer takes to arrive (1 s), or than the slowest EV takes
to follow (plus 1 s), it says so and exits with status 3.`,
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
			s, err := site.New(sc)
			if err != nil {
				return fmt.Errorf("%s: %w", scenario, err)
			}
			out, err := os.Create(tracePath)
			if err != nil {
				return err
			}
			began := time.Now()
			st, err := s.Run(&site.TraceOptions{W: out})
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			wall := time.Since(began)
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "simulated %v of %d chargers in %v; %d trace lines in %s; %.1f kWh delivered\n",
				st.Simulated, len(sc.Chargers), wall.Round(time.Millisecond), st.Lines, tracePath, st.EnergyWh/1000)
			if plotPath != "" {
				if err := plotFile(tracePath, plotPath); err != nil {
					return err
				}
				fmt.Fprintf(w, "plot in %s\n", plotPath)
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
	cmd.MarkFlagRequired("scenario")
	cmd.MarkFlagRequired("trace")
	return cmd
}

func plotFile(tracePath, plotPath string) error {
	in, err := os.Open(tracePath)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(plotPath)
	if err != nil {
		return err
	}
	if err := site.Plot(in, out); err != nil {
		out.Close()
		return fmt.Errorf("plot: %w", err)
	}
	return out.Close()
}
