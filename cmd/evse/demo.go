package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/daemon"
)

func newDemoCommand() *cobra.Command {
	var (
		id, listen, dataDir string
		full                bool
		logs                logFlags
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a built-in test central system and a charge point on loopback",
		Long: `Start the built-in test central system on loopback and a charge point
connected to it, and print the OCPP traffic between them until Ctrl-C.
The central system walks through the configuration model: it reads every
key, changes the heartbeat interval, and shows the answers to a read-only
key, an unknown key, a bad value and a key that needs a reboot.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logs.logger()
			if err != nil {
				return err
			}
			if dataDir == "" {
				dir, err := os.MkdirTemp("", "evse-demo-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				dataDir = dir
			}
			out := cmd.OutOrStdout()
			p := newTracePrinter(out, full)
			csms := csmstest.New(csmstest.Options{
				HeartbeatInterval: 60,
				OnRecord: func(r csmstest.Record) {
					if r.Invalid != "" {
						p.note("schema violation: %s", r.Invalid)
					}
					p.print(r.Dir.String(), r.Raw)
				},
			})
			url, err := csms.Listen(listen)
			if err != nil {
				return err
			}
			defer csms.Close()
			fmt.Fprintf(out, "evse demo: test central system at %s, charge point %q, data in %s\n", url, id, dataDir)
			fmt.Fprintln(out, "Press Ctrl-C to stop.")

			ctx := cmd.Context()
			g, gctx := errgroup.WithContext(ctx)
			g.Go(func() error {
				return daemon.Run(gctx, daemon.Options{CSMSURL: url, ID: id, DataDir: dataDir, Logger: log})
			})
			g.Go(func() error { return demoScript(gctx, csms, p, id) })
			err = g.Wait()
			if ctx.Err() != nil {
				return nil // Ctrl-C
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&id, "id", "EVSE-DEMO-1", "charge point identity")
	f.StringVar(&listen, "listen", "127.0.0.1:0", "address of the test central system")
	f.StringVar(&dataDir, "data", "", "store directory (default: a temporary one, removed at exit)")
	f.BoolVar(&full, "full", false, "print whole frames instead of cutting long ones")
	logs.register(cmd, "warn")
	return cmd
}

// demoScript is what the demo's central system does once the charge point
// has booted.
func demoScript(ctx context.Context, csms *csmstest.Server, p *tracePrinter, id string) error {
	if _, err := csms.WaitFor(ctx, 0, csmstest.IsCall(id, "BootNotification")); err != nil {
		return nil
	}
	// Let the boot-time status notifications go first.
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
		return nil
	}
	steps := []struct {
		note, action, payload string
	}{
		{"the central system reads every configuration key", "GetConfiguration", `{}`},
		{"it reads two keys by name (GetConfigurationMaxKeys is 1: too many)", "GetConfiguration", `{"key":["HeartbeatInterval","FreeChargingMode"]}`},
		{"one key by name: an Ensto enum reads back its number (3 = 30 sec)", "GetConfiguration", `{"key":["DlmRecalcInterval"]}`},
		{"a key the charger does not know: listed under unknownKey", "GetConfiguration", `{"key":["NoSuchKey"]}`},
		{"it sets the heartbeat to 10 s: Accepted, and heartbeats follow at once", "ChangeConfiguration", `{"key":"HeartbeatInterval","value":"10"}`},
		{"a read-only key: Rejected", "ChangeConfiguration", `{"key":"NumberOfConnectors","value":"2"}`},
		{"an unknown key: NotSupported", "ChangeConfiguration", `{"key":"NoSuchKey","value":"1"}`},
		{"a value out of range: Rejected", "ChangeConfiguration", `{"key":"ConnectionTimeOut","value":"5"}`},
		{"an operator limit above the phase limit (16 A): Rejected", "ChangeConfiguration", `{"key":"DlmOperatorPhase1Limit","value":"20"}`},
		{"an installation setting: RebootRequired", "ChangeConfiguration", `{"key":"DlmPhase1Limit","value":"32"}`},
		{"it asks for the connector statuses again", "TriggerMessage", `{"requestedMessage":"StatusNotification"}`},
	}
	for _, st := range steps {
		p.note("%s", st.note)
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := csms.Call(cctx, id, st.action, json.RawMessage(st.payload))
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		_ = err // the answer, error or not, is printed with the traffic
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return nil
		}
	}
	p.note("done; the charge point now heartbeats every 10 s. Ctrl-C to stop.")
	<-ctx.Done()
	return nil
}
