// Package api is the local HTTP API of a charge point: its status, its
// configuration with installer access, and the simulated hardware (plug an
// EV in, present an RFID tag, drive an input, raise a fault). JSON in and
// out; the contract is docs/api.md.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/display"
	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/ocpp16"
)

// Backend is the charge point the API serves. Its parts may change (a
// Reset restarts the charge point), so they are asked for at each request.
type Backend interface {
	// Status returns the charge point's state; it fails while the charge
	// point is (re)starting.
	Status(ctx context.Context) (chargepoint.Status, error)
	// Settings returns the live configuration, or nil while starting.
	Settings() *config.Settings
	// Board returns the simulated hardware.
	Board() *sim.Board
	// EmergencyStop stops every transaction (reason EmergencyStop).
	EmergencyStop(ctx context.Context) error
	// LocalList returns the running charge point, for its local list;
	// nil while starting.
	LocalList() LocalList
	// Display returns what the charge point's display shows now: the
	// central system's display messages that apply (display.Select); it
	// fails while the charge point is (re)starting.
	Display(ctx context.Context) ([]display.Message, error)
}

// LocalList is the installer's view of the local authorization list.
type LocalList interface {
	LocalListInfo() (version, size int, err error)
	LocalListEntry(idTag string) (ocpp16.IdTagInfo, bool, error)
}

// Handler returns the API's HTTP handler.
func Handler(b Backend, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &api{b: b, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/status", a.status)
	mux.HandleFunc("GET /api/v1/config", a.getConfig)
	mux.HandleFunc("GET /api/v1/config/{key}", a.getKey)
	mux.HandleFunc("PUT /api/v1/config/{key}", a.putKey)
	mux.HandleFunc("GET /api/v1/connectors/{n}", a.hardware)
	mux.HandleFunc("POST /api/v1/connectors/{n}/plug", a.plug)
	mux.HandleFunc("POST /api/v1/connectors/{n}/unplug", a.unplug)
	mux.HandleFunc("POST /api/v1/connectors/{n}/remove-cable", a.removeCable)
	mux.HandleFunc("POST /api/v1/connectors/{n}/fault", a.fault)
	mux.HandleFunc("POST /api/v1/connectors/{n}/clear", a.clear)
	mux.HandleFunc("POST /api/v1/rfid", a.rfid)
	mux.HandleFunc("POST /api/v1/inputs/{n}", a.input)
	mux.HandleFunc("POST /api/v1/emergency-stop", a.emergencyStop)
	mux.HandleFunc("GET /api/v1/locallist", a.localList)
	mux.HandleFunc("GET /api/v1/locallist/{idTag}", a.localListEntry)
	return mux
}

type api struct {
	b   Backend
	log *slog.Logger
}

// maxBody bounds a request body.
const maxBody = 64 << 10

type errorBody struct {
	Error string `json:"error"`
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func fail(w http.ResponseWriter, code int, format string, args ...any) {
	reply(w, code, errorBody{Error: fmt.Sprintf(format, args...)})
}

// decode reads a JSON body into v; an empty body leaves v as it is when
// optional. It refuses unknown fields.
func decode(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		fail(w, http.StatusRequestEntityTooLarge, "body: %v", err)
		return false
	}
	if len(body) == 0 && optional {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail(w, http.StatusBadRequest, "body: %v", err)
		return false
	}
	if dec.More() {
		fail(w, http.StatusBadRequest, "body: more than one JSON value")
		return false
	}
	return true
}

// connector parses the {n} of a connector path.
func (a *api) connector(w http.ResponseWriter, r *http.Request) (int, bool) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(a.b.Board().Connectors()) {
		fail(w, http.StatusNotFound, "no connector %q", r.PathValue("n"))
		return 0, false
	}
	return n, true
}

func (a *api) status(w http.ResponseWriter, r *http.Request) {
	st, err := a.b.Status(r.Context())
	if err != nil {
		fail(w, http.StatusServiceUnavailable, "charge point not running: %v", err)
		return
	}
	out := statusJSON{Status: st}
	if msgs, err := a.b.Display(r.Context()); err == nil {
		out.Display = msgs
	}
	if s := a.b.Settings(); s != nil {
		v, _ := s.Get("DlmState")
		out.DLM = v.Value
	}
	reply(w, http.StatusOK, out)
}

// statusJSON is the status with the DLM state (DlmState: role, link,
// currents, warnings) and what the display shows.
type statusJSON struct {
	chargepoint.Status
	DLM string `json:"dlm"`
	// Display is what the display shows now.
	Display []display.Message `json:"display,omitempty"`
}

// keyJSON is a key as the API shows it.
type keyJSON struct {
	Key         string `json:"key"`
	Value       string `json:"value"`
	Readonly    bool   `json:"readonly"`
	WriteOnly   bool   `json:"writeOnly,omitempty"`
	Set         bool   `json:"set"`
	TakesEffect string `json:"takesEffect,omitempty"`
	// Also are the other keys the change set with it.
	Also map[string]string `json:"also,omitempty"`
}

func keyOf(v config.Value) keyJSON {
	k := keyJSON{Key: v.Key.Name, Value: v.Value, Readonly: v.Key.Access == config.ReadOnly, Set: v.IsSet}
	if v.Key.Access == config.WriteOnly {
		k.WriteOnly, k.Value = true, ""
	}
	return k
}

func (a *api) settings(w http.ResponseWriter) *config.Settings {
	s := a.b.Settings()
	if s == nil {
		fail(w, http.StatusServiceUnavailable, "charge point starting")
	}
	return s
}

func (a *api) getConfig(w http.ResponseWriter, r *http.Request) {
	s := a.settings(w)
	if s == nil {
		return
	}
	var out []keyJSON
	for _, v := range s.All() {
		out = append(out, keyOf(v))
	}
	reply(w, http.StatusOK, out)
}

func (a *api) getKey(w http.ResponseWriter, r *http.Request) {
	s := a.settings(w)
	if s == nil {
		return
	}
	v, err := s.Get(r.PathValue("key"))
	if err != nil {
		fail(w, http.StatusNotFound, "%v", err)
		return
	}
	reply(w, http.StatusOK, keyOf(v))
}

func (a *api) putKey(w http.ResponseWriter, r *http.Request) {
	s := a.settings(w)
	if s == nil {
		return
	}
	var body struct {
		Value *string `json:"value"`
	}
	if !decode(w, r, &body, false) {
		return
	}
	if body.Value == nil {
		fail(w, http.StatusBadRequest, `body: want {"value": "..."}`)
		return
	}
	res, err := s.Set(r.PathValue("key"), *body.Value, config.ActorInstaller)
	switch {
	case errors.Is(err, config.ErrUnknownKey):
		fail(w, http.StatusNotFound, "%v", err)
		return
	case errors.Is(err, config.ErrInvalid), errors.Is(err, config.ErrNotStored):
		fail(w, http.StatusBadRequest, "%v", err)
		return
	case err != nil:
		fail(w, http.StatusInternalServerError, "%v", err)
		return
	}
	args := []any{"key", res.Key.Name, "remote", r.RemoteAddr}
	if res.Key.Access != config.WriteOnly {
		args = append(args, "value", *body.Value)
	}
	a.log.Info("installer changed a key through the local API", args...)
	v, _ := s.Get(res.Key.Name)
	k := keyOf(v)
	k.TakesEffect = res.Effect.String()
	for _, a := range res.Also {
		if k.Also == nil {
			k.Also = map[string]string{}
		}
		k.Also[a.Key] = a.Value
	}
	reply(w, http.StatusOK, k)
}

func (a *api) plug(w http.ResponseWriter, r *http.Request) {
	n, ok := a.connector(w, r)
	if !ok {
		return
	}
	var ev sim.EV
	if !decode(w, r, &ev, true) {
		return
	}
	if err := ev.Validate(); err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	if err := a.b.Board().Plug(n, ev); err != nil {
		fail(w, http.StatusConflict, "%v", err)
		return
	}
	a.snapshot(w, n)
}

func (a *api) unplug(w http.ResponseWriter, r *http.Request) {
	n, ok := a.connector(w, r)
	if !ok {
		return
	}
	if err := a.b.Board().Unplug(n); err != nil {
		fail(w, http.StatusConflict, "%v", err)
		return
	}
	a.snapshot(w, n)
}

// faultCodes are the ChargePointErrorCodes a connector may be given.
var faultCodes = map[string]bool{
	"ConnectorLockFailure": true, "EVCommunicationError": true, "GroundFailure": true,
	"HighTemperature": true, "InternalError": true, "LocalListConflict": true, "OtherError": true,
	"OverCurrentFailure": true, "OverVoltage": true, "PowerMeterFailure": true, "PowerSwitchFailure": true,
	"ReaderFailure": true, "ResetFailure": true, "UnderVoltage": true, "WeakSignal": true,
}

func (a *api) fault(w http.ResponseWriter, r *http.Request) {
	n, ok := a.connector(w, r)
	if !ok {
		return
	}
	var body struct {
		ErrorCode string `json:"errorCode"`
	}
	if !decode(w, r, &body, false) {
		return
	}
	if !faultCodes[body.ErrorCode] {
		fail(w, http.StatusBadRequest, "errorCode %q is not a ChargePointErrorCode of a fault", body.ErrorCode)
		return
	}
	a.b.Board().SetFault(n, body.ErrorCode)
	a.snapshot(w, n)
}

// removeCable takes the cable out of a socket connector.
func (a *api) removeCable(w http.ResponseWriter, r *http.Request) {
	n, ok := a.connector(w, r)
	if !ok {
		return
	}
	if err := a.b.Board().RemoveCable(n); err != nil {
		fail(w, http.StatusConflict, "%v", err)
		return
	}
	a.snapshot(w, n)
}

// hardware answers the connector's hardware as it is now, without asking
// the charging core (whose answers wait for its pending writes).
func (a *api) hardware(w http.ResponseWriter, r *http.Request) {
	if n, ok := a.connector(w, r); ok {
		a.snapshot(w, n)
	}
}

func (a *api) clear(w http.ResponseWriter, r *http.Request) {
	n, ok := a.connector(w, r)
	if !ok {
		return
	}
	a.b.Board().SetFault(n, "")
	a.snapshot(w, n)
}

func (a *api) rfid(w http.ResponseWriter, r *http.Request) {
	var body struct {
		IDTag     string `json:"idTag"`
		Connector int    `json:"connector"`
	}
	if !decode(w, r, &body, false) {
		return
	}
	if body.IDTag == "" || len([]rune(body.IDTag)) > 20 {
		fail(w, http.StatusBadRequest, "idTag must be 1 to 20 characters")
		return
	}
	if err := a.b.Board().Present(body.IDTag, body.Connector); err != nil {
		fail(w, http.StatusNotFound, "%v", err)
		return
	}
	reply(w, http.StatusAccepted, body)
}

func (a *api) input(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > 2 {
		fail(w, http.StatusNotFound, "no input %q: inputs are 1 and 2", r.PathValue("n"))
		return
	}
	var body struct {
		High *bool `json:"high"`
	}
	if !decode(w, r, &body, false) {
		return
	}
	if body.High == nil {
		fail(w, http.StatusBadRequest, `body: want {"high": true|false}`)
		return
	}
	a.b.Board().SetInput(n, *body.High)
	reply(w, http.StatusOK, map[string]any{"input": n, "high": *body.High})
}

func (a *api) emergencyStop(w http.ResponseWriter, r *http.Request) {
	if err := a.b.EmergencyStop(r.Context()); err != nil {
		fail(w, http.StatusServiceUnavailable, "charge point not running: %v", err)
		return
	}
	reply(w, http.StatusOK, map[string]string{"stopped": "all transactions"})
}

// snapshot answers with the simulated connector's state.
func (a *api) snapshot(w http.ResponseWriter, n int) {
	s, err := a.b.Board().Snapshot(n)
	if err != nil {
		fail(w, http.StatusNotFound, "%v", err)
		return
	}
	reply(w, http.StatusOK, struct {
		sim.Snapshot
		Pilot string `json:"pilot"`
	}{s, s.Pilot.String()})
}

func (a *api) localList(w http.ResponseWriter, r *http.Request) {
	l := a.b.LocalList()
	if l == nil {
		fail(w, http.StatusServiceUnavailable, "charge point starting")
		return
	}
	v, n, err := l.LocalListInfo()
	if err != nil {
		fail(w, http.StatusInternalServerError, "%v", err)
		return
	}
	reply(w, http.StatusOK, map[string]int{"listVersion": v, "size": n})
}

func (a *api) localListEntry(w http.ResponseWriter, r *http.Request) {
	l := a.b.LocalList()
	if l == nil {
		fail(w, http.StatusServiceUnavailable, "charge point starting")
		return
	}
	info, ok, err := l.LocalListEntry(r.PathValue("idTag"))
	switch {
	case err != nil:
		fail(w, http.StatusInternalServerError, "%v", err)
	case !ok:
		fail(w, http.StatusNotFound, "%q is not in the local list", r.PathValue("idTag"))
	default:
		reply(w, http.StatusOK, info)
	}
}
