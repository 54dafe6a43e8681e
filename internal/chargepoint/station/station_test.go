package station

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// TestHowACallFailed: a CALLERROR is Refused (NotImplemented and
// NotSupported say the message is not taken at all), a timeout while
// connected Unanswered, anything else Lost.
func TestHowACallFailed(t *testing.T) {
	for _, c := range []struct {
		name        string
		err         error
		connected   bool
		want        chargepoint.Failure
		unsupported bool
	}{
		{"not implemented", rpc.Errorf(rpc.NotImplemented, "x"), true, chargepoint.Refused, true},
		{"not supported", rpc.Errorf(rpc.NotSupported, "x"), true, chargepoint.Refused, true},
		{"internal error", rpc.Errorf(rpc.InternalError, "x"), true, chargepoint.Refused, false},
		{"timeout, connected", rpc.ErrTimeout, true, chargepoint.Unanswered, false},
		{"deadline, connected", context.DeadlineExceeded, true, chargepoint.Unanswered, false},
		{"timeout, offline", rpc.ErrTimeout, false, chargepoint.Lost, false},
		{"dropped", errors.New("connection lost"), true, chargepoint.Lost, false},
	} {
		err := Unsupported(fmt.Errorf("v: Action: %w", c.err))
		if got := CallFailure(err, c.connected); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		if got := errors.Is(err, chargepoint.ErrUnsupported); got != c.unsupported {
			t.Errorf("%s: unsupported %v", c.name, got)
		}
	}
}
