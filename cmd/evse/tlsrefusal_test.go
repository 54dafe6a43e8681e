package main

import (
	"crypto/tls"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// TestTLSRefusalsOfTheRealBinary runs the real binary under security
// profile 2, trusting the test CA (--ca), against wss:// central systems
// on loopback that serve what it must refuse: a certificate of a CA it
// does not trust, an expired one, one not yet valid, one for another
// host, and TLS 1.1 only. Each time it does not connect (the central
// system sees no frame from it) and logs why. The controls connect: the
// right certificate, and a certificate of a system root with
// --trust-system-roots (the system's roots given by SSL_CERT_FILE).
func TestTLSRefusalsOfTheRealBinary(t *testing.T) {
	t.Parallel()
	ca, err := csmstest.NewCA("evse test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	untrusted, err := csmstest.NewCA("untrusted CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	system, err := csmstest.NewCA("a system root", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	files := t.TempDir()
	caFile, systemFile := filepath.Join(files, "ca.pem"), filepath.Join(files, "system.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(systemFile, system.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	password, err := hex.DecodeString(testKey)
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
	systemEnv := []string{"SSL_CERT_FILE=" + systemFile, "SSL_CERT_DIR=" + t.TempDir()} // the system's roots: system.pem alone

	for _, c := range []struct {
		name  string
		tls   csmstest.TLSOptions
		extra []string // evse run's flags
		env   []string
		why   []string // in the log; none: it connects
		event string   // the security event logged
	}{
		{name: "the right certificate"},
		{name: "a CA not trusted", tls: csmstest.TLSOptions{Cert: cert(untrusted, none, none, "127.0.0.1")},
			why: []string{"certificate signed by unknown authority"}, event: "InvalidCentralSystemCertificate"},
		{name: "expired", tls: csmstest.TLSOptions{Cert: cert(ca, now.Add(-2*time.Hour), now.Add(-time.Hour), "127.0.0.1")},
			why: []string{"certificate has expired or is not yet valid", "is after"}, event: "InvalidCentralSystemCertificate"},
		{name: "not yet valid", tls: csmstest.TLSOptions{Cert: cert(ca, now.Add(time.Hour), now.Add(2*time.Hour), "127.0.0.1")},
			why: []string{"certificate has expired or is not yet valid", "is before"}, event: "InvalidCentralSystemCertificate"},
		{name: "another host", tls: csmstest.TLSOptions{Cert: cert(ca, none, none, "127.0.0.2", "csms.example")},
			why: []string{"certificate is valid for 127.0.0.2, not 127.0.0.1"}, event: "InvalidCentralSystemCertificate"},
		{name: "TLS 1.1 only", tls: csmstest.TLSOptions{MaxVersion: tls.VersionTLS11},
			why: []string{"protocol version not supported"}, event: "InvalidTLSVersion"},
		{name: "a system root without --trust-system-roots", tls: csmstest.TLSOptions{Cert: cert(system, none, none, "127.0.0.1")},
			env: systemEnv, why: []string{"certificate signed by unknown authority"}, event: "InvalidCentralSystemCertificate"},
		{name: "a system root with --trust-system-roots", tls: csmstest.TLSOptions{Cert: cert(system, none, none, "127.0.0.1")},
			env: systemEnv, extra: []string{"--trust-system-roots"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			const id = "CP-TLS"
			s := csmstest.New(csmstest.Options{Passwords: map[string][]byte{id: password}})
			url, err := s.ListenTLS("127.0.0.1:0", ca, c.tls)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			dir := t.TempDir()
			configure(t, dir, "AuthorizationKey="+testKey, "SecurityProfile=2")
			p := startEVSEWith(t, c.env, runArgs(url, id, dir, append([]string{"--ca", caFile}, c.extra...)...)...)
			defer p.stop(os.Interrupt)
			if len(c.why) == 0 {
				waitCall(t, s, 0, id, "BootNotification", 20*time.Second)
				return
			}
			var line string
			for deadline := time.Now().Add(20 * time.Second); line == ""; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("no failed connection logged within 20 s")
				}
				for _, l := range strings.Split(p.errOut.String(), "\n") {
					if strings.Contains(l, "central system connection ended") {
						line = l
						break
					}
				}
			}
			for _, w := range c.why {
				if !strings.Contains(line, w) {
					t.Errorf("the log says %s; want %q in it", line, w)
				}
			}
			// The refusal is a security event, in the security log.
			want := `msg="security event" cp=CP-TLS type=` + c.event
			for deadline := time.Now().Add(10 * time.Second); !strings.Contains(p.errOut.String(), want); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("no %s logged", want)
				}
			}
			for _, r := range s.Records() {
				if r.ChargePoint == id {
					t.Fatalf("the central system saw %s from the charge point", r.Raw)
				}
			}
			if s.Connected(id) {
				t.Error("the charge point is connected")
			}
		})
	}
}
