package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/evse-dev/evse/internal/config"
)

func newKeysCommand() *cobra.Command {
	var modelFile string
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Print the configuration-key catalogue as a Markdown table",
		Long: `Print every configuration key with its type, range, default, accessibility,
when a change takes effect and its DLM scope. docs/keys.md is this output
for the neutral model: go run ./cmd/evse keys > docs/keys.md`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := loadModel(modelFile)
			if err != nil {
				return err
			}
			cat, err := config.NewCatalogue(m.ConfigDefaults())
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), cat.Markdown())
			return err
		},
	}
	cmd.Flags().StringVar(&modelFile, "model", "", "model file whose defaults to show")
	return cmd
}
