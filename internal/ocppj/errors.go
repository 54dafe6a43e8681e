package ocppj

import (
	"errors"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// Sentinel errors of [Client.Call].
var (
	// ErrTimeout: no answer came within the call timeout.
	ErrTimeout = rpc.ErrTimeout
	// ErrConnectionLost: the connection closed while the call was outstanding;
	// the central system may or may not have received it.
	ErrConnectionLost = errors.New("ocppj: connection lost before the answer")
	// ErrClosed: the client has stopped.
	ErrClosed = errors.New("ocppj: client stopped")
	// ErrSubprotocol: the server did not agree to the subprotocol asked for.
	ErrSubprotocol = errors.New("ocppj: server did not agree to the subprotocol")
	// ErrCredentialsRefused: the central system answered the WebSocket
	// upgrade with HTTP 401 or 403, refusing the charge point's Basic
	// authentication (or, without a password, its lack). Told to
	// Options.OnConnectFailed.
	ErrCredentialsRefused = errors.New("ocppj: the central system refused the credentials")
)
