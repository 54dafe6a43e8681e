// Package rpc is the contract between an OCPP-J transport and the code
// that answers the central system's CALLs: the CALLERROR codes and
// [Error], the [Handler] interface, [ErrNoAnswer] and [AfterAnswer].
//
// It does no I/O, so the charge point and the message types can speak of
// CALLERRORs without linking a WebSocket library.
package rpc
