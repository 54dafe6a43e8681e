package ocppschema

// Node describes one JSON schema, as package ocppgen compiles the official
// schemas: only the keywords OCPP uses, $ref already resolved. The zero
// value of each constraint means "none". Nodes are built once, by the
// generated code, and only read after: they are safe for concurrent use.
type Node struct {
	Type Type

	// Objects.
	Props []Prop // sorted by name; at most 64
	Open  bool   // properties other than Props are allowed, with any value

	// Arrays.
	Items    *Node
	MinItems int
	MaxItems int // 0: no limit

	// Strings.
	MaxLength int      // in Unicode code points; 0: no limit
	Enum      []string // allowed values; nil: any
	Format    Format

	// Integers and numbers.
	MultipleOf    string // decimal text of 10^MultipleOfExp; "": none
	MultipleOfExp int
	HasMinimum    bool
	Minimum       int64
	HasMaximum    bool
	Maximum       int64
}

// MaxProps is the most properties an object's schema may name: the
// validator tracks the ones it has seen in a 64-bit set.
const MaxProps = 64

// Prop is one property of an object.
type Prop struct {
	Name     string
	Required bool
	Node     *Node
}

// Type is the value of a schema's "type" keyword.
type Type uint8

// The types.
const (
	Object Type = iota + 1
	Array
	String
	Integer
	Number
	Boolean
	Any // any JSON value: a schema without a type
)

func (t Type) String() string {
	switch t {
	case Object:
		return "object"
	case Array:
		return "array"
	case String:
		return "string"
	case Integer:
		return "integer"
	case Number:
		return "number"
	case Boolean:
		return "boolean"
	case Any:
		return "any value"
	}
	return "unknown"
}

// Format is the value of a schema's "format" keyword.
type Format uint8

// The formats.
const (
	NoFormat       Format = iota
	DateTimeFormat        // RFC 3339 date-time
	URIFormat             // absolute URI (RFC 3986)
)

// propIndex returns the index of the property called name, or -1.
func (n *Node) propIndex(name string) int {
	// Objects have a dozen properties at most: a linear scan is fastest.
	for i := range n.Props {
		if n.Props[i].Name == name {
			return i
		}
	}
	return -1
}

// Walk calls f for n and every node under it, once each.
func (n *Node) Walk(f func(*Node)) {
	n.walk(f, map[*Node]bool{})
}

func (n *Node) walk(f func(*Node), seen map[*Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	f(n)
	for i := range n.Props {
		n.Props[i].Node.walk(f, seen)
	}
	n.Items.walk(f, seen)
}
