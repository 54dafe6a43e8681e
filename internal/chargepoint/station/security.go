package station

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/firmsign"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// The security messages both protocols have (1.6's security extension,
// 2.0.1's blocks A, L and M), decided here on the certificates of the
// station's store (package certs); each face renders the outcome in its
// protocol.

// CertStatus is the outcome of installing or deleting a certificate; both
// protocols name it so.
type CertStatus string

// Outcomes of InstallRoot and DeleteRoot.
const (
	CertAccepted CertStatus = "Accepted"
	CertRejected CertStatus = "Rejected"
	CertFailed   CertStatus = "Failed"
	CertNotFound CertStatus = "NotFound"
)

// InstallRoot installs root certificates (PEM) of a use
// (certs.CentralSystemRoot, certs.ManufacturerRoot): Rejected when one is
// no CA certificate or cannot be read, or when the store would hold more
// than CertificateStoreMaxLength (as the 1.6 whitepaper and 2.0.1 name
// it); Failed when the store cannot be written.
func (st *Station) InstallRoot(use, pem string) CertStatus {
	n, err := certs.New(st.opts.Store).InstallRootOf(use, []byte(pem), st.opts.Settings.Snapshot().CertificateStoreMaxLength)
	status := CertAccepted
	switch {
	case err == nil:
		st.log.Info("root certificate installed", "use", use, "roots", n)
		return status
	case errors.Is(err, certs.ErrStoreFull), errors.Is(err, certs.ErrNotCA):
		status = CertRejected
	default:
		status = CertFailed
	}
	st.log.Warn("root certificate refused", "use", use, "status", status, "err", err)
	return status
}

// DeleteRoot deletes the root h names, hashed with algorithm, of either
// use: NotFound when none matches (the station's own certificate is never
// a root, so never deleted; hashes are kept in SHA256 only), Failed for
// the last central system root or a store that cannot be written.
func (st *Station) DeleteRoot(algorithm string, h certs.HashData) CertStatus {
	if algorithm != "SHA256" {
		return CertNotFound
	}
	found, err := certs.New(st.opts.Store).DeleteRoot(h)
	switch {
	case err != nil:
		st.log.Warn("root certificate not deleted", "serial", h.SerialNumber, "err", err)
		return CertFailed
	case !found:
		return CertNotFound
	}
	st.log.Info("root certificate deleted", "serial", h.SerialNumber)
	return CertAccepted
}

// SignedFirmwareOnly reports whether manufacturer roots are installed:
// then firmware must come signed.
func (st *Station) SignedFirmwareOnly() (bool, error) {
	roots, err := certs.New(st.opts.Store).ManufacturerRoots()
	return len(roots) > 0, err
}

// CheckFirmwareSigner checks a signed update's signing certificate (PEM)
// against the installed manufacturer roots, now: an error (firmsign's
// ErrInvalidCertificate) when it may not sign firmware, reported as an
// InvalidFirmwareSigningCertificate security event.
func (st *Station) CheckFirmwareSigner(certPEM string) error {
	roots, err := certs.New(st.opts.Store).ManufacturerRoots()
	if err != nil {
		return fmt.Errorf("station: manufacturer roots: %w", err)
	}
	if _, err := firmsign.CheckSigner(certPEM, roots, st.opts.Clock.Now()); err != nil {
		st.log.Warn("firmware signing certificate refused", "err", err)
		st.SecurityIncident(chargepoint.SecurityIncident{Type: chargepoint.SecInvalidFirmwareSigningCertificate, TechInfo: err.Error()})
		return err
	}
	return nil
}

// Renew starts a renewal of the station's certificate once the answer to
// the CALL of ctx is written: a new key, and its CSR given to sign (the
// protocol's SignCertificate), whose error is logged. False when it
// cannot start: the station has no identity, or a renewal is under way.
// Without a CertificateSigned CertSigningWaitMinimum after an accepted
// SignCertificate, it asks again, the wait doubling each time, at most
// CertSigningRepeatTimes times (A02.FR.17/18).
func (st *Station) Renew(ctx context.Context, sign func(ctx context.Context, csr []byte) error) bool {
	return st.renew(ctx, sign, 0)
}

// renew is Renew's attempt n (0: the first).
func (st *Station) renew(ctx context.Context, sign func(ctx context.Context, csr []byte) error, n int) bool {
	if st.opts.ID == "" || !st.renewing.CompareAndSwap(false, true) {
		return false
	}
	signed := st.signed.Load()
	rpc.AfterAnswer(ctx, func() {
		st.Go(st.callTimeout(), func(ctx context.Context) {
			defer st.renewing.Store(false)
			csr, err := certs.New(st.opts.Store).RenewalCSR(st.opts.ID, st.opts.Settings.Snapshot().CpoName)
			if err != nil {
				st.log.Error("SignCertificate: no CSR", "err", err)
				return
			}
			if err := sign(ctx, csr); err != nil {
				st.log.Warn("SignCertificate failed; the current certificate stays in use", "err", err)
				return
			}
			st.log.Info("SignCertificate accepted; waiting for CertificateSigned")
			st.awaitSigned(sign, n, signed)
		})
	})
	return true
}

// awaitSigned asks again when no certificate was installed (signed
// unchanged) CertSigningWaitMinimum × 2^n after attempt n's
// SignCertificate, while attempts are left.
func (st *Station) awaitSigned(sign func(ctx context.Context, csr []byte) error, n int, signed uint64) {
	s := st.opts.Settings.Snapshot()
	if n >= s.CertSigningRepeatTimes || s.CertSigningWaitMinimum <= 0 {
		return
	}
	wait := time.Duration(s.CertSigningWaitMinimum) * time.Second << min(n, 16)
	time.AfterFunc(wait, func() {
		if st.Closed() || st.signed.Load() != signed {
			return
		}
		st.log.Info("no CertificateSigned came: asking again", "attempt", n+2)
		st.renew(context.Background(), sign, n+1)
	})
}

// CertificateSigned installs the station's certificate (a PEM chain) the
// central system's CA signed for the key of the last renewal: an error,
// reported as an InvalidChargePointCertificate security event, when it
// does not fit (chain, size, validity, name, key). Once it is installed,
// OnCertificate (a reconnection with it) follows the answer to the CALL
// of ctx.
func (st *Station) CertificateSigned(ctx context.Context, chain string) error {
	if st.opts.ID == "" {
		err := errors.New("station: no identity to check the certificate's name against")
		st.log.Warn("CertificateSigned rejected", "err", err)
		return err
	}
	s := st.opts.Settings.Snapshot()
	err := certs.New(st.opts.Store).InstallCertificate([]byte(chain), st.opts.ID, st.opts.Clock.Now(), s.CertificateSignedMaxChainSize)
	if err != nil {
		st.log.Warn("CertificateSigned rejected", "err", err)
		st.SecurityIncident(chargepoint.SecurityIncident{Type: chargepoint.SecInvalidChargePointCertificate, TechInfo: err.Error()})
		return err
	}
	st.signed.Add(1)
	st.log.Info("CertificateSigned: the station's new certificate is installed")
	if st.opts.OnCertificate != nil {
		rpc.AfterAnswer(ctx, st.opts.OnCertificate)
	}
	return nil
}

// Ask sends a CALL of the station's own, outside the journal (a
// protocol's SignCertificate), and reads its answer's status with status,
// which checks the CALLRESULT: an error unless it is Accepted. name
// prefixes errors ("v16").
func (st *Station) Ask(ctx context.Context, name, action string, req any, status func(raw json.RawMessage) (string, error)) error {
	caller := st.Caller()
	if caller == nil {
		return fmt.Errorf("%s: %s: no connection", name, action)
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("%s: encode %s: %w", name, action, err)
	}
	raw, err := caller.Call(ctx, action, payload)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", name, action, err)
	}
	s, err := status(raw)
	switch {
	case err != nil:
		return fmt.Errorf("%s: %s answer: %w", name, action, err)
	case s != "Accepted":
		return fmt.Errorf("%s: the central system answered %s %s", name, action, s)
	}
	return nil
}

// callTimeout bounds a CALL of the station's own.
func (st *Station) callTimeout() time.Duration {
	if st.opts.CallTimeout > 0 {
		return st.opts.CallTimeout
	}
	return time.Minute
}

// RenewBefore is how long before its certificate expires the station
// renews it of its own accord (A03: "about to expire", which the
// specifications leave to the station).
const RenewBefore = 30 * 24 * time.Hour

// renewalCheck is how often the station looks at its certificate's
// expiry (and first a minute after it starts, once registered).
const renewalCheck = 24 * time.Hour

// checkExpiry starts a renewal (A03) when the station works at security
// profile 3, is registered and online, and its certificate expires
// within RenewBefore; the CSR goes with the protocol's SignCertificate.
// It looks again renewalCheck later, until the station has stopped
// (a chain of timers, not a goroutine per station).
func (st *Station) checkExpiry() {
	if st.Closed() {
		return
	}
	defer time.AfterFunc(renewalCheck, st.checkExpiry)
	if st.opts.Settings.Snapshot().SecurityProfile != 3 || st.Registration() != chargepoint.Accepted || !(currentCaller{st}).Connected() {
		return
	}
	cert, err := certs.New(st.opts.Store).Certificate()
	if err != nil || cert.Leaf == nil {
		return
	}
	if expires := cert.Leaf.NotAfter; expires.Sub(st.opts.Clock.Now()) <= RenewBefore {
		if sign := st.link().sign; sign != nil && st.Renew(context.Background(), sign) {
			st.log.Info("the station's certificate expires soon: renewing it (A03)", "expires", expires)
		}
	}
}
