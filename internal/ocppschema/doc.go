// Package ocppschema is the runtime of the OCPP message packages (ocpp16,
// ocpp201): the schema descriptors their generated code declares ([Node]),
// the streaming validator that checks a payload against them
// ([Dialect.Validate]), and the OCPP date-time ([DateTime]).
//
// The versions differ only in the spelling of two error codes, which a
// [Dialect] holds; the descriptors say which keywords a version uses.
//
// Basics: package ocppgen writes a Node per message of a version; the
// message package looks the Node up by action and kind and calls
// Validate with the version's Dialect, then decodes the canonical copy
// Validate returns with encoding/json.
//
// Caveats: Validate does not check that a Node is well formed (the
// generator does: an object names at most [MaxProps] properties). Nodes
// and Dialects are read only, so Validate is safe for concurrent use.
package ocppschema
