// Package chargepoint is the charging core of a charge point: a
// deterministic state machine that owns the connectors, transactions,
// authorizations, reservations, charging profiles, the registration with
// the central system, the statuses it was told and the journal of
// transaction events. It speaks no wire format and does no I/O.
//
// # The one path
//
// Everything that happens reaches the core as an [Event] through
// [Core.Step], with the time and the meters' readings: a hardware change,
// a tag, the link going up or down, the answer to one of its messages, a
// command a protocol adapter decoded, a settings change, load
// management's shares, or only time passing. Step returns the
// [Actuation]s at once (offer, contactor, lock, phases): a fault, an
// emergency stop, an unplug or a lowered limit cuts the current in the
// step that sees it. [Core.Ready] then returns what the steps leave to
// do, in order: the [Record]s to make durable, the [Message]s to send
// (the core's CALLs and the replies to commands), jobs (downloads and
// uploads), and the next instant the core wants to be stepped.
//
// The runner (package chargepoint/runner) applies the actuations before it
// writes the records, writes the records before it sends the messages
// that follow them, and feeds the outcomes back as events. A protocol
// adapter (chargepoint/v16) turns the core's messages into a protocol's
// CALLs and the central system's CALLs into commands.
//
// # Caveats
//
// The core reads no clock: time is what Step is given. It keeps the
// journal's entries but not their bodies, which are in the records; the
// runner reads a body when it sends the entry.
package chargepoint
