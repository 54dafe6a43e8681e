package v201

import (
	"context"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/chargepoint/station"
	"github.com/evse-dev/evse/internal/ocpp201"
)

// getLog answers GetLog (N01) as the core's log upload, the one 1.6's
// security extension runs: the diagnostics archive or the security log
// between the oldest and latest timestamps, with retries;
// LogStatusNotification tells its progress. An upload under way is
// canceled (AcceptedCanceled).
func (cp *ChargePoint) getLog(ctx context.Context, r *ocpp201.GetLogRequest) (*ocpp201.GetLogResponse, error) {
	g := station.GetLog(string(r.LogType), r.RequestId, r.Log.RemoteLocation, r.Log.OldestTimestamp, r.Log.LatestTimestamp,
		r.Retries, r.RetryInterval)
	res, err := cp.Exec(ctx, g)
	if err != nil {
		return nil, err
	}
	l := res.(chargepoint.LogResult)
	return &ocpp201.GetLogResponse{Status: ocpp201.LogStatus(l.Status), Filename: l.FileName}, nil
}

// logStatusNotification renders the core's LogStatusNotification: the
// request id with every status but Idle.
func logStatusNotification(m chargepoint.LogStatusNotification) *ocpp201.LogStatusNotificationRequest {
	req := &ocpp201.LogStatusNotificationRequest{Status: ocpp201.UploadLogStatus(m.Status)}
	if m.Status != chargepoint.LogIdle {
		id := m.RequestID
		req.RequestId = &id
	}
	return req
}
