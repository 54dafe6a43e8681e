package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/ocppj"
)

// tracePrinter prints OCPP frames one per line:
//
//	12:00:00.123 CP→CSMS CALL       BootNotification {"chargePointVendor":...}
//
// An answer is labelled with the action of the CALL it answers.
type tracePrinter struct {
	mu      sync.Mutex
	w       io.Writer
	full    bool
	actions map[string]string // direction and message id of a CALL → its action
}

func newTracePrinter(w io.Writer, full bool) *tracePrinter {
	return &tracePrinter{w: w, full: full, actions: map[string]string{}}
}

// maskSecrets hides the value of a write-only key in a
// ChangeConfiguration (AuthorizationKey, DlmSiteKey): a trace never shows
// a secret. Other payloads pass as they are (GetConfiguration never
// reveals a write-only key).
func maskSecrets(action string, payload json.RawMessage) json.RawMessage {
	if action != "ChangeConfiguration" {
		return payload
	}
	var req struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	}
	if json.Unmarshal(payload, &req) != nil || !config.IsWriteOnly(req.Key) {
		return payload
	}
	masked, err := json.Marshal(map[string]string{"key": req.Key, "value": "[secret]"})
	if err != nil {
		return json.RawMessage(`{"value":"[secret]"}`)
	}
	return masked
}

// maxPayload is how much of a payload is printed unless full is set.
const maxPayload = 240

// maxUnanswered bounds the CALLs remembered for labelling their answers.
const maxUnanswered = 1000

// reverse returns the other direction of a "X→Y" label.
func reverse(dir string) string {
	from, to, ok := strings.Cut(dir, "→")
	if !ok {
		return dir
	}
	return to + "→" + from
}

func (p *tracePrinter) print(dir string, frame []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, err := ocppj.ParseFrame(frame)
	stamp := time.Now().Format("15:04:05.000")
	if err != nil {
		fmt.Fprintf(p.w, "%s %s %-10s %s\n", stamp, dir, "MALFORMED", p.cut(frame))
		return
	}
	var action, payload string
	switch f.Type {
	case ocppj.Call:
		action = f.Action
		if len(p.actions) >= maxUnanswered {
			clear(p.actions) // answers that never came
		}
		p.actions[dir+f.ID] = f.Action
		payload = p.compact(maskSecrets(f.Action, f.Payload))
	case ocppj.CallResult, ocppj.CallError:
		// An answer goes the other way from its CALL.
		key := reverse(dir) + f.ID
		action = p.actions[key]
		delete(p.actions, key)
		if f.Type == ocppj.CallResult {
			payload = p.compact(f.Payload)
		} else {
			payload = string(f.Error.Code) + " " + f.Error.Description
		}
	}
	if action == "" {
		action = "?"
	}
	fmt.Fprintf(p.w, "%s %s %-10s %-28s %s\n", stamp, dir, f.Type, action, payload)
}

func (p *tracePrinter) compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return p.cut(raw)
	}
	return p.cut(b.Bytes())
}

func (p *tracePrinter) cut(b []byte) string {
	if p.full || len(b) <= maxPayload {
		return string(b)
	}
	return fmt.Sprintf("%s… (%d bytes)", b[:maxPayload], len(b))
}

// note prints a narration line between frames.
func (p *tracePrinter) note(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s # %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}
