package chargepoint

import (
	"encoding/json"
	"time"

	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// Buckets of the authorization data.
const (
	bucketCache     = "authcache" // idTag → authEntry JSON
	bucketLocalList = "locallist" // idTag → authEntry JSON (LocalAuthListManagement writes it)
)

// authEntry is what the cache or the local list knows of an idTag.
type authEntry struct {
	Status      ocpp16.AuthorizationStatus `json:"status"`
	Expiry      *time.Time                 `json:"expiry,omitempty"`
	ParentIDTag string                     `json:"parentIdTag,omitempty"`
}

// valid reports whether the entry authorizes at t: Accepted and not
// expired.
func (e authEntry) valid(t time.Time) bool {
	return e.Status == ocpp16.AuthorizationStatusAccepted && (e.Expiry == nil || t.Before(*e.Expiry))
}

func entryFromInfo(info ocpp16.IdTagInfo) authEntry {
	e := authEntry{Status: info.Status, ParentIDTag: info.ParentIdTag}
	if info.ExpiryDate != nil {
		t := info.ExpiryDate.Time
		e.Expiry = &t
	}
	return e
}

// authKeys are the configuration keys that decide authorization.
type authKeys struct {
	LocalPreAuthorize     bool
	LocalAuthorizeOffline bool
	CacheEnabled          bool
	ListEnabled           bool
	// OfflineUnknown is AllowOfflineTxForUnknownId: "false", "true" or
	// "ImmediatelyWhenPlugged".
	OfflineUnknown string
}

// verdict is what the charge point does with a presented idTag.
type verdict int

const (
	// verdictAccept: start (or stop) now, on local knowledge.
	verdictAccept verdict = iota
	// verdictReject: do not start.
	verdictReject
	// verdictAsk: send Authorize and go by the answer.
	verdictAsk
)

// decision is the outcome of decideAuth: a verdict, the knowledge it rests
// on, and why.
type decision struct {
	verdict verdict
	entry   authEntry
	reason  string
}

// decideAuth decides, from local knowledge only, what to do with an idTag:
// the local list first, then the cache (OCPP 1.6, 3.5). Online, a valid
// local entry starts at once with LocalPreAuthorize, anything else asks the
// central system. Offline, a valid local entry starts with
// LocalAuthorizeOffline, a known invalid one is refused, and an unknown one
// starts only with AllowOfflineTxForUnknownId.
func decideAuth(online bool, keys authKeys, list, cache *authEntry, now time.Time) decision {
	var local *authEntry
	from := ""
	switch {
	case keys.ListEnabled && list != nil:
		local, from = list, "local list"
	case keys.CacheEnabled && cache != nil:
		local, from = cache, "cache"
	}
	if online {
		if local != nil && local.valid(now) && keys.LocalPreAuthorize {
			return decision{verdict: verdictAccept, entry: *local, reason: "valid in the " + from + " (LocalPreAuthorize)"}
		}
		return decision{verdict: verdictAsk, reason: "online"}
	}
	if local != nil {
		e := *local
		if !e.valid(now) {
			if e.Status == ocpp16.AuthorizationStatusAccepted {
				e.Status = ocpp16.AuthorizationStatusExpired
			}
			return decision{verdict: verdictReject, entry: e, reason: string(e.Status) + " in the " + from}
		}
		if keys.LocalAuthorizeOffline {
			return decision{verdict: verdictAccept, entry: e, reason: "valid in the " + from + " (LocalAuthorizeOffline)"}
		}
		return decision{verdict: verdictReject, entry: e, reason: "offline and LocalAuthorizeOffline is off"}
	}
	if keys.OfflineUnknown != "false" {
		return decision{verdict: verdictAccept, entry: authEntry{Status: ocpp16.AuthorizationStatusAccepted},
			reason: "unknown, offline (AllowOfflineTxForUnknownId)"}
	}
	return decision{verdict: verdictReject, entry: authEntry{Status: ocpp16.AuthorizationStatusInvalid}, reason: "unknown and offline"}
}

// lookupAuth reads the local list and cache entries of an idTag.
func lookupAuth(store kv.Store, idTag string) (list, cache *authEntry, err error) {
	err = store.View(func(tx kv.Tx) error {
		list = readEntry(tx, bucketLocalList, idTag)
		cache = readEntry(tx, bucketCache, idTag)
		return nil
	})
	return list, cache, err
}

func readEntry(tx kv.Tx, bucket, idTag string) *authEntry {
	raw := tx.Get(bucket, idTag)
	if raw == nil {
		return nil
	}
	var e authEntry
	if json.Unmarshal(raw, &e) != nil {
		return nil
	}
	return &e
}

// remember puts what the central system said of an idTag into the cache,
// unless the cache is off or the idTag is in the local list (which the
// central system manages itself).
func remember(store kv.Store, keys authKeys, idTag string, info ocpp16.IdTagInfo) error {
	if !keys.CacheEnabled || idTag == "" {
		return nil
	}
	raw, err := json.Marshal(entryFromInfo(info))
	if err != nil {
		return err
	}
	return store.Update(func(tx kv.Tx) error {
		if keys.ListEnabled && tx.Get(bucketLocalList, idTag) != nil {
			return nil
		}
		return tx.Put(bucketCache, idTag, raw)
	})
}
