package v16

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/firmsign"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// The security extension's certificate management, on the certificates
// kept in the charge point's store (internal/certs).

// installCertificate installs a central system or manufacturer root:
// Rejected when it is no CA certificate, Failed when the store is full
// (CertificateStoreMaxLength) or cannot be written.
func (cp *ChargePoint) installCertificate(r *ocpp16.InstallCertificateRequest) *ocpp16.InstallCertificateResponse {
	keys := certs.New(cp.opts.Store)
	n, err := keys.InstallRootOf(string(r.CertificateType), []byte(r.Certificate), cp.opts.Settings.Snapshot().CertificateStoreMaxLength)
	status := ocpp16.InstallCertificateStatusAccepted
	switch {
	case err == nil:
		cp.log.Info("InstallCertificate", "type", r.CertificateType, "roots", n)
	case errors.Is(err, certs.ErrStoreFull):
		status = ocpp16.InstallCertificateStatusFailed
	default:
		status = ocpp16.InstallCertificateStatusRejected
	}
	if err != nil {
		cp.log.Warn("InstallCertificate refused", "type", r.CertificateType, "status", status, "err", err)
	}
	return &ocpp16.InstallCertificateResponse{Status: status}
}

// installedCertificates lists the roots of a use by their hash data.
func (cp *ChargePoint) installedCertificates(r *ocpp16.GetInstalledCertificateIdsRequest) (*ocpp16.GetInstalledCertificateIdsResponse, error) {
	roots, err := certs.New(cp.opts.Store).InstalledRoots(string(r.CertificateType))
	if err != nil {
		return nil, err
	}
	if len(roots) == 0 {
		return &ocpp16.GetInstalledCertificateIdsResponse{Status: ocpp16.GetInstalledCertificateStatusNotFound}, nil
	}
	resp := &ocpp16.GetInstalledCertificateIdsResponse{Status: ocpp16.GetInstalledCertificateStatusAccepted}
	for _, h := range roots {
		resp.CertificateHashData = append(resp.CertificateHashData, ocpp16.CertificateHashData{HashAlgorithm: ocpp16.HashAlgorithmSHA256,
			IssuerNameHash: h.IssuerNameHash, IssuerKeyHash: h.IssuerKeyHash, SerialNumber: h.SerialNumber})
	}
	return resp, nil
}

// deleteCertificate deletes a root: NotFound when none matches (the charge
// point's own certificate is never listed, so never deleted), Failed for
// the last central system root or a store that cannot be written.
func (cp *ChargePoint) deleteCertificate(r *ocpp16.DeleteCertificateRequest) *ocpp16.DeleteCertificateResponse {
	h := r.CertificateHashData
	if h.HashAlgorithm != ocpp16.HashAlgorithmSHA256 {
		return &ocpp16.DeleteCertificateResponse{Status: ocpp16.DeleteCertificateStatusNotFound} // hashes are kept in SHA256 only
	}
	found, err := certs.New(cp.opts.Store).DeleteRoot(certs.HashData{IssuerNameHash: h.IssuerNameHash, IssuerKeyHash: h.IssuerKeyHash, SerialNumber: h.SerialNumber})
	switch {
	case err != nil:
		cp.log.Warn("DeleteCertificate failed", "serial", h.SerialNumber, "err", err)
		return &ocpp16.DeleteCertificateResponse{Status: ocpp16.DeleteCertificateStatusFailed}
	case !found:
		return &ocpp16.DeleteCertificateResponse{Status: ocpp16.DeleteCertificateStatusNotFound}
	}
	cp.log.Info("DeleteCertificate", "serial", h.SerialNumber)
	return &ocpp16.DeleteCertificateResponse{Status: ocpp16.DeleteCertificateStatusAccepted}
}

// extendedTrigger answers ExtendedTriggerMessage: SignChargePointCertificate
// here (a new key and its CSR, sent with SignCertificate after the
// answer), the others as TriggerMessage's, through the core.
func (cp *ChargePoint) extendedTrigger(ctx context.Context, r *ocpp16.ExtendedTriggerMessageRequest) (any, error) {
	answer := func(s ocpp16.TriggerMessageStatus) any { return &ocpp16.ExtendedTriggerMessageResponse{Status: s} }
	if r.RequestedMessage == ocpp16.ExtendedMessageTriggerSignChargePointCertificate {
		if cp.opts.ID == "" {
			return answer(ocpp16.TriggerMessageStatusRejected), nil // no identity to sign for
		}
		if !cp.renewing.CompareAndSwap(false, true) {
			return answer(ocpp16.TriggerMessageStatusRejected), nil // one renewal at a time
		}
		rpc.AfterAnswer(ctx, func() {
			cp.Go(cp.callTimeout(), func(ctx context.Context) {
				defer cp.renewing.Store(false)
				cp.signCertificate(ctx)
			})
		})
		return answer(ocpp16.TriggerMessageStatusAccepted), nil
	}
	t := chargepoint.Trigger{Connector: -1}
	switch r.RequestedMessage {
	case ocpp16.ExtendedMessageTriggerLogStatusNotification:
		t.Message = chargepoint.TriggerLog
	case ocpp16.ExtendedMessageTriggerFirmwareStatusNotification:
		t.Message = chargepoint.TriggerSignedFirmware
	default:
		// BootNotification, Heartbeat, MeterValues and
		// StatusNotification: as TriggerMessage's.
		t.Message = chargepoint.TriggerMessage(r.RequestedMessage)
	}
	if r.ConnectorId != nil {
		if *r.ConnectorId < 0 {
			return answer(ocpp16.TriggerMessageStatusRejected), nil
		}
		t.Connector = *r.ConnectorId
	}
	res, err := cp.Exec(ctx, t)
	if err != nil {
		return nil, err
	}
	return answer(ocpp16.TriggerMessageStatus(res.(chargepoint.TriggerResult))), nil
}

// signCertificate makes a new key and sends its CSR with SignCertificate;
// the central system's CA answers with CertificateSigned.
func (cp *ChargePoint) signCertificate(ctx context.Context) {
	csr, err := certs.New(cp.opts.Store).RenewalCSR(cp.opts.ID, cp.opts.Settings.Snapshot().CpoName)
	if err != nil {
		cp.log.Error("SignCertificate: no CSR", "err", err)
		return
	}
	caller := cp.Caller()
	if caller == nil {
		return
	}
	payload, err := json.Marshal(&ocpp16.SignCertificateRequest{Csr: string(csr)})
	if err != nil {
		cp.log.Error("SignCertificate: encode", "err", err)
		return
	}
	raw, err := caller.Call(ctx, "SignCertificate", payload)
	if err == nil {
		var resp any
		if resp, _, err = ocpp16.DecodeFromPeer("SignCertificate", ocpp16.Response, raw); err == nil {
			if r := resp.(*ocpp16.SignCertificateResponse); r.Status != ocpp16.GenericStatusAccepted {
				err = fmt.Errorf("the central system answered %s", r.Status)
			}
		}
	}
	if err != nil {
		cp.log.Warn("SignCertificate failed; the current certificate stays in use", "err", err)
		return
	}
	cp.log.Info("SignCertificate accepted; waiting for CertificateSigned")
}

// callTimeout bounds a CALL of the charge point's own.
func (cp *ChargePoint) callTimeout() time.Duration {
	if cp.opts.CallTimeout > 0 {
		return cp.opts.CallTimeout
	}
	return time.Minute
}

// certificateSigned installs the charge point's certificate the central
// system's CA signed: Rejected, and an InvalidChargePointCertificate
// security event, when it does not fit (chain, size, validity, name, key);
// once it is installed, OnCertificate (a reconnection with it) follows the
// answer.
func (cp *ChargePoint) certificateSigned(ctx context.Context, r *ocpp16.CertificateSignedRequest) *ocpp16.CertificateSignedResponse {
	if cp.opts.ID == "" {
		cp.log.Warn("CertificateSigned rejected: this charge point has no identity to check the certificate's name against")
		return &ocpp16.CertificateSignedResponse{Status: ocpp16.CertificateSignedStatusRejected}
	}
	s := cp.opts.Settings.Snapshot()
	now := cp.opts.Clock.Now() // the station gives a clock by default
	err := certs.New(cp.opts.Store).InstallCertificate([]byte(r.CertificateChain), cp.opts.ID, now, s.CertificateSignedMaxChainSize)
	if err != nil {
		cp.log.Warn("CertificateSigned rejected", "err", err)
		cp.SecurityIncident(chargepoint.SecurityIncident{Type: chargepoint.SecInvalidChargePointCertificate, TechInfo: err.Error()})
		return &ocpp16.CertificateSignedResponse{Status: ocpp16.CertificateSignedStatusRejected}
	}
	cp.log.Info("CertificateSigned: the charge point's new certificate is installed")
	if cp.opts.OnCertificate != nil {
		rpc.AfterAnswer(ctx, cp.opts.OnCertificate)
	}
	return &ocpp16.CertificateSignedResponse{Status: ocpp16.CertificateSignedStatusAccepted}
}

// signedUpdateFirmware answers SignedUpdateFirmware: InvalidCertificate,
// and an InvalidFirmwareSigningCertificate security event, when the
// signing certificate does not come from an installed
// ManufacturerRootCertificate or is not valid now; otherwise the core
// downloads the image, verifies its signature and installs it.
func (cp *ChargePoint) signedUpdateFirmware(ctx context.Context, r *ocpp16.SignedUpdateFirmwareRequest) (any, error) {
	now := cp.opts.Clock.Now() // the station gives a clock by default
	roots, err := certs.New(cp.opts.Store).ManufacturerRoots()
	if err != nil {
		return nil, err
	}
	f := r.Firmware
	if _, err := firmsign.CheckSigner(f.SigningCertificate, roots, now); err != nil {
		cp.log.Warn("SignedUpdateFirmware refused: the signing certificate", "request", r.RequestId, "err", err)
		cp.SecurityIncident(chargepoint.SecurityIncident{Type: chargepoint.SecInvalidFirmwareSigningCertificate, TechInfo: err.Error()})
		return &ocpp16.SignedUpdateFirmwareResponse{Status: ocpp16.UpdateFirmwareStatusInvalidCertificate}, nil
	}
	u := chargepoint.UpdateFirmware{Location: f.Location, At: f.RetrieveDateTime.Time, RequestID: r.RequestId,
		Signature: &chargepoint.FirmwareSignature{Certificate: f.SigningCertificate, Signature: f.Signature}}
	if f.InstallDateTime != nil {
		u.InstallAt = f.InstallDateTime.Time
	}
	if r.Retries != nil {
		u.Retries = max(*r.Retries, 0)
	}
	if r.RetryInterval != nil {
		u.Interval = time.Duration(max(*r.RetryInterval, 0)) * time.Second
	}
	res, err := cp.Exec(ctx, u)
	if err != nil {
		return nil, err
	}
	return &ocpp16.SignedUpdateFirmwareResponse{Status: ocpp16.UpdateFirmwareStatus(res.(chargepoint.UpdateResult))}, nil
}
