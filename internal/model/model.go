// Package model describes the charge point unit a process plays: what it
// says in BootNotification, its hardware (connectors, phases, current) and
// the configuration defaults that differ from the appendix's.
//
// A model file is JSON:
//
//	{
//	  "vendor": "Ensto", "model": "EVF200",
//	  "serialNumber": "EN123456", "firmwareVersion": "1.2.3",
//	  "connectors": 2, "phases": 3, "maxCurrent": 32,
//	  "config": {"GetConfigurationMaxKeys": "50"}
//	}
//
// Every field is optional; [Default] fills in neutral values.
package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Version is evse's own version, the firmware version of the neutral model.
const Version = "0.1.0-dev"

// Model is one charge point unit.
type Model struct {
	Vendor                string `json:"vendor"`
	Model                 string `json:"model"`
	SerialNumber          string `json:"serialNumber,omitempty"`
	ChargeBoxSerialNumber string `json:"chargeBoxSerialNumber,omitempty"`
	FirmwareVersion       string `json:"firmwareVersion,omitempty"`
	MeterType             string `json:"meterType,omitempty"`
	MeterSerialNumber     string `json:"meterSerialNumber,omitempty"`
	ICCID                 string `json:"iccid,omitempty"`
	IMSI                  string `json:"imsi,omitempty"`
	// Connectors is the number of connectors (NumberOfConnectors).
	Connectors int `json:"connectors"`
	// Phases is 1 or 3: the phases each connector is wired to.
	Phases int `json:"phases"`
	// MaxCurrent is the most current per phase a connector offers, in A.
	MaxCurrent int `json:"maxCurrent"`
	// Cable is how EVs connect: "tethered" (the charger's own cable) or
	// "socket" (the driver's cable, which stays in the socket when the EV
	// leaves, until it is taken out). Default tethered.
	Cable string `json:"cable,omitempty"`
	// Config holds configuration defaults that differ from the appendix's,
	// by key name, in any accepted input form.
	Config map[string]string `json:"config,omitempty"`
}

// Default is the neutral unit: one three-phase 32 A connector.
func Default() Model {
	return Model{Vendor: "evse", Model: "evse-sim", FirmwareVersion: "evse " + Version,
		Connectors: 1, Phases: 3, MaxCurrent: 32}
}

// Load reads a model file; fields it leaves out keep the neutral values.
func Load(path string) (Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Model{}, fmt.Errorf("model: %w", err)
	}
	m := Default()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Model{}, fmt.Errorf("model %s: %w", path, err)
	}
	if dec.More() {
		return Model{}, fmt.Errorf("model %s: more than one JSON value", path)
	}
	if err := m.Validate(); err != nil {
		return Model{}, fmt.Errorf("model %s: %w", path, err)
	}
	return m, nil
}

// Validate checks the fields against what BootNotification and the
// hardware allow.
func (m Model) Validate() error {
	for _, f := range []struct {
		name, value string
		max         int
		required    bool
	}{
		{"vendor", m.Vendor, 20, true}, {"model", m.Model, 20, true},
		{"serialNumber", m.SerialNumber, 25, false}, {"chargeBoxSerialNumber", m.ChargeBoxSerialNumber, 25, false},
		{"firmwareVersion", m.FirmwareVersion, 50, false}, {"meterType", m.MeterType, 25, false},
		{"meterSerialNumber", m.MeterSerialNumber, 25, false}, {"iccid", m.ICCID, 20, false}, {"imsi", m.IMSI, 20, false},
	} {
		if f.required && f.value == "" {
			return fmt.Errorf("%s is required", f.name)
		}
		if utf8.RuneCountInString(f.value) > f.max {
			return fmt.Errorf("%s is longer than %d characters", f.name, f.max)
		}
	}
	if m.Connectors < 1 || m.Connectors > 254 {
		return fmt.Errorf("connectors must be 1 to 254")
	}
	if m.Phases != 1 && m.Phases != 3 {
		return fmt.Errorf("phases must be 1 or 3")
	}
	if m.MaxCurrent < 6 || m.MaxCurrent > 1000 {
		return fmt.Errorf("maxCurrent must be 6 to 1000 A")
	}
	if m.Cable != "" && m.Cable != "tethered" && m.Cable != "socket" {
		return fmt.Errorf("cable must be tethered or socket, not %q", m.Cable)
	}
	return nil
}

// Socket reports whether the unit's connectors are sockets.
func (m Model) Socket() bool { return m.Cable == "socket" }

// ConfigDefaults returns the configuration defaults of the unit: the
// model's connectors and their phase rotation (every connector wired RST),
// then the model file's own config, which wins.
func (m Model) ConfigDefaults() map[string]string {
	d := map[string]string{}
	if m.Connectors != 1 {
		var items []string
		for i := 1; i <= m.Connectors; i++ {
			items = append(items, strconv.Itoa(i)+".RST")
		}
		d["NumberOfConnectors"] = strconv.Itoa(m.Connectors)
		d["ConnectorPhaseRotation"] = strings.Join(items, ",")
		d["ConnectorPhaseRotationMaxLength"] = strconv.Itoa(max(m.Connectors, 1))
	}
	for k, v := range m.Config {
		d[k] = v
	}
	return d
}
