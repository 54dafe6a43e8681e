// Package certs keeps a charge point's security material in its store:
// its own private key (made on the unit, never shown or exported), its
// client certificate for security profile 3, and the central system root
// certificates it trusts. Every input is bounded and checked.
package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/evse-dev/evse/internal/kv"
)

// The store's bucket and keys.
const (
	bucket   = "security"
	keyCPKey = "cpKey" // PKCS#8 DER of the charge point's private key
	// keyCPNext is the key of a renewal: made for SignCertificate, it
	// replaces cpKey when its certificate is installed.
	keyCPNext = "cpNextKey"
	// keyCPPrevKey and keyCPPrevCert are the pair a renewal replaced, kept
	// until a connection with the new one succeeds (KeepRenewal) or
	// fails (RevertRenewal).
	keyCPPrevKey  = "cpPrevKey"
	keyCPPrevCert = "cpPrevCert"
	keyCPCert     = "cpCert" // PEM: the charge point's certificate, then its chain
	keyRoots      = "csRoots"
)

// Bounds on what is installed.
const (
	// MaxPEM bounds one PEM input (a certificate chain or a bundle).
	MaxPEM = 64 << 10
	// MaxRoots bounds the central system roots kept, whatever
	// CertificateStoreMaxLength says.
	MaxRoots = 100
	// MaxChain bounds the certificates of a chain.
	MaxChain = 5
)

// ErrStoreFull: the roots kept are as many as CertificateStoreMaxLength
// allows.
var ErrStoreFull = errors.New("certs: the certificate store is full")

// ErrNotCA: a root to install cannot be read or is no CA certificate.
var ErrNotCA = errors.New("certs: not a CA certificate")

// ErrNoCertificate: no client certificate is installed.
var ErrNoCertificate = errors.New("certs: no charge point certificate installed (evse cert csr, then evse cert install)")

// Store is a charge point's security material in its store.
type Store struct{ kv kv.Store }

// New returns the material kept in store.
func New(store kv.Store) Store { return Store{kv: store} }

// key returns the charge point's private key, made (P-256) and kept the
// first time.
func (s Store) key() (crypto.Signer, error) {
	k, err := s.kept(keyCPKey)
	if err != nil || k != nil {
		return k, err
	}
	der, err := newKey()
	if err != nil {
		return nil, err
	}
	err = s.kv.Update(func(tx kv.Tx) error {
		if old := tx.Get(bucket, keyCPKey); old != nil {
			der = bytes.Clone(old) // made meanwhile
			return nil
		}
		return tx.Put(bucket, keyCPKey, der)
	})
	if err != nil {
		return nil, err
	}
	return parseKey(der)
}

// newKey makes a P-256 key, as PKCS#8 DER.
func newKey() ([]byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return x509.MarshalPKCS8PrivateKey(k)
}

// kept returns the key kept under name, nil when there is none.
func (s Store) kept(name string) (crypto.Signer, error) {
	var der []byte
	if err := s.kv.View(func(tx kv.Tx) error {
		der = bytes.Clone(tx.Get(bucket, name))
		return nil
	}); err != nil || der == nil {
		return nil, err
	}
	return parseKey(der)
}

func parseKey(der []byte) (crypto.Signer, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("certs: the kept key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("certs: the kept key cannot sign")
	}
	return signer, nil
}

// CSR returns a certificate signing request (PEM) for the charge point's
// key, with the subject the security whitepaper asks for: the charge
// point's identity as common name, the CPO's name as organization.
func (s Store) CSR(identity, cpoName string) ([]byte, error) {
	if identity == "" {
		return nil, errors.New("certs: a CSR needs the charge point's identity")
	}
	k, err := s.key()
	if err != nil {
		return nil, err
	}
	return csr(k, identity, cpoName)
}

// RenewalCSR makes a new key pair for the charge point and returns a
// certificate signing request for it (SignCertificate). The new key
// replaces the current one when a certificate for it is installed; until
// then the current key and certificate stay in use. A later renewal
// replaces an earlier one that got no certificate.
func (s Store) RenewalCSR(identity, cpoName string) ([]byte, error) {
	if identity == "" {
		return nil, errors.New("certs: a CSR needs the charge point's identity")
	}
	der, err := newKey()
	if err != nil {
		return nil, err
	}
	k, err := parseKey(der)
	if err != nil {
		return nil, err
	}
	if err := s.kv.Update(func(tx kv.Tx) error { return tx.Put(bucket, keyCPNext, der) }); err != nil {
		return nil, err
	}
	return csr(k, identity, cpoName)
}

// csr returns a CSR (PEM) for k, with the charge point's identity as
// common name and the CPO's name as organization.
func csr(k crypto.Signer, identity, cpoName string) ([]byte, error) {
	subject := pkix.Name{CommonName: identity}
	if cpoName != "" {
		subject.Organization = []string{cpoName}
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// parseChain reads PEM certificates, at most max of them.
func parseChain(raw []byte, max int) ([]*x509.Certificate, error) {
	if len(raw) > MaxPEM {
		return nil, fmt.Errorf("certs: %d bytes of PEM, at most %d", len(raw), MaxPEM)
	}
	var out []*x509.Certificate
	for rest := raw; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("certs: a PEM %s, not a CERTIFICATE", block.Type)
		}
		if len(out) == max {
			return nil, fmt.Errorf("certs: more than %d certificates", max)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certs: certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("certs: no PEM certificate")
	}
	return out, nil
}

// InstallCertificate installs the charge point's certificate (PEM, the
// leaf first, then its chain, at most maxBytes: the key
// CertificateSignedMaxChainSize). It must be valid now, each certificate
// of the chain signed by the next, and the leaf for the charge point's
// key or for the key of a renewal (RenewalCSR), which then replaces it.
// With identity not "", the leaf's common name must be it.
func (s Store) InstallCertificate(raw []byte, identity string, now time.Time, maxBytes int) error {
	if len(raw) > maxBytes {
		return fmt.Errorf("certs: a chain of %d bytes, at most %d (CertificateSignedMaxChainSize)", len(raw), maxBytes)
	}
	chain, err := parseChain(raw, MaxChain)
	if err != nil {
		return err
	}
	leaf := chain[0]
	if identity != "" && leaf.Subject.CommonName != identity {
		return fmt.Errorf("certs: the certificate is for %.64q, not for this charge point (%s)", leaf.Subject.CommonName, identity)
	}
	for i, c := range chain {
		if now.Before(c.NotBefore) || now.After(c.NotAfter) {
			return fmt.Errorf("certs: certificate %d of the chain is valid from %s to %s, not now", i+1,
				c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly))
		}
		if i+1 < len(chain) {
			if err := c.CheckSignatureFrom(chain[i+1]); err != nil {
				return fmt.Errorf("certs: certificate %d is not signed by the next of the chain: %w", i+1, err)
			}
		}
	}
	current, err := s.key()
	if err != nil {
		return err
	}
	next, err := s.kept(keyCPNext)
	if err != nil {
		return err
	}
	renewal := false
	switch {
	case next != nil && publicKeysEqual(leaf.PublicKey, next.Public()):
		renewal = true
	case !publicKeysEqual(leaf.PublicKey, current.Public()):
		return errors.New("certs: the certificate is not for this charge point's key")
	}
	return s.kv.Update(func(tx kv.Tx) error {
		if renewal {
			// The renewal's key as it is now: a later renewal may have
			// replaced the one the certificate was checked against.
			der := bytes.Clone(tx.Get(bucket, keyCPNext))
			k, err := parseKey(der)
			if der == nil || err != nil || !publicKeysEqual(leaf.PublicKey, k.Public()) {
				return errors.New("certs: the certificate is not for the renewal's key (a newer renewal replaced it)")
			}
			for from, to := range map[string]string{keyCPKey: keyCPPrevKey, keyCPCert: keyCPPrevCert} {
				if old := tx.Get(bucket, from); old != nil {
					if err := tx.Put(bucket, to, bytes.Clone(old)); err != nil {
						return err
					}
				}
			}
			if err := tx.Put(bucket, keyCPKey, der); err != nil {
				return err
			}
			if err := tx.Delete(bucket, keyCPNext); err != nil {
				return err
			}
		}
		return tx.Put(bucket, keyCPCert, raw)
	})
}

// RenewalOnTrial reports whether a renewal's pair is in use and the pair
// it replaced is kept (see RevertRenewal).
func (s Store) RenewalOnTrial() (bool, error) {
	trial := false
	err := s.kv.View(func(tx kv.Tx) error {
		trial = tx.Get(bucket, keyCPPrevKey) != nil && tx.Get(bucket, keyCPPrevCert) != nil
		return nil
	})
	return trial, err
}

// KeepRenewal forgets the pair a renewal replaced: the new one works.
func (s Store) KeepRenewal() error {
	return s.kv.Update(func(tx kv.Tx) error {
		if err := tx.Delete(bucket, keyCPPrevKey); err != nil {
			return err
		}
		return tx.Delete(bucket, keyCPPrevCert)
	})
}

// RevertRenewal puts back the key and certificate a renewal replaced
// (the central system does not take the new certificate); false when
// there is none to put back.
func (s Store) RevertRenewal() (bool, error) {
	reverted := false
	err := s.kv.Update(func(tx kv.Tx) error {
		key, cert := bytes.Clone(tx.Get(bucket, keyCPPrevKey)), bytes.Clone(tx.Get(bucket, keyCPPrevCert))
		if key == nil || cert == nil {
			return nil
		}
		reverted = true
		for name, v := range map[string][]byte{keyCPKey: key, keyCPCert: cert} {
			if err := tx.Put(bucket, name, v); err != nil {
				return err
			}
		}
		if err := tx.Delete(bucket, keyCPPrevKey); err != nil {
			return err
		}
		return tx.Delete(bucket, keyCPPrevCert)
	})
	return reverted, err
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ae, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ae.Equal(b)
}

// Certificate returns the charge point's key and certificate for TLS, or
// ErrNoCertificate.
func (s Store) Certificate() (tls.Certificate, error) {
	var raw []byte
	if err := s.kv.View(func(tx kv.Tx) error {
		raw = bytes.Clone(tx.Get(bucket, keyCPCert))
		return nil
	}); err != nil {
		return tls.Certificate{}, err
	}
	if raw == nil {
		return tls.Certificate{}, ErrNoCertificate
	}
	chain, err := parseChain(raw, MaxChain)
	if err != nil {
		return tls.Certificate{}, err
	}
	k, err := s.key()
	if err != nil {
		return tls.Certificate{}, err
	}
	if !publicKeysEqual(chain[0].PublicKey, k.Public()) {
		return tls.Certificate{}, errors.New("certs: the installed certificate is not for the key in use")
	}
	c := tls.Certificate{PrivateKey: k, Leaf: chain[0]}
	for _, x := range chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c, nil
}

// InstallRoot adds central system root certificates (PEM); they must be
// CA certificates. At most maxRoots are kept (the key
// CertificateStoreMaxLength, itself at most MaxRoots).
func (s Store) InstallRoot(raw []byte, maxRoots int) (int, error) {
	return s.installRoots(keyRoots, raw, maxRoots)
}

// installRoots adds CA certificates to the roots kept under key.
func (s Store) installRoots(key string, raw []byte, maxRoots int) (int, error) {
	maxRoots = min(maxRoots, MaxRoots)
	certs, err := parseChain(raw, maxRoots)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrNotCA, err)
	}
	for _, c := range certs {
		if !c.IsCA {
			return 0, fmt.Errorf("%w: %q", ErrNotCA, c.Subject.CommonName)
		}
	}
	n := 0
	err = s.kv.Update(func(tx kv.Tx) error {
		kept := bytes.Clone(tx.Get(bucket, key))
		have := 0
		if len(kept) > 0 {
			old, err := parseChain(kept, MaxRoots)
			if err != nil {
				return err
			}
			have = len(old)
		}
		if have+len(certs) > maxRoots {
			return fmt.Errorf("%w: %d roots kept and %d more, at most %d (CertificateStoreMaxLength)", ErrStoreFull, have, len(certs), maxRoots)
		}
		for _, c := range certs {
			kept = append(kept, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		n = have + len(certs)
		return tx.Put(bucket, key, kept)
	})
	return n, err
}

// Roots returns the installed central system roots, nil when none are.
func (s Store) Roots() (*x509.CertPool, error) {
	var raw []byte
	if err := s.kv.View(func(tx kv.Tx) error {
		raw = bytes.Clone(tx.Get(bucket, keyRoots))
		return nil
	}); err != nil || raw == nil {
		return nil, err
	}
	certs, err := parseChain(raw, MaxRoots)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// Uses of root certificates (OCPP's CertificateUse).
const (
	CentralSystemRoot = "CentralSystemRootCertificate"
	ManufacturerRoot  = "ManufacturerRootCertificate"
)

// rootsKey is where the roots of a use are kept.
func rootsKey(use string) (string, error) {
	switch use {
	case CentralSystemRoot:
		return keyRoots, nil
	case ManufacturerRoot:
		return "mfRoots", nil
	}
	return "", fmt.Errorf("certs: no certificate use %q", use)
}

// rootsOf reads the roots of a use.
func (s Store) rootsOf(use string) ([]*x509.Certificate, error) {
	key, err := rootsKey(use)
	if err != nil {
		return nil, err
	}
	var raw []byte
	if err := s.kv.View(func(tx kv.Tx) error {
		raw = bytes.Clone(tx.Get(bucket, key))
		return nil
	}); err != nil || len(raw) == 0 {
		return nil, err
	}
	return parseChain(raw, MaxRoots)
}

// ManufacturerRoots returns the installed manufacturer roots, which
// firmware signing certificates must chain to (SignedUpdateFirmware); nil
// when none are.
func (s Store) ManufacturerRoots() ([]*x509.Certificate, error) {
	return s.rootsOf(ManufacturerRoot)
}

// HashData identifies a certificate as OCPP does (CertificateHashData):
// SHA-256 of its issuer's name and of its issuer's public key, and its
// serial number in hex.
type HashData struct {
	IssuerNameHash, IssuerKeyHash, SerialNumber string
}

// hashData is a root's HashData (a root is its own issuer).
func hashData(c *x509.Certificate) HashData {
	name := sha256.Sum256(c.RawIssuer)
	var spki struct {
		Algorithm asn1.RawValue
		Key       asn1.BitString
	}
	keyBytes := c.RawSubjectPublicKeyInfo
	if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err == nil {
		keyBytes = spki.Key.Bytes
	}
	key := sha256.Sum256(keyBytes)
	return HashData{IssuerNameHash: hex.EncodeToString(name[:]), IssuerKeyHash: hex.EncodeToString(key[:]),
		SerialNumber: c.SerialNumber.Text(16)}
}

// InstalledRoots lists the roots of a use by their HashData.
func (s Store) InstalledRoots(use string) ([]HashData, error) {
	roots, err := s.rootsOf(use)
	if err != nil {
		return nil, err
	}
	out := make([]HashData, len(roots))
	for i, c := range roots {
		out[i] = hashData(c)
	}
	return out, nil
}

// InstallRootOf adds roots of a use, as InstallRoot does for the central
// system's.
func (s Store) InstallRootOf(use string, raw []byte, maxRoots int) (int, error) {
	key, err := rootsKey(use)
	if err != nil {
		return 0, err
	}
	return s.installRoots(key, raw, maxRoots)
}

// ErrLastRoot: the last central system root cannot be deleted (the charge
// point could not check its central system any more).
var ErrLastRoot = errors.New("certs: the last central system root certificate is not deleted")

// DeleteRoot deletes the root that h names, of either use; found false
// when none does.
func (s Store) DeleteRoot(h HashData) (found bool, err error) {
	err = s.kv.Update(func(tx kv.Tx) error {
		for _, use := range []string{CentralSystemRoot, ManufacturerRoot} {
			key, _ := rootsKey(use)
			raw := tx.Get(bucket, key)
			if len(raw) == 0 {
				continue
			}
			roots, err := parseChain(raw, MaxRoots)
			if err != nil {
				return err
			}
			var kept []byte
			for _, c := range roots {
				if !found && strings.EqualFold(hashData(c).IssuerNameHash, h.IssuerNameHash) &&
					strings.EqualFold(hashData(c).IssuerKeyHash, h.IssuerKeyHash) &&
					strings.EqualFold(strings.TrimLeft(hashData(c).SerialNumber, "0"), strings.TrimLeft(h.SerialNumber, "0")) {
					found = true
					continue
				}
				kept = append(kept, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
			}
			if !found {
				continue
			}
			if use == CentralSystemRoot && len(kept) == 0 {
				return ErrLastRoot
			}
			if len(kept) == 0 {
				return tx.Delete(bucket, key)
			}
			return tx.Put(bucket, key, kept)
		}
		return nil
	})
	return found, err
}

// CentralSystemRoots returns the installed central system root
// certificates; none: nil.
func (s Store) CentralSystemRoots() ([]*x509.Certificate, error) {
	return s.rootsOf(CentralSystemRoot)
}
