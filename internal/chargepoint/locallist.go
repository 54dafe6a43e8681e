package chargepoint

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// The local list's version and size live in the meta bucket.
const (
	metaListVersion = "localListVersion"
	metaListSize    = "localListSize"
)

// listSize is the number of entries of the local list: kept in the meta
// bucket, so that a Differential update of a list of a million entries
// does not count them; counted once for a store written before.
func listSize(tx kv.Tx) int {
	if raw := tx.Get(bucketMeta, metaListSize); raw != nil {
		if n, err := strconv.Atoi(string(raw)); err == nil {
			return n
		}
	}
	n := 0
	tx.ForEach(bucketLocalList, func(string, []byte) error { n++; return nil })
	return n
}

// getLocalListVersion answers GetLocalListVersion: 0 for an empty list, -1
// while the list is disabled (LocalAuthListEnabled off).
func (cp *ChargePoint) getLocalListVersion() (*ocpp16.GetLocalListVersionResponse, error) {
	if !cp.settings.Bool("LocalAuthListEnabled") {
		return &ocpp16.GetLocalListVersionResponse{ListVersion: -1}, nil
	}
	v, err := listVersion(cp.store)
	if err != nil {
		return nil, err
	}
	return &ocpp16.GetLocalListVersionResponse{ListVersion: v}, nil
}

func listVersion(store kv.Store) (int, error) {
	v := 0
	err := store.View(func(tx kv.Tx) error {
		if raw := tx.Get(bucketMeta, metaListVersion); raw != nil {
			n, err := strconv.Atoi(string(raw))
			if err != nil {
				return err
			}
			v = n
		}
		return nil
	})
	return v, err
}

// sendLocalList answers SendLocalList. The update is one write: a crash
// leaves the old list or the new one. Failed: more entries than
// SendLocalListMaxLength, a list that would outgrow LocalAuthListMaxLength,
// a tag listed twice, a Full entry without idTagInfo, a negative version.
// VersionMismatch: a Differential update not above the current version.
// NotSupported: the list is disabled.
func (cp *ChargePoint) sendLocalList(req *ocpp16.SendLocalListRequest) (*ocpp16.SendLocalListResponse, error) {
	answer := func(s ocpp16.UpdateStatus) (*ocpp16.SendLocalListResponse, error) {
		return &ocpp16.SendLocalListResponse{Status: s}, nil
	}
	if !cp.settings.Bool("LocalAuthListEnabled") {
		return answer(ocpp16.UpdateStatusNotSupported)
	}
	if len(req.LocalAuthorizationList) > cp.settings.Int("SendLocalListMaxLength") || req.ListVersion < 0 {
		return answer(ocpp16.UpdateStatusFailed)
	}
	full := req.UpdateType == ocpp16.UpdateTypeFull
	seen := make(map[string]bool, len(req.LocalAuthorizationList))
	for _, e := range req.LocalAuthorizationList {
		if seen[e.IdTag] || (full && e.IdTagInfo == nil) {
			return answer(ocpp16.UpdateStatusFailed)
		}
		seen[e.IdTag] = true
	}
	status := ocpp16.UpdateStatusAccepted
	maxLen := cp.settings.Int("LocalAuthListMaxLength")
	err := cp.store.Update(func(tx kv.Tx) error {
		current := 0
		if raw := tx.Get(bucketMeta, metaListVersion); raw != nil {
			current, _ = strconv.Atoi(string(raw))
		}
		if !full && req.ListVersion <= current {
			status = ocpp16.UpdateStatusVersionMismatch
			return nil
		}
		size := 0
		if full {
			if err := tx.DeleteBucket(bucketLocalList); err != nil {
				return err
			}
		} else {
			size = listSize(tx)
		}
		for _, e := range req.LocalAuthorizationList {
			had := !full && tx.Get(bucketLocalList, e.IdTag) != nil
			if e.IdTagInfo == nil {
				if had {
					size--
				}
				if err := tx.Delete(bucketLocalList, e.IdTag); err != nil {
					return err
				}
				continue
			}
			if !had {
				size++
			}
			raw, err := json.Marshal(entryFromInfo(*e.IdTagInfo))
			if err != nil {
				return err
			}
			if err := tx.Put(bucketLocalList, e.IdTag, raw); err != nil {
				return err
			}
		}
		if size > maxLen {
			status = ocpp16.UpdateStatusFailed
			return errTooLong // rolls the whole update back
		}
		if err := tx.Put(bucketMeta, metaListSize, []byte(strconv.Itoa(size))); err != nil {
			return err
		}
		return tx.Put(bucketMeta, metaListVersion, []byte(strconv.Itoa(req.ListVersion)))
	})
	if errors.Is(err, errTooLong) {
		err = nil
	}
	if err != nil {
		cp.log.Error("SendLocalList not applied", "err", err)
		return answer(ocpp16.UpdateStatusFailed)
	}
	cp.log.Info("local list updated", "type", req.UpdateType, "version", req.ListVersion, "entries", len(req.LocalAuthorizationList), "status", status)
	return answer(status)
}

var errTooLong = errors.New("chargepoint: the local list would exceed LocalAuthListMaxLength")

// LocalListInfo tells the local list's version and size, for the
// installer (the local API).
func (cp *ChargePoint) LocalListInfo() (version, size int, err error) {
	err = cp.store.View(func(tx kv.Tx) error {
		if raw := tx.Get(bucketMeta, metaListVersion); raw != nil {
			version, _ = strconv.Atoi(string(raw))
		}
		size = listSize(tx)
		return nil
	})
	return version, size, err
}

// LocalListEntry returns an idTag's entry in the local list, for the
// installer: its status, parent and expiry; ok false when not listed.
func (cp *ChargePoint) LocalListEntry(idTag string) (info ocpp16.IdTagInfo, ok bool, err error) {
	err = cp.store.View(func(tx kv.Tx) error {
		e := readEntry(tx, bucketLocalList, idTag)
		if e == nil {
			return nil
		}
		ok = true
		info = ocpp16.IdTagInfo{Status: e.Status, ParentIdTag: e.ParentIDTag}
		if e.Expiry != nil {
			info.ExpiryDate = &ocpp16.DateTime{Time: *e.Expiry}
		}
		return nil
	})
	return info, ok, err
}
