package main

import (
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/evse-dev/evse/internal/store"
)

func newStoreCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Check a charge point's data file, or salvage a damaged one",
	}
	var data string
	check := &cobra.Command{
		Use:   "check [--data DIR]",
		Short: "Check the data file: exit 0 when sound, 1 with what is wrong",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := store.Check(data); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s/%s is sound\n", data, store.FileName)
			return nil
		},
	}
	salvage := &cobra.Command{
		Use:   "salvage [--data DIR]",
		Short: "Copy what is readable of a damaged data file into a new one, keeping the damaged file",
		Long: `Copy every value that can be read of the data file into a new one in its
place, and keep the damaged file beside it (evse.db.damaged-<time>). A data
file whose newest commit is damaged goes back to the commit before; one that
cannot be read at all is replaced by an empty one: the charge point then
starts with its defaults, which only this command decides. Stop evse run on
the directory first. Check the configuration afterwards (evse config get).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep, err := store.Salvage(data, time.Now())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if rep.Unreadable != nil {
				fmt.Fprintf(out, "the damaged file could not be read (%v): the new one is empty\n", rep.Unreadable)
			}
			var names []string
			for n := range rep.Kept {
				names = append(names, n)
			}
			for n := range rep.Lost {
				if _, ok := rep.Kept[n]; !ok {
					names = append(names, n)
				}
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(out, "%-14s %6d kept", n, rep.Kept[n])
				if rep.Lost[n] > 0 {
					fmt.Fprintf(out, ", %d lost", rep.Lost[n])
				}
				fmt.Fprintln(out)
			}
			fmt.Fprintf(out, "the damaged file is kept as %s\n", rep.Damaged)
			return nil
		},
	}
	for _, c := range []*cobra.Command{check, salvage} {
		c.Flags().StringVar(&data, "data", "evse-data", "directory of the charge point's store")
		cmd.AddCommand(c)
	}
	return cmd
}
