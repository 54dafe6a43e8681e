package v201

import (
	"context"
	"fmt"
	"strings"

	"github.com/evse-dev/evse/internal/ocpp201"
)

// customerDataChars is the most characters of one
// NotifyCustomerInformation's data.
const customerDataChars = 512

// customerInformation answers CustomerInformation (N09, N10): what the
// station holds of a customer, told with NotifyCustomerInformation in
// parts after the answer (report), and cleared (clear). The customer is
// named by exactly one of idToken, customerCertificate and
// customerIdentifier, and something must be asked (report or clear):
// else Invalid.
//
// Of an idToken the station holds its authorization cache entry (clear
// removes it), its local list entry (the CSMS's list, managed with
// SendLocalList: told, never cleared here) and the transactions under
// way with it (told; neither they nor their messages in the journal,
// still owed to the CSMS, are touched). It holds no customer
// certificates (no ISO 15118 contract certificates) and no customer
// identifiers: of those it tells that it holds nothing.
func (cp *ChargePoint) customerInformation(ctx context.Context, r *ocpp201.CustomerInformationRequest) (*ocpp201.CustomerInformationResponse, error) {
	named := 0
	for _, given := range []bool{r.IdToken != nil, r.CustomerCertificate != nil, r.CustomerIdentifier != ""} {
		if given {
			named++
		}
	}
	if named != 1 || !r.Report && !r.Clear {
		return &ocpp201.CustomerInformationResponse{Status: ocpp201.CustomerInformationStatusInvalid,
			StatusInfo: &ocpp201.StatusInfo{ReasonCode: "InvalidValue",
				AdditionalInfo: "name the customer by one of idToken, customerCertificate, customerIdentifier, and ask a report or a clear"}}, nil
	}
	var lines []string
	switch {
	case r.IdToken != nil:
		var err error
		if lines, err = cp.tokenData(ctx, r.IdToken.IdToken, string(r.IdToken.Type), r.Clear); err != nil {
			return nil, err
		}
	case r.CustomerCertificate != nil:
		lines = []string{"No customer certificate is held by this charging station (serial number " + r.CustomerCertificate.SerialNumber + ")."}
	default:
		lines = []string{"No customer identifier is held by this charging station."}
	}
	if r.Report {
		chunks := customerChunks(lines)
		generated := cp.opts.Clock.Now()
		ok := cp.sendReportParts(ctx, "NotifyCustomerInformation", r.RequestId, len(chunks), 1, func(seq, lo, hi int, tbc *bool) any {
			return ocpp201.NotifyCustomerInformationRequest{Data: chunks[lo], Tbc: tbc, SeqNo: seq,
				GeneratedAt: ocpp201.DateTime{Time: generated}, RequestId: r.RequestId}
		})
		if !ok {
			return &ocpp201.CustomerInformationResponse{Status: ocpp201.CustomerInformationStatusRejected,
				StatusInfo: &ocpp201.StatusInfo{ReasonCode: "Busy", AdditionalInfo: "a report is being sent"}}, nil
		}
	}
	return &ocpp201.CustomerInformationResponse{Status: ocpp201.CustomerInformationStatusAccepted}, nil
}

// tokenData is what the station holds of an idToken of a type, a line
// each; clear removes its authorization cache entry.
func (cp *ChargePoint) tokenData(ctx context.Context, token, tokenType string, clear bool) ([]string, error) {
	auth := cp.Unit().Auth()
	known, err := auth.LookupToken(token, tokenType)
	if err != nil {
		return nil, fmt.Errorf("v201: CustomerInformation: the authorization data: %w", err)
	}
	var lines []string
	if c := known.Cache; c != nil {
		line := fmt.Sprintf("Authorization cache: idToken %s, status %s", token, c.Status)
		if !c.Expiry.IsZero() {
			line += ", expires " + c.Expiry.UTC().Format("2006-01-02T15:04:05Z")
		}
		if clear {
			if _, err := auth.ForgetCached(token); err != nil {
				return nil, fmt.Errorf("v201: CustomerInformation: clear the cache entry: %w", err)
			}
			line += " (cleared)"
			cp.log.Info("CustomerInformation cleared a customer's authorization cache entry")
		}
		lines = append(lines, line+".")
	}
	if l := known.List; l != nil {
		typ := ""
		if l.TokenType != "" {
			typ = " of type " + l.TokenType
		}
		lines = append(lines, fmt.Sprintf("Local authorization list: idToken %s%s, status %s (the CSMS's list: not cleared here).", token, typ, l.Status))
	}
	st, err := cp.Status(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range st.Connectors {
		if t := c.Transaction; t != nil && strings.EqualFold(t.IDTag, token) && !t.Silent {
			lines = append(lines, fmt.Sprintf("Transaction %s under way on EVSE %d since %s, %.0f Wh so far (kept: owed to the CSMS).",
				TransactionID(t.LocalID), c.ID, t.Started.UTC().Format("2006-01-02T15:04:05Z"), t.EnergyWh))
		}
	}
	if len(lines) == 0 {
		lines = append(lines, "No data is held of idToken "+token+".")
	}
	return lines, nil
}

// customerChunks packs lines into a NotifyCustomerInformation's data
// each, at most customerDataChars, a line cut only when it is longer.
func customerChunks(lines []string) []string {
	var out []string
	cur := ""
	for _, l := range lines {
		for len(l) > customerDataChars {
			if cur != "" {
				out, cur = append(out, cur), ""
			}
			out = append(out, l[:customerDataChars])
			l = l[customerDataChars:]
		}
		switch {
		case cur == "":
			cur = l
		case len(cur)+1+len(l) <= customerDataChars:
			cur += "\n" + l
		default:
			out = append(out, cur)
			cur = l
		}
	}
	return append(out, cur)
}
