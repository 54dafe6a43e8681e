package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/evse-dev/evse/internal/daemon"
	"github.com/evse-dev/evse/internal/fleet"
)

func newFleetCommand() *cobra.Command {
	var (
		opts       fleet.Options
		file       string
		count      int
		prefix     string
		shard      string
		listen     string
		reportFile string
		ocpp       string
		rate       float64
		duration   time.Duration
		logs       logFlags
	)
	cmd := &cobra.Command{
		Use:   "fleet --csms URL (--count N [--id-prefix P] | --file FLEET.yaml) [--data DIR]",
		Short: "Run many charge points in one process against a central system",
		Long: `Run a fleet: N complete charge points (what evse run runs, each with its own
id, connection, keys and journal) in one process and one store, connecting
at a ramp, with cars and drivers from a seed, faults on demand, an API and
Prometheus metrics on --listen, and a report when it stops (SIGINT or
SIGTERM stop it cleanly). The fleet file, the API and the metrics:
docs/fleet.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logs.logger()
			if err != nil {
				return err
			}
			switch {
			case file != "" && cmd.Flags().Changed("count"):
				return errors.New("give --count or --file, not both")
			case file != "" && ocpp != "":
				return errors.New("--ocpp goes with --count; a fleet file says each group's versions (ocpp:)")
			case file != "":
				opts.Spec, err = fleet.LoadSpec(file)
			case count > 0:
				opts.Spec, err = fleet.Simple(count, prefix)
				if err == nil && ocpp != "" {
					opts.Spec.Groups[0].OCPP, err = fleet.ParseVersions(ocpp)
					if err != nil {
						err = fmt.Errorf("--ocpp: %w", err)
					}
				}
			default:
				return errors.New("give --count N (a fleet of N neutral charge points) or --file FLEET.yaml")
			}
			if err != nil {
				return err
			}
			if rate > 0 {
				opts.Spec.Ramp.Rate = rate
			}
			if opts.Shard, err = fleet.ParseShard(shard); err != nil {
				return err
			}
			if reportFile != "" { // before the run, not after an hour of it
				if err := os.WriteFile(reportFile, []byte("{}\n"), 0o644); err != nil {
					return fmt.Errorf("--report: %w", err)
				}
			}
			opts.Logger = log
			f, err := fleet.New(opts)
			if err != nil {
				return err
			}
			out := cmd.ErrOrStderr()
			if listen != "off" && listen != "" {
				stop, err := daemon.ServeAPI(listen, opts.DataDir, f.Handler(log), log, func(addr string) {
					fmt.Fprintf(out, "evse fleet: API and /metrics on http://%s (docs/fleet.md)\n", addr)
				})
				if err != nil {
					return err
				}
				defer stop()
			}
			fmt.Fprintf(out, "evse fleet: %d charge points against %s, ramp %g a second, data in %s, seed %d\n",
				len(f.Chargers()), firstNonEmpty(opts.CSMSURL, opts.Spec.CSMS), opts.Spec.Ramp.Rate, opts.DataDir, opts.Seed)
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			done := make(chan struct{})
			go func() {
				defer close(done)
				showProgress(ctx, out, f)
			}()
			runCtx := cmd.Context()
			if duration > 0 {
				var stop context.CancelFunc
				runCtx, stop = context.WithTimeout(runCtx, duration)
				defer stop()
			}
			runErr := f.Run(runCtx)
			cancel()
			<-done
			report := f.Report()
			report.Write(cmd.OutOrStdout())
			if reportFile != "" {
				raw, err := json.MarshalIndent(report, "", "  ")
				if err != nil {
					return err
				}
				if err := os.WriteFile(reportFile, append(raw, '\n'), 0o644); err != nil {
					return fmt.Errorf("--report: %w", err)
				}
			}
			return runErr
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.CSMSURL, "csms", "", "central system URL, ws://host:port/path or wss://... (each id is appended); default the fleet file's")
	fl.IntVar(&count, "count", 0, "number of neutral charge points (without --file)")
	fl.StringVar(&prefix, "id-prefix", "CP-", "id prefix with --count: P00001, P00002, ...")
	fl.StringVar(&ocpp, "ocpp", "", `with --count: OCPP versions the charge points offer, in order: "1.6" (default), "2.0.1" or "2.0.1,1.6"`)
	fl.StringVar(&file, "file", "", "fleet file (YAML): groups, behaviour, faults (docs/fleet.md)")
	fl.StringVar(&opts.DataDir, "data", "evse-fleet-data", "directory of the fleet's one store")
	fl.StringVar(&listen, "listen", "127.0.0.1:8080", `address of the fleet's API and /metrics, or "off"`)
	fl.Uint64Var(&opts.Seed, "seed", 1, "seed of the cars, drivers and faults: the same seed, the same draws")
	fl.StringVar(&shard, "shard", "", "i/n: run the i-th of n shards of the fleet (0 ≤ i < n)")
	fl.StringVar(&reportFile, "report", "", "write the report as JSON to this file when the fleet stops")
	fl.Float64Var(&rate, "ramp", 0, "connection attempts a second over the whole fleet (default the file's, else 20)")
	fl.DurationVar(&duration, "duration", 0, "stop cleanly after this long, as on SIGINT (0: run until stopped)")
	fl.StringVar(&opts.CAFile, "ca", "", "PEM file of CA certificates for wss:// (default: the system's)")
	fl.DurationVar(&opts.ReplaySpread, "replay-spread", 10*time.Second, "longest random wait before a charge point's journal is sent after a (re)connection")
	fl.DurationVar(&opts.Pacing, "pacing", 0, "least time between two journaled messages of one charge point (0: none)")
	logs.register(cmd, "warn")
	return cmd
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// showProgress tells the fleet's state until ctx ends: a line rewritten
// every second on a terminal, else a log line every 10 s.
func showProgress(ctx context.Context, out io.Writer, f *fleet.Fleet) {
	tty := false
	if file, ok := out.(*os.File); ok {
		tty = term.IsTerminal(int(file.Fd()))
	}
	every := 10 * time.Second
	if tty {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			if tty {
				fmt.Fprintln(out)
			}
			return
		}
		line := progressLine(f.Progress())
		if tty {
			fmt.Fprintf(out, "\r\033[K%s", line)
		} else {
			fmt.Fprintf(out, "%s %s\n", time.Now().Format(time.TimeOnly), line)
		}
	}
}

func progressLine(p fleet.Progress) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d charge points:", p.Chargers)
	for _, s := range fleet.States {
		if n := p.States[s]; n > 0 {
			fmt.Fprintf(&b, " %s %d", s, n)
		}
	}
	fmt.Fprintf(&b, " | attempts %d, sessions %d", p.Attempts, p.Sessions)
	return b.String()
}
