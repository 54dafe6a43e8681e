package daemon

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/ocppj"
)

// attempt makes one connection attempt with a real OCPP-J client, as the
// daemon does, and returns the error OnConnectFailed was told, or nil
// when it connected.
func attempt(t *testing.T, url string, cfg *tls.Config, password string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ended := make(chan error, 1)
	tell := func(err error) {
		select {
		case ended <- err:
		default:
		}
	}
	var pw func() []byte
	if password != "" {
		pw = func() []byte { return []byte(password) }
	}
	c, err := ocppj.NewClient(ocppj.Options{URL: url, ID: "CP-1", TLSConfig: cfg, Password: pw,
		MinBackoff: time.Hour, MaxBackoff: time.Hour, OnConnect: func() { tell(nil) }, OnConnectFailed: tell})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	select {
	case err := <-ended:
		return err
	case <-ctx.Done():
		t.Fatal("no connection attempt ended within 10 s")
		return nil
	}
}

// serveOldHello serves a TLS server of another make that answers every
// ClientHello with a TLS 1.1 ServerHello (Go's own server sends an alert
// instead), and returns its address.
func serveOldHello(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				answerOldHello(conn)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// answerOldHello reads one handshake record and answers with a TLS 1.1
// ServerHello, then reads until the client closes.
func answerOldHello(conn net.Conn) {
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	header := make([]byte, 5)
	if _, err := io.ReadFull(conn, header); err != nil {
		return
	}
	if _, err := io.ReadFull(conn, make([]byte, int(header[3])<<8|int(header[4]))); err != nil {
		return
	}
	hello := []byte{3, 2}                      // TLS 1.1
	hello = append(hello, make([]byte, 32)...) // random
	hello = append(hello, 0, 0xc0, 0x09, 0)    // no session id, TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, no compression
	msg := append([]byte{2, 0, 0, byte(len(hello))}, hello...)
	conn.Write(append([]byte{22, 3, 2, 0, byte(len(msg))}, msg...))
	io.Copy(io.Discard, conn)
}

// TestSecurityEventOfRealConnectionFailures classifies the errors of real
// handshakes on loopback, made as the daemon makes them (an OCPP-J client
// with the charge point's TLS configuration) and with tls.Dial, against
// central systems that serve what the charge point must refuse.
func TestSecurityEventOfRealConnectionFailures(t *testing.T) {
	ca, err := csmstest.NewCA("evse test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	untrusted, err := csmstest.NewCA("untrusted CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(ca.PEM)
	cfg, err := TLSConfig(writePEM(t, block.Bytes), false)
	if err != nil {
		t.Fatal(err)
	}
	cert := func(of *csmstest.CA, from, to time.Time, hosts ...string) tls.Certificate {
		c, err := of.ServerCert(from, to, hosts...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	var none time.Time
	now := time.Now()
	var manyIPs []string
	for i := range 16 {
		manyIPs = append(manyIPs, fmt.Sprintf("2001:db8:aaaa:bbbb:cccc:dddd:eeee:%x", i+1))
	}
	const password = "wrong-secret-0123"
	serve := func(o csmstest.TLSOptions, passwords map[string][]byte) string {
		s := csmstest.New(csmstest.Options{Passwords: passwords})
		url, err := s.ListenTLS("127.0.0.1:0", ca, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return url
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()

	for _, c := range []struct {
		name     string
		url      string
		password string
		want     chargepoint.SecurityEventType // "": no security event
		info     string                        // in techInfo
	}{
		{"a CA not trusted", serve(csmstest.TLSOptions{Cert: cert(untrusted, none, none, "127.0.0.1")}, nil), "",
			chargepoint.SecInvalidCentralSystemCertificate, "signed by unknown authority"},
		{"expired", serve(csmstest.TLSOptions{Cert: cert(ca, now.Add(-2*time.Hour), now.Add(-time.Hour), "127.0.0.1")}, nil), "",
			chargepoint.SecInvalidCentralSystemCertificate, "is after"},
		{"not yet valid", serve(csmstest.TLSOptions{Cert: cert(ca, now.Add(time.Hour), now.Add(2*time.Hour), "127.0.0.1")}, nil), "",
			chargepoint.SecInvalidCentralSystemCertificate, "is before"},
		{"another host", serve(csmstest.TLSOptions{Cert: cert(ca, none, none, "127.0.0.2", "csms.example")}, nil), "",
			chargepoint.SecInvalidCentralSystemCertificate, "valid for 127.0.0.2, not 127.0.0.1"},
		{"many other hosts", serve(csmstest.TLSOptions{Cert: cert(ca, none, none, manyIPs...)}, nil), "",
			chargepoint.SecInvalidCentralSystemCertificate, "x509: certificate is valid for 2001:db8:aaaa:"},
		{"TLS 1.1 only", serve(csmstest.TLSOptions{MaxVersion: tls.VersionTLS11}, nil), "",
			chargepoint.SecInvalidTLSVersion, "protocol version not supported"},
		{"a TLS 1.1 hello", "wss://" + serveOldHello(t) + "/ocpp", "",
			chargepoint.SecInvalidTLSVersion, "unsupported protocol version 302"},
		{"a cipher suite not offered", serve(csmstest.TLSOptions{MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}, nil), "",
			chargepoint.SecInvalidTLSCipherSuite, "handshake failure"},
		{"a wrong password", serve(csmstest.TLSOptions{}, map[string][]byte{"CP-1": []byte("the-right-one-456")}), password,
			chargepoint.SecFailedToAuthenticateAtCentralSystem, "refused the charge point's credentials"},
		{"nobody listening", "wss://" + closed.Addr().String() + "/ocpp", "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			errs := map[string]error{"ocppj": attempt(t, c.url, cfg, c.password)}
			if c.password == "" {
				addr := strings.TrimSuffix(strings.TrimPrefix(c.url, "wss://"), "/ocpp")
				conn, err := tls.Dial("tcp", addr, cfg.Clone())
				if err == nil {
					conn.Close()
				}
				errs["tls.Dial"] = err
			}
			for shape, err := range errs {
				if err == nil {
					t.Errorf("%s: connected", shape)
					continue
				}
				typ, info, ok := SecurityEventOf(err)
				if typ != c.want || ok != (c.want != "") || !strings.Contains(info, c.info) {
					t.Errorf("%s: SecurityEventOf(%v) = %q, %q, %v; want %q with %q", shape, err, typ, info, ok, c.want, c.info)
				}
				if len(info) > chargepoint.MaxTechInfo || !utf8.ValidString(info) {
					t.Errorf("%s: techInfo of %d bytes: %q", shape, len(info), info)
				}
				if strings.Contains(info, password) || strings.Contains(info, base64.StdEncoding.EncodeToString([]byte("CP-1:"+password))) ||
					strings.Contains(info, "wss://") {
					t.Errorf("%s: techInfo tells the password or the URL: %q", shape, info)
				}
			}
		})
	}

	// The control: the right certificate connects.
	if err := attempt(t, serve(csmstest.TLSOptions{}, nil), cfg, ""); err != nil {
		t.Errorf("the right certificate: %v", err)
	}
}

// TestSecurityEventOfOtherErrors: nil and errors of no TLS or HTTP cause
// are no security event; techInfo holds no control character, nor more
// than 255 bytes, whatever names a certificate holds.
func TestSecurityEventOfOtherErrors(t *testing.T) {
	for _, err := range []error{nil, errors.New("tls: something"), context.DeadlineExceeded,
		fmt.Errorf("ocppj: dial: %w", &net.OpError{Op: "remote error", Err: errors.New("tls: no renegotiation")})} {
		if typ, info, ok := SecurityEventOf(err); ok || typ != "" || info != "" {
			t.Errorf("SecurityEventOf(%v) = %q, %q, %v", err, typ, info, ok)
		}
	}
	host := x509.HostnameError{Certificate: &x509.Certificate{DNSNames: []string{"a\nb\x00" + strings.Repeat("é", 200)}}, Host: "127.0.0.1"}
	typ, info, ok := SecurityEventOf(&tls.CertificateVerificationError{Err: host})
	if !ok || typ != chargepoint.SecInvalidCentralSystemCertificate || len(info) > chargepoint.MaxTechInfo || !utf8.ValidString(info) || strings.ContainsAny(info, "\n\x00") {
		t.Errorf("a long name: %q, %q (%d bytes), %v", typ, info, len(info), ok)
	}
}

// TestARefusalIsToldOnceUntilTheNextConnection: a charge point retrying a
// refused connection logs each kind of refusal once, and again after a
// connection was made.
func TestARefusalIsToldOnceUntilTheNextConnection(t *testing.T) {
	var told []chargepoint.SecurityEventType
	l := &linkRefusals{report: func(e chargepoint.SecurityIncident) { told = append(told, e.Type) }}
	badCert := &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}
	refused := fmt.Errorf("dial: %w", ocppj.ErrCredentialsRefused)
	for range 3 {
		l.failed(badCert)
		l.failed(refused)
		l.failed(errors.New("connection refused")) // no security event
	}
	l.connected()
	l.failed(badCert)
	want := []chargepoint.SecurityEventType{chargepoint.SecInvalidCentralSystemCertificate,
		chargepoint.SecFailedToAuthenticateAtCentralSystem, chargepoint.SecInvalidCentralSystemCertificate}
	if !slices.Equal(told, want) {
		t.Errorf("told %v, want %v", told, want)
	}
}

// TestARefusedClientCertificateIsFailedToAuthenticate: a central system
// that takes client certificates of another CA (TLS 1.3's unknown_ca)
// and one that wants a certificate the charge point does not send (TLS
// 1.3's certificate_required) refuse the charge point's authentication,
// over real handshakes on loopback. (Go's TLS 1.2 server ends both with
// handshake_failure, which reads as a cipher suite's: documented.)
func TestARefusedClientCertificateIsFailedToAuthenticate(t *testing.T) {
	serverCA, err := csmstest.NewCA("server CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	clientCA, err := csmstest.NewCA("client CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	serverCert, err := serverCA.ServerCert(time.Time{}, time.Time{}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	// A client certificate of a CA the server does not take.
	foreign, err := clientCA.ServerCert(time.Time{}, time.Time{}, "CP-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		version uint16
		certs   []tls.Certificate
	}{
		{"another CA, TLS 1.3", tls.VersionTLS13, []tls.Certificate{foreign}},
		{"no certificate, TLS 1.3", tls.VersionTLS13, nil},
	} {
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{serverCert},
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: serverCA.Pool(), MaxVersion: c.version})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			conn, err := ln.Accept()
			if err == nil {
				conn.(*tls.Conn).Handshake()
				conn.Close()
			}
		}()
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: serverCA.Pool(), Certificates: c.certs})
		if err == nil {
			// TLS 1.3: the server's refusal comes with the first read.
			_, err = conn.Read(make([]byte, 1))
			conn.Close()
		}
		ln.Close()
		typ, info, ok := SecurityEventOf(err)
		if !ok || typ != chargepoint.SecFailedToAuthenticateAtCentralSystem {
			t.Errorf("%s: %v gives %q %q, want FailedToAuthenticateAtCentralSystem", c.name, err, typ, info)
		}
	}
}
