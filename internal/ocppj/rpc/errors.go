package rpc

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ErrTimeout: a CALL got no answer in time. Transports return it (wrapped
// or as is) so that callers can tell silence from a lost connection.
var ErrTimeout = errors.New("ocpp: call timed out")

// ErrorCode is an OCPP-J CALLERROR code, of 1.6 or of 2.0.1.
type ErrorCode string

// The CALLERROR codes of OCPP-J 1.6 (section 4.2.3). "Occurence" is spelled
// as the standard spells it.
const (
	// NotImplemented: the action is not known to the receiver.
	NotImplemented ErrorCode = "NotImplemented"
	// NotSupported: the action is known but the receiver does not support it.
	NotSupported ErrorCode = "NotSupported"
	// InternalError: the receiver failed while handling a well-formed CALL.
	InternalError ErrorCode = "InternalError"
	// ProtocolError: the frame or payload is incomplete.
	ProtocolError ErrorCode = "ProtocolError"
	// SecurityError: the receiver refuses the action for security reasons.
	SecurityError ErrorCode = "SecurityError"
	// FormationViolation: the frame or payload is syntactically wrong or
	// does not have the structure of the action.
	FormationViolation ErrorCode = "FormationViolation"
	// PropertyConstraintViolation: a field holds a value it may not hold.
	PropertyConstraintViolation ErrorCode = "PropertyConstraintViolation"
	// OccurenceConstraintViolation: a field is missing, or repeated more
	// often than allowed.
	OccurenceConstraintViolation ErrorCode = "OccurenceConstraintViolation"
	// TypeConstraintViolation: a field has the wrong JSON type.
	TypeConstraintViolation ErrorCode = "TypeConstraintViolation"
	// GenericError: anything else.
	GenericError ErrorCode = "GenericError"
)

// The CALLERROR codes of OCPP-J 2.0.1 (section 4.3) that 1.6 does not
// have or spells otherwise. 2.0.1 also has NotImplemented, NotSupported,
// InternalError, ProtocolError, SecurityError, PropertyConstraintViolation,
// TypeConstraintViolation and GenericError; it has no FormationViolation
// and no OccurenceConstraintViolation.
const (
	// FormatViolation: the payload is syntactically wrong or does not have
	// the structure of the action (1.6's FormationViolation).
	FormatViolation ErrorCode = "FormatViolation"
	// OccurrenceConstraintViolation: a field is missing, or repeated more
	// often than allowed (1.6's OccurenceConstraintViolation).
	OccurrenceConstraintViolation ErrorCode = "OccurrenceConstraintViolation"
	// MessageTypeNotSupported: the message type number of a frame is not
	// one the receiver supports.
	MessageTypeNotSupported ErrorCode = "MessageTypeNotSupported"
	// RpcFrameworkError: the frame is not a valid CALL, e.g. its message id
	// cannot be read.
	RpcFrameworkError ErrorCode = "RpcFrameworkError"
)

// Known reports whether c is one of the codes of OCPP-J 1.6.
func (c ErrorCode) Known() bool {
	switch c {
	case NotImplemented, NotSupported, InternalError, ProtocolError, SecurityError,
		FormationViolation, PropertyConstraintViolation, OccurenceConstraintViolation,
		TypeConstraintViolation, GenericError:
		return true
	}
	return false
}

// Known201 reports whether c is one of the codes of OCPP-J 2.0.1.
func (c ErrorCode) Known201() bool {
	switch c {
	case FormatViolation, GenericError, InternalError, MessageTypeNotSupported, NotImplemented,
		NotSupported, OccurrenceConstraintViolation, PropertyConstraintViolation, ProtocolError,
		RpcFrameworkError, SecurityError, TypeConstraintViolation:
		return true
	}
	return false
}

// To201 returns the OCPP-J 2.0.1 code for a 1.6 code: FormatViolation for
// FormationViolation, OccurrenceConstraintViolation for
// OccurenceConstraintViolation, and c itself otherwise.
func (c ErrorCode) To201() ErrorCode {
	switch c {
	case FormationViolation:
		return FormatViolation
	case OccurenceConstraintViolation:
		return OccurrenceConstraintViolation
	}
	return c
}

// Error is a CALLERROR. Handlers return it to answer a CALL with an error
// code; [Client.Call] returns it when the central system answered with one.
type Error struct {
	Code        ErrorCode
	Description string
	// Details is a JSON object; nil is sent as {}.
	Details json.RawMessage
}

// Errorf returns an *Error with the given code and a formatted description.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e == nil {
		return "ocpp: <nil *Error>"
	}
	if e.Description == "" {
		return "ocpp: " + string(e.Code)
	}
	return "ocpp: " + string(e.Code) + ": " + e.Description
}
