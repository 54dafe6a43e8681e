package chargepoint

import (
	"context"
	"time"

	"github.com/evse-dev/evse/internal/ocpp16"
)

// Status is what the charge point is doing, for the local API.
type Status struct {
	Connected    bool                      `json:"connected"`
	Registration ocpp16.RegistrationStatus `json:"registration"`
	// Journal is the number of transaction messages waiting for the
	// central system.
	Journal    int               `json:"journal"`
	Connectors []ConnectorStatus `json:"connectors"`
}

// ConnectorStatus is one connector's state; connector 0 is the charge
// point itself and has only ID, Status and ErrorCode.
type ConnectorStatus struct {
	ID        int                         `json:"id"`
	Status    ocpp16.ChargePointStatus    `json:"status"`
	ErrorCode ocpp16.ChargePointErrorCode `json:"errorCode"`
	Pilot     string                      `json:"pilot,omitempty"`
	// OfferedA is the current offered per phase (PWM), in A.
	OfferedA *float64 `json:"offeredA,omitempty"`
	// ScheduleA is what the charging profiles allow now, in A per
	// phase; absent when no profile limits the connector.
	ScheduleA *float64 `json:"scheduleA,omitempty"`
	// CurrentA is the current drawn on each phase, in A.
	CurrentA    []float64 `json:"currentA,omitempty"`
	PowerW      *float64  `json:"powerW,omitempty"`
	EnergyWh    *float64  `json:"energyWh,omitempty"`
	Transaction *TxStatus `json:"transaction,omitempty"`
}

// TxStatus is the transaction in progress on a connector.
type TxStatus struct {
	// ID is the central system's transactionId, 0 until it is known.
	ID         int       `json:"id"`
	LocalID    int64     `json:"localId"`
	IDTag      string    `json:"idTag,omitempty"`
	Started    time.Time `json:"startedAt"`
	MeterStart int       `json:"meterStart"`
	// EnergyWh is the energy delivered so far.
	EnergyWh float64 `json:"energyWh"`
	// Silent: a free-charging session without transaction messages.
	Silent bool `json:"silent,omitempty"`
}

// Status returns the charge point's state.
func (cp *ChargePoint) Status(ctx context.Context) (Status, error) {
	st := Status{Registration: cp.Registration()}
	if c := cp.caller(); c != nil {
		st.Connected = c.Connected()
	}
	status, code := cp.reporter.status(0)
	st.Connectors = append(st.Connectors, ConnectorStatus{ID: 0, Status: status, ErrorCode: code})
	err := cp.exec(ctx, func(c *core) {
		// Counted here, with the core's state: a transaction stopped is
		// in the journal already.
		st.Journal = journalLen(cp.store)
		for _, cn := range c.conns {
			r := cn.hw.Meter()
			offered := cn.offered
			status, code := cp.reporter.status(cn.id)
			cs := ConnectorStatus{ID: cn.id, Status: status, ErrorCode: code, Pilot: cn.pilot.String(),
				OfferedA: &offered, CurrentA: r.Current[:cp.phases()], PowerW: &r.PowerW, EnergyWh: &r.EnergyWh}
			if l := cn.sched.limit; l >= 0 {
				cs.ScheduleA = &l
			}
			if t := cn.tx; t != nil {
				cs.Transaction = &TxStatus{ID: t.CSMSID, LocalID: t.Local, IDTag: t.IDTag, Started: t.Started,
					MeterStart: t.MeterStart, EnergyWh: r.EnergyWh - float64(t.MeterStart), Silent: t.Silent}
			}
			st.Connectors = append(st.Connectors, cs)
		}
	})
	return st, err
}
