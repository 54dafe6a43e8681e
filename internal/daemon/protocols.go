package daemon

import (
	"context"
	"encoding/json"

	"github.com/evse-dev/evse/internal/chargepoint/v201"
	"github.com/evse-dev/evse/internal/ocppj"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// protocolHandler answers the central system's CALLs in the protocol the
// connection speaks: 2.0.1's face when the transport agreed on
// ocpp2.0.1, else 1.6's.
type protocolHandler struct {
	client    func() *ocppj.Client
	v16, v201 rpc.Handler
}

func (h protocolHandler) HandleCall(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	if c := h.client(); c != nil && c.Subprotocol() == v201.Subprotocol {
		return h.v201.HandleCall(ctx, action, payload)
	}
	return h.v16.HandleCall(ctx, action, payload)
}
