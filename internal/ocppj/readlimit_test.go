package ocppj_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/ocppj"
)

// TestTheLargestSendLocalListFitsTheReadLimit: the largest frame OCPP 1.6
// sends a charge point is a SendLocalList of SendLocalListMaxLength
// (45,000) entries; with every field at its longest it fits the default
// read limit, with room to spare but not much.
func TestTheLargestSendLocalListFitsTheReadLimit(t *testing.T) {
	expiry := ocpp16.DateTime{Time: time.Date(2026, 12, 31, 23, 59, 59, 999e6, time.UTC)}
	req := ocpp16.SendLocalListRequest{ListVersion: 2147483647, UpdateType: ocpp16.UpdateTypeDifferential}
	for i := range 45000 {
		tag := fmt.Sprintf("%020d", i)
		req.LocalAuthorizationList = append(req.LocalAuthorizationList, ocpp16.AuthorizationData{IdTag: tag,
			IdTagInfo: &ocpp16.IdTagInfo{Status: ocpp16.AuthorizationStatusConcurrentTx, ExpiryDate: &expiry, ParentIdTag: strings.Repeat("P", 20)}})
	}
	payload, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := ocpp16.ValidateRequest("SendLocalList", payload); err != nil {
		t.Fatal(err)
	}
	frame := ocppj.AppendCall(nil, strings.Repeat("i", 36), "SendLocalList", payload)
	t.Logf("the largest SendLocalList: %d bytes; the read limit %d", len(frame), ocppj.DefaultReadLimit)
	if len(frame) > ocppj.DefaultReadLimit || len(frame) < ocppj.DefaultReadLimit/2 {
		t.Errorf("the largest SendLocalList is %d bytes, the read limit %d", len(frame), ocppj.DefaultReadLimit)
	}
}
