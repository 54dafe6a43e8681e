package daemon

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/model"
)

// writePEM writes certificates as a PEM file and returns its path.
func writePEM(t *testing.T, ders ...[]byte) string {
	t.Helper()
	var out []byte
	for _, der := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEveryTLSConfigOffersTheWhitepapersSuites: whichever roots are
// used, the charge point offers TLS 1.2 or newer and, for TLS 1.2, the
// whitepaper's four cipher suites only, even when the base it is given
// says otherwise.
func TestEveryTLSConfigOffersTheWhitepapersSuites(t *testing.T) {
	ca, err := csmstest.NewCA("evse test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(ca.PEM)
	caFile := writePEM(t, block.Bytes)
	settings, db, err := OpenSettings(t.TempDir(), model.Model{}, false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys := certs.New(db)

	plain, err := TLSConfig("", false)
	if err != nil {
		t.Fatal(err)
	}
	withCA, err := TLSConfig(caFile, true)
	if err != nil {
		t.Fatal(err)
	}
	weak := &tls.Config{MinVersion: tls.VersionTLS10, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}}
	configs := map[string]*tls.Config{"no --ca": plain, "--ca": withCA}
	for name, base := range map[string]*tls.Config{"nil base": nil, "--ca base": withCA, "a weak base": weak} {
		cfg, err := profileTLS(base, keys, settings, false)
		if err != nil {
			t.Fatal(err)
		}
		configs["profile, "+name] = cfg
	}
	want := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384}
	for name, cfg := range configs {
		if cfg.MinVersion != tls.VersionTLS12 || !slices.Equal(cfg.CipherSuites, want) {
			t.Errorf("%s: MinVersion %x, suites %v", name, cfg.MinVersion, cfg.CipherSuites)
		}
	}
	if _, err := TLSConfig(filepath.Join(t.TempDir(), "none.pem"), false); err == nil {
		t.Error("a missing CA file was accepted")
	}
}

// TestTheChargePointReachesCentralSystemsOfBothKeyTypes: over TLS 1.2 it
// reaches a central system with an RSA certificate that speaks only the
// whitepaper's TLS_RSA_WITH_AES_128_GCM_SHA256, and one with an ECDSA
// certificate on an ECDHE_ECDSA suite.
func TestTheChargePointReachesCentralSystemsOfBothKeyTypes(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})

	rsaSrv := httptest.NewUnstartedServer(ok)
	rsaSrv.TLS = &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}
	rsaSrv.StartTLS()
	defer rsaSrv.Close()
	if alg := rsaSrv.Certificate().PublicKeyAlgorithm; alg != x509.RSA {
		t.Fatalf("httptest's certificate is %v, not RSA", alg)
	}

	ca, err := csmstest.NewCA("evse test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCert(time.Time{}, time.Time{}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ecSrv := httptest.NewUnstartedServer(ok)
	ecSrv.TLS = &tls.Config{MaxVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	ecSrv.StartTLS()
	defer ecSrv.Close()

	caBlock, _ := pem.Decode(ca.PEM)
	cfg, err := TLSConfig(writePEM(t, rsaSrv.Certificate().Raw, caBlock.Bytes), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		addr string
		want uint16
	}{
		{"RSA", rsaSrv.Listener.Addr().String(), tls.TLS_RSA_WITH_AES_128_GCM_SHA256},
		{"ECDSA", ecSrv.Listener.Addr().String(), 0},
	} {
		conn, err := tls.Dial("tcp", c.addr, cfg)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		st := conn.ConnectionState()
		conn.Close()
		if st.Version != tls.VersionTLS12 || !slices.Contains(cipherSuites, st.CipherSuite) || c.want != 0 && st.CipherSuite != c.want {
			t.Errorf("%s: version %x, suite %s", c.name, st.Version, tls.CipherSuiteName(st.CipherSuite))
		}
	}
}
