package csmstest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// Responder computes the answer to a charge point's CALL: a payload, or an
// error to send as CALLERROR. On a 2.0.1 connection a 1.6 code is sent as
// its 2.0.1 spelling (FormationViolation as FormatViolation).
type Responder func(cp string, payload json.RawMessage) (json.RawMessage, *rpc.Error)

// Static returns a Responder that always answers payload.
func Static(payload string) Responder {
	return func(string, json.RawMessage) (json.RawMessage, *rpc.Error) { return json.RawMessage(payload), nil }
}

// Respond replaces the answer to one action on every connection, whatever
// its version: the responder must answer what each version the server
// offers expects, or the server must offer one version only. Passing nil
// restores each version's default (or NotImplemented for an action
// without one). For an action and a version, the last call of Respond or
// RespondVersion wins.
func (s *Server) Respond(action string, r Responder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for v := range numVersions {
		s.respondLocked(v, action, r)
	}
}

// RespondVersion replaces the answer to one action on the connections
// that speak one subprotocol, [OCPP16] (which includes connections
// without a subprotocol) or [OCPP201]; it panics for another. Passing nil
// restores that version's default.
func (s *Server) RespondVersion(subprotocol, action string, r Responder) {
	v, ok := parseVersion(subprotocol)
	if !ok {
		panic(fmt.Sprintf("csmstest: RespondVersion: the server does not speak %q", subprotocol))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respondLocked(v, action, r)
}

func (s *Server) respondLocked(v version, action string, r Responder) {
	if r == nil {
		r = s.defaults[v][action]
	}
	if r == nil {
		delete(s.responders[v], action)
		return
	}
	s.responders[v][action] = r
}

// responder returns the answer to action on a connection of version v, or
// nil.
func (s *Server) responder(v version, action string) Responder {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.responders[v][action]
}

// now is the current time as the default answers write it.
func now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

func jsonf(format string, args ...any) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(format, args...))
}

// defaults16 are the OCPP 1.6 answers of a central system that accepts
// everything.
func (s *Server) defaults16() map[string]Responder {
	d := map[string]Responder{}
	d["BootNotification"] = func(string, json.RawMessage) (json.RawMessage, *rpc.Error) {
		return jsonf(`{"status":"Accepted","currentTime":%q,"interval":%d}`, now(), s.opts.HeartbeatInterval), nil
	}
	d["Heartbeat"] = func(string, json.RawMessage) (json.RawMessage, *rpc.Error) {
		return jsonf(`{"currentTime":%q}`, now()), nil
	}
	d["Authorize"] = Static(`{"idTagInfo":{"status":"Accepted"}}`)
	d["StartTransaction"] = func(string, json.RawMessage) (json.RawMessage, *rpc.Error) {
		return jsonf(`{"transactionId":%d,"idTagInfo":{"status":"Accepted"}}`, s.txID.Add(1)), nil
	}
	d["StopTransaction"] = Static(`{"idTagInfo":{"status":"Accepted"}}`)
	d["DataTransfer"] = Static(`{"status":"UnknownVendorId"}`)
	for _, a := range []string{"StatusNotification", "MeterValues", "DiagnosticsStatusNotification",
		"FirmwareStatusNotification", "SecurityEventNotification", "LogStatusNotification",
		"SignedFirmwareStatusNotification"} {
		d[a] = Static(`{}`)
	}
	return d
}

// defaults201 are the OCPP 2.0.1 answers of a CSMS that accepts
// everything, for every action a charging station sends. It signs no
// certificate (SignCSRs does) and has no ISO 15118 certificate service.
func (s *Server) defaults201() map[string]Responder {
	d := map[string]Responder{}
	d["BootNotification"] = func(string, json.RawMessage) (json.RawMessage, *rpc.Error) {
		return jsonf(`{"currentTime":%q,"interval":%d,"status":"Accepted"}`, now(), s.opts.HeartbeatInterval), nil
	}
	d["Heartbeat"] = func(string, json.RawMessage) (json.RawMessage, *rpc.Error) {
		return jsonf(`{"currentTime":%q}`, now()), nil
	}
	d["Authorize"] = Static(`{"idTokenInfo":{"status":"Accepted"}}`)
	d["TransactionEvent"] = transactionEvent201
	d["DataTransfer"] = Static(`{"status":"UnknownVendorId"}`)
	d["SignCertificate"] = Static(`{"status":"Accepted"}`)
	d["NotifyEVChargingNeeds"] = Static(`{"status":"Accepted"}`)
	d["NotifyEVChargingSchedule"] = Static(`{"status":"Accepted"}`)
	d["Get15118EVCertificate"] = Static(`{"status":"Failed","statusInfo":{"reasonCode":"NotSupported",` +
		`"additionalInfo":"the test central system has no ISO 15118 certificate service"},"exiResponse":""}`)
	d["GetCertificateStatus"] = Static(`{"status":"Failed","statusInfo":{"reasonCode":"NotSupported",` +
		`"additionalInfo":"the test central system has no OCSP responder"}}`)
	for _, a := range []string{"StatusNotification", "MeterValues", "NotifyReport", "NotifyEvent",
		"NotifyChargingLimit", "ClearedChargingLimit", "ReportChargingProfiles", "NotifyMonitoringReport",
		"NotifyDisplayMessages", "NotifyCustomerInformation", "LogStatusNotification",
		"FirmwareStatusNotification", "SecurityEventNotification", "ReservationStatusUpdate",
		"PublishFirmwareStatusNotification"} {
		d[a] = Static(`{}`)
	}
	return d
}

// transactionEvent201 answers a TransactionEvent: idTokenInfo Accepted
// when the request carries an idToken (the response must then have one),
// else nothing.
func transactionEvent201(_ string, payload json.RawMessage) (json.RawMessage, *rpc.Error) {
	var req struct {
		IDToken json.RawMessage `json:"idToken"`
	}
	if json.Unmarshal(payload, &req) == nil && len(req.IDToken) > 0 && string(req.IDToken) != "null" {
		return json.RawMessage(`{"idTokenInfo":{"status":"Accepted"}}`), nil
	}
	return json.RawMessage(`{}`), nil
}
