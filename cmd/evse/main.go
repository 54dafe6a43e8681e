// Command evse is an OCPP 1.6J charge point controller and simulator that
// behaves like an Ensto charger. See README.md.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/evse-dev/evse/internal/model"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "evse:", err)
		code := 1
		if e, ok := err.(exitError); ok {
			code = e.code
		}
		os.Exit(code)
	}
}

// exitError is an error with its own exit status.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "evse",
		Short: "An OCPP 1.6J charge point that behaves like an Ensto charger",
		Long: `evse is an EV charge point controller and simulator speaking OCPP 1.6J,
with the complete configuration-key model of Ensto chargers.

Start with 'evse demo': a built-in test central system and a charge point
on loopback, printing the OCPP traffic.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       model.Version,
	}
	root.AddCommand(newRunCommand(), newDemoCommand(), newConfigCommand(), newKeysCommand(), newSiteCommand(), newAPITokenCommand(), newStoreCommand(), newFleetCommand(), newCSMSCommand(), newCertCommand(), newFirmwareCommand())
	return root
}

// logFlags are the logging flags of the commands that run a charge point.
type logFlags struct {
	level string
}

func (f *logFlags) register(cmd *cobra.Command, def string) {
	cmd.Flags().StringVar(&f.level, "log-level", def, "log level: debug, info, warn or error")
}

func (f *logFlags) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})), nil
}

// loadModel returns the model of a --model flag, or the neutral one.
func loadModel(path string) (model.Model, error) {
	if path == "" {
		return model.Default(), nil
	}
	return model.Load(path)
}
