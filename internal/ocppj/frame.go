package ocppj

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// MessageType is the first element of an OCPP-J frame.
type MessageType int

// The three OCPP-J message types.
const (
	Call       MessageType = 2
	CallResult MessageType = 3
	CallError  MessageType = 4
)

func (t MessageType) String() string {
	switch t {
	case Call:
		return "CALL"
	case CallResult:
		return "CALLRESULT"
	case CallError:
		return "CALLERROR"
	}
	return "MessageType(" + strconv.Itoa(int(t)) + ")"
}

// MaxIDLength is the longest unique message id OCPP-J allows.
const MaxIDLength = 36

// Frame is one parsed OCPP-J message.
type Frame struct {
	Type MessageType
	ID   string
	// Action is set for a CALL.
	Action string
	// Payload is the JSON object of a CALL or CALLRESULT.
	Payload json.RawMessage
	// Error is set for a CALLERROR.
	Error *Error
}

// FrameError says why a frame could not be parsed, and with which code and
// id the peer should be answered.
type FrameError struct {
	// ID is the frame's message id where one could be read, else "".
	ID string
	// Type is the frame's message type where one could be read, else 0.
	Type MessageType
	Code ErrorCode
	Msg  string
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("ocppj: bad frame (%s): %s", e.Code, e.Msg)
}

// ParseFrame parses one OCPP-J frame. It checks the frame's shape only, not
// what an action's payload holds. The codes it reports:
//
//   - FormationViolation: not JSON, not an array, a message type or id of
//     the wrong JSON type, an id longer than [MaxIDLength], too many
//     elements, or a payload or error details that is not a JSON object;
//   - ProtocolError: an unknown message type, or too few elements for the
//     message type.
func ParseFrame(data []byte) (Frame, *FrameError) {
	var elems []json.RawMessage
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '[' {
		return Frame{}, &FrameError{Code: FormationViolation, Msg: "not a JSON array"}
	}
	if err := json.Unmarshal(data, &elems); err != nil {
		return Frame{}, &FrameError{Code: FormationViolation, Msg: "not a JSON array: " + err.Error()}
	}
	if len(elems) == 0 {
		return Frame{}, &FrameError{Code: FormationViolation, Msg: "empty array"}
	}
	var f Frame
	typ, ok := parseMessageType(elems[0])
	if !ok {
		return Frame{}, &FrameError{Code: FormationViolation, Msg: "message type is not an integer"}
	}
	f.Type = typ
	if len(elems) < 2 {
		return Frame{}, &FrameError{Type: typ, Code: ProtocolError, Msg: "no message id"}
	}
	if err := json.Unmarshal(elems[1], &f.ID); err != nil || !isString(elems[1]) {
		return Frame{}, &FrameError{Type: typ, Code: FormationViolation, Msg: "message id is not a string"}
	}
	fail := func(code ErrorCode, format string, args ...any) (Frame, *FrameError) {
		return Frame{}, &FrameError{ID: f.ID, Type: typ, Code: code, Msg: fmt.Sprintf(format, args...)}
	}
	if f.ID == "" {
		return fail(FormationViolation, "empty message id")
	}
	if len(f.ID) > MaxIDLength {
		return fail(FormationViolation, "message id longer than %d characters", MaxIDLength)
	}

	var want int
	switch typ {
	case Call:
		want = 4
	case CallResult:
		want = 3
	case CallError:
		want = 5
	default:
		return fail(ProtocolError, "unknown message type %d", int(typ))
	}
	if len(elems) < want {
		return fail(ProtocolError, "%s has %d elements, want %d", typ, len(elems), want)
	}
	if len(elems) > want {
		return fail(FormationViolation, "%s has %d elements, want %d", typ, len(elems), want)
	}

	switch typ {
	case Call:
		if !isString(elems[2]) {
			return fail(FormationViolation, "action is not a string")
		}
		if err := json.Unmarshal(elems[2], &f.Action); err != nil || f.Action == "" {
			return fail(FormationViolation, "action is not a non-empty string")
		}
		if !isObject(elems[3]) {
			return fail(FormationViolation, "payload is not a JSON object")
		}
		f.Payload = elems[3]
	case CallResult:
		if !isObject(elems[2]) {
			return fail(FormationViolation, "payload is not a JSON object")
		}
		f.Payload = elems[2]
	case CallError:
		e := &Error{}
		var code string
		if !isString(elems[2]) || json.Unmarshal(elems[2], &code) != nil {
			return fail(FormationViolation, "error code is not a string")
		}
		e.Code = ErrorCode(code)
		if !isString(elems[3]) || json.Unmarshal(elems[3], &e.Description) != nil {
			return fail(FormationViolation, "error description is not a string")
		}
		if !isObject(elems[4]) {
			return fail(FormationViolation, "error details is not a JSON object")
		}
		e.Details = elems[4]
		f.Error = e
	}
	return f, nil
}

// parseMessageType accepts a JSON number with an integral value.
func parseMessageType(raw json.RawMessage) (MessageType, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false
	}
	n, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || n != float64(int(n)) {
		return 0, false
	}
	return MessageType(int(n)), true
}

func isString(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '"'
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// AppendCall appends the encoding of a CALL frame to b.
func AppendCall(b []byte, id, action string, payload json.RawMessage) []byte {
	b = append(b, `[2,`...)
	b = appendJSONString(b, id)
	b = append(b, ',')
	b = appendJSONString(b, action)
	b = append(b, ',')
	b = appendPayload(b, payload)
	return append(b, ']')
}

// AppendCallResult appends the encoding of a CALLRESULT frame to b.
func AppendCallResult(b []byte, id string, payload json.RawMessage) []byte {
	b = append(b, `[3,`...)
	b = appendJSONString(b, id)
	b = append(b, ',')
	b = appendPayload(b, payload)
	return append(b, ']')
}

// AppendCallError appends the encoding of a CALLERROR frame to b.
func AppendCallError(b []byte, id string, e *Error) []byte {
	b = append(b, `[4,`...)
	b = appendJSONString(b, id)
	b = append(b, ',')
	b = appendJSONString(b, string(e.Code))
	b = append(b, ',')
	b = appendJSONString(b, e.Description)
	b = append(b, ',')
	b = appendPayload(b, e.Details)
	return append(b, ']')
}

func appendPayload(b []byte, payload json.RawMessage) []byte {
	if len(bytes.TrimSpace(payload)) == 0 {
		return append(b, "{}"...)
	}
	return append(b, payload...)
}

func appendJSONString(b []byte, s string) []byte {
	enc, _ := json.Marshal(s) // a string always marshals
	return append(b, enc...)
}
