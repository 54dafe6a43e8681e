package ocppschema

import (
	"encoding/json"

	"github.com/evse-dev/evse/internal/ocppj/rpc"
)

// Messages is one OCPP version's messages by action: each one's request
// and response schemas and Go types. ocpp16 and ocpp201 each keep one,
// made from their generated action tables; it is immutable.
type Messages struct {
	dialect Dialect
	name    string // the version's package, for errors ("ocpp201")
	byName  map[string]Message
}

// Message is one action's request and response: the schema of each and
// the constructor of its Go type (a new zero value, as a pointer), by
// Kind.
type Message struct {
	Schemas [2]*Node
	New     [2]func() any
}

// NewMessages returns the messages of a version spoken in dialect d; name
// is its package's, for errors.
func NewMessages(d Dialect, name string, byName map[string]Message) *Messages {
	return &Messages{dialect: d, name: name, byName: byName}
}

// Validate checks payload against the schema of action's message of kind
// (see Dialect.Validate).
func (m *Messages) Validate(action string, kind Kind, payload json.RawMessage, o Options) ([]byte, []string, *rpc.Error) {
	msg, err := m.lookup(action, kind)
	if err != nil {
		return nil, nil, err
	}
	return m.dialect.Validate(msg.Schemas[kind], payload, o)
}

// Decode validates payload as action's message of kind and decodes it into
// a new value of its Go type, returned as a pointer (see Dialect.Decode).
func (m *Messages) Decode(action string, kind Kind, payload json.RawMessage, o Options) (any, []string, error) {
	msg, err := m.lookup(action, kind)
	if err != nil {
		return nil, nil, err
	}
	out := msg.New[kind]()
	notes, verr := m.dialect.Decode(msg.Schemas[kind], payload, out, o)
	if verr != nil {
		return nil, nil, verr
	}
	return out, notes, nil
}

// lookup finds action's message, for a message of kind.
func (m *Messages) lookup(action string, kind Kind) (Message, *rpc.Error) {
	msg, ok := m.byName[action]
	if !ok {
		return Message{}, rpc.Errorf(rpc.NotImplemented, "unknown action %q", Truncate(action))
	}
	if kind != Request && kind != Response {
		return Message{}, rpc.Errorf(rpc.InternalError, "%s: invalid Kind %d", m.name, int(kind))
	}
	return msg, nil
}
