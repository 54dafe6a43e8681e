package rpc

import "testing"

func TestErrorCodes(t *testing.T) {
	for _, c := range []ErrorCode{NotImplemented, NotSupported, InternalError, ProtocolError, SecurityError,
		FormationViolation, PropertyConstraintViolation, OccurenceConstraintViolation, TypeConstraintViolation, GenericError} {
		if !c.Known() {
			t.Errorf("%s not known", c)
		}
	}
	for _, c := range []ErrorCode{"", "OccurrenceConstraintViolation", "internalerror"} {
		if c.Known() {
			t.Errorf("%q known", c)
		}
	}
	if got := Errorf(NotSupported, "no %s", "way").Error(); got != "ocpp: NotSupported: no way" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&Error{Code: GenericError}).Error(); got != "ocpp: GenericError" {
		t.Errorf("Error() = %q", got)
	}
	if got := (*Error)(nil).Error(); got == "" {
		t.Errorf("nil *Error has no message")
	}
}
