package daemon

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"sync"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/ocppj"
)

// SecurityEventOf tells which of the whitepaper's security events a
// failed connection attempt to the central system is, for
// SecurityEventNotification.req and the security log. err is what
// ocppj.Options.OnConnectFailed is told, or an error of tls.Dial; ok is
// false for a failure that is no security event (a refused TCP
// connection, a timeout, a 404) and for nil.
//
//   - The central system's certificate does not verify: signed by a CA
//     not trusted, expired or not yet valid, for another host name, or
//     any other x509 verification failure:
//     chargepoint.SecInvalidCentralSystemCertificate.
//   - The central system offers no TLS version the charge point accepts
//     (1.2 or newer): it sent the alert protocol_version, or answered
//     with an older version: chargepoint.SecInvalidTLSVersion.
//   - The central system ended the handshake with the alert
//     handshake_failure or insufficient_security, which is what a server
//     sends when it shares no cipher suite with the charge point (the
//     alert does not say more), or it chose a suite not offered:
//     chargepoint.SecInvalidTLSCipherSuite.
//   - The central system refused the Basic authentication at the
//     WebSocket upgrade, HTTP 401 or 403 (ocppj.ErrCredentialsRefused),
//     or the charge point's client certificate (profile 3: the alerts
//     bad_certificate to certificate_unknown, unknown_ca,
//     certificate_required): chargepoint.SecFailedToAuthenticateAtCentralSystem.
//     A TLS 1.2 server that wants a certificate the charge point did not
//     send ends with handshake_failure, read as a cipher suite's.
//
// techInfo is at most 255 bytes of valid UTF-8 without control
// characters. It is made from the TLS or x509 error alone (names, host
// names and times of the certificates, the alert) or fixed words, never
// from the outer error: it holds neither the URL nor a password.
// It is safe for concurrent use.
func SecurityEventOf(err error) (eventType chargepoint.SecurityEventType, techInfo string, ok bool) {
	if err == nil {
		return "", "", false
	}
	if errors.Is(err, ocppj.ErrCredentialsRefused) {
		return chargepoint.SecFailedToAuthenticateAtCentralSystem,
			"the central system refused the charge point's credentials at the WebSocket upgrade (HTTP 401 or 403)", true
	}
	if cause := certificateError(err); cause != nil {
		return chargepoint.SecInvalidCentralSystemCertificate, chargepoint.CleanTechInfo(cause.Error()), true
	}
	if a, ok := alertOf(err); ok {
		switch a {
		case alertProtocolVersion:
			return chargepoint.SecInvalidTLSVersion, chargepoint.CleanTechInfo("the central system offers no TLS version of 1.2 or newer: " + a.Error()), true
		case alertBadCertificate, alertUnsupportedCertificate, alertCertificateRevoked, alertCertificateExpired,
			alertCertificateUnknown, alertUnknownCA, alertCertificateRequired:
			return chargepoint.SecFailedToAuthenticateAtCentralSystem,
				chargepoint.CleanTechInfo("the central system refused the charge point's certificate: " + a.Error()), true
		case alertHandshakeFailure, alertInsufficientSecurity:
			return chargepoint.SecInvalidTLSCipherSuite, chargepoint.CleanTechInfo("the central system ended the handshake (" + a.Error() + "), as it does when it shares no cipher suite with the charge point"), true
		}
		return "", "", false
	}
	// The client's own refusals of the server's hello are plain errors.
	msg := err.Error()
	if i := strings.Index(msg, "tls: server selected unsupported protocol version"); i >= 0 {
		return chargepoint.SecInvalidTLSVersion, chargepoint.CleanTechInfo(msg[i:]), true
	}
	if i := strings.Index(msg, "tls: server chose an unconfigured cipher suite"); i >= 0 {
		return chargepoint.SecInvalidTLSCipherSuite, chargepoint.CleanTechInfo(msg[i:]), true
	}
	return "", "", false
}

// The TLS alerts SecurityEventOf tells apart (RFC 8446, 6.2).
const (
	alertHandshakeFailure       tls.AlertError = 40
	alertBadCertificate         tls.AlertError = 42
	alertUnsupportedCertificate tls.AlertError = 43
	alertCertificateRevoked     tls.AlertError = 44
	alertCertificateExpired     tls.AlertError = 45
	alertCertificateUnknown     tls.AlertError = 46
	alertUnknownCA              tls.AlertError = 48
	alertProtocolVersion        tls.AlertError = 70
	alertInsufficientSecurity   tls.AlertError = 71
	alertCertificateRequired    tls.AlertError = 116
)

// certificateError returns the x509 error of a failed verification of
// the server's certificate in err's chain, or nil.
func certificateError(err error) error {
	var (
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
		verify   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknown):
		return unknown
	case errors.As(err, &invalid):
		return invalid
	case errors.As(err, &hostname):
		return hostname
	case errors.As(err, &verify):
		if verify.Err != nil {
			return verify.Err
		}
		return verify
	}
	return nil
}

// alertOf returns the TLS alert the server sent, when err is one. Go
// reports a received alert as a *net.OpError "remote error" around an
// unexported type with the same text as tls.AlertError's; a QUIC
// transport reports a tls.AlertError.
func alertOf(err error) (tls.AlertError, bool) {
	var a tls.AlertError
	if errors.As(err, &a) {
		return a, true
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return 0, false
	}
	text := op.Err.Error()
	for _, a := range []tls.AlertError{alertHandshakeFailure, alertBadCertificate, alertUnsupportedCertificate,
		alertCertificateRevoked, alertCertificateExpired, alertCertificateUnknown, alertUnknownCA,
		alertProtocolVersion, alertInsufficientSecurity, alertCertificateRequired} {
		if text == a.Error() {
			return a, true
		}
	}
	return 0, false
}

// linkRefusals turns failed connections into security events: the first
// refusal of each kind between two connections, so that a charge point
// retrying for days does not fill its security log with one refusal.
type linkRefusals struct {
	report func(chargepoint.SecurityIncident)

	mu   sync.Mutex
	told map[chargepoint.SecurityEventType]bool
}

// failed reports a connection that failed, if it was a refusal of a
// kind not yet told since the last connection.
func (l *linkRefusals) failed(err error) {
	typ, info, ok := SecurityEventOf(err)
	if !ok {
		return
	}
	l.mu.Lock()
	if l.told == nil {
		l.told = map[chargepoint.SecurityEventType]bool{}
	}
	seen := l.told[typ]
	l.told[typ] = true
	l.mu.Unlock()
	if !seen {
		l.report(chargepoint.SecurityIncident{Type: typ, TechInfo: info})
	}
}

// connected: a connection was made; the next refusal is told again.
func (l *linkRefusals) connected() {
	l.mu.Lock()
	clear(l.told)
	l.mu.Unlock()
}
