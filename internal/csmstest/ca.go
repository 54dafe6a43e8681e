package csmstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// CA is a small certificate authority of the test central system: it
// makes the central system's server certificate, signs the charge
// points' certificate signing requests (SignCertificate, security
// profile 3) and verifies their client certificates. For tests, the
// demo and users trying profile 3 on one machine; never for production.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// PEM is the CA's certificate, to install as the charge point's
	// CentralSystemRootCertificate.
	PEM []byte
}

// NewCA makes a CA named name, valid from now for validity.
func NewCA(name string, validity time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: name, Organization: []string{"evse test CA"}},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(validity), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, MaxPathLenZero: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

// Pool is a pool holding the CA's certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// ServerCert makes a server certificate for hosts (IP addresses or
// names), valid from notBefore to notAfter (zero: from now, for a year).
func (ca *CA) ServerCert(notBefore, notAfter time.Time, hosts ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	if notBefore.IsZero() {
		notBefore, notAfter = time.Now().Add(-time.Minute), time.Now().Add(365*24*time.Hour)
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// maxCSR bounds a certificate signing request.
const maxCSR = 16 << 10

// SignCSR signs a charge point's certificate signing request (PEM) as a
// client certificate valid for validity, and returns it (PEM). The CSR's
// own signature must hold.
func (ca *CA) SignCSR(csrPEM []byte, validity time.Duration) ([]byte, error) {
	if len(csrPEM) > maxCSR {
		return nil, fmt.Errorf("csmstest: a CSR of %d bytes", len(csrPEM))
	}
	block, _ := pem.Decode(csrPEM)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("csmstest: no PEM CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("csmstest: the CSR: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("csmstest: the CSR's signature: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: csr.Subject, NotBefore: now.Add(-time.Minute), NotAfter: now.Add(validity),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, csr.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// TLSOptions are the TLS options of ListenTLS; the zero value serves
// what the OCPP 1.6 security whitepaper asks of a central system.
type TLSOptions struct {
	// Cert is the server's certificate; zero: one of the CA for
	// 127.0.0.1, ::1 and localhost. Tests of refusals serve another
	// CA's, an expired one, or one for another host here.
	Cert tls.Certificate
	// ClientCerts requires a client certificate the CA signed (security
	// profile 3).
	ClientCerts bool
	// OptionalClientCerts verifies a client certificate when one is
	// given: charge points of profile 2 and 3 on one server.
	OptionalClientCerts bool
	// MinVersion and MaxVersion bound the TLS versions served (tls.VersionTLS12...).
	// Zero MinVersion: TLS 1.2, or MaxVersion when that is lower; zero
	// MaxVersion: the newest Go has.
	MinVersion, MaxVersion uint16
	// CipherSuites are the TLS 1.2 (and older) cipher suites served;
	// nil: Go's defaults, which hold the whitepaper's ECDHE_ECDSA suites.
	CipherSuites []uint16
}

// ListenTLS serves on addr over TLS (1.2 or newer unless o says
// otherwise) with certificates of ca, and returns the wss:// URL charge
// points connect to.
func (s *Server) ListenTLS(addr string, ca *CA, o TLSOptions) (string, error) {
	if len(o.Cert.Certificate) == 0 {
		c, err := ca.ServerCert(time.Time{}, time.Time{}, "127.0.0.1", "::1", "localhost")
		if err != nil {
			return "", err
		}
		o.Cert = c
	}
	if o.MinVersion == 0 {
		o.MinVersion = tls.VersionTLS12
		if o.MaxVersion != 0 && o.MaxVersion < o.MinVersion {
			o.MinVersion = o.MaxVersion
		}
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{o.Cert}, MinVersion: o.MinVersion, MaxVersion: o.MaxVersion,
		CipherSuites: o.CipherSuites}
	switch {
	case o.ClientCerts:
		cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, ca.Pool()
	case o.OptionalClientCerts:
		cfg.ClientAuth, cfg.ClientCAs = tls.VerifyClientCertIfGiven, ca.Pool()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("csmstest: %w", err)
	}
	s.serveOn(tls.NewListener(ln, cfg))
	return "wss://" + ln.Addr().String() + "/ocpp", nil
}

// FirmwareSigner makes a firmware signing certificate (extended key usage
// CodeSigning) for a new ECDSA P-256 key, valid from notBefore to
// notAfter (zero: from now, for a year), as a manufacturer would for
// SignedUpdateFirmware. Install the CA's PEM as the charge point's
// ManufacturerRootCertificate to trust it.
func (ca *CA) FirmwareSigner(notBefore, notAfter time.Time) (certPEM []byte, key crypto.Signer, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	return ca.firmwareSigner(notBefore, notAfter, k)
}

// FirmwareSignerRSA is FirmwareSigner with an RSA key of bits bits
// (2048 and up).
func (ca *CA) FirmwareSignerRSA(notBefore, notAfter time.Time, bits int) (certPEM []byte, key crypto.Signer, err error) {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, nil, err
	}
	return ca.firmwareSigner(notBefore, notAfter, k)
}

func (ca *CA) firmwareSigner(notBefore, notAfter time.Time, key crypto.Signer) ([]byte, crypto.Signer, error) {
	if notBefore.IsZero() {
		notBefore, notAfter = time.Now().Add(-time.Minute), time.Now().Add(365*24*time.Hour)
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "evse test firmware signer", Organization: []string{"evse test manufacturer"}},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("csmstest: a firmware signing certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key, nil
}
