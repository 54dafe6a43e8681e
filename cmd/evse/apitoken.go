package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/evse-dev/evse/internal/daemon"
)

func newAPITokenCommand() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "api-token [--data DIR]",
		Short: "Print the local API's token (needed when evse run listens beyond loopback)",
		Long: `Print the token of the local API of the charge point whose data is in DIR,
making one the first time. When 'evse run --listen' names an address beyond
loopback, every request to the API must carry it:

  curl -H "Authorization: Bearer $(evse api-token --data DIR)" http://HOST:8080/api/v1/status`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tok, err := daemon.APIToken(data)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "evse-data", "directory of the charge point's store")
	return cmd
}
