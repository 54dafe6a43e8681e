package fleet

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/chargepoint/runner"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocppj"
)

// Security profile 3 in a fleet: each charge point has its own key and
// certificate in its part of the store, and all of them share one TLS
// configuration and one HTTP client per group. The TLS handshake finds
// the charge point whose certificate it presents in its context (see
// withCharger): an idle charge point costs no transport of its own.

// provision gives every charge point of a profile-3 group that has no
// certificate yet its key, a certificate the group's CA signs for it
// (common name its id, organization its CpoName) and the CA as its
// CentralSystemRootCertificate, all in one write. A charge point that
// has its certificate keeps it, and its key.
func (f *Fleet) provision(db kv.Store, members []member, prefixes []string) error {
	var todo []int
	for i, m := range members {
		if f.spec.Groups[m.group].Security.Profile != 3 {
			continue
		}
		_, err := certs.New(runner.Prefixed(db, prefixes[i])).Certificate()
		switch {
		case errors.Is(err, certs.ErrNoCertificate):
			todo = append(todo, i)
		case err != nil:
			return fmt.Errorf("%s: its certificate: %w", m.id, err)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	start := time.Now()
	err := db.Update(func(tx kv.Tx) error {
		for _, i := range todo {
			m := members[i]
			part := runner.Prefixed(txStore{tx}, prefixes[i])
			if err := f.signFor(m, part); err != nil {
				return fmt.Errorf("%s: %w", m.id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fleet: the certificates of security profile 3: %w", err)
	}
	f.log.Info("charge point certificates made", "chargers", len(todo), "took", time.Since(start))
	return nil
}

// signFor makes charge point m's key in part, has its group's CA sign
// it and installs the certificate and the CA's root.
func (f *Fleet) signFor(m member, part kv.Store) error {
	g := f.spec.Groups[m.group]
	settings, err := config.Open(f.catalogueOf(m), kvConfig{part}, f.log)
	if err != nil {
		return err
	}
	keys := certs.New(part)
	csr, err := keys.CSR(m.id, settings.Snapshot().CpoName)
	if err != nil {
		return err
	}
	chain, err := g.Security.ca.SignCSR(csr, g.Security.Validity.D())
	if err != nil {
		return fmt.Errorf("the CA: %w", err)
	}
	roots, err := keys.CentralSystemRoots()
	if err != nil {
		return err
	}
	if !hasRoot(roots, g.Security.ca.PEM) {
		if _, err := keys.InstallRoot(g.Security.ca.PEM, certs.MaxRoots); err != nil {
			return fmt.Errorf("the CA's root: %w", err)
		}
	}
	return keys.InstallCertificate(chain, m.id, time.Now(), certs.MaxPEM)
}

// hasRoot reports whether roots hold the certificate of caPEM.
func hasRoot(roots []*x509.Certificate, caPEM []byte) bool {
	block, _ := pem.Decode(caPEM)
	if block == nil {
		return false
	}
	for _, r := range roots {
		if bytes.Equal(r.Raw, block.Bytes) {
			return true
		}
	}
	return false
}

// txStore is one transaction as a kv.Store: what is written through it
// is written in that transaction.
type txStore struct{ tx kv.Tx }

func (s txStore) View(fn func(kv.Tx) error) error   { return fn(s.tx) }
func (s txStore) Update(fn func(kv.Tx) error) error { return fn(s.tx) }

// chargerKey is the context key of the charge point a connection is
// made for.
type chargerKey struct{}

// withCharger returns ctx carrying c: the handshakes of c's link read it
// (ocppj dials in the context its Run was given, and net/http hands the
// request's context values to the TLS handshake).
func withCharger(ctx context.Context, c *Charger) context.Context {
	return context.WithValue(ctx, chargerKey{}, c)
}

// clientCertificate is the fleet's GetClientCertificate: the certificate
// of the charge point the handshake is for when it is at security
// profile 3, none otherwise.
func clientCertificate(info *tls.CertificateRequestInfo) (*tls.Certificate, error) {
	c, _ := info.Context().Value(chargerKey{}).(*Charger)
	if c == nil || c.settings.Snapshot().SecurityProfile != 3 {
		return &tls.Certificate{}, nil
	}
	cert, err := c.keys.Certificate()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.ID, err)
	}
	return &cert, nil
}

// linkClients returns the HTTP client of each group's links: one for
// all groups but those of profile 3, which have one each that also
// trusts their CA. No client keeps a connection or a TLS session (a
// session resumed would carry another charge point's certificate).
func linkClients(groups []Group, base *tls.Config) ([]*http.Client, error) {
	shared := ocppj.NewHTTPClient(base)
	out := make([]*http.Client, len(groups))
	for i, g := range groups {
		if g.Security.Profile != 3 {
			out[i] = shared
			continue
		}
		cfg := base.Clone()
		pool := base.RootCAs
		if pool == nil {
			sys, err := x509.SystemCertPool()
			if err != nil {
				return nil, fmt.Errorf("group %s: the system's roots: %w", g.Name, err)
			}
			pool = sys
		}
		pool = pool.Clone()
		if !pool.AppendCertsFromPEM(g.Security.ca.PEM) {
			return nil, fmt.Errorf("group %s: the CA's certificate is no PEM certificate", g.Name)
		}
		cfg.RootCAs = pool
		cfg.ClientSessionCache = nil
		out[i] = ocppj.NewHTTPClient(cfg)
	}
	return out, nil
}
