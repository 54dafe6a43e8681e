package ocpp201

// node describes one JSON schema, as the generator compiles the official
// schemas: only the keywords OCPP 2.0.1 uses, $ref already resolved. The
// zero value of each constraint means "none".
type node struct {
	typ jsonType

	// Objects.
	props []prop // sorted by name
	open  bool   // properties other than props are allowed, with any value

	// Arrays.
	items    *node
	minItems int
	maxItems int // 0: no limit

	// Strings.
	maxLength int      // in Unicode code points; 0: no limit
	enum      []string // allowed values; nil: any
	format    format

	// Integers and numbers.
	multipleOf    string // decimal text of 10^multipleOfExp; "": none
	multipleOfExp int
	hasMinimum    bool
	minimum       int64
	hasMaximum    bool
	maximum       int64
}

// prop is one property of an object.
type prop struct {
	name     string
	required bool
	node     *node
}

// jsonType is the value of a schema's "type" keyword.
type jsonType uint8

const (
	typeObject jsonType = iota + 1
	typeArray
	typeString
	typeInteger
	typeNumber
	typeBoolean
	typeAny // any JSON value: a schema without a type
)

func (t jsonType) String() string {
	switch t {
	case typeObject:
		return "object"
	case typeArray:
		return "array"
	case typeString:
		return "string"
	case typeInteger:
		return "integer"
	case typeNumber:
		return "number"
	case typeBoolean:
		return "boolean"
	case typeAny:
		return "any value"
	}
	return "unknown"
}

// format is the value of a schema's "format" keyword.
type format uint8

const (
	formatNone     format = iota
	formatDateTime        // RFC 3339 date-time
	formatURI             // absolute URI (RFC 3986)
)

// propIndex returns the index of the property called name, or -1.
func (n *node) propIndex(name string) int {
	for i := range n.props {
		if n.props[i].name == name {
			return i
		}
	}
	return -1
}

// prop returns the property called name, or nil.
func (n *node) prop(name string) *prop {
	// Objects have a dozen properties at most: a linear scan is fastest.
	for i := range n.props {
		if n.props[i].name == name {
			return &n.props[i]
		}
	}
	return nil
}
