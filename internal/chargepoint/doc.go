// Package chargepoint is the OCPP 1.6 charge point: registration
// (BootNotification with Accepted, Pending and Rejected), heartbeats, the
// configuration messages, remote triggers, and the answers to every CALL
// of the central system.
//
// A [ChargePoint] answers CALLs through [ChargePoint.HandleCall] (an
// rpc.Handler) and sends its own through a [Caller] given to
// [ChargePoint.Run]. One goroutine, Run's, owns the registration state
// machine and every timer; HandleCall only reads state and posts events to
// it.
package chargepoint
