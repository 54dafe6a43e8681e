package csmstest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// clientCert makes a charge point's key and CSR, and has ca sign it.
func clientCert(t *testing.T, ca *CA, cn string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, Organization: []string{"CPO"}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := ca.SignCSR(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(chain)
	return tls.Certificate{Certificate: [][]byte{block.Bytes}, PrivateKey: key}
}

// TestTheTLSCentralSystemChecksClientCertificates: over real TLS on
// loopback, a charge point with a certificate the central system's CA
// signed from its CSR connects (and is known by its name); one without a
// certificate, one of another CA, and one offering only TLS 1.1 do not.
func TestTheTLSCentralSystemChecksClientCertificates(t *testing.T) {
	ca, err := NewCA("evse test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("another CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{})
	url, err := s.ListenTLS("127.0.0.1:0", ca, TLSOptions{ClientCerts: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dial := func(id string, cfg *tls.Config) error {
		cfg.RootCAs = ca.Pool()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, url+"/"+id, &websocket.DialOptions{Subprotocols: []string{"ocpp1.6"},
			HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}})
		if err != nil {
			return err
		}
		defer c.CloseNow()
		if err := s.WaitConnected(ctx, id); err != nil {
			return err
		}
		if name, _ := s.ClientCertName(id); name != id {
			t.Errorf("%s connected with a certificate named %q", id, name)
		}
		return nil
	}
	if err := dial("CP-GOOD", &tls.Config{Certificates: []tls.Certificate{clientCert(t, ca, "CP-GOOD")}}); err != nil {
		t.Errorf("a certificate of the CA: %v", err)
	}
	for name, cfg := range map[string]*tls.Config{
		"no certificate":  {},
		"another CA's":    {Certificates: []tls.Certificate{clientCert(t, other, "CP-OTHER")}},
		"TLS 1.1 at most": {Certificates: []tls.Certificate{clientCert(t, ca, "CP-OLD")}, MaxVersion: tls.VersionTLS11},
	} {
		if err := dial("CP-BAD", cfg); err == nil {
			t.Errorf("%s: connected", name)
		}
	}
	if _, err := ca.SignCSR([]byte(strings.Repeat("A", 20000)), time.Hour); err == nil {
		t.Error("a CSR of 20000 bytes was signed")
	}
	if _, err := ca.SignCSR([]byte("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"), time.Hour); err == nil {
		t.Error("a broken CSR was signed")
	}
}

// TestFirmwareSigner: the CA's firmware signing certificates chain to it
// for code signing, over the window asked for, with the key asked for.
func TestFirmwareSigner(t *testing.T) {
	ca, err := NewCA("manufacturer CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	nb, na := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	ecPEM, ecKey, err := ca.FirmwareSigner(nb, na)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM, rsaKey, err := ca.FirmwareSignerRSA(time.Time{}, time.Time{}, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		pem []byte
		key crypto.Signer
	}{"ECDSA": {ecPEM, ecKey}, "RSA": {rsaPEM, rsaKey}} {
		block, _ := pem.Decode(c.pem)
		if block == nil {
			t.Fatalf("%s: no PEM", name)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !c.key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(cert.PublicKey) {
			t.Errorf("%s: the key is not the certificate's", name)
		}
	}
	if _, ok := ecKey.(*ecdsa.PrivateKey); !ok {
		t.Errorf("FirmwareSigner made a %T", ecKey)
	}
	if _, ok := rsaKey.(*rsa.PrivateKey); !ok {
		t.Errorf("FirmwareSignerRSA made a %T", rsaKey)
	}
	block, _ := pem.Decode(ecPEM)
	cert, _ := x509.ParseCertificate(block.Bytes)
	if !cert.NotBefore.Equal(nb.Truncate(time.Second)) || !cert.NotAfter.Equal(na.Truncate(time.Second)) {
		t.Errorf("valid from %s to %s, asked %s to %s", cert.NotBefore, cert.NotAfter, nb, na)
	}
}

// TestListenTLSServesTheVersionsAndSuitesAsked: by default TLS 1.2 or
// newer; MaxVersion alone lowers the floor with it (a central system of
// TLS 1.1 only), and CipherSuites limits TLS 1.2's suites.
func TestListenTLSServesTheVersionsAndSuitesAsked(t *testing.T) {
	ca, err := NewCA("evse test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	serve := func(o TLSOptions) string {
		s := New(Options{})
		url, err := s.ListenTLS("127.0.0.1:0", ca, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return strings.TrimSuffix(strings.TrimPrefix(url, "wss://"), "/ocpp")
	}
	handshake := func(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
		cfg.RootCAs = ca.Pool()
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			return tls.ConnectionState{}, err
		}
		defer c.Close()
		return c.ConnectionState(), nil
	}
	byDefault := serve(TLSOptions{})
	if _, err := handshake(byDefault, &tls.Config{MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("the default served TLS 1.1")
	}
	if st, err := handshake(byDefault, &tls.Config{}); err != nil || st.Version != tls.VersionTLS13 {
		t.Errorf("the default: version %x, %v", st.Version, err)
	}
	old := serve(TLSOptions{MaxVersion: tls.VersionTLS11})
	if st, err := handshake(old, &tls.Config{MinVersion: tls.VersionTLS10}); err != nil || st.Version != tls.VersionTLS11 {
		t.Errorf("MaxVersion TLS 1.1: version %x, %v", st.Version, err)
	}
	if _, err := handshake(old, &tls.Config{}); err == nil {
		t.Error("MaxVersion TLS 1.1 served a TLS 1.2 client")
	}
	chacha := serve(TLSOptions{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}})
	if st, err := handshake(chacha, &tls.Config{}); err != nil || st.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 {
		t.Errorf("CipherSuites: suite %s, %v", tls.CipherSuiteName(st.CipherSuite), err)
	}
	if _, err := handshake(chacha, &tls.Config{CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}); err == nil {
		t.Error("CipherSuites: served a suite not asked for")
	}
}

// TestACAIsKeptAndReadBack: a CA saved in a directory is read back the
// same (its key private to the owner); OpenCA makes one only once.
func TestACAIsKeptAndReadBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	ca, made, err := OpenCA(dir, "kept CA", time.Hour)
	if err != nil || !made {
		t.Fatalf("OpenCA: made %v, %v", made, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "ca-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the key file: %v, %v", fi, err)
	}
	again, made, err := OpenCA(dir, "kept CA", time.Hour)
	if err != nil || made || !bytes.Equal(again.PEM, ca.PEM) {
		t.Fatalf("OpenCA again: made %v, %v", made, err)
	}
	// What the kept CA signs verifies against the first one's root.
	cert, err := again.ServerCert(time.Time{}, time.Time{}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "127.0.0.1"}); err != nil {
		t.Errorf("a certificate of the CA read back: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "ca-key.pem"), []byte("junk"), 0o600)
	if _, err := LoadCA(dir); err == nil {
		t.Error("a CA without its key was read")
	}
}
