package firmsign

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzCheckSigner feeds any text as signingCertificate: it never panics,
// every refusal is ErrInvalidCertificate, and what it accepts is issued
// by the root and valid now.
func FuzzCheckSigner(f *testing.F) {
	k := newKit(f)
	now := time.Now()
	f.Add(k.ecPEM)
	f.Add(k.rsaPEM)
	f.Add(k.ecPEM + k.rsaPEM)
	f.Add(string(k.ca.PEM))
	f.Add("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, certPEM string) {
		cert, err := CheckSigner(certPEM, k.roots, now)
		if err != nil {
			if !errors.Is(err, ErrInvalidCertificate) {
				t.Fatalf("%v is not ErrInvalidCertificate", err)
			}
			return
		}
		if err := cert.CheckSignatureFrom(k.roots[0]); err != nil {
			t.Fatalf("accepted a certificate the root did not sign: %v", err)
		}
		if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
			t.Fatal("accepted a certificate not valid now")
		}
	})
}

// FuzzVerify feeds any signature and image: it never panics, every
// refusal is ErrInvalidSignature, and nothing but the signed image
// verifies.
func FuzzVerify(f *testing.F) {
	k := newKit(f)
	ecSig, err := Sign(k.ecKey, image)
	if err != nil {
		f.Fatal(err)
	}
	rsaSig, err := Sign(k.rsaKey, image)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(false, ecSig, image)
	f.Add(true, rsaSig, image)
	f.Add(false, ecSig[:len(ecSig)-2], image)
	f.Add(true, rsaSig, image[1:])
	f.Add(false, "", []byte{})
	f.Fuzz(func(t *testing.T, useRSA bool, sig string, img []byte) {
		cert := k.ecCert
		if useRSA {
			cert = k.rsaCert
		}
		err := Verify(cert, sig, img)
		if err != nil {
			if !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("%v is not ErrInvalidSignature", err)
			}
			return
		}
		if !bytes.Equal(img, image) {
			t.Fatalf("a signature verified over another image: %q", img)
		}
	})
}
