package main

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/evse-dev/evse/internal/csmstest"
)

func newCSMSCommand() *cobra.Command {
	var (
		listen    string
		heartbeat int
		every     time.Duration
	)
	cmd := &cobra.Command{
		Use:   "csms [--listen ADDR]",
		Short: "Run the built-in test central system (accepts everything; for trying evse run and evse fleet)",
		Long: `Run the small OCPP 1.6 central system evse's tests and demo use: it accepts
every charge point at ws://ADDR/ocpp/<id>, answers every CALL at once
(BootNotification Accepted, every tag Accepted) and prints how many
charge points are connected and frames it saw. Stop it with Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var frames atomic.Int64
			s := csmstest.New(csmstest.Options{Forget: true, HeartbeatInterval: heartbeat,
				OnRecord: func(csmstest.Record) { frames.Add(1) }})
			url, err := s.Listen(listen)
			if err != nil {
				return err
			}
			defer s.Close()
			out := cmd.ErrOrStderr()
			fmt.Fprintf(out, "evse csms: listening at %s/<id>\n", url)
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					fmt.Fprintf(out, "%s %d connected, %d frames\n", time.Now().Format(time.TimeOnly), s.ConnectedCount(), frames.Load())
				case <-cmd.Context().Done():
					return nil
				}
			}
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:9000", "address to listen on")
	cmd.Flags().IntVar(&heartbeat, "heartbeat", 240, "HeartbeatInterval given in BootNotification answers, in s")
	cmd.Flags().DurationVar(&every, "every", 10*time.Second, "how often to print the counts")
	return cmd
}
