package chargepoint

import (
	"context"

	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// remoteStart answers RemoteStartTransaction. Accepted means the charge
// point will try: the idTag is authorized first when
// AuthorizeRemoteTxRequests is on, and the EV may still have
// ConnectionTimeOut to plug in.
func (cp *ChargePoint) remoteStart(ctx context.Context, req *ocpp16.RemoteStartTransactionRequest) (*ocpp16.RemoteStartTransactionResponse, error) {
	status := ocpp16.RemoteStartStopStatusRejected
	if cp.Registration() != ocpp16.RegistrationStatusAccepted {
		return &ocpp16.RemoteStartTransactionResponse{Status: status}, nil // not while Pending
	}
	err := cp.exec(ctx, func(c *core) {
		if mode := c.freeMode(); mode >= 0 && mode <= 2 {
			return // these free-charging modes have no transactions
		}
		target := 0
		if req.ConnectorId != nil {
			target = *req.ConnectorId
			if target < 1 || target > len(c.conns) {
				return
			}
		}
		cn := c.pickConnector(target, req.IdTag)
		if cn == nil || c.busyWith(req.IdTag) {
			return
		}
		var profile *ocpp16.ChargingProfile
		if p := req.ChargingProfile; p != nil {
			if why := c.checkRemoteProfile(cn.id, *p); why != "" {
				cp.log.Info("RemoteStartTransaction rejected: its charging profile", "why", why)
				return
			}
			prof := *p
			prof.TransactionId = nil // it is for the transaction about to start
			profile = &prof
			c.promise(profile)
		}
		status = ocpp16.RemoteStartStopStatusAccepted
		idTag := req.IdTag
		rpc.AfterAnswer(ctx, func() {
			cp.post(func(c *core) {
				if cn.tx != nil || cn.auth != nil || cn.authorizing != "" {
					delete(c.promises, profile)
					return // taken meanwhile
				}
				switch c.freeMode() {
				case 3, 4: // free charging in the fixed tag's name
					c.authorized(cn, grant{idTag: c.fixedTag(), profile: profile})
					return
				case 5:
					c.authorized(cn, grant{idTag: idTag, profile: profile})
					return
				}
				if c.cp.settings.Bool("AuthorizeRemoteTxRequests") {
					c.authorize(cn, idTag, true, profile)
					return
				}
				c.authorized(cn, grant{idTag: idTag, profile: profile})
			})
		})
	})
	if err != nil {
		return nil, err
	}
	return &ocpp16.RemoteStartTransactionResponse{Status: status}, nil
}

// remoteStop answers RemoteStopTransaction: Accepted for a transaction that
// is running, by its central-system id.
func (cp *ChargePoint) remoteStop(ctx context.Context, req *ocpp16.RemoteStopTransactionRequest) (*ocpp16.RemoteStopTransactionResponse, error) {
	status := ocpp16.RemoteStartStopStatusRejected
	if cp.Registration() != ocpp16.RegistrationStatusAccepted {
		return &ocpp16.RemoteStopTransactionResponse{Status: status}, nil // not while Pending
	}
	err := cp.exec(ctx, func(c *core) {
		for _, cn := range c.conns {
			if t := cn.tx; t != nil && !t.Silent && t.CSMSID != 0 && t.CSMSID == req.TransactionId {
				status = ocpp16.RemoteStartStopStatusAccepted
				local := t.Local
				// The StopTransaction follows the answer.
				rpc.AfterAnswer(ctx, func() {
					cp.post(func(c *core) {
						if cn.tx != nil && cn.tx.Local == local {
							c.stop(cn, ocpp16.ReasonRemote, "")
						}
					})
				})
				return
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return &ocpp16.RemoteStopTransactionResponse{Status: status}, nil
}

// resetRequested answers Reset: every transaction is stopped (SoftReset or
// HardReset), and once the answer is out Run returns ErrReset for the
// charge point to be started again.
func (cp *ChargePoint) resetRequested(ctx context.Context, req *ocpp16.ResetRequest) (*ocpp16.ResetResponse, error) {
	reason := ocpp16.ReasonSoftReset
	if req.Type == ocpp16.ResetTypeHard {
		reason = ocpp16.ReasonHardReset
	}
	// The transactions stop after the answer, then the charge point
	// restarts.
	rpc.AfterAnswer(ctx, func() {
		cp.post(func(c *core) {
			for _, cn := range c.conns {
				if cn.tx != nil {
					c.stop(cn, reason, "")
				}
			}
			select {
			case cp.reset <- req.Type:
			default:
			}
		})
	})
	return &ocpp16.ResetResponse{Status: ocpp16.ResetStatusAccepted}, nil
}

// changeAvailability answers ChangeAvailability: Inoperative while a
// transaction runs is Scheduled for its end. Availability survives
// restarts.
func (cp *ChargePoint) changeAvailability(ctx context.Context, req *ocpp16.ChangeAvailabilityRequest) (*ocpp16.ChangeAvailabilityResponse, error) {
	status := ocpp16.AvailabilityStatusRejected
	inoperative := req.Type == ocpp16.AvailabilityTypeInoperative
	err := cp.exec(ctx, func(c *core) {
		var targets []*connector
		switch {
		case req.ConnectorId == 0:
			targets = c.conns
		case c.conn(req.ConnectorId) != nil:
			targets = []*connector{c.conn(req.ConnectorId)}
		default:
			return
		}
		status = ocpp16.AvailabilityStatusAccepted
		if req.ConnectorId == 0 {
			c.inoperative = inoperative
			if err := c.saveAvailability(0, !inoperative); err != nil {
				c.cp.log.Error("availability not stored", "err", err)
			}
		}
		for _, cn := range targets {
			if inoperative && cn.tx != nil {
				cn.inoperativeLater = true
				status = ocpp16.AvailabilityStatusScheduled
				// Stored now: after a crash the transaction is stopped
				// (PowerLoss) and the change holds.
				if err := c.saveAvailability(cn.id, false); err != nil {
					c.cp.log.Error("availability not stored", "err", err)
				}
				continue
			}
			cn.inoperativeLater = false
			if req.ConnectorId != 0 || !inoperative {
				cn.inoperative = inoperative
				if err := c.saveAvailability(cn.id, !inoperative); err != nil {
					c.cp.log.Error("availability not stored", "err", err)
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return &ocpp16.ChangeAvailabilityResponse{Status: status}, nil
}

// unlockConnector answers UnlockConnector: a running transaction is
// stopped (UnlockCommand) and the cable unlocked.
func (cp *ChargePoint) unlockConnector(ctx context.Context, req *ocpp16.UnlockConnectorRequest) (*ocpp16.UnlockConnectorResponse, error) {
	status := ocpp16.UnlockStatusNotSupported
	err := cp.exec(ctx, func(c *core) {
		cn := c.conn(req.ConnectorId)
		if cn == nil {
			return
		}
		if cn.tx != nil {
			c.stop(cn, ocpp16.ReasonUnlockCommand, "")
		}
		cn.heldFor = ""
		status = ocpp16.UnlockStatusUnlocked
		if err := cn.hw.SetLock(false); err != nil {
			c.cp.log.Warn("UnlockConnector: the cable did not unlock", "connector", cn.id, "err", err)
			status = ocpp16.UnlockStatusUnlockFailed
		}
	})
	if err != nil {
		return nil, err
	}
	return &ocpp16.UnlockConnectorResponse{Status: status}, nil
}

// clearCache answers ClearCache.
func (cp *ChargePoint) clearCache() (*ocpp16.ClearCacheResponse, error) {
	err := cp.store.Update(func(tx kv.Tx) error { return tx.DeleteBucket(bucketCache) })
	if err != nil {
		cp.log.Error("ClearCache failed", "err", err)
		return &ocpp16.ClearCacheResponse{Status: ocpp16.ClearCacheStatusRejected}, nil
	}
	return &ocpp16.ClearCacheResponse{Status: ocpp16.ClearCacheStatusAccepted}, nil
}

// triggeredMeterValues sends the readings of a connector (all with -1)
// in answer to TriggerMessage MeterValues.
func (c *core) triggeredMeterValues(connector int) {
	if c.statusOnly() {
		return
	}
	now := c.now()
	list := measurands(c.cp.settings.String("MeterValuesSampledData"))
	if len(list) == 0 {
		list = []string{string(ocpp16.MeasurandEnergyActiveImportRegister)}
	}
	for _, cn := range c.conns {
		if connector > 0 && cn.id != connector {
			continue
		}
		mv := meterValue(cn.hw.Meter(), list, ocpp16.ReadingContextTrigger, now, c.cp.phases())
		req := ocpp16.MeterValuesRequest{ConnectorId: cn.id, MeterValue: []ocpp16.MeterValue{*mv}}
		if t := cn.tx; t != nil && t.CSMSID != 0 {
			id := t.CSMSID
			req.TransactionId = &id
		}
		c.cp.sendLater("MeterValues", req)
	}
}

// EmergencyStop stops every transaction with reason EmergencyStop, as the
// emergency stop button of a charge point does.
func (cp *ChargePoint) EmergencyStop(ctx context.Context) error {
	return cp.exec(ctx, func(c *core) {
		for _, cn := range c.conns {
			if cn.tx != nil {
				c.stop(cn, ocpp16.ReasonEmergencyStop, "")
			}
		}
	})
}
