package main

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/firmsign"
)

// maxImage bounds a firmware image or payload: as much as a charge point
// downloads.
const maxImage = 64 << 20

func newFirmwareCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "firmware",
		Short: "Build and sign firmware images (docs/firmware.md)",
	}
	var version, output string
	build := &cobra.Command{
		Use:   "build --version V [--output FILE] PAYLOAD",
		Short: "Wrap a payload in an EVSE-FIRMWARE image, to stdout or --output",
		Long: `Wrap a payload in an EVSE-FIRMWARE 1 image: a header with the version
(what BootNotification will show, at most 50 characters) and the
payload's SHA-256, a blank line, the payload.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			payload, err := readFileMax(args[0], maxImage)
			if err != nil {
				return err
			}
			image, err := chargepoint.BuildFirmware(version, payload)
			if err != nil {
				return err
			}
			if output == "" {
				_, err = cmd.OutOrStdout().Write(image)
				return err
			}
			return os.WriteFile(output, image, 0o644)
		},
	}
	build.Flags().StringVar(&version, "version", "", "the firmware version, at most 50 characters")
	build.Flags().StringVarP(&output, "output", "o", "", "file to write the image to (default stdout)")
	build.MarkFlagRequired("version")
	cmd.AddCommand(build, newFirmwareSignCommand())
	return cmd
}

// signFlags are the flags of evse firmware sign.
type signFlags struct {
	key, cert, root   string
	asJSON            bool
	location          string
	retrieve, install string
}

func newFirmwareSignCommand() *cobra.Command {
	var f signFlags
	cmd := &cobra.Command{
		Use:   "sign --key KEY.pem --cert CERT.pem [--root ROOT.pem] [--json --location URL [--retrieve TIME] [--install TIME]] IMAGE",
		Short: "Sign a firmware image for SignedUpdateFirmware and print the signature (base64)",
		Long: `Sign the whole image file with the firmware signing key: SHA-256, then
RSA PKCS#1 v1.5 or ECDSA (ASN.1 DER) by the key's type. The key is PEM:
PRIVATE KEY (PKCS#8), EC PRIVATE KEY or RSA PRIVATE KEY, not encrypted.
The certificate must be the key's; with --root (PEM manufacturer roots)
it is also checked as a charge point would.

Prints the signature in base64, or with --json the firmware object of
SignedUpdateFirmware.req: location, retrieveDateTime (--retrieve, RFC
3339, default now), installDateTime (--install, if given),
signingCertificate and signature.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return signFirmware(cmd.OutOrStdout(), f, args[0], time.Now())
		},
	}
	cmd.Flags().StringVar(&f.key, "key", "", "PEM file of the firmware signing key")
	cmd.Flags().StringVar(&f.cert, "cert", "", "PEM file of the firmware signing certificate")
	cmd.Flags().StringVar(&f.root, "root", "", "PEM file of manufacturer root certificates to check the certificate against")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print the firmware object of SignedUpdateFirmware.req")
	cmd.Flags().StringVar(&f.location, "location", "", "with --json: the URL the charge point downloads the image from")
	cmd.Flags().StringVar(&f.retrieve, "retrieve", "", "with --json: retrieveDateTime, RFC 3339 (default now)")
	cmd.Flags().StringVar(&f.install, "install", "", "with --json: installDateTime, RFC 3339")
	cmd.MarkFlagRequired("key")
	cmd.MarkFlagRequired("cert")
	return cmd
}

// signedFirmware is the firmware object of SignedUpdateFirmware.req.
type signedFirmware struct {
	Location           string `json:"location"`
	RetrieveDateTime   string `json:"retrieveDateTime"`
	InstallDateTime    string `json:"installDateTime,omitempty"`
	SigningCertificate string `json:"signingCertificate"`
	Signature          string `json:"signature"`
}

func signFirmware(w io.Writer, f signFlags, imagePath string, now time.Time) error {
	if f.asJSON && f.location == "" {
		return errors.New("--json needs --location")
	}
	if !f.asJSON && (f.location != "" || f.retrieve != "" || f.install != "") {
		return errors.New("--location, --retrieve and --install go with --json")
	}
	keyPEM, err := readFileMax(f.key, 64<<10)
	if err != nil {
		return err
	}
	key, err := parsePrivateKey(keyPEM)
	if err != nil {
		return fmt.Errorf("%s: %w", f.key, err)
	}
	certPEM, err := readFileMax(f.cert, firmsign.MaxCertificate)
	if err != nil {
		return err
	}
	cert, err := firmsign.ParseCertificate(string(certPEM))
	if err != nil {
		return fmt.Errorf("%s: %w", f.cert, err)
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return fmt.Errorf("%s is not the certificate of the key in %s", f.cert, f.key)
	}
	if f.root != "" {
		roots, err := readRoots(f.root)
		if err != nil {
			return err
		}
		if _, err := firmsign.CheckSigner(string(certPEM), roots, now); err != nil {
			return fmt.Errorf("%s against %s: %w", f.cert, f.root, err)
		}
	}
	image, err := readFileMax(imagePath, maxImage)
	if err != nil {
		return err
	}
	sig, err := firmsign.Sign(key, image)
	if err != nil {
		return err
	}
	if err := firmsign.Verify(cert, sig, image); err != nil {
		return fmt.Errorf("the new signature does not verify: %w", err)
	}
	if !f.asJSON {
		_, err = fmt.Fprintln(w, sig)
		return err
	}
	fw := signedFirmware{Location: f.location, RetrieveDateTime: now.UTC().Format(time.RFC3339),
		SigningCertificate: string(certPEM), Signature: sig}
	if f.retrieve != "" {
		if fw.RetrieveDateTime, err = rfc3339(f.retrieve); err != nil {
			return fmt.Errorf("--retrieve: %w", err)
		}
	}
	if f.install != "" {
		if fw.InstallDateTime, err = rfc3339(f.install); err != nil {
			return fmt.Errorf("--install: %w", err)
		}
	}
	out, err := json.MarshalIndent(fw, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", out)
	return err
}

// rfc3339 checks a time and writes it in UTC.
func rfc3339(s string) (string, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return "", err
	}
	return t.UTC().Format(time.RFC3339), nil
}

// parsePrivateKey reads a PEM private key: PRIVATE KEY (PKCS#8), EC
// PRIVATE KEY (SEC 1, after any EC PARAMETERS) or RSA PRIVATE KEY
// (PKCS#1).
func parsePrivateKey(raw []byte) (crypto.Signer, error) {
	for rest := raw; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM private key")
		}
		if _, enc := block.Headers["Proc-Type"]; enc || block.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, errors.New("the key is encrypted: decrypt it first (openssl pkey -in KEY -out PLAIN.pem)")
		}
		var k any
		var err error
		switch block.Type {
		case "EC PARAMETERS":
			continue
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			return nil, fmt.Errorf("a PEM %.30q, not a private key", block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("the %s: %w", strings.ToLower(block.Type), err)
		}
		signer, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("a %T cannot sign", k)
		}
		return signer, nil
	}
}

// readRoots reads PEM CA certificates.
func readRoots(path string) ([]*x509.Certificate, error) {
	raw, err := readFileMax(path, 64<<10)
	if err != nil {
		return nil, err
	}
	var roots []*x509.Certificate
	for rest := raw; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		roots = append(roots, c)
	}
	if len(roots) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return roots, nil
}

// readFileMax reads a file of at most max bytes.
func readFileMax(path string, max int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: more than %d bytes", path, max)
	}
	return b, nil
}
