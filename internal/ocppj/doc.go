// Package ocppj is the OCPP-J RPC layer of a charge point: JSON frames (CALL,
// CALLRESULT, CALLERROR) carried over a WebSocket to a central system.
//
// It knows nothing of what the messages mean. A [Client] connects to
// <URL>/<charge point id> asking for one subprotocol (ocpp1.6 by default),
// sends the charge point's own CALLs one at a time in the order they were
// made, hands the central system's CALLs to a [Handler] one at a time in the
// order they arrived, and keeps the link alive: WebSocket pings with a pong
// deadline, and reconnection with bounded exponential backoff and jitter.
//
// # Errors
//
// A handler answers a CALLERROR by returning an [*Error] with one of the
// OCPP-J error codes; any other error becomes InternalError, and a panic in a
// handler is recovered and answered the same way. A frame that is not a
// well-formed OCPP-J frame is answered with FormationViolation or
// ProtocolError (see [ParseFrame]); a CALLRESULT or CALLERROR for an id that
// is not outstanding is logged and dropped.
//
// # Caveats
//
// A handler must not wait for the result of one of the charge point's own
// CALLs: the central system's CALLs and the client's own are served by
// different goroutines, but the handler goroutine is the only one that
// answers the central system, and a central system may wait for that answer
// before it answers anything else.
package ocppj
