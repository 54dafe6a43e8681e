package firmsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
)

// image is a firmware file as it is downloaded.
var image = []byte("EVSE-FIRMWARE 1\nversion: 9.9.9\nsha256: 0000\n\nthe payload")

// kit is a manufacturer CA with signers of both key types, and another CA.
type kit struct {
	ca, other       *csmstest.CA
	roots           []*x509.Certificate
	ecPEM, rsaPEM   string
	ecKey, rsaKey   crypto.Signer
	ecCert, rsaCert *x509.Certificate
}

func newKit(t testing.TB) *kit {
	t.Helper()
	k := &kit{}
	var err error
	if k.ca, err = csmstest.NewCA("manufacturer", time.Hour); err != nil {
		t.Fatal(err)
	}
	if k.other, err = csmstest.NewCA("someone else", time.Hour); err != nil {
		t.Fatal(err)
	}
	k.roots = []*x509.Certificate{parse(t, k.ca.PEM)}
	ec, ecKey, err := k.ca.FirmwareSigner(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	rs, rsaKey, err := k.ca.FirmwareSignerRSA(time.Time{}, time.Time{}, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k.ecPEM, k.ecKey, k.ecCert = string(ec), ecKey, parse(t, ec)
	k.rsaPEM, k.rsaKey, k.rsaCert = string(rs), rsaKey, parse(t, rs)
	return k
}

func parse(t testing.TB, p []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(p)
	if block == nil {
		t.Fatal("no PEM")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// issue makes a certificate of tmpl for pub, signed by a root of its own,
// for the cases the test CA does not make; it returns the PEM and the
// root.
func issue(t *testing.T, tmpl *x509.Certificate, pub crypto.PublicKey) (string, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "odd root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	root, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber, tmpl.Subject = big.NewInt(2), pkix.Name{CommonName: "odd signer"}
	tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Minute), now.Add(time.Hour)
	der, err = x509.CreateCertificate(rand.Reader, tmpl, root, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), root
}

func TestCheckSigner(t *testing.T) {
	k := newKit(t)
	now := time.Now()
	expired, _, err := k.ca.FirmwareSigner(now.Add(-2*time.Hour), now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	early, _, err := k.ca.FirmwareSigner(now.Add(time.Hour), now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	stranger, _, err := k.other.FirmwareSigner(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	server, err := k.ca.ServerCert(time.Time{}, time.Time{}, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	serverPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate[0]}))
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	noEKU, noEKURoot := issue(t, &x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature}, &ecKey.PublicKey)
	anyEKU, anyEKURoot := issue(t, &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}, &ecKey.PublicKey)
	encipher, encipherRoot := issue(t, &x509.Certificate{KeyUsage: x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}, &ecKey.PublicKey)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	ed, edRoot := issue(t, &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}, edPub)
	body := strings.TrimPrefix(strings.TrimSuffix(strings.TrimSpace(k.ecPEM), "-----END CERTIFICATE-----"), "-----BEGIN CERTIFICATE-----")

	for _, c := range []struct {
		name  string
		pem   string
		roots []*x509.Certificate
		ok    bool
		want  string // in the error
	}{
		{name: "ECDSA signer", pem: k.ecPEM, roots: k.roots, ok: true},
		{name: "RSA signer", pem: k.rsaPEM, roots: k.roots, ok: true},
		{name: "with white space around", pem: "\n  " + k.ecPEM + "\r\n\n", roots: k.roots, ok: true},
		{name: "one of several roots", pem: k.ecPEM, roots: []*x509.Certificate{parse(t, k.other.PEM), k.roots[0]}, ok: true},
		{name: "no extended key usage", pem: noEKU, roots: []*x509.Certificate{noEKURoot}, ok: true},
		{name: "any extended key usage", pem: anyEKU, roots: []*x509.Certificate{anyEKURoot}, ok: true},
		{name: "another manufacturer's", pem: string(stranger), roots: k.roots, want: "unknown authority"},
		{name: "no roots", pem: k.ecPEM, want: "no manufacturer root"},
		{name: "expired", pem: string(expired), roots: k.roots, want: "expired"},
		{name: "not yet valid", pem: string(early), roots: k.roots, want: "not valid before"},
		{name: "a server certificate", pem: serverPEM, roots: k.roots, want: "key usage"},
		{name: "key encipherment only", pem: encipher, roots: []*x509.Certificate{encipherRoot}, want: "digitalSignature"},
		{name: "an Ed25519 key", pem: ed, roots: []*x509.Certificate{edRoot}, want: "RSA or ECDSA only"},
		{name: "the root itself", pem: string(k.ca.PEM), roots: k.roots, want: "digitalSignature"},
		{name: "garbage", pem: "not a certificate", roots: k.roots, want: "no PEM"},
		{name: "empty", pem: "", roots: k.roots, want: "no PEM"},
		{name: "text before", pem: "firmware signer\n" + k.ecPEM, roots: k.roots, want: "no PEM"},
		{name: "broken base64", pem: "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", roots: k.roots, want: "no PEM"},
		{name: "broken DER", pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", roots: k.roots, want: "x509"},
		{name: "two certificates", pem: k.ecPEM + k.rsaPEM, roots: k.roots, want: "more than one"},
		{name: "the signer and its root", pem: k.ecPEM + string(k.ca.PEM), roots: k.roots, want: "more than one"},
		{name: "trailing garbage", pem: k.ecPEM + "garbage", roots: k.roots, want: "after the certificate"},
		{name: "a key, not a certificate", pem: "-----BEGIN PRIVATE KEY-----" + body + "-----END PRIVATE KEY-----\n", roots: k.roots, want: "not a CERTIFICATE"},
		{name: "over 5500 bytes", pem: k.ecPEM + strings.Repeat(" ", MaxCertificate), roots: k.roots, want: "at most 5500"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cert, err := CheckSigner(c.pem, c.roots, now)
			if c.ok {
				if err != nil || cert == nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrInvalidCertificate) {
				t.Errorf("%v is not ErrInvalidCertificate", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v, want %q in it", err, c.want)
			}
		})
	}
	if _, err := CheckSigner(k.ecPEM, nil, now); !errors.Is(err, ErrNoRoots) {
		t.Errorf("no roots: %v is not ErrNoRoots", err)
	}
}

func TestVerify(t *testing.T) {
	k := newKit(t)
	sign := func(key crypto.Signer, img []byte) string {
		t.Helper()
		s, err := Sign(key, img)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ecSig, rsaSig := sign(k.ecKey, image), sign(k.rsaKey, image)
	flipped := append([]byte(nil), image...)
	flipped[len(flipped)-1] ^= 1
	sum := sha256.Sum256(image)
	pss, err := rsa.SignPSS(rand.Reader, k.rsaKey.(*rsa.PrivateKey), crypto.SHA256, sum[:], nil)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	strangerKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	wrapped := func(s string) string { // as openssl base64 writes it
		var b strings.Builder
		for len(s) > 64 {
			b.WriteString(s[:64] + "\n")
			s = s[64:]
		}
		return b.String() + s + "\n"
	}

	for _, c := range []struct {
		name  string
		cert  *x509.Certificate
		sig   string
		image []byte
		ok    bool
		want  string
	}{
		{name: "ECDSA", cert: k.ecCert, sig: ecSig, image: image, ok: true},
		{name: "RSA PKCS#1 v1.5", cert: k.rsaCert, sig: rsaSig, image: image, ok: true},
		{name: "RSA-PSS", cert: k.rsaCert, sig: base64.StdEncoding.EncodeToString(pss), image: image, ok: true},
		{name: "without padding", cert: k.rsaCert, sig: strings.TrimRight(rsaSig, "="), image: image, ok: true},
		{name: "in lines of 64", cert: k.rsaCert, sig: wrapped(rsaSig), image: image, ok: true},
		{name: "an empty image", cert: k.ecCert, sig: sign(k.ecKey, nil), image: nil, ok: true},
		{name: "ECDSA, a flipped byte", cert: k.ecCert, sig: ecSig, image: flipped, want: "does not match"},
		{name: "RSA, a flipped byte", cert: k.rsaCert, sig: rsaSig, image: flipped, want: "does not match"},
		{name: "ECDSA, another key's", cert: k.ecCert, sig: sign(strangerKey, image), image: image, want: "does not match"},
		{name: "ECDSA signature, RSA certificate", cert: k.rsaCert, sig: ecSig, image: image, want: "does not match"},
		{name: "RSA signature, ECDSA certificate", cert: k.ecCert, sig: rsaSig, image: image, want: "does not match"},
		{name: "ECDSA, raw r||s", cert: k.ecCert, sig: base64.StdEncoding.EncodeToString(make([]byte, 64)), image: image, want: "does not match"},
		{name: "empty", cert: k.ecCert, sig: "", image: image, want: "empty"},
		{name: "not base64", cert: k.ecCert, sig: "not base64!", image: image, want: "not base64"},
		{name: "URL-safe base64", cert: k.ecCert, sig: strings.NewReplacer("+", "-", "/", "_").Replace(ecSig) + "-_", image: image, want: "not base64"},
		{name: "over 800 bytes", cert: k.rsaCert, sig: rsaSig + strings.Repeat("A", MaxSignature), image: image, want: "at most 800"},
		{name: "no certificate", sig: ecSig, image: image, want: "no signing certificate"},
		{name: "an Ed25519 key", cert: &x509.Certificate{PublicKey: edPub}, sig: ecSig, image: image, want: "RSA or ECDSA only"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Verify(c.cert, c.sig, c.image)
			if c.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("verified")
			}
			if !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("%v is not ErrInvalidSignature", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v, want %q in it", err, c.want)
			}
		})
	}
}

func TestSignRefusesOtherKeys(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := Sign(ed, image); err == nil {
		t.Error("signed with an Ed25519 key")
	}
	if _, err := Sign(nil, image); err == nil {
		t.Error("signed without a key")
	}
}
