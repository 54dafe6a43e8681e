package v201

import (
	"github.com/evse-dev/evse/internal/chargepoint/runner"
	"github.com/evse-dev/evse/internal/ocpp201"
)

// getLocalListVersion answers GetLocalListVersion (D02): the version of
// the list in use, 0 for an empty one or while LocalAuthListCtrlr is not
// enabled (the appendix's LocalAuthListEnabled, an installer's setting).
func (cp *ChargePoint) getLocalListVersion() (*ocpp201.GetLocalListVersionResponse, error) {
	if !cp.opts.Settings.Snapshot().LocalAuthListEnabled {
		return &ocpp201.GetLocalListVersionResponse{}, nil
	}
	v, _, err := cp.Unit().Auth().ListInfo()
	if err != nil {
		return nil, err
	}
	return &ocpp201.GetLocalListVersionResponse{VersionNumber: v}, nil
}

// sendLocalList answers SendLocalList (D01) over the list 1.6 keeps: one
// entry per idToken value, as 1.6's idTags, kept with its type: an entry
// of an RFID type authorizes a card at the reader, one of another type
// (Central, eMAID…) only a token of that type (chargepoint.TokenMatches);
// additionalInfo is not kept. Failed while the list is not
// enabled, for more entries than ItemsPerMessage (SendLocalListMaxLength),
// for a list that would outgrow LocalAuthListCtrlr's Storage
// (LocalAuthListMaxLength), a token listed twice or a Full entry without
// idTokenInfo; VersionMismatch for a Differential update not above the
// version; else applied in one durable write, all or nothing.
func (cp *ChargePoint) sendLocalList(r *ocpp201.SendLocalListRequest) *ocpp201.SendLocalListResponse {
	s := cp.opts.Settings.Snapshot()
	failed := func(reason, info string) *ocpp201.SendLocalListResponse {
		return &ocpp201.SendLocalListResponse{Status: ocpp201.SendLocalListStatusFailed,
			StatusInfo: &ocpp201.StatusInfo{ReasonCode: reason, AdditionalInfo: info}}
	}
	if !s.LocalAuthListEnabled {
		return failed("NotEnabled", "LocalAuthListCtrlr.Enabled is false")
	}
	if len(r.LocalAuthorizationList) > s.SendLocalListMaxLength {
		return failed("TooManyElements", "more entries than LocalAuthListCtrlr.ItemsPerMessage")
	}
	u := runner.ListUpdate{Full: r.UpdateType == ocpp201.UpdateFull, Version: r.VersionNumber,
		MaxLength: s.LocalAuthListMaxLength, Entries: make([]runner.ListEntry, len(r.LocalAuthorizationList))}
	for i, e := range r.LocalAuthorizationList {
		u.Entries[i].IDTag = e.IdToken.IdToken
		if e.IdTokenInfo != nil {
			info := authInfo(*e.IdTokenInfo)
			info.TokenType = string(e.IdToken.Type)
			u.Entries[i].Info = &info
		}
	}
	status, err := cp.Unit().Auth().UpdateList(u)
	if err != nil {
		cp.log.Error("SendLocalList not applied", "err", err)
	}
	cp.log.Info("local list updated", "type", r.UpdateType, "version", r.VersionNumber, "entries", len(r.LocalAuthorizationList), "status", status)
	switch status {
	case runner.UpdateAccepted:
		return &ocpp201.SendLocalListResponse{Status: ocpp201.SendLocalListStatusAccepted}
	case runner.UpdateVersionMismatch:
		return &ocpp201.SendLocalListResponse{Status: ocpp201.SendLocalListStatusVersionMismatch}
	}
	return failed("InvalidValue", "a token listed twice, a Full entry without idTokenInfo, a negative version, a list over Storage, or the store failed")
}
