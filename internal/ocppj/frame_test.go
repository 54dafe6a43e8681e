package ocppj

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParseFrame(t *testing.T) {
	long36 := strings.Repeat("x", 36)
	long37 := strings.Repeat("x", 37)
	runes36 := strings.Repeat("é", 36) // 72 bytes, 36 characters
	tests := []struct {
		name string
		in   string
		want Frame
		// for a frame that does not parse:
		code rpc.ErrorCode
		id   string
		typ  MessageType
	}{
		{name: "call", in: `[2,"1","Heartbeat",{}]`,
			want: Frame{Type: Call, ID: "1", Action: "Heartbeat", Payload: json.RawMessage(`{}`)}},
		{name: "call with spaces", in: " \n[ 2 , \"a b\" , \"Authorize\" , {\"idTag\": \"X\"} ]\t",
			want: Frame{Type: Call, ID: "a b", Action: "Authorize", Payload: json.RawMessage(`{"idTag": "X"}`)}},
		{name: "call escaped strings", in: `[2,"\u0041\"","Data\\Transfer",{}]`,
			want: Frame{Type: Call, ID: `A"`, Action: `Data\Transfer`, Payload: json.RawMessage(`{}`)}},
		{name: "type as 2.0", in: `[2.0,"1","A",{}]`,
			want: Frame{Type: Call, ID: "1", Action: "A", Payload: json.RawMessage(`{}`)}},
		{name: "type as 3e0", in: `[3e0,"1",{}]`,
			want: Frame{Type: CallResult, ID: "1", Payload: json.RawMessage(`{}`)}},
		{name: "id of 36", in: `[3,"` + long36 + `",{"a":[1,2]}]`,
			want: Frame{Type: CallResult, ID: long36, Payload: json.RawMessage(`{"a":[1,2]}`)}},
		{name: "id of 36 characters", in: `[3,"` + runes36 + `",{}]`,
			want: Frame{Type: CallResult, ID: runes36, Payload: json.RawMessage(`{}`)}},
		{name: "callresult", in: `[3,"42",{"status":"Accepted"}]`,
			want: Frame{Type: CallResult, ID: "42", Payload: json.RawMessage(`{"status":"Accepted"}`)}},
		{name: "callerror", in: `[4,"7","NotSupported","no such thing",{"k":1}]`,
			want: Frame{Type: CallError, ID: "7", Error: &rpc.Error{Code: rpc.NotSupported, Description: "no such thing", Details: json.RawMessage(`{"k":1}`)}}},
		{name: "callerror unknown code kept", in: `[4,"7","Whatever","",{}]`,
			want: Frame{Type: CallError, ID: "7", Error: &rpc.Error{Code: "Whatever", Details: json.RawMessage(`{}`)}}},

		{name: "empty", in: ``, code: rpc.FormationViolation},
		{name: "spaces", in: "  \n", code: rpc.FormationViolation},
		{name: "not json", in: `hello`, code: rpc.FormationViolation},
		{name: "object", in: `{"a":1}`, code: rpc.FormationViolation},
		{name: "string", in: `"[2]"`, code: rpc.FormationViolation},
		{name: "null", in: `null`, code: rpc.FormationViolation},
		{name: "empty array", in: `[]`, code: rpc.FormationViolation},
		{name: "truncated", in: `[2,"1","A",{"a":`, code: rpc.FormationViolation},
		{name: "trailing garbage", in: `[2,"1","A",{}] x`, code: rpc.FormationViolation},
		{name: "two arrays", in: `[3,"1",{}][3,"1",{}]`, code: rpc.FormationViolation},
		{name: "type as string", in: `["2","1","A",{}]`, code: rpc.FormationViolation},
		{name: "type fractional", in: `[2.5,"1","A",{}]`, code: rpc.FormationViolation},
		{name: "type huge", in: `[1e400,"1","A",{}]`, code: rpc.FormationViolation},
		{name: "type null", in: `[null,"1","A",{}]`, code: rpc.FormationViolation},
		{name: "type only", in: `[2]`, code: rpc.ProtocolError, typ: Call},
		{name: "unknown type", in: `[5,"1",{}]`, code: rpc.ProtocolError, id: "1", typ: 5},
		{name: "type 0", in: `[0,"1"]`, code: rpc.ProtocolError, id: "1", typ: 0},
		{name: "negative type", in: `[-2,"1","A",{}]`, code: rpc.ProtocolError, id: "1", typ: -2},
		{name: "id number", in: `[2,1,"A",{}]`, code: rpc.FormationViolation, typ: Call},
		{name: "id null", in: `[2,null,"A",{}]`, code: rpc.FormationViolation, typ: Call},
		{name: "id empty", in: `[2,"","A",{}]`, code: rpc.FormationViolation, typ: Call},
		{name: "id too long", in: `[2,"` + long37 + `","A",{}]`, code: rpc.FormationViolation, typ: Call},
		{name: "id too long in characters", in: `[2,"` + runes36 + `x","A",{}]`, code: rpc.FormationViolation, typ: Call},
		{name: "call too short", in: `[2,"1","A"]`, code: rpc.ProtocolError, id: "1", typ: Call},
		{name: "call too long", in: `[2,"1","A",{},{}]`, code: rpc.FormationViolation, id: "1", typ: Call},
		{name: "action number", in: `[2,"1",7,{}]`, code: rpc.FormationViolation, id: "1", typ: Call},
		{name: "action empty", in: `[2,"1","",{}]`, code: rpc.FormationViolation, id: "1", typ: Call},
		{name: "payload array", in: `[2,"1","A",[]]`, code: rpc.FormationViolation, id: "1", typ: Call},
		{name: "payload string", in: `[2,"1","A","{}"]`, code: rpc.FormationViolation, id: "1", typ: Call},
		{name: "payload null", in: `[2,"1","A",null]`, code: rpc.FormationViolation, id: "1", typ: Call},
		{name: "result too short", in: `[3,"1"]`, code: rpc.ProtocolError, id: "1", typ: CallResult},
		{name: "result too long", in: `[3,"1",{},{}]`, code: rpc.FormationViolation, id: "1", typ: CallResult},
		{name: "result payload number", in: `[3,"1",1]`, code: rpc.FormationViolation, id: "1", typ: CallResult},
		{name: "error too short", in: `[4,"1","GenericError",""]`, code: rpc.ProtocolError, id: "1", typ: CallError},
		{name: "error too long", in: `[4,"1","GenericError","",{},1]`, code: rpc.FormationViolation, id: "1", typ: CallError},
		{name: "error code number", in: `[4,"1",5,"",{}]`, code: rpc.FormationViolation, id: "1", typ: CallError},
		{name: "error description null", in: `[4,"1","GenericError",null,{}]`, code: rpc.FormationViolation, id: "1", typ: CallError},
		{name: "error details array", in: `[4,"1","GenericError","",[]]`, code: rpc.FormationViolation, id: "1", typ: CallError},
		{name: "deep nesting", in: `[2,"1","A",{"a":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}]`, code: rpc.FormationViolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := sameAsReference([]byte(tt.in)); d != "" {
				t.Errorf("ParseFrame(%.80s) differs from the reference: %s", tt.in, d)
			}
			got, ferr := ParseFrame([]byte(tt.in))
			if tt.code == "" {
				if ferr != nil {
					t.Fatalf("ParseFrame(%s): %v", tt.in, ferr)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("ParseFrame(%s) (-want +got):\n%s", tt.in, diff)
				}
				return
			}
			if ferr == nil {
				t.Fatalf("ParseFrame(%.80s) = %+v, want a %s error", tt.in, got, tt.code)
			}
			if ferr.Code != tt.code || ferr.ID != tt.id || ferr.Type != tt.typ {
				t.Errorf("ParseFrame(%.80s) error = {code %s id %q type %d} (%v), want {code %s id %q type %d}",
					tt.in, ferr.Code, ferr.ID, ferr.Type, ferr, tt.code, tt.id, tt.typ)
			}
			if !cmp.Equal(got, Frame{}) {
				t.Errorf("ParseFrame(%.80s) returned a frame with its error: %+v", tt.in, got)
			}
		})
	}
}

// sameAsReference reports how ParseFrame and parseFrameReference disagree
// on data, or "".
func sameAsReference(data []byte) string {
	got, gerr := ParseFrame(data)
	want, werr := parseFrameReference(data)
	switch {
	case (gerr == nil) != (werr == nil):
		return fmt.Sprintf("ParseFrame: %+v, %v; reference: %+v, %v", got, gerr, want, werr)
	case gerr != nil:
		if gerr.Code != werr.Code || gerr.ID != werr.ID || gerr.Type != werr.Type {
			return fmt.Sprintf("ParseFrame: %v (id %q type %d); reference: %v (id %q type %d)", gerr, gerr.ID, gerr.Type, werr, werr.ID, werr.Type)
		}
	default:
		if diff := cmp.Diff(want, got); diff != "" {
			return "(-reference +ParseFrame):\n" + diff
		}
	}
	return ""
}

func TestParseFrameDoesNotAlias(t *testing.T) {
	in := []byte(`[4,"1","GenericError","d",{"a":1}]`)
	f, ferr := ParseFrame(in)
	if ferr != nil {
		t.Fatal(ferr)
	}
	for i := range in {
		in[i] = 'x'
	}
	if string(f.Error.Details) != `{"a":1}` || f.ID != "1" || f.Error.Description != "d" {
		t.Errorf("frame changed with its input: %+v %+v", f, f.Error)
	}
}

func TestAppendRoundTrip(t *testing.T) {
	tricky := "quote\" backslash\\ nl\n cr\r tab\t nul\x00 bell\x07 del\x7f é 😀 \u2028 <&> \xff\xfe end"
	trickyDecoded := strings.Replace(tricky, "\xff\xfe", "\uFFFD\uFFFD", 1) // each invalid byte
	tests := []struct {
		name string
		enc  []byte
		want Frame
	}{
		{"call", AppendCall(nil, "id-1", "Heartbeat", json.RawMessage(`{}`)),
			Frame{Type: Call, ID: "id-1", Action: "Heartbeat", Payload: json.RawMessage(`{}`)}},
		{"call nil payload", AppendCall(nil, "id-1", "Heartbeat", nil),
			Frame{Type: Call, ID: "id-1", Action: "Heartbeat", Payload: json.RawMessage(`{}`)}},
		{"call blank payload", AppendCall(nil, "id-1", "Heartbeat", json.RawMessage(" \n")),
			Frame{Type: Call, ID: "id-1", Action: "Heartbeat", Payload: json.RawMessage(`{}`)}},
		{"call tricky strings", AppendCall(nil, "i\"d\\\x01", tricky, json.RawMessage(`{"a":"b"}`)),
			Frame{Type: Call, ID: "i\"d\\\x01", Action: trickyDecoded, Payload: json.RawMessage(`{"a":"b"}`)}},
		{"result", AppendCallResult(nil, "9", json.RawMessage(`{"status":"Accepted"}`)),
			Frame{Type: CallResult, ID: "9", Payload: json.RawMessage(`{"status":"Accepted"}`)}},
		{"result nil", AppendCallResult(nil, "9", nil),
			Frame{Type: CallResult, ID: "9", Payload: json.RawMessage(`{}`)}},
		{"error", AppendCallError(nil, "-1", &rpc.Error{Code: rpc.FormationViolation, Description: tricky}),
			Frame{Type: CallError, ID: "-1", Error: &rpc.Error{Code: rpc.FormationViolation, Description: trickyDecoded, Details: json.RawMessage(`{}`)}}},
		{"error details", AppendCallError([]byte("prefix"), "5", &rpc.Error{Code: rpc.GenericError, Details: json.RawMessage(`{"x":[1]}`)})[len("prefix"):],
			Frame{Type: CallError, ID: "5", Error: &rpc.Error{Code: rpc.GenericError, Details: json.RawMessage(`{"x":[1]}`)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !json.Valid(tt.enc) {
				t.Fatalf("encoding is not valid JSON: %s", tt.enc)
			}
			got, ferr := ParseFrame(tt.enc)
			if ferr != nil {
				t.Fatalf("ParseFrame(%s): %v", tt.enc, ferr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("round trip of %s (-want +got):\n%s", tt.enc, diff)
			}
		})
	}
}

func TestAppendKeepsPrefix(t *testing.T) {
	b := AppendCallResult([]byte("abc"), "1", nil)
	if want := `abc[3,"1",{}]`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

// TestAppendJSONString checks the string encoder against encoding/json:
// both decode to the same string, and it is valid JSON.
func TestAppendJSONString(t *testing.T) {
	var all strings.Builder
	for c := range 256 {
		all.WriteByte(byte(c))
	}
	for _, s := range []string{"", "plain", all.String(), "\xed\xa0\x80", "a\xc3", "\u2028\u2029", "日本語", "\"\\/"} {
		enc := appendJSONString(nil, s)
		if !json.Valid(enc) {
			t.Errorf("%q encodes as invalid JSON %s", s, enc)
			continue
		}
		var got, want string
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatal(err)
		}
		ref, _ := json.Marshal(s)
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%q: decodes to %q, encoding/json's to %q", s, got, want)
		}
	}
}

func TestMessageTypeString(t *testing.T) {
	for typ, want := range map[MessageType]string{Call: "CALL", CallResult: "CALLRESULT", CallError: "CALLERROR", 7: "MessageType(7)"} {
		if got := typ.String(); got != want {
			t.Errorf("%d: got %q, want %q", int(typ), got, want)
		}
	}
}

// FuzzParseFrame: ParseFrame never panics and agrees with the reference
// parser; a frame it accepts encodes with the Append functions to one that
// parses to the same frame; a frame it refuses has a code to answer with,
// and that answer parses.
func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{
		`[2,"1","Heartbeat",{}]`,
		`[2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"}]`,
		`[3,"19223201",{"status":"Accepted","currentTime":"2013-02-01T20:53:32.486Z","interval":300}]`,
		`[4,"162376037","NotSupported","SetDisplayMessageRequest not implemented",{}]`,
		`[2.0,"1","A",{}]`,
		`[3e0,"x",{"a":[1,{"b":null}]}]`,
		`[2,"\u00e9\ud83d\ude00","A\"",{}]`,
		`[4,"1","GenericError","\n",{"k":"v"}]`,
		``, `[]`, `[2]`, `[5,"1"]`, `["2","1","A",{}]`, `[2,1,"A",{}]`, `[2,"1","A"]`,
		`[2,"1","A",{},1]`, `[2,"1","",{}]`, `[2,"1","A",[]]`, `[3,"1",null]`,
		`[4,"1",1,"",{}]`, `[2,"1","A",{"a":`, `{"a":1}`, `null`, `[1e400,"1"]`, `[-0,"1"]`,
		`[2,"` + strings.Repeat("x", 37) + `","A",{}]`,
		"[2,\"\xff\",\"A\",{}]",
		`[9223372036854775807,"1"]`, `[-9223372036854775808,"1"]`, `[18446744073709551616,"1"]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if d := sameAsReference(data); d != "" {
			t.Fatalf("ParseFrame(%q) differs from the reference: %s", data, d)
		}
		fr, ferr := ParseFrame(data)
		if ferr != nil {
			if ferr.Code != rpc.FormationViolation && ferr.Code != rpc.ProtocolError {
				t.Fatalf("ParseFrame(%q): code %s", data, ferr.Code)
			}
			if utf8.RuneCountInString(ferr.ID) > MaxIDLength {
				t.Fatalf("ParseFrame(%q): error id %q too long to answer with", data, ferr.ID)
			}
			id := ferr.ID
			if id == "" {
				id = "-1"
			}
			answer := AppendCallError(nil, id, &rpc.Error{Code: ferr.Code, Description: ferr.Msg})
			back, aerr := ParseFrame(answer)
			if aerr != nil || back.Type != CallError || back.Error.Code != ferr.Code {
				t.Fatalf("the answer to %q, %s, does not parse back: %v", data, answer, aerr)
			}
			return
		}
		if fr.ID == "" || utf8.RuneCountInString(fr.ID) > MaxIDLength {
			t.Fatalf("ParseFrame(%q) accepted id %q", data, fr.ID)
		}
		var enc []byte
		switch fr.Type {
		case Call:
			if fr.Action == "" || fr.Error != nil {
				t.Fatalf("ParseFrame(%q) = %+v", data, fr)
			}
			enc = AppendCall(nil, fr.ID, fr.Action, fr.Payload)
		case CallResult:
			if fr.Error != nil {
				t.Fatalf("ParseFrame(%q) = %+v", data, fr)
			}
			enc = AppendCallResult(nil, fr.ID, fr.Payload)
		case CallError:
			if fr.Error == nil || fr.Payload != nil {
				t.Fatalf("ParseFrame(%q) = %+v", data, fr)
			}
			enc = AppendCallError(nil, fr.ID, fr.Error)
		default:
			t.Fatalf("ParseFrame(%q) accepted type %d", data, fr.Type)
		}
		if !json.Valid(enc) {
			t.Fatalf("%q re-encodes as invalid JSON %q", data, enc)
		}
		again, ferr := ParseFrame(enc)
		if ferr != nil {
			t.Fatalf("%q re-encodes as %q, which does not parse: %v", data, enc, ferr)
		}
		if diff := cmp.Diff(fr, again); diff != "" {
			t.Fatalf("%q re-encodes as %q, which parses differently (-first +second):\n%s", data, enc, diff)
		}
	})
}

// parseFrameReference is the first ParseFrame, built on json.Unmarshal:
// slow but plainly right. The fuzz target and TestParseFrame check that
// ParseFrame agrees with it.
func parseFrameReference(data []byte) (Frame, *FrameError) {
	var elems []json.RawMessage
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '[' {
		return Frame{}, &FrameError{Code: rpc.FormationViolation, Msg: "not a JSON array"}
	}
	if err := json.Unmarshal(data, &elems); err != nil {
		return Frame{}, &FrameError{Code: rpc.FormationViolation, Msg: "not a JSON array: " + err.Error()}
	}
	if len(elems) == 0 {
		return Frame{}, &FrameError{Code: rpc.FormationViolation, Msg: "empty array"}
	}
	var f Frame
	typ, ok := parseMessageTypeReference(elems[0])
	if !ok {
		return Frame{}, &FrameError{Code: rpc.FormationViolation, Msg: "message type is not an integer"}
	}
	f.Type = typ
	if len(elems) < 2 {
		return Frame{}, &FrameError{Type: typ, Code: rpc.ProtocolError, Msg: "no message id"}
	}
	if err := json.Unmarshal(elems[1], &f.ID); err != nil || !isString(elems[1]) {
		return Frame{}, &FrameError{Type: typ, Code: rpc.FormationViolation, Msg: "message id is not a string"}
	}
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
		return fail(rpc.FormationViolation, "%s has %d elements, want %d", typ, len(elems), want)
	}

	switch typ {
	case Call:
		if !isString(elems[2]) {
			return fail(rpc.FormationViolation, "action is not a string")
		}
		if err := json.Unmarshal(elems[2], &f.Action); err != nil || f.Action == "" {
			return fail(rpc.FormationViolation, "action is not a non-empty string")
		}
		if !isObject(elems[3]) {
			return fail(rpc.FormationViolation, "payload is not a JSON object")
		}
		f.Payload = elems[3]
	case CallResult:
		if !isObject(elems[2]) {
			return fail(rpc.FormationViolation, "payload is not a JSON object")
		}
		f.Payload = elems[2]
	case CallError:
		e := &rpc.Error{}
		var code string
		if !isString(elems[2]) || json.Unmarshal(elems[2], &code) != nil {
			return fail(rpc.FormationViolation, "error code is not a string")
		}
		e.Code = rpc.ErrorCode(code)
		if !isString(elems[3]) || json.Unmarshal(elems[3], &e.Description) != nil {
			return fail(rpc.FormationViolation, "error description is not a string")
		}
		if !isObject(elems[4]) {
			return fail(rpc.FormationViolation, "error details is not a JSON object")
		}
		e.Details = elems[4]
		f.Error = e
	}
	return f, nil
}

// parseMessageTypeReference accepts a JSON number with an integral value
// that fits in an int.
func parseMessageTypeReference(raw json.RawMessage) (MessageType, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false
	}
	n, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || n != math.Trunc(n) || n < math.MinInt || n >= -math.MinInt {
		return 0, false
	}
	return MessageType(int(n)), true
}
