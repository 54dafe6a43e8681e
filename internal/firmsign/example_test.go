package firmsign_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/evse-dev/evse/internal/csmstest"
	"github.com/evse-dev/evse/internal/firmsign"
)

// A manufacturer signs an image; the charge point checks the signing
// certificate when SignedUpdateFirmware.req arrives, and the signature
// once the image is downloaded.
func Example() {
	ca, _ := csmstest.NewCA("manufacturer", time.Hour)
	certPEM, key, _ := ca.FirmwareSigner(time.Time{}, time.Time{})
	image := []byte("EVSE-FIRMWARE 1\n...")
	sig, _ := firmsign.Sign(key, image)

	block, _ := pem.Decode(ca.PEM) // an installed ManufacturerRootCertificate
	root, _ := x509.ParseCertificate(block.Bytes)
	cert, err := firmsign.CheckSigner(string(certPEM), []*x509.Certificate{root}, time.Now())
	if errors.Is(err, firmsign.ErrInvalidCertificate) {
		fmt.Println("InvalidCertificate")
		return
	}
	if err := firmsign.Verify(cert, sig, image); errors.Is(err, firmsign.ErrInvalidSignature) {
		fmt.Println("InvalidSignature")
		return
	}
	fmt.Println("SignatureVerified")
	// Output: SignatureVerified
}
