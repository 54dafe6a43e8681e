package csmstest

import (
	"encoding/json"
	"fmt"

	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/ocpp201"
	"github.com/evse-dev/evse/internal/ocppj"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// The subprotocols the server speaks. A connection on which none was
// agreed (Options.NoSubprotocol), or another one, is spoken as OCPP 1.6.
const (
	OCPP16  = "ocpp1.6"
	OCPP201 = "ocpp2.0.1"
)

// version is the OCPP version spoken on a connection: it picks the
// schemas, the CALLERROR codes and the responders.
type version int

const (
	v16 version = iota
	v201
	numVersions
)

// versionOf returns the version a connection on subprotocol speaks.
func versionOf(subprotocol string) version {
	if subprotocol == OCPP201 {
		return v201
	}
	return v16
}

// parseVersion returns the version of a subprotocol the server speaks, and
// false for any other.
func parseVersion(subprotocol string) (version, bool) {
	switch subprotocol {
	case OCPP16:
		return v16, true
	case OCPP201:
		return v201, true
	}
	return 0, false
}

// checkRequest checks a charge point's CALL: its payload against the
// action's request schema and, in 2.0.1, that a charging station may send
// the action. The error is an *rpc.Error with the version's code.
func (v version) checkRequest(action string, payload json.RawMessage) error {
	if v == v16 {
		return ocpp16.ValidateRequest(action, payload)
	}
	if err := ocpp201.ValidateRequest(action, payload); err != nil {
		return err
	}
	if a, _ := ocpp201.Lookup(action); !a.SentBy(ocpp201.InitiatorChargingStation) {
		return rpc.Errorf(rpc.NotSupported, "%s is sent by the CSMS, not by a charging station", action)
	}
	return nil
}

// checkAnswer checks a charge point's answer to a CALL of action the
// server sent: a CALLRESULT's payload against the action's response
// schema, and in 2.0.1 that a CALLERROR's code is one of 2.0.1.
func (v version) checkAnswer(action string, f ocppj.Frame) error {
	if f.Type == ocppj.CallError {
		if v == v201 && !f.Error.Code.Known201() {
			return fmt.Errorf("%q is not a CALLERROR code of OCPP-J 2.0.1", f.Error.Code)
		}
		return nil
	}
	if v == v16 {
		return ocpp16.ValidateResponse(action, f.Payload)
	}
	return ocpp201.ValidateResponse(action, f.Payload)
}

// code returns the version's spelling of a CALLERROR code the server
// sends: a responder may give a 1.6 code on a 2.0.1 connection.
func (v version) code(c rpc.ErrorCode) rpc.ErrorCode {
	if v == v201 {
		return c.To201()
	}
	return c
}

// frameErrorCode is the code with which to answer a frame that could not
// be parsed. 2.0.1 has codes of its own for a frame whose message id
// cannot be read (RpcFrameworkError) and for an unknown message type
// (MessageTypeNotSupported).
func (v version) frameErrorCode(e *ocppj.FrameError) rpc.ErrorCode {
	if v == v16 {
		return e.Code
	}
	switch {
	case e.ID == "":
		return rpc.RpcFrameworkError
	case e.Type != ocppj.Call && e.Type != ocppj.CallResult && e.Type != ocppj.CallError:
		return rpc.MessageTypeNotSupported
	}
	return e.Code.To201()
}
