package v16

import (
	"errors"

	"github.com/evse-dev/evse/internal/certs"
	"github.com/evse-dev/evse/internal/ocpp16"
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
