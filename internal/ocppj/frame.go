package ocppj

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
	"math"
	"strconv"
	"unicode/utf8"
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

// MaxIDLength is the longest unique message id OCPP-J allows, in
// characters.
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
	Error *rpc.Error
}

// FrameError says why a frame could not be parsed, and with which code and
// id the peer should be answered.
type FrameError struct {
	// ID is the frame's message id where one could be read and is not
	// longer than [MaxIDLength], else "" (answer with id "-1").
	ID string
	// Type is the frame's message type where one could be read, else 0.
	Type MessageType
	Code rpc.ErrorCode
	Msg  string
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("ocppj: bad frame (%s): %s", e.Code, e.Msg)
}

// ParseFrame parses one OCPP-J frame. It checks the frame's shape only, not
// what an action's payload holds. The codes it reports:
//
//   - FormationViolation: not JSON, not an array, an empty array, a message
//     type that is not an integral JSON number that fits in an int, an id
//     that is not a non-empty string of at most [MaxIDLength] characters,
//     too many elements, an action, error code or error description that is
//     not a string (an action must not be empty), or a payload or error
//     details that is not a JSON object;
//   - ProtocolError: an unknown message type, or too few elements for the
//     message type.
//
// The Payload and Error.Details of the frame do not alias data.
func ParseFrame(data []byte) (Frame, *FrameError) { return parseFrame(data, false) }

// parseFrame is ParseFrame; with alias, the payload is a part of data, not
// a copy (the caller gives data up).
func parseFrame(data []byte, alias bool) (Frame, *FrameError) {
	clone := bytes.Clone
	if alias {
		clone = func(b []byte) []byte { return b }
	}
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '[' {
		return Frame{}, &FrameError{Code: rpc.FormationViolation, Msg: "not a JSON array"}
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v) // for the message only
		return Frame{}, &FrameError{Code: rpc.FormationViolation, Msg: fmt.Sprintf("not a JSON array: %v", err)}
	}
	var spans [maxElems + 1][]byte
	elems := splitArray(data, spans[:0])
	if len(elems) == 0 {
		return Frame{}, &FrameError{Code: rpc.FormationViolation, Msg: "empty array"}
	}
	var f Frame
	typ, ok := parseMessageType(elems[0])
	if !ok {
		return Frame{}, &FrameError{Code: rpc.FormationViolation, Msg: "message type is not an integer"}
	}
	f.Type = typ
	if len(elems) < 2 {
		return Frame{}, &FrameError{Type: typ, Code: rpc.ProtocolError, Msg: "no message id"}
	}
	if !isString(elems[1]) {
		return Frame{}, &FrameError{Type: typ, Code: rpc.FormationViolation, Msg: "message id is not a string"}
	}
	f.ID = decodeString(elems[1])
	fail := func(code rpc.ErrorCode, format string, args ...any) (Frame, *FrameError) {
		return Frame{}, &FrameError{ID: f.ID, Type: typ, Code: code, Msg: fmt.Sprintf(format, args...)}
	}
	if f.ID == "" {
		return fail(rpc.FormationViolation, "empty message id")
	}
	if utf8.RuneCountInString(f.ID) > MaxIDLength {
		// Echoing an over-long id would make the answer malformed too.
		return Frame{}, &FrameError{Type: typ, Code: rpc.FormationViolation, Msg: fmt.Sprintf("message id longer than %d characters", MaxIDLength)}
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
		return fail(rpc.ProtocolError, "unknown message type %d", int(typ))
	}
	if len(elems) < want {
		return fail(rpc.ProtocolError, "%s has %d elements, want %d", typ, len(elems), want)
	}
	if len(elems) > want {
		return fail(rpc.FormationViolation, "%s has more than %d elements", typ, want)
	}

	switch typ {
	case Call:
		if !isString(elems[2]) {
			return fail(rpc.FormationViolation, "action is not a string")
		}
		if f.Action = decodeString(elems[2]); f.Action == "" {
			return fail(rpc.FormationViolation, "action is an empty string")
		}
		if !isObject(elems[3]) {
			return fail(rpc.FormationViolation, "payload is not a JSON object")
		}
		f.Payload = clone(elems[3])
	case CallResult:
		if !isObject(elems[2]) {
			return fail(rpc.FormationViolation, "payload is not a JSON object")
		}
		f.Payload = clone(elems[2])
	case CallError:
		if !isString(elems[2]) {
			return fail(rpc.FormationViolation, "error code is not a string")
		}
		if !isString(elems[3]) {
			return fail(rpc.FormationViolation, "error description is not a string")
		}
		if !isObject(elems[4]) {
			return fail(rpc.FormationViolation, "error details is not a JSON object")
		}
		f.Error = &rpc.Error{
			Code:        rpc.ErrorCode(decodeString(elems[2])),
			Description: decodeString(elems[3]),
			Details:     bytes.Clone(elems[4]),
		}
	}
	return f, nil
}

// maxElems is the most elements a frame has.
const maxElems = 5

// splitArray appends to elems the elements of the JSON array data, which
// must be valid JSON, each without the white space around it; past
// maxElems+1 elements it stops.
func splitArray(data []byte, elems [][]byte) [][]byte {
	i := skipSpace(data, 0) + 1 // past '['
	i = skipSpace(data, i)
	if data[i] == ']' {
		return elems
	}
	for len(elems) <= maxElems {
		end := skipValue(data, i)
		elems = append(elems, data[i:end])
		i = skipSpace(data, end)
		if data[i] == ']' {
			break
		}
		i = skipSpace(data, i+1) // past ','
	}
	return elems
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the end of the valid JSON value that starts at i.
func skipValue(data []byte, i int) int {
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for ; i < len(data); i++ {
			switch data[i] {
			case '"':
				i = skipString(data, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for ; i < len(data); i++ { // a number, true, false or null
		switch data[i] {
		case ',', ']', '}', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// skipString returns the end of the JSON string that starts at i.
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// decodeString decodes a valid JSON string as encoding/json does.
func decodeString(raw []byte) string {
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return string(s)
	}
	var out string
	_ = json.Unmarshal(raw, &out) // valid: it cannot fail
	return out
}

// parseMessageType accepts a JSON number with an integral value that fits
// in an int.
func parseMessageType(raw []byte) (MessageType, bool) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false
	}
	if len(raw) <= 9 { // the usual case: a small integer
		n, neg := 0, raw[0] == '-'
		digits := raw
		if neg {
			digits = raw[1:]
		}
		small := len(digits) > 0
		for _, c := range digits {
			if c < '0' || c > '9' {
				small = false
				break
			}
			n = 10*n + int(c-'0')
		}
		if small {
			if neg {
				n = -n
			}
			return MessageType(n), true
		}
	}
	n, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || n != math.Trunc(n) || n < math.MinInt || n >= -math.MinInt {
		return 0, false
	}
	return MessageType(int(n)), true
}

func isString(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '"'
}

func isObject(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// AppendCall appends the encoding of a CALL frame to b. The payload must be
// a JSON object; an empty one is sent as {}. The same holds for the other
// Append functions.
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

// AppendCallError appends the encoding of a CALLERROR frame to b; e must not
// be nil.
func AppendCallError(b []byte, id string, e *rpc.Error) []byte {
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

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// frameCode201 is a frame error's code in OCPP-J 2.0.1: an unknown
// message type is MessageTypeNotSupported, a frame whose message id
// cannot be read RpcFrameworkError, the others 1.6's in 2.0.1's spelling.
func frameCode201(e *FrameError) rpc.ErrorCode {
	switch {
	case e.Type != 0 && e.Type != Call && e.Type != CallResult && e.Type != CallError:
		return rpc.MessageTypeNotSupported
	case e.ID == "":
		return rpc.RpcFrameworkError
	}
	return e.Code.To201()
}
