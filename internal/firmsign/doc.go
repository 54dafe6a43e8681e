// Package firmsign checks signed firmware as the OCPP 1.6 security
// whitepaper's SignedUpdateFirmware asks: the signing certificate against
// the manufacturer roots, then the signature over the downloaded image.
//
// # Basics
//
// When SignedUpdateFirmware.req arrives, CheckSigner parses its
// firmware.signingCertificate and checks it against the installed
// ManufacturerRootCertificates; an error (errors.Is ErrInvalidCertificate)
// is answered with status InvalidCertificate. After the download, Verify
// checks firmware.signature over the whole image file, byte for byte as
// downloaded; an error (errors.Is ErrInvalidSignature) is reported as
// InvalidSignature, success as SignatureVerified. Sign makes signatures
// for tools and tests.
//
// The signature is over the SHA-256 of the file: RSA PKCS#1 v1.5 or
// RSA-PSS for an RSA key, ECDSA in ASN.1 DER form for an ECDSA key (what
// `openssl dgst -sha256 -sign` writes), in standard base64.
//
// # Caveats
//
//   - The signing certificate must be issued by a root itself: the
//     message carries one certificate, so there are no intermediates.
//   - There is no revocation source: RevokedCertificate is never the
//     answer.
//   - The whitepaper names ECSchnorr for elliptic curves; it is not
//     supported (no common tool makes it), ECDSA is.
//
// The package does no I/O and keeps no state; its functions are safe for
// concurrent use.
package firmsign
