package csmstest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/evse-dev/evse/internal/ocpp16"
	"github.com/evse-dev/evse/internal/ocpp201"
	"github.com/evse-dev/evse/internal/ocppj"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

const (
	boot201 = `{"chargingStation":{"model":"M1","vendorName":"evse"},"reason":"PowerUp"}`
	boot16  = `{"chargePointModel":"M1","chargePointVendor":"evse"}`
)

// serve starts s on loopback and returns its URL; the test closes it.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	url, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return url
}

// dial connects an ocppj client offering subprotocols as id, and returns
// it once both sides have the connection; the test stops it.
func dial(t *testing.T, s *Server, url, id string, h rpc.Handler, subprotocols ...string) *ocppj.Client {
	t.Helper()
	up := make(chan struct{})
	var once sync.Once
	c, err := ocppj.NewClient(ocppj.Options{URL: url, ID: id, Subprotocols: subprotocols, Handler: h,
		CallTimeout: 5 * time.Second, HandshakeTimeout: 5 * time.Second,
		OnConnect: func() { once.Do(func() { close(up) }) }})
	if err != nil {
		t.Fatal(err)
	}
	run, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(run)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	ctx := ctxFor(t)
	if err := s.WaitConnected(ctx, id); err != nil {
		t.Fatal(err)
	}
	select {
	case <-up:
	case <-ctx.Done():
		t.Fatalf("%s: the client did not connect", id)
	}
	return c
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// violations returns the Invalid of every frame the charge point sent.
func violations(s *Server, cp string) []string {
	var out []string
	for _, r := range s.Records() {
		if r.ChargePoint == cp && r.Dir == FromChargePoint && r.Invalid != "" {
			out = append(out, r.Invalid)
		}
	}
	return out
}

func code(err error) rpc.ErrorCode {
	var e *rpc.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// TestA201StationBootsAndIsAnsweredIn201: a 2.0.1 client on loopback
// sends a valid BootNotification and gets a valid 2.0.1 answer with the
// configured interval; every frame is recorded with the subprotocol.
func TestA201StationBootsAndIsAnsweredIn201(t *testing.T) {
	s := New(Options{Subprotocols: []string{OCPP201}, HeartbeatInterval: 60})
	c := dial(t, s, serve(t, s), "CS1", nil, OCPP201)
	if sp, ok := s.Subprotocol("CS1"); !ok || sp != OCPP201 {
		t.Fatalf("Subprotocol = %q, %v", sp, ok)
	}
	got, err := c.Call(ctxFor(t), "BootNotification", json.RawMessage(boot201))
	if err != nil {
		t.Fatal(err)
	}
	v, err := ocpp201.DecodeResponse("BootNotification", got)
	if err != nil {
		t.Fatalf("answer %s: %v", got, err)
	}
	if r := v.(*ocpp201.BootNotificationResponse); r.Status != ocpp201.RegistrationStatusAccepted || r.Interval != 60 {
		t.Errorf("answer %s", got)
	}
	recs := s.Records()
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	for _, r := range recs {
		if r.Subprotocol != OCPP201 || r.Invalid != "" {
			t.Errorf("record %s: subprotocol %q, invalid %q", r.Raw, r.Subprotocol, r.Invalid)
		}
	}
	if _, ok := s.Subprotocol("CS2"); ok {
		t.Error("Subprotocol of a charge point never connected")
	}
}

// TestInvalid201CallsAreViolationsAnsweredWith201Codes: what breaks the
// 2.0.1 schemas, an action the CSMS sends and an unknown action are
// recorded as violations and answered with the codes of OCPP-J 2.0.1; a
// responder's 1.6 code is sent in its 2.0.1 spelling.
func TestInvalid201CallsAreViolationsAnsweredWith201Codes(t *testing.T) {
	s := New(Options{Subprotocols: []string{OCPP201}})
	s.Respond("DataTransfer", func(string, json.RawMessage) (json.RawMessage, *rpc.Error) {
		return nil, rpc.Errorf(rpc.FormationViolation, "refused")
	})
	c := dial(t, s, serve(t, s), "CS1", nil, OCPP201)
	for _, tc := range []struct {
		action, payload string
		want            rpc.ErrorCode
		violation       bool
	}{
		{"BootNotification", `{"chargingStation":{"model":"M1","vendorName":"evse"}}`, rpc.OccurrenceConstraintViolation, true},
		{"BootNotification", `{"chargingStation":{"model":"M1","vendorName":"evse"},"reason":"PowerUp","x":1}`, rpc.FormatViolation, true},
		{"Heartbeat", `{"customData":{}}`, rpc.OccurrenceConstraintViolation, true},
		{"StatusNotification", `{"timestamp":"2026-01-01T00:00:00Z","connectorStatus":"Free","evseId":1,"connectorId":1}`, rpc.PropertyConstraintViolation, true},
		{"RequestStartTransaction", `{"idToken":{"idToken":"T","type":"ISO14443"},"remoteStartId":1}`, rpc.NotSupported, true},
		{"StartTransaction", `{}`, rpc.NotImplemented, true},
		{"DataTransfer", `{"vendorId":"evse"}`, rpc.FormatViolation, false},
	} {
		from := len(s.Records())
		_, err := c.Call(ctxFor(t), tc.action, json.RawMessage(tc.payload))
		if code(err) != tc.want {
			t.Errorf("%s %s: %v, want %s", tc.action, tc.payload, err, tc.want)
		}
		r, err := s.WaitFor(ctxFor(t), from, IsCall("CS1", tc.action))
		if err != nil {
			t.Fatal(err)
		}
		if (r.Invalid != "") != tc.violation {
			t.Errorf("%s %s: recorded invalid %q", tc.action, tc.payload, r.Invalid)
		}
	}
}

// TestBad201FramesAreAnsweredWith201Codes: a frame whose message id cannot
// be read is answered RpcFrameworkError, one of an unknown message type
// MessageTypeNotSupported, a CALL that is not an object FormatViolation.
func TestBad201FramesAreAnsweredWith201Codes(t *testing.T) {
	s := New(Options{Subprotocols: []string{OCPP201}})
	url := serve(t, s)
	ws, _, err := websocket.Dial(ctxFor(t), url+"/RAW", &websocket.DialOptions{Subprotocols: []string{OCPP201}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	for _, tc := range []struct {
		frame, id string
		want      rpc.ErrorCode
	}{
		{`[2,5,"Heartbeat",{}]`, "-1", rpc.RpcFrameworkError},
		{`{"not":"an array"}`, "-1", rpc.RpcFrameworkError},
		{`[7,"m1",{}]`, "m1", rpc.MessageTypeNotSupported},
		{`[2,"m2","Heartbeat",[]]`, "m2", rpc.FormatViolation},
		{`[2,"m3","Heartbeat"]`, "m3", rpc.ProtocolError},
	} {
		if err := ws.Write(ctxFor(t), websocket.MessageText, []byte(tc.frame)); err != nil {
			t.Fatal(err)
		}
		_, data, err := ws.Read(ctxFor(t))
		if err != nil {
			t.Fatal(err)
		}
		f, ferr := ocppj.ParseFrame(data)
		if ferr != nil || f.Type != ocppj.CallError || f.ID != tc.id || f.Error.Code != tc.want {
			t.Errorf("%s answered %s, want a CALLERROR %s for %s", tc.frame, data, tc.want, tc.id)
		}
	}
	if n := len(violations(s, "RAW")); n != 5 {
		t.Errorf("%d violations recorded, want 5", n)
	}
}

// TestTheServersOrderPicksTheVersion: of the subprotocols both sides
// offer, the server agrees to its first, and the client sees the same.
func TestTheServersOrderPicksTheVersion(t *testing.T) {
	for _, order := range [][]string{{OCPP201, OCPP16}, {OCPP16, OCPP201}} {
		s := New(Options{Subprotocols: order})
		c := dial(t, s, serve(t, s), "CS1", nil, OCPP16, OCPP201)
		if sp, _ := s.Subprotocol("CS1"); sp != order[0] || c.Subprotocol() != order[0] {
			t.Errorf("server offering %v: agreed %q, client says %q", order, sp, c.Subprotocol())
		}
	}
}

// TestBothVersionsOnOneServer: a 1.6 and a 2.0.1 charge point on the same
// server each get their version's schemas, codes and default answers for
// the same action names; RespondVersion changes one version's answer,
// Respond both, Respond with nil restores the defaults.
func TestBothVersionsOnOneServer(t *testing.T) {
	s := New(Options{Subprotocols: []string{OCPP201, OCPP16}})
	url := serve(t, s)
	cp16 := dial(t, s, url, "CP16", nil, OCPP16)
	cs201 := dial(t, s, url, "CS201", nil, OCPP201)
	ctx := ctxFor(t)

	got, err := cp16.Call(ctx, "BootNotification", json.RawMessage(boot16))
	if err != nil || ocpp16.ValidateResponse("BootNotification", got) != nil {
		t.Errorf("1.6 BootNotification: %s, %v", got, err)
	}
	got, err = cs201.Call(ctx, "BootNotification", json.RawMessage(boot201))
	if err != nil || ocpp201.ValidateResponse("BootNotification", got) != nil {
		t.Errorf("2.0.1 BootNotification: %s, %v", got, err)
	}
	if _, err := cp16.Call(ctx, "BootNotification", json.RawMessage(`{"chargePointModel":"M1"}`)); code(err) != rpc.OccurenceConstraintViolation {
		t.Errorf("a missing property on 1.6: %v", err)
	}
	if _, err := cp16.Call(ctx, "Authorize", json.RawMessage(`{"idTag":"T","x":1}`)); code(err) != rpc.FormationViolation {
		t.Errorf("an extra property on 1.6: %v", err)
	}
	authorize := map[*ocppj.Client]string{cp16: `{"idTag":"T"}`, cs201: `{"idToken":{"idToken":"T","type":"ISO14443"}}`}
	valid := map[*ocppj.Client]func(string, json.RawMessage) error{cp16: ocpp16.ValidateResponse, cs201: ocpp201.ValidateResponse}
	for c, p := range authorize {
		if got, err := c.Call(ctx, "Authorize", json.RawMessage(p)); err != nil || valid[c]("Authorize", got) != nil {
			t.Errorf("%s Authorize: %s, %v", c.Subprotocol(), got, err)
		}
	}

	dataTransfer := func(c *ocppj.Client) string {
		got, err := c.Call(ctx, "DataTransfer", json.RawMessage(`{"vendorId":"evse"}`))
		if err != nil {
			t.Fatal(err)
		}
		return string(got)
	}
	s.RespondVersion(OCPP201, "DataTransfer", Static(`{"status":"Accepted"}`))
	if a, b := dataTransfer(cp16), dataTransfer(cs201); !strings.Contains(a, "UnknownVendorId") || !strings.Contains(b, `"Accepted"`) {
		t.Errorf("RespondVersion(2.0.1): 1.6 got %s, 2.0.1 got %s", a, b)
	}
	s.Respond("DataTransfer", Static(`{"status":"Rejected"}`))
	if a, b := dataTransfer(cp16), dataTransfer(cs201); !strings.Contains(a, "Rejected") || !strings.Contains(b, "Rejected") {
		t.Errorf("Respond: 1.6 got %s, 2.0.1 got %s", a, b)
	}
	s.Respond("DataTransfer", nil)
	if a, b := dataTransfer(cp16), dataTransfer(cs201); !strings.Contains(a, "UnknownVendorId") || !strings.Contains(b, "UnknownVendorId") {
		t.Errorf("Respond(nil): 1.6 got %s, 2.0.1 got %s", a, b)
	}
	if v := violations(s, "CS201"); len(v) != 0 {
		t.Errorf("violations on 2.0.1: %q", v)
	}
	for _, r := range s.Records() {
		if want := map[string]string{"CP16": OCPP16, "CS201": OCPP201}[r.ChargePoint]; r.Subprotocol != want {
			t.Errorf("%s record %s: subprotocol %q", r.ChargePoint, r.Raw, r.Subprotocol)
		}
	}
}

// TestRespondVersionRefusesAnUnknownSubprotocol: a typo is a panic, not a
// responder that never answers.
func TestRespondVersionRefusesAnUnknownSubprotocol(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	New(Options{}).RespondVersion("ocpp2.0", "Heartbeat", nil)
}

// TestEveryDefaultAnswerIsValid: every action a 2.0.1 charging station
// sends has a default answer, valid per the 2.0.1 schemas (TransactionEvent
// with and without an idToken); the 1.6 defaults are valid per 1.6.
func TestEveryDefaultAnswerIsValid(t *testing.T) {
	s := New(Options{})
	for _, a := range ocpp201.Actions() {
		if !a.SentBy(ocpp201.InitiatorChargingStation) {
			continue
		}
		r := s.responder(v201, a.Name)
		if r == nil {
			t.Errorf("2.0.1 %s: no default answer", a.Name)
			continue
		}
		got, e := r("CS1", json.RawMessage(`{}`))
		if e != nil || ocpp201.ValidateResponse(a.Name, got) != nil {
			t.Errorf("2.0.1 %s: %s, %v, %v", a.Name, got, e, ocpp201.ValidateResponse(a.Name, got))
		}
	}
	started := `{"eventType":"Started","timestamp":"2026-01-01T00:00:00Z","triggerReason":"Authorized","seqNo":0,` +
		`"transactionInfo":{"transactionId":"t1"},"idToken":{"idToken":"T","type":"ISO14443"}}`
	if ocpp201.ValidateRequest("TransactionEvent", json.RawMessage(started)) != nil {
		t.Fatal("the sample TransactionEvent is not valid")
	}
	got, _ := s.responder(v201, "TransactionEvent")("CS1", json.RawMessage(started))
	v, err := ocpp201.DecodeResponse("TransactionEvent", got)
	if err != nil || v.(*ocpp201.TransactionEventResponse).IdTokenInfo == nil {
		t.Errorf("TransactionEvent with an idToken answered %s (%v)", got, err)
	}
	for a, r := range s.defaults[v16] {
		got, e := r("CP1", json.RawMessage(`{}`))
		if e != nil || ocpp16.ValidateResponse(a, got) != nil {
			t.Errorf("1.6 %s: %s, %v", a, got, e)
		}
	}
}

// TestCallsToA201StationAreCheckedIn201: the answers to the server's CALLs
// are checked against the 2.0.1 response schemas and CALLERROR codes;
// SignCSRs sends 2.0.1's CertificateSigned, with the certificateType
// asked for.
func TestCallsToA201StationAreCheckedIn201(t *testing.T) {
	ca, err := NewCA("evse test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{Subprotocols: []string{OCPP201}})
	s.SignCSRs(ca, time.Hour)
	var mu sync.Mutex
	signed := make(chan json.RawMessage, 1)
	resetAnswer := `{"status":"Accepted"}`
	h := rpc.HandlerFunc(func(_ context.Context, action string, p json.RawMessage) (json.RawMessage, error) {
		switch action {
		case "CertificateSigned":
			signed <- p
			return json.RawMessage(`{"status":"Accepted"}`), nil
		case "Reset":
			mu.Lock()
			defer mu.Unlock()
			if resetAnswer == "" {
				return nil, rpc.Errorf(rpc.FormationViolation, "a 1.6 code")
			}
			return json.RawMessage(resetAnswer), nil
		}
		return nil, rpc.Errorf(rpc.NotImplemented, "%s", action)
	})
	c := dial(t, s, serve(t, s), "CS1", h, OCPP201)
	ctx := ctxFor(t)
	for _, answer := range []string{`{"status":"Accepted"}`, `{"status":"Later"}`, ""} {
		mu.Lock()
		resetAnswer = answer
		mu.Unlock()
		from := len(s.Records())
		s.Call(ctx, "CS1", "Reset", json.RawMessage(`{"type":"Immediate"}`))
		r, err := s.WaitFor(ctx, from, func(r Record) bool { return r.Dir == FromChargePoint })
		if err != nil {
			t.Fatal(err)
		}
		// A 1.6 code from the handler goes out in 2.0.1's spelling (the
		// ocppj client translates it): valid.
		wantValid := answer != `{"status":"Later"}`
		if (r.Invalid == "") != wantValid || r.Frame.Action != "Reset" || r.Subprotocol != OCPP201 {
			t.Errorf("answer %q recorded as %s, invalid %q", answer, r.Raw, r.Invalid)
		}
		if answer == "" && !strings.Contains(string(r.Raw), `"FormatViolation"`) {
			t.Errorf("a handler's FormationViolation went out as %s", r.Raw)
		}
	}

	csr := clientCSR(t, "CS1")
	req, _ := json.Marshal(map[string]string{"csr": string(csr), "certificateType": "ChargingStationCertificate"})
	got, err := c.Call(ctx, "SignCertificate", req)
	if err != nil || string(got) != `{"status":"Accepted"}` {
		t.Fatalf("SignCertificate: %s, %v", got, err)
	}
	select {
	case p := <-signed:
		v, err := ocpp201.DecodeRequest("CertificateSigned", p)
		if err != nil {
			t.Fatalf("CertificateSigned %s: %v", p, err)
		}
		if r := v.(*ocpp201.CertificateSignedRequest); r.CertificateType != ocpp201.CertificateSigningUseChargingStationCertificate ||
			!strings.Contains(r.CertificateChain, "BEGIN CERTIFICATE") {
			t.Errorf("CertificateSigned %s", p)
		}
	case <-ctx.Done():
		t.Fatal("no CertificateSigned")
	}
}

// clientCSR returns a PEM CSR for a new key, named cn.
func clientCSR(t *testing.T, cn string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}
