// Package chargepoint is the OCPP 1.6 charge point: registration
// (BootNotification with Accepted, Pending and Rejected), heartbeats,
// charging sessions on a hw.Board (authorization, transactions, metering,
// free charging), the transaction journal that loses nothing offline or in
// a crash, status reporting, and the answers to every CALL of the central
// system.
//
// # Goroutines
//
// [ChargePoint.Run] runs four, and owns them:
//   - the core owns the connectors, transactions, authorizations and their
//     timers; it reacts to the hardware's events, to work the others post
//     to it, and to time, and never waits for the network;
//   - the link registers and heartbeats;
//   - the reporter sends StatusNotification;
//   - the sender delivers the journal, oldest first.
//
// [ChargePoint.HandleCall] (an rpc.Handler) answers the central system's
// CALLs on the transport's goroutine, asking the core where it must.
//
// # Storage
//
// Everything that must survive a crash is in the kv.Store given in
// Options, each change in one durable write: the journal, the open
// transactions with their last reading, the central system's transaction
// ids, the authorization cache, the local list, the availability.
package chargepoint
