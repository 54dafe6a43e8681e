package meter

import (
	"errors"
	"testing"
)

func TestParseReadsEveryFormAndRefusesTheRest(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"tcp://192.168.1.50:502?map=sdm630", "tcp://192.168.1.50:502?map=sdm630&unit=1"},
		{"tcp://meter.local:502?map=ABB-B23&unit=7", "tcp://meter.local:502?map=abb-b23&unit=7"},
		{"rtu:///dev/ttyUSB0?map=sdm630", "rtu:///dev/ttyUSB0?map=sdm630&unit=1&baud=9600&parity=even"},
		{"rtu:///dev/ttyAMA0?map=abb-b23&baud=19200&parity=none&unit=2", "rtu:///dev/ttyAMA0?map=abb-b23&unit=2&baud=19200&parity=none"},
		{"rtuovertcp://10.0.0.9:4001?map=sdm630", "rtuovertcp://10.0.0.9:4001?map=sdm630&unit=1"},
	} {
		got, err := Parse(c.in)
		if err != nil || got.String() != c.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", c.in, got.String(), err, c.want)
		}
	}
	for _, in := range []string{
		"192.168.1.50:502", "udp://h:502?map=sdm630", "tcp://h?map=sdm630", "tcp://h:0?map=sdm630",
		"tcp://h:502", "tcp://h:502?map=nope", "tcp://h:502?map=sdm630&unit=0", "tcp://h:502?map=sdm630&unit=300",
		"tcp://h:502?map=sdm630&baud=9600", "rtu://host/dev/tty?map=sdm630", "rtu:///dev/ttyUSB0?map=sdm630&parity=mark",
		"rtu:///dev/ttyUSB0?map=sdm630&baud=12", "tcp://h:502?map=sdm630&color=red",
	} {
		if _, err := Parse(in); !errors.Is(err, ErrConfig) {
			t.Errorf("Parse(%q): %v, want ErrConfig", in, err)
		}
	}
}
