package ocppj

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Requirement 2: frames and unique ids.
func TestCallFramesAndUniqueIDs(t *testing.T) {
	s := newCSMS(t, false)
	c, _, _ := startClient(t, Options{URL: s.URL()})
	cc := s.next(t)

	const callers, perCaller = 4, 100
	var wg sync.WaitGroup
	errs := make(chan error, callers*perCaller)
	for g := range callers {
		wg.Go(func() {
			for i := range perCaller {
				want := fmt.Sprintf(`{"g":%d,"i":%d}`, g, i)
				got, err := c.Call(context.Background(), "Echo", json.RawMessage(want))
				if err != nil || string(got) != want {
					errs <- fmt.Errorf("Call = %s, %v; want %s", got, err, want)
				}
			}
		})
	}
	ids := map[string]bool{}
	for range callers * perCaller {
		f := cc.readCall(t, "Echo")
		if ids[f.ID] {
			t.Fatalf("id %q used twice", f.ID)
		}
		if len(f.ID) > MaxIDLength {
			t.Fatalf("id %q longer than %d", f.ID, MaxIDLength)
		}
		ids[f.ID] = true
		cc.answer(t, f.ID, string(f.Payload))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Requirement 2: CALLERROR answers come back as *Error.
func TestCallError(t *testing.T) {
	s := newCSMS(t, false)
	c, _, _ := startClient(t, Options{URL: s.URL()})
	cc := s.next(t)
	res := callAsync(context.Background(), c, "StartTransaction", `{"connectorId":1}`)
	f := cc.readCall(t, "StartTransaction")
	if string(f.Payload) != `{"connectorId":1}` {
		t.Errorf("payload %s", f.Payload)
	}
	cc.send(t, `[4,"`+f.ID+`","PropertyConstraintViolation","bad connector",{"connectorId":1}]`)
	r := await(t, res)
	var e *rpc.Error
	if !errors.As(r.err, &e) || e.Code != rpc.PropertyConstraintViolation || e.Description != "bad connector" || string(e.Details) != `{"connectorId":1}` {
		t.Errorf("Call returned %v, want the CALLERROR", r.err)
	}
}

func TestCallNilPayloadSendsObject(t *testing.T) {
	s := newCSMS(t, false)
	c, _, _ := startClient(t, Options{URL: s.URL()})
	cc := s.next(t)
	res := callAsync(context.Background(), c, "Heartbeat", ``)
	raw := cc.read(t)
	f, _ := ParseFrame([]byte(raw))
	if !strings.HasSuffix(raw, `"Heartbeat",{}]`) {
		t.Errorf("frame %s", raw)
	}
	cc.answer(t, f.ID, `{"currentTime":"2025-01-01T00:00:00Z"}`)
	if r := await(t, res); r.err != nil || string(r.payload) != `{"currentTime":"2025-01-01T00:00:00Z"}` {
		t.Errorf("Call = %s, %v", r.payload, r.err)
	}
}

func TestCallRefusesBadArguments(t *testing.T) {
	c, err := NewClient(Options{URL: "ws://127.0.0.1:1", ID: "CP1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{`[1]`, `"s"`, `{"a":`, `{} {}`, `null`} {
		if _, err := c.Call(context.Background(), "A", json.RawMessage(p)); err == nil {
			t.Errorf("Call with payload %s: no error", p)
		}
	}
	if _, err := c.Call(context.Background(), "", nil); err == nil {
		t.Error("Call without action: no error")
	}
	if c.queued() != 0 {
		t.Error("a refused call was queued")
	}
}

// Requirement 3: one CALL out at a time; the next waits for the answer.
func TestOneCallAtATime(t *testing.T) {
	s := newCSMS(t, false)
	c, _, _ := startClient(t, Options{URL: s.URL()})
	cc := s.next(t)
	r1 := callAsync(context.Background(), c, "First", `{}`)
	f1 := cc.readCall(t, "First")
	r2 := callAsync(context.Background(), c, "Second", `{}`)
	waitUntil(t, "second call queued", func() bool { return c.queued() == 1 })
	cc.noFrame(t, short)
	cc.answer(t, f1.ID, `{"n":1}`)
	f2 := cc.readCall(t, "Second")
	cc.answer(t, f2.ID, `{"n":2}`)
	if r := await(t, r1); r.err != nil || string(r.payload) != `{"n":1}` {
		t.Errorf("first Call = %s, %v", r.payload, r.err)
	}
	if r := await(t, r2); r.err != nil || string(r.payload) != `{"n":2}` {
		t.Errorf("second Call = %s, %v", r.payload, r.err)
	}
}

// Requirement 3: many callers that enqueue in a known order are served in
// that order, one at a time.
func TestCallOrder(t *testing.T) {
	s := newCSMS(t, false)
	c, _, _ := startClient(t, Options{URL: s.URL()})
	cc := s.next(t)
	const n = 30
	results := make([]<-chan asyncResult, n)
	results[0] = callAsync(context.Background(), c, "A0", `{}`)
	first := cc.readCall(t, "A0")
	for i := 1; i < n; i++ {
		results[i] = callAsync(context.Background(), c, "A"+strconv.Itoa(i), `{}`)
		waitUntil(t, "call queued", func() bool { return c.queued() == i })
	}
	f := first
	for i := range n {
		if i > 0 {
			f = cc.readCall(t, "A"+strconv.Itoa(i))
		}
		if len(cc.msgs) != 0 {
			t.Fatalf("a CALL came while %s was outstanding", f.Action)
		}
		cc.answer(t, f.ID, `{"i":`+strconv.Itoa(i)+`}`)
	}
	for i, ch := range results {
		if r := await(t, ch); r.err != nil || string(r.payload) != `{"i":`+strconv.Itoa(i)+`}` {
			t.Errorf("call %d = %s, %v", i, r.payload, r.err)
		}
	}
}

// Requirement 4: a call times out, the next goes out, the late answer is
// dropped.
func TestCallTimeout(t *testing.T) {
	s := newCSMS(t, false)
	const timeout = 200 * time.Millisecond
	c, rec, _ := startClient(t, Options{URL: s.URL(), CallTimeout: timeout})
	cc := s.next(t)
	start := time.Now()
	r1 := callAsync(context.Background(), c, "Slow", `{}`)
	f1 := cc.readCall(t, "Slow")
	r2 := callAsync(context.Background(), c, "Next", `{}`)
	waitUntil(t, "second call queued", func() bool { return c.queued() == 1 })

	if r := await(t, r1); !errors.Is(r.err, ErrTimeout) {
		t.Fatalf("first Call returned %s, %v; want ErrTimeout", r.payload, r.err)
	}
	if d := time.Since(start); d < timeout {
		t.Errorf("timed out after %v, before %v", d, timeout)
	}
	f2 := cc.readCall(t, "Next")
	cc.answer(t, f1.ID, `{"late":true}`)
	cc.answer(t, f2.ID, `{"next":true}`)
	if r := await(t, r2); r.err != nil || string(r.payload) != `{"next":true}` {
		t.Errorf("second Call = %s, %v", r.payload, r.err)
	}
	rec.wait(t, "dropped an answer to no outstanding call", f1.ID)
	rec.wait(t, "call timed out", f1.ID)
}

// A caller that gives up while queued leaves the queue; one that gives up
// after its CALL was sent still holds the line until the answer.
func TestCallContextEnds(t *testing.T) {
	s := newCSMS(t, false)
	c, _, _ := startClient(t, Options{URL: s.URL()})
	cc := s.next(t)
	ctx1, cancel1 := context.WithCancel(context.Background())
	r1 := callAsync(ctx1, c, "Sent", `{}`)
	f1 := cc.readCall(t, "Sent")
	ctx2, cancel2 := context.WithCancel(context.Background())
	r2 := callAsync(ctx2, c, "Queued", `{}`)
	waitUntil(t, "queued", func() bool { return c.queued() == 1 })
	cancel2()
	if r := await(t, r2); !errors.Is(r.err, context.Canceled) {
		t.Errorf("queued Call returned %v", r.err)
	}
	if c.queued() != 0 {
		t.Errorf("%d calls queued after the caller left", c.queued())
	}
	cancel1()
	if r := await(t, r1); !errors.Is(r.err, context.Canceled) {
		t.Errorf("sent Call returned %v", r.err)
	}
	r3 := callAsync(context.Background(), c, "Third", `{}`)
	waitUntil(t, "third call queued", func() bool { return c.queued() == 1 })
	cc.noFrame(t, short) // the line is still held by "Sent"
	cc.answer(t, f1.ID, `{}`)
	f3 := cc.readCall(t, "Third")
	cc.answer(t, f3.ID, `{"ok":3}`)
	if r := await(t, r3); r.err != nil || string(r.payload) != `{"ok":3}` {
		t.Errorf("third Call = %s, %v", r.payload, r.err)
	}
}

// Requirement 5: the central system's CALLs are handled in arrival order.
func TestIncomingCallsInOrder(t *testing.T) {
	s := newCSMS(t, false)
	var mu sync.Mutex
	var seen []string
	h := rpc.HandlerFunc(func(_ context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
		mu.Lock()
		seen = append(seen, action)
		mu.Unlock()
		return payload, nil
	})
	startClient(t, Options{URL: s.URL(), Handler: h})
	cc := s.next(t)
	const n = 40
	for i := range n {
		cc.send(t, fmt.Sprintf(`[2,"s%d","Act%d",{"n":%d}]`, i, i, i))
	}
	for i := range n {
		f := cc.readFrame(t)
		if f.Type != CallResult || f.ID != "s"+strconv.Itoa(i) || string(f.Payload) != fmt.Sprintf(`{"n":%d}`, i) {
			t.Fatalf("answer %d: %v %s %s", i, f.Type, f.ID, f.Payload)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, a := range seen {
		if a != "Act"+strconv.Itoa(i) {
			t.Fatalf("handler saw %v", seen)
		}
	}
}

// Requirement 6: answers for unknown ids are logged and dropped.
func TestUnknownAnswersDropped(t *testing.T) {
	s := newCSMS(t, false)
	c, rec, _ := startClient(t, Options{URL: s.URL(), Handler: echoHandler})
	cc := s.next(t)
	cc.send(t, `[3,"nobody",{}]`)
	cc.send(t, `[4,"nobody2","GenericError","",{}]`)
	rec.wait(t, "WARN", "dropped an answer to no outstanding call", "nobody")
	rec.wait(t, "WARN", "dropped an answer to no outstanding call", "nobody2")

	// And while a call is outstanding.
	res := callAsync(context.Background(), c, "A", `{}`)
	f := cc.readCall(t, "A")
	cc.send(t, `[3,"someone-else",{"wrong":true}]`)
	cc.send(t, `[4,"someone-else","GenericError","",{}]`)
	cc.answer(t, f.ID, `{"right":true}`)
	if r := await(t, res); r.err != nil || string(r.payload) != `{"right":true}` {
		t.Errorf("Call = %s, %v", r.payload, r.err)
	}
	checkAlive(t, c, cc)
}

// checkAlive: the client answers a good CALL and completes one of its own.
func checkAlive(t *testing.T, c *Client, cc *csmsConn) {
	t.Helper()
	cc.send(t, `[2,"alive-1","Echo",{"alive":1}]`)
	f := cc.readFrame(t)
	if f.Type != CallResult || f.ID != "alive-1" || string(f.Payload) != `{"alive":1}` {
		t.Fatalf("answer to a good CALL: %v %q %s %v", f.Type, f.ID, f.Payload, f.Error)
	}
	res := callAsync(context.Background(), c, "Alive", `{}`)
	f = cc.readCall(t, "Alive")
	cc.answer(t, f.ID, `{"alive":2}`)
	if r := await(t, res); r.err != nil || string(r.payload) != `{"alive":2}` {
		t.Fatalf("own Call = %s, %v", r.payload, r.err)
	}
}

var echoHandler = rpc.HandlerFunc(func(_ context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
	return payload, nil
})

// Requirement 10: what a handler returns becomes the right answer, and a
// panic does not end the connection.
func TestHandlerErrors(t *testing.T) {
	s := newCSMS(t, false)
	h := rpc.HandlerFunc(func(_ context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
		switch action {
		case "Echo":
			return payload, nil
		case "Nil":
			return nil, nil
		case "Security":
			return nil, rpc.Errorf(rpc.SecurityError, "not you")
		case "Wrapped":
			return nil, fmt.Errorf("context: %w", &rpc.Error{Code: rpc.NotSupported, Description: "nope", Details: json.RawMessage(`{"why":1}`)})
		case "Plain":
			return nil, errors.New("disk on fire")
		case "NilError":
			var e *rpc.Error
			return nil, e
		case "UnknownCode":
			return nil, &rpc.Error{Code: "Bogus"}
		case "BadDetails":
			return nil, &rpc.Error{Code: rpc.NotSupported, Details: json.RawMessage(`{"a":`)}
		case "BadPayload":
			return json.RawMessage(`[1,2]`), nil
		case "BrokenPayload":
			return json.RawMessage(`{"a":`), nil
		case "Panic":
			panic("boom")
		case "PanicNil":
			panic(nil)
		}
		return nil, rpc.Errorf(rpc.NotImplemented, "")
	})
	_, rec, _ := startClient(t, Options{URL: s.URL(), Handler: h})
	cc := s.next(t)
	tests := []struct {
		action  string
		code    rpc.ErrorCode // "" for a CALLRESULT
		payload string
		details string
	}{
		{"Echo", "", `{"x":1}`, ""},
		{"Nil", "", `{}`, ""},
		{"Security", rpc.SecurityError, "", `{}`},
		{"Wrapped", rpc.NotSupported, "", `{"why":1}`},
		{"Plain", rpc.InternalError, "", `{}`},
		{"NilError", rpc.InternalError, "", `{}`},
		{"UnknownCode", rpc.InternalError, "", `{}`},
		{"BadDetails", rpc.NotSupported, "", `{}`},
		{"BadPayload", rpc.InternalError, "", `{}`},
		{"BrokenPayload", rpc.InternalError, "", `{}`},
		{"Panic", rpc.InternalError, "", `{}`},
		{"PanicNil", rpc.InternalError, "", `{}`},
		{"Other", rpc.NotImplemented, "", `{}`},
		{"Echo", "", `{"still":"alive"}`, ""},
	}
	for i, tt := range tests {
		id := "h" + strconv.Itoa(i)
		payload := tt.payload
		if payload == "" {
			payload = `{"x":1}`
		}
		cc.send(t, string(AppendCall(nil, id, tt.action, json.RawMessage(payload))))
		f := cc.readFrame(t)
		if f.ID != id {
			t.Fatalf("%s: answer for id %q, want %q", tt.action, f.ID, id)
		}
		if tt.code == "" {
			if f.Type != CallResult || string(f.Payload) != payload {
				t.Errorf("%s: got %v %s %v, want CALLRESULT %s", tt.action, f.Type, f.Payload, f.Error, payload)
			}
			continue
		}
		if f.Type != CallError || f.Error.Code != tt.code || string(f.Error.Details) != tt.details {
			t.Errorf("%s: got %v %s %+v, want CALLERROR %s %s", tt.action, f.Type, f.Payload, f.Error, tt.code, tt.details)
		}
	}
	rec.wait(t, "ERROR", "handler panicked", "boom")
	if e := tests[4]; !rec.has("handler failed", "disk on fire") {
		t.Errorf("%s not logged", e.action)
	}
}

func TestNilHandlerAnswersNotImplemented(t *testing.T) {
	s := newCSMS(t, false)
	startClient(t, Options{URL: s.URL()})
	cc := s.next(t)
	cc.send(t, `[2,"x","Reset",{"type":"Hard"}]`)
	f := cc.readFrame(t)
	if f.Type != CallError || f.ID != "x" || f.Error.Code != rpc.NotImplemented {
		t.Errorf("got %v %q %+v", f.Type, f.ID, f.Error)
	}
}

// Requirement 10: nothing a peer sends crashes or wedges the client.
func TestHostileFrames(t *testing.T) {
	s := newCSMS(t, false)
	const readLimit = 64 << 10
	c, _, _ := startClient(t, Options{URL: s.URL(), Handler: echoHandler, ReadLimit: readLimit, MinBackoff: 10 * time.Millisecond})
	cc := s.next(t)
	long37 := strings.Repeat("y", 37)
	tests := []struct {
		name   string
		binary bool
		frame  string
		// the CALLERROR expected, or "" for none
		code rpc.ErrorCode
		id   string
	}{
		{name: "binary", binary: true, frame: `[2,"b","Echo",{}]`},
		{name: "binary garbage", binary: true, frame: "\x00\xff\x10"},
		{name: "not json", frame: `hello`, code: rpc.FormationViolation, id: "-1"},
		{name: "empty", frame: ``, code: rpc.FormationViolation, id: "-1"},
		{name: "object", frame: `{"a":1}`, code: rpc.FormationViolation, id: "-1"},
		{name: "null", frame: `null`, code: rpc.FormationViolation, id: "-1"},
		{name: "empty array", frame: `[]`, code: rpc.FormationViolation, id: "-1"},
		{name: "type only", frame: `[2]`, code: rpc.ProtocolError, id: "-1"},
		{name: "type string", frame: `["2","t","Echo",{}]`, code: rpc.FormationViolation, id: "-1"},
		{name: "type fraction", frame: `[2.5,"t","Echo",{}]`, code: rpc.FormationViolation, id: "-1"},
		{name: "type huge", frame: `[1e999,"t"]`, code: rpc.FormationViolation, id: "-1"},
		{name: "unknown type", frame: `[7,"u7",{}]`, code: rpc.ProtocolError, id: "u7"},
		{name: "id number", frame: `[2,12,"Echo",{}]`, code: rpc.FormationViolation, id: "-1"},
		{name: "id object", frame: `[2,{"a":1},"Echo",{}]`, code: rpc.FormationViolation, id: "-1"},
		{name: "id too long", frame: `[2,"` + long37 + `","Echo",{}]`, code: rpc.FormationViolation, id: "-1"},
		{name: "id huge", frame: `[2,"` + strings.Repeat("z", 60000) + `","Echo",{}]`, code: rpc.FormationViolation, id: "-1"},
		{name: "too few", frame: `[2,"f1","Echo"]`, code: rpc.ProtocolError, id: "f1"},
		{name: "too many", frame: `[2,"f2","Echo",{},{}]`, code: rpc.FormationViolation, id: "f2"},
		{name: "action number", frame: `[2,"f3",3,{}]`, code: rpc.FormationViolation, id: "f3"},
		{name: "payload array", frame: `[2,"f4","Echo",[1]]`, code: rpc.FormationViolation, id: "f4"},
		{name: "payload string", frame: `[2,"f5","Echo","x"]`, code: rpc.FormationViolation, id: "f5"},
		{name: "truncated", frame: `[2,"f6","Echo",{"a":[1,2`, code: rpc.FormationViolation, id: "-1"},
		{name: "trailing data", frame: `[2,"f7","Echo",{}]]`, code: rpc.FormationViolation, id: "-1"},
		{name: "deep nesting", frame: `[2,"f8","Echo",{"a":` + strings.Repeat("[", 30000) + strings.Repeat("]", 30000) + `}]`, code: rpc.FormationViolation, id: "-1"},
		{name: "deep nesting unclosed", frame: strings.Repeat("[", 60000), code: rpc.FormationViolation, id: "-1"},
		{name: "answer too short", frame: `[3,"r1"]`},
		{name: "answer bad payload", frame: `[3,"r2",5]`},
		{name: "answer unknown id", frame: `[3,"r3",{}]`},
		{name: "error unknown id", frame: `[4,"r4","GenericError","",{}]`},
		{name: "error bad code", frame: `[4,"r5",5,"",{}]`},
		{name: "error too short", frame: `[4]`},
	}
	for _, tt := range tests {
		typ := websocket.MessageText
		if tt.binary {
			typ = websocket.MessageBinary
		}
		if err := cc.conn.Write(context.Background(), typ, []byte(tt.frame)); err != nil {
			t.Fatalf("%s: write: %v", tt.name, err)
		}
		if tt.code != "" {
			f := cc.readFrame(t)
			if f.Type != CallError || f.ID != tt.id || f.Error.Code != tt.code {
				t.Errorf("%s: answered %v %q %+v, want CALLERROR %q %s", tt.name, f.Type, f.ID, f.Error, tt.id, tt.code)
			}
		}
		checkAlive(t, c, cc)
	}

	// A frame over the read limit closes the connection; the client comes
	// back.
	big := `[2,"big","Echo",{"a":"` + strings.Repeat("x", readLimit) + `"}]`
	cc.send(t, big)
	if err := cc.waitClosed(t); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("connection closed with %v, want status %d", err, websocket.StatusMessageTooBig)
	}
	cc = s.next(t)
	checkAlive(t, c, cc)
}

func TestTraceAndCallbacks(t *testing.T) {
	s := newCSMS(t, false)
	var mu sync.Mutex
	var trace []string
	connected := make(chan struct{}, 1)
	disconnected := make(chan error, 1)
	c, _, stop := startClient(t, Options{
		URL:     s.URL(),
		Handler: echoHandler,
		Trace: func(dir Direction, frame []byte) {
			mu.Lock()
			trace = append(trace, dir.String()+" "+string(frame))
			mu.Unlock()
		},
		OnConnect:    func() { connected <- struct{}{} },
		OnDisconnect: func(err error) { disconnected <- err },
	})
	cc := s.next(t)
	<-connected
	res := callAsync(context.Background(), c, "Heartbeat", `{}`)
	f := cc.readCall(t, "Heartbeat")
	cc.answer(t, f.ID, `{"t":1}`)
	await(t, res)
	cc.send(t, `[2,"in","Echo",{"e":1}]`)
	cc.readFrame(t)
	stop()
	if err := <-disconnected; !errors.Is(err, context.Canceled) {
		t.Errorf("OnDisconnect(%v)", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		`sent [2,"` + f.ID + `","Heartbeat",{}]`,
		`received [3,"` + f.ID + `",{"t":1}]`,
		`received [2,"in","Echo",{"e":1}]`,
		`sent [3,"in",{"e":1}]`,
	}
	if strings.Join(trace, "\n") != strings.Join(want, "\n") {
		t.Errorf("trace:\n%s\nwant:\n%s", strings.Join(trace, "\n"), strings.Join(want, "\n"))
	}
}

// A handler that returns ErrNoAnswer leaves the CALL unanswered; the
// connection goes on.
func TestErrNoAnswer(t *testing.T) {
	s := newCSMS(t, false)
	h := rpc.HandlerFunc(func(_ context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
		if action == "Silent" {
			return nil, fmt.Errorf("rejected: %w", rpc.ErrNoAnswer)
		}
		return payload, nil
	})
	c, _, _ := startClient(t, Options{URL: s.URL(), Handler: h})
	cc := s.next(t)
	cc.send(t, `[2,"q1","Silent",{}]`)
	cc.noFrame(t, short)
	checkAlive(t, c, cc)
}

// AfterAnswer runs its function once the answer is written, in the order
// registered; outside a handler it runs at once.
func TestAfterAnswer(t *testing.T) {
	s := newCSMS(t, false)
	var mu sync.Mutex
	var events []string
	note := func(e string) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}
	h := rpc.HandlerFunc(func(ctx context.Context, action string, payload json.RawMessage) (json.RawMessage, error) {
		rpc.AfterAnswer(ctx, func() { note("after 1 " + action) })
		rpc.AfterAnswer(ctx, func() { panic("in an AfterAnswer function") })
		rpc.AfterAnswer(ctx, func() { note("after 2 " + action) })
		note("handled " + action)
		if action == "Silent" {
			return nil, rpc.ErrNoAnswer
		}
		return payload, nil
	})
	c, rec, _ := startClient(t, Options{
		URL:     s.URL(),
		Handler: h,
		Trace: func(dir Direction, frame []byte) {
			if dir == Sent {
				note("sent " + string(frame))
			}
		},
	})
	cc := s.next(t)
	cc.send(t, `[2,"a1","Trigger",{}]`)
	cc.readFrame(t)
	cc.send(t, `[2,"a2","Silent",{}]`)
	checkAlive(t, c, cc) // after the silent CALL was handled
	rec.wait(t, "AfterAnswer function panicked")

	ran := false
	rpc.AfterAnswer(context.Background(), func() { ran = true })
	if !ran {
		t.Error("AfterAnswer outside a handler did not run at once")
	}

	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"handled Trigger", `sent [3,"a1",{}]`, "after 1 Trigger", "after 2 Trigger",
		"handled Silent", "after 1 Silent", "after 2 Silent",
	}
	if got := strings.Join(events[:len(want)], "\n"); got != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

// On a 2.0.1 connection malformed frames are answered with OCPP-J
// 2.0.1's codes: an unknown message type MessageTypeNotSupported, a frame
// whose id cannot be read RpcFrameworkError (id "-1"), the others in
// 2.0.1's spelling.
func TestMalformedFramesOverOCPP201GetItsCodes(t *testing.T) {
	s := newCSMS(t, false, withSubprotocols("ocpp2.0.1"))
	c, _, _ := startClient(t, Options{URL: s.URL(), Handler: echoHandler, Subprotocols: []string{"ocpp2.0.1"}, MinBackoff: 10 * time.Millisecond})
	cc := s.next(t)
	for _, tt := range []struct {
		name, frame, id string
		code            rpc.ErrorCode
	}{
		{"not json", `hello`, "-1", rpc.RpcFrameworkError},
		{"unknown type", `[7,"u7",{}]`, "u7", rpc.MessageTypeNotSupported},
		{"payload array", `[2,"f4","Echo",[1]]`, "f4", rpc.FormatViolation},
		{"too few", `[2,"f1","Echo"]`, "f1", rpc.ProtocolError},
	} {
		cc.send(t, tt.frame)
		f := cc.readFrame(t)
		if f.Type != CallError || f.ID != tt.id || f.Error.Code != tt.code {
			t.Errorf("%s: answered %v %q %+v, want CALLERROR %q %s", tt.name, f.Type, f.ID, f.Error, tt.id, tt.code)
		}
		checkAlive(t, c, cc)
	}
}
