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
// # Basics
//
//	c, err := ocppj.NewClient(ocppj.Options{URL: "wss://csms.example/ocpp", ID: "CP-1", Handler: h})
//	...
//	go c.Run(ctx) // returns when ctx ends
//	res, err := c.Call(ctx, "Heartbeat", nil)
//
// A CALL made while the client is not connected waits for the connection
// (or for its context). When a connection ends, the CALL that was out fails
// with ErrConnectionLost and the queued ones go out on the next connection.
//
// # Errors
//
// A handler answers a CALLERROR by returning an [*Error] with one of the
// OCPP-J error codes; any other error (or an unknown code) becomes
// InternalError, and a panic in a handler is recovered and answered the
// same way. [ErrNoAnswer] leaves a CALL unanswered, and [AfterAnswer] runs a
// function once the answer is out (to send a triggered message after it).
// A frame that is not a well-formed OCPP-J frame is answered with
// FormationViolation or ProtocolError (see [ParseFrame]), with the id "-1"
// when no valid id could be read; a malformed CALLRESULT or CALLERROR, or
// one for an id that is not outstanding, is logged and dropped (the call it
// was meant for, if any, times out). Binary WebSocket messages are logged
// and dropped; a message over ReadLimit closes the connection.
//
// # Caveats
//
// A handler must not wait for the result of one of the charge point's own
// CALLs: the central system's CALLs and the client's own are served by
// different goroutines, but the handler goroutine is the only one that
// answers the central system, and a central system may wait for that answer
// before it answers anything else. A handler must also return when its
// context ends: the connection is not re-established, and Run does not
// return, before it has.
//
// While the handler is busy, up to 16 further CALLs from the central system
// are read and queued; beyond that the client stops reading, and if pings
// are on, the missing pongs then close the connection.
package ocppj
