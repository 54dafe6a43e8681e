package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/daemon"
	"github.com/evse-dev/evse/internal/model"
	"github.com/evse-dev/evse/internal/store"
)

func newConfigCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Read and write configuration keys as the installer",
		Long: `Read and write the configuration keys of a charge point's store, with
installer access: every stored key, read-only over OCPP or not, through the
same validation as ChangeConfiguration. Stop 'evse run' on the same --data
first: the store is locked while it runs.`,
	}
	cmd.AddCommand(newConfigGetCommand(), newConfigSetCommand())
	return cmd
}

type storeFlags struct {
	data, model string
}

func (f *storeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.data, "data", "evse-data", "directory of the charge point's store")
	cmd.Flags().StringVar(&f.model, "model", "", "model file of the unit (its defaults are shown for unset keys); default the one the store keeps")
}

// open opens the store; only a writer may create it.
func (f *storeFlags) open(create bool) (*config.Settings, *store.DB, error) {
	var m model.Model // zero: the model the store keeps
	if f.model != "" {
		var err error
		if m, err = model.Load(f.model); err != nil {
			return nil, nil, err
		}
	}
	settings, db, err := daemon.OpenSettings(f.data, m, !create, slog.New(slog.DiscardHandler))
	switch {
	case errors.Is(err, store.ErrLocked):
		return nil, nil, fmt.Errorf("%w (is 'evse run --data %s' running? stop it first)", err, f.data)
	case errors.Is(err, store.ErrNoStore):
		return nil, nil, fmt.Errorf("%w (evse run or evse config set creates it; evse keys lists the defaults)", err)
	}
	return settings, db, err
}

func newConfigGetCommand() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "get [KEY...]",
		Short: "Print keys as KEY=VALUE lines (all keys when none is named)",
		RunE: func(cmd *cobra.Command, args []string) error {
			settings, db, err := sf.open(false)
			if err != nil {
				return err
			}
			defer db.Close()
			var values []config.Value
			if len(args) == 0 {
				values = settings.All()
			}
			for _, name := range args {
				v, err := settings.Get(name)
				if err != nil {
					return err
				}
				values = append(values, v)
			}
			out := cmd.OutOrStdout()
			for _, v := range values {
				val := v.Value
				if v.Key.Access == config.WriteOnly && val != "" {
					val = "(set, write-only)"
				}
				fmt.Fprintf(out, "%s=%s\n", v.Key.Name, val)
			}
			return nil
		},
	}
	sf.register(cmd)
	return cmd
}

func newConfigSetCommand() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "set KEY=VALUE...",
		Short: "Set keys; all or nothing",
		Long: `Set keys with installer access. Every pair is checked first, in order,
against the values before it; if one is refused, nothing is changed and the
command exits with status 1. Quote names with a space:
  evse config set "DlmInput1CurrOffset Phase1=-6"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var pairs []config.Pair
			for _, a := range args {
				k, v, ok := strings.Cut(a, "=")
				if !ok {
					return fmt.Errorf("%q: want KEY=VALUE", a)
				}
				pairs = append(pairs, config.Pair{Key: k, Value: v})
			}
			settings, db, err := sf.open(true)
			if err != nil {
				return err
			}
			defer db.Close()
			results, err := settings.SetAll(pairs, config.ActorInstaller)
			if err != nil {
				return fmt.Errorf("nothing changed: %w", err)
			}
			out := cmd.OutOrStdout()
			for _, res := range results {
				note := ""
				if res.Effect == config.Reboot {
					note = " (takes effect at the next start)"
				}
				v, _ := settings.Get(res.Key.Name)
				val := v.Value
				if res.Key.Access == config.WriteOnly {
					val = "(set, write-only)"
					if v.Value == "" {
						val = "(cleared)"
					}
				}
				fmt.Fprintf(out, "%s=%s%s\n", res.Key.Name, val, note)
				for _, a := range res.Also {
					fmt.Fprintf(out, "%s=%s (changed with %s)\n", a.Key, a.Value, res.Key.Name)
				}
			}
			return nil
		},
	}
	sf.register(cmd)
	return cmd
}
