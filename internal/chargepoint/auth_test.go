package chargepoint

import (
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/ocpp16"
)

func TestDecideAuth(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	accepted := &authEntry{Status: ocpp16.AuthorizationStatusAccepted}
	expired := &authEntry{Status: ocpp16.AuthorizationStatusAccepted, Expiry: &past}
	valid := &authEntry{Status: ocpp16.AuthorizationStatusAccepted, Expiry: &future}
	blocked := &authEntry{Status: ocpp16.AuthorizationStatusBlocked}
	defaults := authKeys{LocalPreAuthorize: true, LocalAuthorizeOffline: true, CacheEnabled: true, OfflineUnknown: "false"}
	with := func(f func(*authKeys)) authKeys { k := defaults; f(&k); return k }
	listOn := with(func(k *authKeys) { k.ListEnabled = true })

	cases := []struct {
		name        string
		online      bool
		keys        authKeys
		list, cache *authEntry
		want        verdict
		wantStatus  ocpp16.AuthorizationStatus
	}{
		{"online, cached: starts at once", true, defaults, nil, accepted, verdictAccept, "Accepted"},
		{"online, cached, no pre-authorize: asks", true, with(func(k *authKeys) { k.LocalPreAuthorize = false }), nil, accepted, verdictAsk, ""},
		{"online, cache off: asks", true, with(func(k *authKeys) { k.CacheEnabled = false }), nil, accepted, verdictAsk, ""},
		{"online, cached but expired: asks", true, defaults, nil, expired, verdictAsk, ""},
		{"online, cached blocked: asks", true, defaults, nil, blocked, verdictAsk, ""},
		{"online, unknown: asks", true, defaults, nil, nil, verdictAsk, ""},
		{"online, in the list: starts", true, listOn, valid, nil, verdictAccept, "Accepted"},
		{"online, list disabled: the list is not read", true, defaults, valid, nil, verdictAsk, ""},
		{"list first: blocked in the list beats accepted in the cache", false, listOn, blocked, accepted, verdictReject, "Blocked"},
		{"offline, cached: starts", false, defaults, nil, accepted, verdictAccept, "Accepted"},
		{"offline, cached, no offline authorization: refused", false, with(func(k *authKeys) { k.LocalAuthorizeOffline = false }), nil, accepted, verdictReject, "Accepted"},
		{"offline, cached expired: refused as Expired", false, defaults, nil, expired, verdictReject, "Expired"},
		{"offline, cached blocked: refused even with unknown allowed", false, with(func(k *authKeys) { k.OfflineUnknown = "true" }), nil, blocked, verdictReject, "Blocked"},
		{"offline, unknown: refused", false, defaults, nil, nil, verdictReject, "Invalid"},
		{"offline, unknown, allowed: starts", false, with(func(k *authKeys) { k.OfflineUnknown = "true" }), nil, nil, verdictAccept, "Accepted"},
		{"offline, unknown, immediately when plugged: starts", false, with(func(k *authKeys) { k.OfflineUnknown = "ImmediatelyWhenPlugged" }), nil, nil, verdictAccept, "Accepted"},
		{"offline, cache off: a cached tag is unknown", false, with(func(k *authKeys) { k.CacheEnabled = false }), nil, accepted, verdictReject, "Invalid"},
	}
	for _, c := range cases {
		d := decideAuth(c.online, c.keys, c.list, c.cache, now)
		if d.verdict != c.want || (c.wantStatus != "" && d.entry.Status != c.wantStatus) {
			t.Errorf("%s: verdict %d status %q (%s), want %d %q", c.name, d.verdict, d.entry.Status, d.reason, c.want, c.wantStatus)
		}
	}
}
