package firmsign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Bounds of SignedUpdateFirmware.req's firmware fields.
const (
	// MaxCertificate bounds firmware.signingCertificate (PEM), in bytes.
	MaxCertificate = 5500
	// MaxSignature bounds firmware.signature (base64), in bytes.
	MaxSignature = 800
	// MinRSABits is the smallest RSA key accepted for signing firmware.
	MinRSABits = 2048
)

// Errors. Each error CheckSigner returns wraps ErrInvalidCertificate, and
// each error Verify returns wraps ErrInvalidSignature, with the cause.
var (
	// ErrInvalidCertificate: the signing certificate is unreadable, not
	// for code signing, not valid now, or does not chain to a
	// manufacturer root (SignedUpdateFirmware.conf InvalidCertificate).
	ErrInvalidCertificate = errors.New("firmsign: invalid firmware signing certificate")
	// ErrNoRoots: no manufacturer root certificate is installed. It
	// wraps ErrInvalidCertificate.
	ErrNoRoots = fmt.Errorf("%w: no manufacturer root certificate installed", ErrInvalidCertificate)
	// ErrInvalidSignature: the signature is unreadable or does not match
	// the image (SignedFirmwareStatusNotification InvalidSignature).
	ErrInvalidSignature = errors.New("firmsign: invalid firmware signature")
)

func invalidCert(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidCertificate, fmt.Sprintf(format, a...))
}

func invalidSig(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidSignature, fmt.Sprintf(format, a...))
}

// ParseCertificate reads exactly one PEM CERTIFICATE of at most
// MaxCertificate bytes; anything but white space around it is an error.
// It checks the form only: CheckSigner checks the trust.
func ParseCertificate(certPEM string) (*x509.Certificate, error) {
	if len(certPEM) > MaxCertificate {
		return nil, invalidCert("%d bytes of PEM, at most %d", len(certPEM), MaxCertificate)
	}
	raw := []byte(strings.TrimSpace(certPEM))
	if !bytes.HasPrefix(raw, []byte("-----BEGIN ")) {
		return nil, invalidCert("no PEM certificate")
	}
	block, rest := pem.Decode(raw)
	if block == nil {
		return nil, invalidCert("no PEM certificate")
	}
	if block.Type != "CERTIFICATE" {
		return nil, invalidCert("a PEM %.30q, not a CERTIFICATE", block.Type)
	}
	if len(block.Headers) > 0 {
		return nil, invalidCert("PEM headers in the certificate")
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, invalidCert("more than one PEM block: give the signing certificate only")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, invalidCert("%d bytes after the certificate", len(bytes.TrimSpace(rest)))
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCertificate, err)
	}
	return cert, nil
}

// CheckSigner parses a firmware signing certificate (PEM, see
// ParseCertificate) and checks that it can sign firmware at now: it is
// valid at now, is issued by one of roots (the installed
// ManufacturerRootCertificates; none is an error, ErrNoRoots), has an RSA
// key of at least MinRSABits or an ECDSA key, and may sign: its key usage,
// when it has one, includes digitalSignature, and its extended key usage,
// when it has one, includes codeSigning (or any). A certificate without
// extended key usage is accepted, as x509 path validation does.
func CheckSigner(signingCertPEM string, roots []*x509.Certificate, now time.Time) (*x509.Certificate, error) {
	cert, err := ParseCertificate(signingCertPEM)
	if err != nil {
		return nil, err
	}
	if len(roots) == 0 {
		return nil, ErrNoRoots
	}
	if now.Before(cert.NotBefore) {
		return nil, invalidCert("not valid before %s", cert.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(cert.NotAfter) {
		return nil, invalidCert("expired at %s", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if err := checkKey(cert.PublicKey); err != nil {
		return nil, err
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return nil, invalidCert("its key usage does not include digitalSignature")
	}
	pool := x509.NewCertPool()
	for _, r := range roots {
		if r != nil {
			pool.AddCert(r)
		}
	}
	opts := x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	if _, err := cert.Verify(opts); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCertificate, err)
	}
	return cert, nil
}

// checkKey accepts the keys Verify can check.
func checkKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < MinRSABits {
			return invalidCert("an RSA key of %d bits, at least %d", k.N.BitLen(), MinRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		return nil
	}
	return invalidCert("the key is a %T: RSA or ECDSA only", pub)
}

// decodeSignature reads standard base64 with or without its padding; line
// breaks and surrounding white space are ignored.
func decodeSignature(s string) ([]byte, error) {
	if len(s) > MaxSignature {
		return nil, invalidSig("%d bytes of base64, at most %d", len(s), MaxSignature)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, invalidSig("empty")
	}
	enc := base64.StdEncoding
	if !strings.HasSuffix(s, "=") {
		enc = base64.RawStdEncoding
	}
	sig, err := enc.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64: %w", ErrInvalidSignature, err)
	}
	return sig, nil
}

// Verify checks signatureB64 (standard base64, padded or not, at most
// MaxSignature bytes) over image, the whole firmware file as downloaded,
// with the public key of cert (from CheckSigner): SHA-256, then RSA
// PKCS#1 v1.5 or RSA-PSS for an RSA key, ECDSA (ASN.1 DER) for an ECDSA
// key.
func Verify(cert *x509.Certificate, signatureB64 string, image []byte) error {
	if cert == nil {
		return invalidSig("no signing certificate")
	}
	sig, err := decodeSignature(signatureB64)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(image)
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig) == nil {
			return nil
		}
		if rsa.VerifyPSS(k, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil {
			return nil
		}
		return invalidSig("the RSA signature does not match the image")
	case *ecdsa.PublicKey:
		if ecdsa.VerifyASN1(k, sum[:], sig) {
			return nil
		}
		return invalidSig("the ECDSA signature does not match the image")
	}
	return invalidSig("the key is a %T: RSA or ECDSA only", cert.PublicKey)
}

// Sign signs image with key (RSA: PKCS#1 v1.5; ECDSA: ASN.1 DER; SHA-256
// for both) and returns the signature in standard base64, as
// firmware.signature carries it.
func Sign(key crypto.Signer, image []byte) (string, error) {
	if key == nil {
		return "", errors.New("firmsign: no key")
	}
	switch key.Public().(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
	default:
		return "", fmt.Errorf("firmsign: the key is a %T: RSA or ECDSA only", key.Public())
	}
	sum := sha256.Sum256(image)
	sig, err := key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("firmsign: signing: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}
