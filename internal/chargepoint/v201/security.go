package v201

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/chargepoint/station"
	"github.com/evse-dev/evse/internal/firmsign"
	"github.com/evse-dev/evse/internal/ocpp201"
)

// Blocks L (firmware) and M (certificates), and A02's renewal, on the
// station's shared decisions (station/security.go) and the certificates
// of its store.

// updateFirmware answers UpdateFirmware (L01 with a signing certificate
// and a signature, L02 without): InvalidCertificate, and a security
// event, for a signing certificate that no installed manufacturer root
// issued or that is not valid now; Rejected for an update without a
// signature while manufacturer roots are installed, or with one of the
// two only. Otherwise the core downloads the image (verifying its
// signature), installs it at installDateTime and reboots; an update under
// way is canceled (AcceptedCanceled).
func (cp *ChargePoint) updateFirmware(ctx context.Context, r *ocpp201.UpdateFirmwareRequest) (any, error) {
	rejected := func(reason, info string) *ocpp201.UpdateFirmwareResponse {
		cp.log.Warn("UpdateFirmware rejected", "request", r.RequestId, "reason", reason, "info", info)
		return &ocpp201.UpdateFirmwareResponse{Status: ocpp201.UpdateFirmwareStatusRejected,
			StatusInfo: &ocpp201.StatusInfo{ReasonCode: reason, AdditionalInfo: info}}
	}
	f := r.Firmware
	u := chargepoint.UpdateFirmware{Location: f.Location, At: f.RetrieveDateTime.Time, RequestID: r.RequestId, Tracked: true}
	switch {
	case (f.SigningCertificate == "") != (f.Signature == ""):
		return rejected("InvalidValue", "a signed update needs both signingCertificate and signature"), nil
	case f.SigningCertificate != "":
		if err := cp.CheckFirmwareSigner(f.SigningCertificate); errors.Is(err, firmsign.ErrInvalidCertificate) {
			return &ocpp201.UpdateFirmwareResponse{Status: ocpp201.UpdateFirmwareStatusInvalidCertificate}, nil
		} else if err != nil {
			return nil, err
		}
		u.Signature = &chargepoint.FirmwareSignature{Certificate: f.SigningCertificate, Signature: f.Signature}
	default:
		only, err := cp.SignedFirmwareOnly()
		if err != nil {
			return nil, err
		}
		if only {
			return rejected("SignatureRequired", "manufacturer root certificates are installed: signed firmware only"), nil
		}
	}
	if f.InstallDateTime != nil {
		u.InstallAt = f.InstallDateTime.Time
	}
	u.Retries, u.Interval = station.Retries(r.Retries, r.RetryInterval)
	res, err := cp.Exec(ctx, u)
	if err != nil {
		return nil, err
	}
	status := ocpp201.UpdateFirmwareStatusAccepted
	switch res.(chargepoint.UpdateResult) {
	case chargepoint.UpdateAcceptedCanceled:
		status = ocpp201.UpdateFirmwareStatusAcceptedCanceled
	case chargepoint.UpdateRejected:
		status = ocpp201.UpdateFirmwareStatusRejected
	}
	return &ocpp201.UpdateFirmwareResponse{Status: status}, nil
}

// rootUse is the store's use of a 2.0.1 certificate type; "" for the
// ISO 15118 ones (V2G, MO), which this station, without ISO 15118, does
// not keep.
func rootUse[T ~string](t T) string {
	switch string(t) {
	case string(ocpp201.InstallCertificateUseCSMSRootCertificate):
		return certs.CentralSystemRoot
	case string(ocpp201.InstallCertificateUseManufacturerRootCertificate):
		return certs.ManufacturerRoot
	}
	return ""
}

// installCertificate answers InstallCertificate (M05): a CSMS or
// manufacturer root kept in the store (station.InstallRoot); a V2G or MO
// root Rejected with reasonCode NotSupported, as nothing here would use it.
func (cp *ChargePoint) installCertificate(r *ocpp201.InstallCertificateRequest) *ocpp201.InstallCertificateResponse {
	use := rootUse(r.CertificateType)
	if use == "" {
		cp.log.Warn("InstallCertificate rejected: no ISO 15118 here", "type", r.CertificateType)
		return &ocpp201.InstallCertificateResponse{Status: ocpp201.InstallCertificateStatusRejected,
			StatusInfo: &ocpp201.StatusInfo{ReasonCode: "NotSupported", AdditionalInfo: "no ISO 15118 on this charging station"}}
	}
	return &ocpp201.InstallCertificateResponse{Status: ocpp201.InstallCertificateStatus(cp.InstallRoot(use, r.Certificate))}
}

// installedCertificates answers GetInstalledCertificateIds (M03): the
// roots of the types asked for (all when none is), each a chain of its
// own without children; NotFound when there are none.
func (cp *ChargePoint) installedCertificates(r *ocpp201.GetInstalledCertificateIdsRequest) (*ocpp201.GetInstalledCertificateIdsResponse, error) {
	types := r.CertificateType
	if len(types) == 0 {
		types = []ocpp201.GetCertificateIdUse{ocpp201.GetCertificateIdUseCSMSRootCertificate, ocpp201.GetCertificateIdUseManufacturerRootCertificate}
	}
	keys := certs.New(cp.opts.Store)
	resp := &ocpp201.GetInstalledCertificateIdsResponse{Status: ocpp201.GetInstalledCertificateStatusNotFound}
	seen := map[ocpp201.GetCertificateIdUse]bool{}
	for _, t := range types {
		use := rootUse(t)
		if use == "" || seen[t] {
			continue
		}
		seen[t] = true
		roots, err := keys.InstalledRoots(use) // at most certs.MaxRoots
		if err != nil {
			return nil, fmt.Errorf("v201: GetInstalledCertificateIds %s: %w", t, err)
		}
		for _, h := range roots {
			resp.CertificateHashDataChain = append(resp.CertificateHashDataChain, ocpp201.CertificateHashDataChain{CertificateType: t,
				CertificateHashData: ocpp201.CertificateHashData{HashAlgorithm: ocpp201.HashAlgorithmSHA256,
					IssuerNameHash: h.IssuerNameHash, IssuerKeyHash: h.IssuerKeyHash, SerialNumber: h.SerialNumber}})
		}
	}
	if len(resp.CertificateHashDataChain) > 0 {
		resp.Status = ocpp201.GetInstalledCertificateStatusAccepted
	}
	return resp, nil
}

// deleteCertificate answers DeleteCertificate (M04) with
// station.DeleteRoot: Failed for the last CSMS root; hashes are kept in
// SHA256 only, so another algorithm finds nothing.
func (cp *ChargePoint) deleteCertificate(r *ocpp201.DeleteCertificateRequest) *ocpp201.DeleteCertificateResponse {
	h := r.CertificateHashData
	status := cp.DeleteRoot(string(h.HashAlgorithm), certs.HashData{IssuerNameHash: h.IssuerNameHash, IssuerKeyHash: h.IssuerKeyHash, SerialNumber: h.SerialNumber})
	return &ocpp201.DeleteCertificateResponse{Status: ocpp201.DeleteCertificateStatus(status)}
}

// signCertificate sends a renewal's CSR with SignCertificate for the
// ChargingStationCertificate (A02); the CSMS's CA answers with
// CertificateSigned.
func (cp *ChargePoint) signCertificate(ctx context.Context, csr []byte) error {
	req := &ocpp201.SignCertificateRequest{Csr: string(csr), CertificateType: ocpp201.CertificateSigningUseChargingStationCertificate}
	return cp.Ask(ctx, "v201", "SignCertificate", req, func(raw json.RawMessage) (string, error) {
		resp, _, err := ocpp201.DecodeFromPeer("SignCertificate", ocpp201.Response, raw)
		if err != nil {
			return "", err
		}
		return string(resp.(*ocpp201.SignCertificateResponse).Status), nil
	})
}

// certificateSigned answers CertificateSigned (A02): the station's
// certificate installed (station.CertificateSigned), Rejected when it does
// not fit; a V2GCertificate is Rejected, as there is no ISO 15118 here.
func (cp *ChargePoint) certificateSigned(ctx context.Context, r *ocpp201.CertificateSignedRequest) *ocpp201.CertificateSignedResponse {
	rejected := func(reason string) *ocpp201.CertificateSignedResponse {
		return &ocpp201.CertificateSignedResponse{Status: ocpp201.CertificateSignedStatusRejected,
			StatusInfo: &ocpp201.StatusInfo{ReasonCode: reason}}
	}
	if r.CertificateType == ocpp201.CertificateSigningUseV2GCertificate {
		cp.log.Warn("CertificateSigned of a V2GCertificate rejected: no ISO 15118 here")
		return rejected("NotSupported")
	}
	if err := cp.CertificateSigned(ctx, r.CertificateChain); err != nil {
		return rejected("InvalidCertificate")
	}
	return &ocpp201.CertificateSignedResponse{Status: ocpp201.CertificateSignedStatusAccepted}
}

// firmwareStatus renders FirmwareStatusNotification: with the update's
// requestId, but for Idle (the answer to a TriggerMessage while no update
// is under way).
func firmwareStatus(m chargepoint.FirmwareStatusNotification) *ocpp201.FirmwareStatusNotificationRequest {
	req := &ocpp201.FirmwareStatusNotificationRequest{Status: ocpp201.FirmwareStatus(m.Status)}
	if m.Status != chargepoint.FirmwareIdle {
		id := m.RequestID
		req.RequestId = &id
	}
	return req
}

// securityEventType is a security event's type as 2.0.1's appendix names
// it: the central system is the CSMS, the charge point the charging
// station.
func securityEventType(t chargepoint.SecurityEventType) string {
	switch t {
	case chargepoint.SecFailedToAuthenticateAtCentralSystem:
		return "FailedToAuthenticateAtCsms"
	case chargepoint.SecInvalidCentralSystemCertificate:
		return "InvalidCsmsCertificate"
	case chargepoint.SecInvalidChargePointCertificate:
		return "InvalidChargingStationCertificate"
	}
	return string(t)
}
