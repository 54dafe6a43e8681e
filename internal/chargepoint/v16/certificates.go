package v16

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/chargepoint/station"
	"github.com/evse-dev/evse/internal/firmsign"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// The security extension's certificate management, on the certificates
// kept in the charge point's store (internal/certs).

// installCertificate installs a central system or manufacturer root
// (station.InstallRoot).
func (cp *ChargePoint) installCertificate(r *ocpp16.InstallCertificateRequest) *ocpp16.InstallCertificateResponse {
	return &ocpp16.InstallCertificateResponse{Status: ocpp16.InstallCertificateStatus(cp.InstallRoot(string(r.CertificateType), r.Certificate))}
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

// deleteCertificate deletes a root (station.DeleteRoot); hashes are kept
// in SHA256 only.
func (cp *ChargePoint) deleteCertificate(r *ocpp16.DeleteCertificateRequest) *ocpp16.DeleteCertificateResponse {
	h := r.CertificateHashData
	status := cp.DeleteRoot(string(h.HashAlgorithm), certs.HashData{IssuerNameHash: h.IssuerNameHash, IssuerKeyHash: h.IssuerKeyHash, SerialNumber: h.SerialNumber})
	return &ocpp16.DeleteCertificateResponse{Status: ocpp16.DeleteCertificateStatus(status)}
}

// extendedTrigger answers ExtendedTriggerMessage: SignChargePointCertificate
// here (a new key and its CSR, sent with SignCertificate after the
// answer), the others as TriggerMessage's, through the core.
func (cp *ChargePoint) extendedTrigger(ctx context.Context, r *ocpp16.ExtendedTriggerMessageRequest) (any, error) {
	answer := func(s ocpp16.TriggerMessageStatus) any { return &ocpp16.ExtendedTriggerMessageResponse{Status: s} }
	if r.RequestedMessage == ocpp16.ExtendedMessageTriggerSignChargePointCertificate {
		if !cp.Renew(ctx, cp.signCertificate) {
			return answer(ocpp16.TriggerMessageStatusRejected), nil // no identity, or a renewal under way
		}
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

// signCertificate sends a renewal's CSR with SignCertificate; the
// central system's CA answers with CertificateSigned.
func (cp *ChargePoint) signCertificate(ctx context.Context, csr []byte) error {
	return cp.Ask(ctx, "v16", "SignCertificate", &ocpp16.SignCertificateRequest{Csr: string(csr)}, func(raw json.RawMessage) (string, error) {
		resp, _, err := ocpp16.DecodeFromPeer("SignCertificate", ocpp16.Response, raw)
		if err != nil {
			return "", err
		}
		return string(resp.(*ocpp16.SignCertificateResponse).Status), nil
	})
}

// certificateSigned installs the charge point's certificate the central
// system's CA signed (station.CertificateSigned): Rejected when it does
// not fit.
func (cp *ChargePoint) certificateSigned(ctx context.Context, r *ocpp16.CertificateSignedRequest) *ocpp16.CertificateSignedResponse {
	if err := cp.CertificateSigned(ctx, r.CertificateChain); err != nil {
		return &ocpp16.CertificateSignedResponse{Status: ocpp16.CertificateSignedStatusRejected}
	}
	return &ocpp16.CertificateSignedResponse{Status: ocpp16.CertificateSignedStatusAccepted}
}

// signedUpdateFirmware answers SignedUpdateFirmware: InvalidCertificate,
// and an InvalidFirmwareSigningCertificate security event, when the
// signing certificate does not come from an installed
// ManufacturerRootCertificate or is not valid now; otherwise the core
// downloads the image, verifies its signature and installs it.
func (cp *ChargePoint) signedUpdateFirmware(ctx context.Context, r *ocpp16.SignedUpdateFirmwareRequest) (any, error) {
	f := r.Firmware
	if err := cp.CheckFirmwareSigner(f.SigningCertificate); errors.Is(err, firmsign.ErrInvalidCertificate) {
		return &ocpp16.SignedUpdateFirmwareResponse{Status: ocpp16.UpdateFirmwareStatusInvalidCertificate}, nil
	} else if err != nil {
		return nil, err
	}
	u := chargepoint.UpdateFirmware{Location: f.Location, At: f.RetrieveDateTime.Time, RequestID: r.RequestId,
		Signature: &chargepoint.FirmwareSignature{Certificate: f.SigningCertificate, Signature: f.Signature}}
	if f.InstallDateTime != nil {
		u.InstallAt = f.InstallDateTime.Time
	}
	u.Retries, u.Interval = station.Retries(r.Retries, r.RetryInterval)
	res, err := cp.Exec(ctx, u)
	if err != nil {
		return nil, err
	}
	return &ocpp16.SignedUpdateFirmwareResponse{Status: ocpp16.UpdateFirmwareStatus(res.(chargepoint.UpdateResult))}, nil
}
