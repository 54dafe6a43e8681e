// Package v16 is the OCPP 1.6 face of the charging core: it turns the
// central system's CALLs into the core's commands (and answers them), the
// core's messages into 1.6 CALLs (and reads their answers back); a
// [ChargePoint] is a station (package chargepoint/station: the core run in
// real time) with this face.
// The configuration keys and the local list are answered here, from the
// settings and the list's store; everything that bears on charging goes
// through the core.
package v16
