// Package ocpp16 holds the messages of OCPP 1.6J: a Go type for the request
// and the response of every action of the six feature profiles and of the
// Security Whitepaper, and a validator that accepts exactly what the Open
// Charge Alliance's JSON schemas accept (with the exceptions under Caveats).
//
// # Basics
//
// An OCPP-J CALL carries an action name and a payload. [DecodeRequest]
// checks the payload against the action's schema and returns the matching
// type as a pointer:
//
//	v, err := ocpp16.DecodeRequest("BootNotification", payload)
//	if err != nil {
//		return err // an *rpc.Error: answer the CALL with it
//	}
//	req := v.(*ocpp16.BootNotificationRequest)
//
// [DecodeResponse] does the same for a CALLRESULT; [ValidateRequest] and
// [ValidateResponse] only check. [Lookup] and [Actions] say who sends each
// action and which feature profile it belongs to.
//
// Types follow the schemas: required fields are plain values, optional
// integers, numbers, booleans, date-times and objects are pointers, optional
// strings and enumerations are plain with omitempty, arrays are slices.
// Enumerations are string types named as OCPP 1.6 names them
// (AuthorizationStatus, with constants such as AuthorizationStatusAccepted).
// Date-times are [DateTime]s, written in UTC with milliseconds.
//
// Encoding is plain encoding/json. It does not validate: a nil required
// slice becomes null, and a float64 such as 0.1+0.2 is not a multiple of
// 0.1. Validate what you send if it matters.
//
// Everything in the package is safe for concurrent use.
//
// # Errors
//
// The validator (package ocppschema, shared with ocpp201) reads the
// payload token by token against a descriptor of the schema, never
// building the payload in memory: what it keeps is bounded by the schema's depth, so a
// hostile 16 MiB payload costs no more than its bytes. Within an object a
// property the schema does not allow is reported first, then a required
// one missing, then the first bad value read; an array's minItems before
// its items. It returns an *rpc.Error whose Description
// names the JSON path and the problem, e.g. `idTagInfo.status: "Foo" is not
// one of Accepted, Blocked, Expired, Invalid, ConcurrentTx`, and whose Code
// is
//
//   - NotImplemented: the action is unknown;
//   - FormationViolation: the payload is not JSON or not a JSON object, or an
//     object has a property its schema does not allow, or one twice;
//   - OccurenceConstraintViolation: a required property is missing, or an
//     array has fewer items than minItems;
//   - TypeConstraintViolation: a value has the wrong JSON type (null
//     included), an integer has a fractional part (3.0 is an integer, 3.5
//     is not) or does not fit in an int64, or a number does not fit in a
//     float64;
//   - PropertyConstraintViolation: a string is not one of its enumeration,
//     is longer than maxLength (counted in Unicode code points), is not an
//     RFC 3339 date-time or is not an absolute URI where the schema asks for
//     one, or a number is not a multiple of multipleOf (checked exactly on
//     the decimal text).
//
// # Caveats
//
// Where the validator and a general JSON Schema validator differ, it is on
// purpose: integers beyond int64 and numbers beyond float64 are refused,
// because the Go types cannot hold them; and the digits of a date-time must
// be digits, where some validators let "+1" or "-0" pass for an hour; and
// a property repeated in one object is refused (encoding/json would merge
// the values, a schema validator check the last).
//
// [DecodeFromPeer] reads what a peer sent a little more leniently: a
// date-time without a UTC offset, which some central systems send, is read
// as UTC, with a note for the caller to warn about.
//
// # Regenerating
//
// messages_gen.go and schema_gen.go are generated from
// ocpp1_6-schemas.json by the program in internal/gen, which holds the 1.6
// tables and runs the generator it shares with ocpp201 (package ocppgen);
// the schema file is not needed at run time. With the file at
// ../shared/ocpp/ next to the module, run
//
//	go generate ./internal/ocpp16
//
// The generator names nested objects and enumerations from hand-written
// tables (internal/gen/names.go) and fails on anything they do not name. A
// test checks that the generated files are up to date.
package ocpp16

//go:generate go run ./internal/gen -schemas ../../../shared/ocpp/ocpp1_6-schemas.json
