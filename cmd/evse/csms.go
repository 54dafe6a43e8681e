package main

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
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
		tlsDir    string
		versions  string
	)
	cmd := &cobra.Command{
		Use:   "csms [--listen ADDR] [--ocpp VERSIONS] [--tls DIR]",
		Short: "Run the built-in test central system (accepts everything; for trying evse run and evse fleet)",
		Long: `Run the small OCPP central system evse's tests and demo use: it accepts
every charge point at ws://ADDR/ocpp/<id>, answers every CALL at once
(BootNotification Accepted, every tag Accepted) and prints how many
charge points are connected and frames it saw. Stop it with Ctrl-C.

It speaks OCPP 1.6 and 2.0.1. --ocpp lists the versions it offers in
the WebSocket handshake, in its order of preference (default 1.6,2.0.1:
a charge point offering both gets 1.6, one offering only 2.0.1 gets
2.0.1); each connection is answered in the version agreed.

With --tls DIR it serves wss://ADDR/ocpp/<id> instead, with a small CA of
its own kept in DIR (made the first time: ca.pem, ca-key.pem): its server
certificate is for 127.0.0.1, ::1 and localhost; a client certificate,
when a charge point presents one (security profile 3), must be of that
CA; and it signs the CSRs of SignCertificate and sends them back with
CertificateSigned. Install DIR/ca.pem in the charge point
(evse cert install --central-root) and sign its CSR with
evse cert sign --ca DIR (docs/security.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			subprotocols, err := parseOCPPVersions(versions)
			if err != nil {
				return err
			}
			var frames atomic.Int64
			s := csmstest.New(csmstest.Options{Forget: true, HeartbeatInterval: heartbeat, Subprotocols: subprotocols,
				OnRecord: func(csmstest.Record) { frames.Add(1) }})
			var url string
			if tlsDir != "" {
				url, err = listenTLS(s, listen, tlsDir, cmd.ErrOrStderr())
			} else {
				url, err = s.Listen(listen)
			}
			if err != nil {
				return err
			}
			defer s.Close()
			out := cmd.ErrOrStderr()
			fmt.Fprintf(out, "evse csms: offering %s\n", strings.Join(subprotocols, ", "))
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
	cmd.Flags().StringVar(&versions, "ocpp", "1.6,2.0.1", "the OCPP versions offered, in order of preference: 1.6, 2.0.1 or both, comma-separated")
	cmd.Flags().StringVar(&tlsDir, "tls", "", "serve wss:// with the CA kept in this directory (made the first time)")
	return cmd
}

// parseOCPPVersions reads --ocpp: versions (1.6, 2.0.1, or the
// subprotocol names ocpp1.6, ocpp2.0.1), comma-separated, each once, into
// subprotocols in the same order.
func parseOCPPVersions(list string) ([]string, error) {
	var out []string
	for _, v := range strings.Split(list, ",") {
		v = strings.TrimSpace(v)
		sp := "ocpp" + strings.TrimPrefix(v, "ocpp")
		if sp != csmstest.OCPP16 && sp != csmstest.OCPP201 {
			return nil, fmt.Errorf("--ocpp: %q is not an OCPP version evse csms speaks (1.6, 2.0.1)", v)
		}
		if slices.Contains(out, sp) {
			return nil, fmt.Errorf("--ocpp: %s given twice", v)
		}
		out = append(out, sp)
	}
	return out, nil
}

// listenTLS serves s over wss:// with the CA kept in dir, made the first
// time: client certificates of that CA verified when given, CSRs signed.
func listenTLS(s *csmstest.Server, addr, dir string, out io.Writer) (string, error) {
	ca, made, err := csmstest.OpenCA(dir, "evse csms test CA", 5*365*24*time.Hour)
	if err != nil {
		return "", err
	}
	if made {
		fmt.Fprintf(out, "evse csms: made a CA in %s\n", dir)
	}
	s.SignCSRs(ca, 365*24*time.Hour)
	url, err := s.ListenTLS(addr, ca, csmstest.TLSOptions{OptionalClientCerts: true})
	if err != nil {
		return "", err
	}
	fmt.Fprintf(out, "evse csms: the root to install in charge points: %s\n", filepath.Join(dir, "ca.pem"))
	return url, nil
}
