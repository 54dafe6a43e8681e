package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/daemon"
	"github.com/evse-dev/evse/internal/model"
	"github.com/evse-dev/evse/internal/store"
)

func newCertCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "The charge point's key and certificates for security profile 3 (docs/security.md)",
	}
	var data, cpo, id string
	csr := &cobra.Command{
		Use:   "csr [--data DIR] [--id ID] [--cpo NAME]",
		Short: "Print a certificate signing request for the charge point's own key (made on the unit the first time)",
		Long: `Print a certificate signing request (PEM) for the charge point's key. The
key is made on the unit the first time and never leaves its store. The
subject is the charge point's identity (the id it ran as, or --id) and,
as organization, the CPO's name (--cpo, default the key CpoName). Have the
central system's CA sign it, then install the certificate with
evse cert install --chargepoint FILE.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withSettings(data, func(settings *config.Settings, db *store.DB) error {
				if cpo == "" {
					cpo = settings.Snapshot().CpoName
				}
				kept, err := daemon.KeptID(db)
				if err != nil {
					return err
				}
				switch {
				case kept != "" && id != "" && id != kept:
					return fmt.Errorf("%s holds the data of charge point %q, not %q", data, kept, id)
				case kept != "":
					id = kept
				case id == "":
					return fmt.Errorf("%s has not run as a charge point yet: give its identity with --id", data)
				}
				pem, err := certs.New(db).CSR(id, cpo)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(pem)
				return err
			})
		},
	}
	csr.Flags().StringVar(&data, "data", "evse-data", "directory of the charge point's store")
	csr.Flags().StringVar(&cpo, "cpo", "", "the CPO's name, the subject's organization")
	csr.Flags().StringVar(&id, "id", "", "the charge point's identity, if the data directory has not run yet")

	var cpFile, rootFile string
	install := &cobra.Command{
		Use:   "install [--data DIR] (--chargepoint FILE | --central-root FILE)",
		Short: "Install the charge point's certificate, or a central system root certificate",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (cpFile == "") == (rootFile == "") {
				return errors.New("give --chargepoint FILE or --central-root FILE")
			}
			return withSettings(data, func(settings *config.Settings, db *store.DB) error {
				s := certs.New(db)
				if cpFile != "" {
					raw, err := readFileMax(cpFile, certs.MaxPEM)
					if err != nil {
						return err
					}
					if err := s.InstallCertificate(raw, "", time.Now(), settings.Snapshot().CertificateSignedMaxChainSize); err != nil {
						return err
					}
					fmt.Fprintln(cmd.OutOrStdout(), "the charge point's certificate is installed")
					return nil
				}
				raw, err := readFileMax(rootFile, certs.MaxPEM)
				if err != nil {
					return err
				}
				n, err := s.InstallRoot(raw, settings.Snapshot().CertificateStoreMaxLength)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d central system root certificate(s) installed\n", n)
				return nil
			})
		},
	}
	install.Flags().StringVar(&data, "data", "evse-data", "directory of the charge point's store")
	install.Flags().StringVar(&cpFile, "chargepoint", "", "PEM file of the charge point's certificate (and its chain)")
	install.Flags().StringVar(&rootFile, "central-root", "", "PEM file of central system root certificates to trust")
	var caDir string
	var days int
	sign := &cobra.Command{
		Use:   "sign --ca DIR [--days N] FILE.csr",
		Short: "Sign a charge point's CSR with the test central system's CA (evse csms --tls DIR), for trying profile 3",
		Long: `Sign a certificate signing request (PEM, from evse cert csr) with the CA
evse csms --tls DIR keeps in DIR, and print the charge point's
certificate (PEM) for evse cert install --chargepoint. For trying
security profile 3 on one machine, never for production.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ca, err := csmstest.LoadCA(caDir)
			if err != nil {
				return err
			}
			raw, err := readFileMax(args[0], certs.MaxPEM)
			if err != nil {
				return err
			}
			if days < 1 {
				return fmt.Errorf("--days %d: at least 1", days)
			}
			signed, err := ca.SignCSR(raw, time.Duration(days)*24*time.Hour)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(signed)
			return err
		},
	}
	sign.Flags().StringVar(&caDir, "ca", "", "the CA's directory (ca.pem and ca-key.pem, as evse csms --tls keeps them)")
	sign.Flags().IntVar(&days, "days", 365, "how many days the certificate is valid")
	sign.MarkFlagRequired("ca")
	cmd.AddCommand(csr, install, sign)
	return cmd
}

// withSettings opens the store of a stopped charge point and its
// configuration.
func withSettings(dir string, f func(*config.Settings, *store.DB) error) error {
	settings, db, err := daemon.OpenSettings(dir, model.Model{}, false, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	return f(settings, db)
}
