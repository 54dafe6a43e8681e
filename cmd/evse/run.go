package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/evse-dev/evse/internal/daemon"
	"github.com/evse-dev/evse/internal/model"
	"github.com/evse-dev/evse/internal/ocppj"
)

func newRunCommand() *cobra.Command {
	var (
		opts      daemon.Options
		modelFile string
		trace     bool
		logs      logFlags
	)
	var versions string
	cmd := &cobra.Command{
		Use:   "run --csms URL --id ID [--data DIR] [--ocpp VERSIONS]",
		Short: "Run a charge point against a central system",
		Long: `Run a charge point: it connects to <URL>/<ID> offering the OCPP versions
of --ocpp (1.6 by default; "2.0.1,1.6" offers both, 2.0.1 first) and
speaks the one the central system picks; it sends BootNotification,
heartbeats, and serves the configuration keys (over 2.0.1, the device
model: docs/ocpp201.md). It stops cleanly on SIGINT or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logs.logger()
			if err != nil {
				return err
			}
			if modelFile != "" { // else the model the data directory keeps
				m, err := model.Load(modelFile)
				if err != nil {
					return err
				}
				opts.Model = m
			}
			opts.Logger = log
			if opts.OCPP, err = daemon.ParseVersions(versions); err != nil {
				return fmt.Errorf("--ocpp: %w", err)
			}
			if opts.Listen == "off" {
				opts.Listen = ""
			}
			if trace {
				p := newTracePrinter(os.Stdout, false)
				opts.Trace = func(dir ocppj.Direction, frame []byte) {
					if dir == ocppj.Sent {
						p.print("CP→CSMS", frame)
					} else {
						p.print("CSMS→CP", frame)
					}
				}
			}
			return daemon.Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.CSMSURL, "csms", "", "central system URL, ws://host:port/path or wss://... (the id is appended)")
	f.StringVar(&versions, "ocpp", "1.6", `OCPP versions offered, in order of preference: 1.6, 2.0.1, or "2.0.1,1.6"`)
	f.StringVar(&opts.ID, "id", "", "charge point identity")
	f.StringVar(&opts.DataDir, "data", "evse-data", "directory of the charge point's store")
	f.StringVar(&modelFile, "model", "", "model file (JSON) describing the unit; default the one the data directory keeps, else a neutral one")
	f.BoolVar(&opts.Adopt, "adopt", false, "take over a data directory made for another --id or --model")
	f.StringVar(&opts.CAFile, "ca", "", "PEM file of CA certificates for wss:// (default: the system's)")
	f.BoolVar(&opts.TrustSystemRoots, "trust-system-roots", false, "also trust the system's roots when central system roots are installed or --ca is given")
	f.BoolVar(&trace, "trace", false, "print every OCPP frame on stdout")
	f.StringVar(&opts.Listen, "listen", "127.0.0.1:8080", `address of the local HTTP API (docs/api.md), or "off"`)
	f.DurationVar(&opts.ReplaySpread, "replay-spread", 10*time.Second, "longest random wait before transaction messages kept offline are sent after a (re)connection")
	f.DurationVar(&opts.Pacing, "pacing", 0, "least time between two transaction messages sent from the journal (0: as fast as the central system answers)")
	logs.register(cmd, "info")
	cmd.MarkFlagRequired("csms")
	cmd.MarkFlagRequired("id")
	return cmd
}
