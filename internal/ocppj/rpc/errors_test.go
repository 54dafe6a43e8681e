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

func TestErrorCodes201(t *testing.T) {
	for _, c := range []ErrorCode{FormatViolation, GenericError, InternalError, MessageTypeNotSupported, NotImplemented,
		NotSupported, OccurrenceConstraintViolation, PropertyConstraintViolation, ProtocolError,
		RpcFrameworkError, SecurityError, TypeConstraintViolation} {
		if !c.Known201() {
			t.Errorf("%s not known in 2.0.1", c)
		}
		if c.To201() != c {
			t.Errorf("%s.To201() = %s", c, c.To201())
		}
	}
	for _, c := range []ErrorCode{FormationViolation, OccurenceConstraintViolation, "", "formatviolation"} {
		if c.Known201() {
			t.Errorf("%q known in 2.0.1", c)
		}
	}
	for _, c := range []ErrorCode{FormatViolation, OccurrenceConstraintViolation, MessageTypeNotSupported, RpcFrameworkError} {
		if c.Known() {
			t.Errorf("2.0.1 code %s known in 1.6", c)
		}
	}
	if got := FormationViolation.To201(); got != FormatViolation {
		t.Errorf("FormationViolation.To201() = %s", got)
	}
	if got := OccurenceConstraintViolation.To201(); got != OccurrenceConstraintViolation {
		t.Errorf("OccurenceConstraintViolation.To201() = %s", got)
	}
}
