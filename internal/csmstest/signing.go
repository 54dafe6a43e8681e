package csmstest

import (
	"context"
	"encoding/json"
	"time"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// SignCSRs makes the central system a certificate authority for its
// charge points (the security whitepaper's A02/A03, OCPP 2.0.1's A02 and
// A03): it answers SignCertificate Accepted, has ca sign the CSR for
// validity, and sends the certificate with CertificateSigned, in the
// version of the connection (in 2.0.1 with the certificateType of the
// request, when it had one). A CSR that cannot be signed is answered
// Rejected. The answers to CertificateSigned are recorded like every
// frame.
func (s *Server) SignCSRs(ca *CA, validity time.Duration) {
	for _, sp := range []string{OCPP16, OCPP201} {
		s.RespondVersion(sp, "SignCertificate", func(cp string, payload json.RawMessage) (json.RawMessage, *rpc.Error) {
			var req struct {
				CSR             string `json:"csr"`
				CertificateType string `json:"certificateType,omitempty"`
			}
			if err := json.Unmarshal(payload, &req); err != nil {
				return nil, rpc.Errorf(rpc.FormationViolation, "%v", err)
			}
			chain, err := ca.SignCSR([]byte(req.CSR), validity)
			if err != nil {
				s.log.Warn("SignCertificate: the CSR cannot be signed", "cp", cp, "err", err)
				return json.RawMessage(`{"status":"Rejected"}`), nil
			}
			signed := map[string]string{"certificateChain": string(chain)}
			if sp == OCPP201 && req.CertificateType != "" {
				signed["certificateType"] = req.CertificateType
			}
			body, _ := json.Marshal(signed)
			// After the answer, as a CA's answer comes after the request's.
			s.afterAnswer(cp, func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if _, err := s.Call(ctx, cp, "CertificateSigned", body); err != nil {
					s.log.Warn("CertificateSigned not delivered", "cp", cp, "err", err)
				}
			})
			return json.RawMessage(`{"status":"Accepted"}`), nil
		})
	}
}
