package chargepoint

import (
	"encoding/json"
	"math"
	"time"

	"github.com/evse-dev/evse/internal/ocpp16"
)

// transaction is a charging session. It is kept in the store (bucket
// opentx) while it runs, so that a crash leaves enough to stop it after the
// restart.
type transaction struct {
	// Local is the charge point's own id, unique across restarts.
	Local       int64  `json:"local"`
	Connector   int    `json:"connector"`
	IDTag       string `json:"idTag"`
	ParentIDTag string `json:"parentIdTag,omitempty"`
	// Holder is the tag that may stop the transaction at the charge
	// point, when it is not IDTag (fixed-tag free charging).
	Holder        string    `json:"holder,omitempty"`
	MeterStart    int       `json:"meterStart"`
	Started       time.Time `json:"started"`
	ReservationID *int      `json:"reservationId,omitempty"`
	// Silent: a free-charging session whose mode sends no transaction
	// messages.
	Silent bool `json:"silent,omitempty"`
	// CSMSID is the central system's transactionId, 0 until known.
	CSMSID int `json:"csmsId,omitempty"`
	// Deauthorized: the central system refused the idTag in its answer to
	// StartTransaction and StopTransactionOnInvalidId is off; energy is
	// stopped, the transaction goes on.
	Deauthorized bool `json:"deauthorized,omitempty"`
	// LastWh and LastAt are the last meter reading kept; a PowerLoss stop
	// after a crash reports them.
	LastWh float64   `json:"lastWh"`
	LastAt time.Time `json:"lastAt"`
	// Data holds the StopTxnSampledData and StopTxnAlignedData values
	// taken so far, for StopTransaction's transactionData.
	Data []ocpp16.MeterValue `json:"data,omitempty"`
}

// maxData bounds the values kept for StopTransaction's transactionData: a
// long session keeps its first and last values and an even thinning of
// those between, so that the message stays small.
const maxData = 64

// keep adds a value for transactionData, thinning the middle ones when
// there are too many.
func (t *transaction) keep(mv ocpp16.MeterValue) {
	t.Data = append(t.Data, mv)
	if len(t.Data) <= maxData {
		return
	}
	thinned := t.Data[:1]
	for i := 1; i < len(t.Data)-1; i += 2 {
		thinned = append(thinned, t.Data[i])
	}
	t.Data = append(thinned, t.Data[len(t.Data)-1])
}

// presenter is the tag a user presented to start the transaction, or ""
// when none did (offline on plug-in, fixed-tag free charging).
func (t *transaction) presenter(fixedTag string) string {
	switch {
	case t.Holder != "":
		return t.Holder
	case t.IDTag == offlineTag || t.IDTag == fixedTag:
		return ""
	}
	return t.IDTag
}

// stoppableBy reports whether presenting idTag stops the transaction: the
// tag that started it does; with none (fixedTag or offline sessions), no
// tag does.
func (t *transaction) stoppableBy(idTag, fixedTag string) bool {
	p := t.presenter(fixedTag)
	return p != "" && p == idTag
}

// wh rounds a register to whole Wh, as meterStart and meterStop carry it.
func wh(register float64) int { return int(math.Floor(register)) }

func (t *transaction) encode() []byte {
	raw, _ := json.Marshal(t) // plain data: cannot fail
	return raw
}

// stopRequest builds StopTransaction; transactionId is filled in when it
// is sent.
func (t *transaction) stopRequest(reason ocpp16.Reason, idTag string, meterStop int, at time.Time) ocpp16.StopTransactionRequest {
	req := ocpp16.StopTransactionRequest{
		IdTag:           idTag,
		MeterStop:       meterStop,
		Timestamp:       ocpp16.DateTime{Time: at},
		TransactionId:   t.CSMSID,
		Reason:          reason,
		TransactionData: t.Data,
	}
	return req
}
