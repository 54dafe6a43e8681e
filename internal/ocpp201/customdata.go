package ocpp201

import (
	"encoding/json"
	"fmt"
)

// CustomData is the customData that every object of OCPP 2.0.1 may carry
// (CustomDataType in the schemas): a vendorId, and whatever other
// properties that vendor puts in it, which the schemas allow with any
// value.
type CustomData struct {
	VendorId string // at most 255 characters
	// Extra holds the other properties, by name, as JSON values. A
	// "vendorId" in it is ignored.
	Extra map[string]json.RawMessage
}

// MarshalJSON writes vendorId and the Extra properties, sorted by name.
func (c CustomData) MarshalJSON() ([]byte, error) {
	m := make(map[string]json.RawMessage, len(c.Extra)+1)
	for k, v := range c.Extra {
		m[k] = v
	}
	id, err := json.Marshal(c.VendorId)
	if err != nil {
		return nil, err
	}
	m["vendorId"] = id
	return json.Marshal(m)
}

// UnmarshalJSON reads a JSON object: vendorId into VendorId, the other
// properties into Extra (nil if there are none).
func (c *CustomData) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil // as encoding/json does for other types
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("ocpp201: customData: %w", err)
	}
	*c = CustomData{}
	if id, ok := m["vendorId"]; ok {
		if err := json.Unmarshal(id, &c.VendorId); err != nil {
			return fmt.Errorf("ocpp201: customData.vendorId: %w", err)
		}
		delete(m, "vendorId")
	}
	if len(m) > 0 {
		c.Extra = m
	}
	return nil
}
