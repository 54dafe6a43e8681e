package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/firmsign"
)

// TestFirmwareBuildAndSignWithTheRealBinary: evse firmware build makes an
// image ParseFirmware reads; evse firmware sign signs it with ECDSA and
// RSA keys in each PEM form, and the signature verifies with firmsign
// over that image and no other; --json prints a firmware object whose
// certificate a charge point accepts. A certificate of another CA (with
// --root) and a key that is not the certificate's are refused.
func TestFirmwareBuildAndSignWithTheRealBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte) string { return writeFileIn(t, dir, name, data) }
	run := func(args ...string) string { return mustRunEVSE(t, args...) }
	ca, err := csmstest.NewCA("manufacturer", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	root := write("root.pem", ca.PEM)
	block, _ := pem.Decode(ca.PEM)
	rootCert, _ := x509.ParseCertificate(block.Bytes)

	payload := write("payload.bin", []byte("the payload\x00\xff"))
	img := filepath.Join(dir, "fw.img")
	run("firmware", "build", "--version", "3.1.4", "--output", img, payload)
	image, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := chargepoint.ParseFirmware(image); err != nil || v != "3.1.4" {
		t.Fatalf("the built image: %q, %v", v, err)
	}
	if out := run("firmware", "build", "--version", "3.1.4", payload); out != string(image) {
		t.Errorf("to stdout: %q, to a file: %q", out, image)
	}
	flipped := append([]byte(nil), image...)
	flipped[len(flipped)-1] ^= 1

	ecPEM, ecKey, err := ca.FirmwareSigner(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM, rsaKey, err := ca.FirmwareSignerRSA(time.Time{}, time.Time{}, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := func(k crypto.Signer) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name         string
		key, certPEM []byte
	}{
		{"ECDSA, PKCS#8", pkcs8(ecKey), ecPEM},
		{"ECDSA, SEC 1", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), ecPEM},
		{"RSA, PKCS#8", pkcs8(rsaKey), rsaPEM},
		{"RSA, PKCS#1", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey.(*rsa.PrivateKey))}), rsaPEM},
	} {
		key, cert := write("key.pem", c.key), write("cert.pem", c.certPEM)
		sig := strings.TrimSpace(run("firmware", "sign", "--key", key, "--cert", cert, "--root", root, img))
		signer, err := firmsign.CheckSigner(string(c.certPEM), []*x509.Certificate{rootCert}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := firmsign.Verify(signer, sig, image); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if err := firmsign.Verify(signer, sig, flipped); err == nil {
			t.Errorf("%s: the signature verifies over another image", c.name)
		}
	}

	key, cert := write("key.pem", pkcs8(ecKey)), write("cert.pem", ecPEM)
	out := run("firmware", "sign", "--key", key, "--cert", cert, "--json", "--location", "https://fw.example/3.1.4",
		"--retrieve", "2030-01-02T03:04:05+01:00", img)
	var fw struct {
		Location, RetrieveDateTime, InstallDateTime, SigningCertificate, Signature string
	}
	if err := json.Unmarshal([]byte(out), &fw); err != nil {
		t.Fatalf("--json: %v: %s", err, out)
	}
	if fw.Location != "https://fw.example/3.1.4" || fw.RetrieveDateTime != "2030-01-02T02:04:05Z" || fw.InstallDateTime != "" {
		t.Errorf("--json: %s", out)
	}
	signer, err := firmsign.CheckSigner(fw.SigningCertificate, []*x509.Certificate{rootCert}, time.Now())
	if err != nil {
		t.Fatalf("--json: the certificate: %v", err)
	}
	if err := firmsign.Verify(signer, fw.Signature, image); err != nil {
		t.Errorf("--json: the signature: %v", err)
	}

	other, err := csmstest.NewCA("someone else", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	strangerPEM, strangerKey, err := other.FirmwareSigner(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	strangerCert := write("stranger.pem", strangerPEM)
	for name, args := range map[string][]string{
		"another CA's certificate":  {"--key", write("stranger.key", pkcs8(strangerKey)), "--cert", strangerCert, "--root", root},
		"not the key's certificate": {"--key", key, "--cert", strangerCert},
		"--json without --location": {"--key", key, "--cert", cert, "--json"},
	} {
		if _, errOut, code := runEVSE(t, append(append([]string{"firmware", "sign"}, args...), img)...); code == 0 {
			t.Errorf("%s: signed", name)
		} else {
			t.Logf("%s: %s", name, strings.TrimSpace(errOut))
		}
	}
}

// TestFirmwareKeyFormats: the PEM keys evse firmware sign reads, and the
// ones it refuses.
func TestFirmwareKeyFormats(t *testing.T) {
	ca, err := csmstest.NewCA("manufacturer", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := ca.FirmwareSigner(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	sec1, _ := x509.MarshalECPrivateKey(key.(*ecdsa.PrivateKey))
	params := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}})
	if _, err := parsePrivateKey(append(params, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})...)); err != nil {
		t.Errorf("openssl ecparam -genkey's output: %v", err)
	}
	for name, raw := range map[string][]byte{
		"nothing":          nil,
		"a certificate":    ca.PEM,
		"encrypted PKCS#8": pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}),
		"encrypted PEM":    pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}}),
		"broken DER":       pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}),
	} {
		if _, err := parsePrivateKey(raw); err == nil {
			t.Errorf("%s: read as a key", name)
		}
	}
	for _, v := range []string{"", strings.Repeat("1", 51), "1.0\nsha256: 00"} {
		if _, err := chargepoint.BuildFirmware(v, nil); err == nil {
			t.Errorf("built an image of version %q", v)
		}
	}
}
