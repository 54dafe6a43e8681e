package chargepoint

import (
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/config"
)

func TestDecideAuth(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	accepted := &AuthInfo{Status: AuthAccepted}
	expired := &AuthInfo{Status: AuthAccepted, Expiry: past}
	valid := &AuthInfo{Status: AuthAccepted, Expiry: future}
	blocked := &AuthInfo{Status: AuthBlocked}
	defaults := authKeys{LocalPreAuthorize: true, LocalAuthorizeOffline: true, CacheEnabled: true, OfflineUnknown: config.OfflineTxOff}
	with := func(f func(*authKeys)) authKeys { k := defaults; f(&k); return k }
	listOn := with(func(k *authKeys) { k.ListEnabled = true })

	cases := []struct {
		name        string
		online      bool
		keys        authKeys
		list, cache *AuthInfo
		want        verdict
		wantStatus  AuthStatus
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
		{"offline, cached blocked: refused even with unknown allowed", false, with(func(k *authKeys) { k.OfflineUnknown = config.OfflineTxOn }), nil, blocked, verdictReject, "Blocked"},
		{"offline, unknown: refused", false, defaults, nil, nil, verdictReject, "Invalid"},
		{"offline, unknown, allowed: starts", false, with(func(k *authKeys) { k.OfflineUnknown = config.OfflineTxOn }), nil, nil, verdictAccept, "Accepted"},
		{"offline, unknown, immediately when plugged: starts", false, with(func(k *authKeys) { k.OfflineUnknown = config.OfflineTxImmediatelyWhenPlugged }), nil, nil, verdictAccept, "Accepted"},
		{"offline, cache off: a cached tag is unknown", false, with(func(k *authKeys) { k.CacheEnabled = false }), nil, accepted, verdictReject, "Invalid"},
	}
	for _, c := range cases {
		d := decideAuth(c.online, c.keys, Known{List: c.list, Cache: c.cache}, now)
		if d.verdict != c.want || (c.wantStatus != "" && d.info.Status != c.wantStatus) {
			t.Errorf("%s: verdict %v status %q (%s), want %v %q", c.name, d.verdict, d.info.Status, d.reason, c.want, c.wantStatus)
		}
	}
}

// A local list entry's token type decides which presentations it
// authorizes (OCPP 2.0.1's idToken types; 1.6's entries have none).
func TestTokenMatches(t *testing.T) {
	for _, c := range []struct {
		listed, presented string
		want              bool
	}{
		{"", "", true},
		{"", "Central", true},
		{"ISO14443", "", true},
		{"ISO15693", "", true},
		{"ISO14443", "ISO15693", true},
		{"ISO14443", "Central", false},
		{"Central", "", false},
		{"Central", "Central", true},
		{"eMAID", "Central", false},
		{"KeyCode", "KeyCode", true},
	} {
		if got := TokenMatches(c.listed, c.presented); got != c.want {
			t.Errorf("listed %q, presented %q: %v, want %v", c.listed, c.presented, got, c.want)
		}
	}
}
