// Package ocpp201 holds the messages of OCPP 2.0.1: a Go type for the
// request and the response of every action, and a validator that accepts
// exactly what the Open Charge Alliance's JSON schemas accept (with the
// exceptions under Caveats). It is to OCPP 2.0.1 what package ocpp16 is to
// 1.6, and works the same way.
//
// # Basics
//
// An OCPP-J CALL carries an action name and a payload. [DecodeRequest]
// checks the payload against the action's schema and returns the matching
// type as a pointer:
//
//	v, err := ocpp201.DecodeRequest("BootNotification", payload)
//	if err != nil {
//		return err // an *rpc.Error with a 2.0.1 code: answer the CALL with it
//	}
//	req := v.(*ocpp201.BootNotificationRequest)
//
// [DecodeResponse] does the same for a CALLRESULT; [ValidateRequest] and
// [ValidateResponse] only check; [DecodeFromPeer] reads a little more
// leniently. [Lookup] and [Actions] say who sends each action (the
// charging station, the CSMS or both) and which functional block of the
// specification (A Security to P Data Transfer) it belongs to.
//
// # Names
//
// Requests and responses are <Action>Request and <Action>Response. The
// other types take the names of the schemas' definitions, less a suffix:
// an enumeration loses "EnumType" (RegistrationStatusEnumType becomes
// RegistrationStatus), an object "Type" (IdTokenType becomes IdToken).
// Where an enumeration would take an object's name it keeps "Enum":
// IdTokenEnum and VPNEnum. Constants are the type's name and the value
// without punctuation: RegistrationStatusAccepted, MeasurandEnergyActiveImportRegister.
// Fields are the properties with a capital first letter (evseId becomes
// EvseId).
//
// Types follow the schemas: required fields are plain values, optional
// integers, numbers, booleans, date-times and objects are pointers,
// optional strings and enumerations are plain with omitempty (but the value
// of a variable, which may be "", is a *string), arrays are slices.
// DataTransfer's data, which may be any JSON value, is a json.RawMessage.
// Every object may carry a [CustomData], written by hand because its
// schema allows any other property. Date-times are [DateTime]s, written in
// UTC with milliseconds.
//
// Encoding is plain encoding/json. It does not validate: a nil required
// slice becomes null. Validate what you send if it matters.
//
// Everything in the package is safe for concurrent use.
//
// # Errors
//
// The validator (package ocppschema, shared with ocpp16) reads the
// payload token by token against a descriptor of the schema, never
// building the payload in memory. Within an object a
// property the schema does not allow is reported first, then a required
// one missing, then the first bad value read; an array's minItems and
// maxItems before its items. It returns an *rpc.Error whose Description
// names the JSON path and the problem, and whose Code is one of OCPP-J
// 2.0.1 (which spells two of them otherwise than 1.6):
//
//   - NotImplemented: the action is unknown;
//   - FormatViolation: the payload is not JSON or not a JSON object, or an
//     object has a property its schema does not allow, or one twice;
//   - OccurrenceConstraintViolation: a required property is missing, or an
//     array has fewer items than minItems or more than maxItems;
//   - TypeConstraintViolation: a value has the wrong JSON type (null
//     included), an integer has a fractional part (3.0 is an integer, 3.5
//     is not) or does not fit in an int64, or a number does not fit in a
//     float64;
//   - PropertyConstraintViolation: a string is not one of its enumeration,
//     is longer than maxLength (counted in Unicode code points) or is not
//     an RFC 3339 date-time, or a number is below its minimum or above its
//     maximum (compared exactly on the decimal text).
//
// # Caveats
//
// Where the validator and a general JSON Schema validator differ, it is on
// purpose, as in ocpp16: integers beyond int64 and numbers beyond float64
// are refused, because the Go types cannot hold them; the digits of a
// date-time must be digits; and a property repeated in one object is
// refused, in customData too.
//
// The functional blocks and initiators come from the message list of OCPP
// 2.0.1 Part 2, not from the schemas. PublishFirmware and
// UnpublishFirmware go to a local controller, counted as a charging
// station.
//
// # Regenerating
//
// messages_gen.go and schema_gen.go are generated from
// ocpp2_0_1-schemas.json by the program in internal/gen, which holds the
// 2.0.1 tables (actions.go, names.go) and runs the generator shared with
// ocpp16 (package ocppgen). With the file at ../shared/ocpp/ next to the
// module, run
//
//	go generate ./internal/ocpp201
//
// A test checks that the generated files are up to date.
package ocpp201

//go:generate go run ./internal/gen -schemas ../../../shared/ocpp/ocpp2_0_1-schemas.json
