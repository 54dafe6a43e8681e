package schematest

import (
	"encoding/json"
	"testing"
)

// FuzzValidate checks that the validator never panics, answers with a
// CALLERROR code of the version, and that whatever it accepts decodes into
// the Go type and encodes back into a valid payload. Responses are checked
// with the same input. The corpus is f's: add seeds of (action string,
// payload []byte) before.
func FuzzValidate(f *testing.F, v *Version) {
	f.Fuzz(func(t *testing.T, action string, payload []byte) {
		for _, kind := range []Kind{Request, Response} {
			err := v.Validate(action, kind, payload)
			v.ErrorCode(t, err)
			if err != nil {
				continue
			}
			got, err := v.Decode(action, kind, payload)
			if err != nil {
				t.Fatalf("%s %s: valid but Decode fails: %v\npayload %s", action, kind, err, payload)
			}
			again, err := json.Marshal(got)
			if err != nil {
				t.Fatalf("%s %s: marshal: %v", action, kind, err)
			}
			if err := v.Validate(action, kind, again); err != nil {
				t.Fatalf("%s %s: re-encoded payload is invalid: %v\npayload %s\nre-encoded %s", action, kind, err, payload, again)
			}
		}
	})
}
