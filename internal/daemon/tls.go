package daemon

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"slices"

	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/config"
)

// cipherSuites are the TLS 1.2 cipher suites the charge point offers:
// the four the OCPP 1.6 security whitepaper names. A charge point must
// support the two ECDHE_ECDSA ones or the two RSA ones, a central
// system all four. The RSA ones (RSA key exchange, no forward secrecy)
// are kept so that a central system with an RSA certificate can be
// reached at all: the whitepaper names no ECDHE_RSA suite. Go prefers
// the ECDHE ones whenever the server's certificate allows them. TLS
// 1.3's suites cannot be configured in Go; all three are offered.
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
}

// hardened sets the charge point's protocol floor and cipher suites on
// cfg, and returns it: TLS 1.2 or newer, and for TLS 1.2 only
// cipherSuites. Every TLS configuration of the charge point goes
// through it.
func hardened(cfg *tls.Config) *tls.Config {
	cfg.MinVersion = tls.VersionTLS12
	cfg.CipherSuites = slices.Clone(cipherSuites)
	return cfg
}

// TLSConfig is the charge point's TLS configuration of wss://: TLS 1.2
// or newer with the security whitepaper's cipher suites, and the CA
// certificates of caFile (PEM) trusted instead of the system's; with
// systemRoots, the system's too. Without caFile the system's roots are
// trusted.
func TLSConfig(caFile string, systemRoots bool) (*tls.Config, error) {
	cfg := hardened(&tls.Config{})
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool, err := rootPool(systemRoots)
	if err != nil {
		return nil, err
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// rootPool is the pool roots are added to: empty, or a copy of the
// system's roots.
func rootPool(systemRoots bool) (*x509.CertPool, error) {
	if !systemRoots {
		return x509.NewCertPool(), nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		return nil, fmt.Errorf("the system's roots: %w", err)
	}
	return pool, nil
}

// profileTLS is the TLS configuration of the charge point's link: the
// installed central system roots when there are any (with the system's
// when systemRoots), else base's, or the system's; and under security
// profile 3 the charge point's own certificate, read at each
// connection. Base may be nil.
func profileTLS(base *tls.Config, keys certs.Store, settings *config.Settings, systemRoots bool) (*tls.Config, error) {
	cfg := &tls.Config{}
	if base != nil {
		cfg = base.Clone()
	}
	hardened(cfg)
	roots, err := keys.CentralSystemRoots()
	if err != nil {
		return nil, fmt.Errorf("the installed central system roots: %w", err)
	}
	if len(roots) > 0 {
		pool, err := rootPool(systemRoots)
		if err != nil {
			return nil, err
		}
		for _, c := range roots {
			pool.AddCert(c)
		}
		cfg.RootCAs = pool
	}
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		if settings.Snapshot().SecurityProfile != 3 {
			return &tls.Certificate{}, nil // none: profiles 0 to 2 send no certificate
		}
		c, err := keys.Certificate()
		if err != nil {
			return nil, err
		}
		return &c, nil
	}
	return cfg, nil
}
