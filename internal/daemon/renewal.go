package daemon

import (
	"log/slog"
	"sync"

	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/chargepoint"
)

// renewalTrial takes a charge point back to the key and certificate a
// renewal (CertificateSigned) replaced when the central system does not
// take the new certificate: a CA whose certificates the central system's
// TLS does not accept must not lock the charge point out.
type renewalTrial struct {
	keys      certs.Store
	log       *slog.Logger
	reconnect func()
	report    func(chargepoint.SecurityIncident)

	mu       sync.Mutex
	failures int
}

// connected: the certificate in use works; a renewal on trial is kept.
func (r *renewalTrial) connected() {
	r.mu.Lock()
	r.failures = 0
	r.mu.Unlock()
	if trial, err := r.keys.RenewalOnTrial(); err == nil && trial {
		if err := r.keys.KeepRenewal(); err != nil {
			r.log.Error("the renewed certificate works but cannot be kept for good", "err", err)
			return
		}
		r.log.Info("the renewed certificate works; the previous one is forgotten")
	}
}

// failed counts a failed connection while a renewal is on trial; the last
// one allowed puts the previous pair back and connects again with it.
func (r *renewalTrial) failed(err error) {
	trial, terr := r.keys.RenewalOnTrial()
	if terr != nil || !trial {
		return
	}
	r.mu.Lock()
	r.failures++
	n := r.failures
	if n >= fallbackAfter {
		r.failures = 0
	}
	r.mu.Unlock()
	if n < fallbackAfter {
		return
	}
	if reverted, rerr := r.keys.RevertRenewal(); rerr != nil || !reverted {
		r.log.Error("the renewed certificate cannot connect, and the previous one cannot be put back", "err", rerr)
		return
	}
	r.log.Warn("the central system does not take the renewed certificate: back to the previous one",
		"attempts", fallbackAfter, "last_error", err)
	r.report(chargepoint.SecurityIncident{Type: chargepoint.SecInvalidChargePointCertificate, Tell: true,
		TechInfo: "the renewed certificate could not connect (" + failureOf(err) + "); back to the previous one"})
	r.reconnect()
}
