package csmstest

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The files of a CA kept in a directory.
const (
	caCertFile = "ca.pem"     // the CA's certificate: the root to install
	caKeyFile  = "ca-key.pem" // its private key (PKCS#8), mode 0600
)

// Save keeps the CA in dir (made if need be): its certificate in ca.pem,
// its key in ca-key.pem, readable by the owner only.
func (ca *CA) Save(dir string) error {
	der, err := x509.MarshalPKCS8PrivateKey(ca.key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("csmstest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, caKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("csmstest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, caCertFile), ca.PEM, 0o644); err != nil {
		return fmt.Errorf("csmstest: %w", err)
	}
	return nil
}

// LoadCA reads a CA Save kept in dir.
func LoadCA(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, caCertFile))
	if err != nil {
		return nil, fmt.Errorf("csmstest: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, caKeyFile))
	if err != nil {
		return nil, fmt.Errorf("csmstest: %w", err)
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || cb.Type != "CERTIFICATE" || kb == nil || kb.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("csmstest: %s holds no CA (%s and %s in PEM)", dir, caCertFile, caKeyFile)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("csmstest: %s: %w", caCertFile, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("csmstest: %s: %w", caKeyFile, err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) || !cert.IsCA {
		return nil, fmt.Errorf("csmstest: %s: the key is not the CA certificate's, or it is no CA", dir)
	}
	return &CA{cert: cert, key: key, PEM: certPEM}, nil
}

// OpenCA reads the CA kept in dir, or makes one named name, valid for
// validity, and keeps it there. made says which.
func OpenCA(dir, name string, validity time.Duration) (ca *CA, made bool, err error) {
	ca, err = LoadCA(dir)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return ca, false, err
	}
	if ca, err = NewCA(name, validity); err != nil {
		return nil, false, err
	}
	return ca, true, ca.Save(dir)
}
