// Package wire is the DLM protocol between a master and its slaves: the
// messages, their framing as lines, and the site key's authentication of
// every line. It does no I/O; docs/dlm-protocol.md describes it for other
// implementations.
package wire

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Version is the protocol version this package speaks.
const Version = 1

// MaxLine is the longest line accepted, newline included.
const MaxLine = 64 << 10

// DefaultPort is the TCP port a master listens on and the UDP port of
// discovery, unless configured otherwise.
const DefaultPort = 47810

// Message types.
const (
	TypeHello    = "hello"    // slave → master, unauthenticated: who and a nonce
	TypeWelcome  = "welcome"  // master → slave: the master's nonce; proves the key
	TypeReport   = "report"   // slave → master: its connectors; proves the key
	TypeOffers   = "offers"   // master → slave: every connector's offer
	TypeRefuse   = "refuse"   // either way, unauthenticated: why the link ends
	TypeDiscover = "discover" // slave → broadcast, unauthenticated
	TypeHere     = "here"     // master → slave: where to connect; proves the key
)

// Message is one protocol message. Which fields are set depends on Type.
type Message struct {
	Type string `json:"type"`
	V    int    `json:"v"`
	// Slave is the slave's id (hello).
	Slave string `json:"slave,omitempty"`
	// Nonce is the sender's fresh random nonce (hello, welcome, discover).
	Nonce []byte `json:"nonce,omitempty"`
	// Connectors are the slave's connectors (report).
	Connectors []Connector `json:"connectors,omitempty"`
	// Offers are the master's offers to a slave (offers), one per
	// connector the slave reported.
	Offers []Offer `json:"offers,omitempty"`
	// FreeChargingMode is the master's FreeChargingMode, copied by its
	// slaves (offers).
	FreeChargingMode *int `json:"freeChargingMode,omitempty"`
	// Net is DlmDiscoveryNetworkId (discover, here).
	Net *int `json:"net,omitempty"`
	// Port is the master's TCP port (here).
	Port int `json:"port,omitempty"`
	// Reason says why (refuse).
	Reason string `json:"reason,omitempty"`
}

// Connector is a slave's report of one connector. Currents are in A,
// phases are the connector's L1, L2, L3.
type Connector struct {
	N            int        `json:"n"`
	Ready        bool       `json:"ready"`
	CanSwitch    bool       `json:"canSwitch,omitempty"`
	Phases       int        `json:"phases"`
	Rotation     [3]int     `json:"rotation"`
	Max          float64    `json:"max"`
	Min          float64    `json:"min"`
	Disconnected float64    `json:"disconnected"`
	Applied      float64    `json:"applied"`
	Drawn        [3]float64 `json:"drawn"`
}

// Offer is the master's offer to one connector, in A per phase.
// Phases is 1 when the master has switched the connector's session to
// one phase (ConnectorSwitch3to1PhaseSupported), else 0 (as wired).
type Offer struct {
	N      int     `json:"n"`
	A      float64 `json:"a"`
	Phases int     `json:"phases,omitempty"`
}

// Errors of reading a line.
var (
	ErrMalformed = errors.New("malformed line")
	ErrBadMAC    = errors.New("authentication failed (is the site key the same?)")
)

// unsigned is the MAC field of a line that carries none.
const unsigned = "-"

// Line is a parsed line: its MAC (nil when unsigned), the message bytes
// as sent, and the message.
type Line struct {
	MAC  []byte
	Body []byte
	Msg  Message
}

// Parse splits and decodes one line (without its newline). It does not
// check the MAC: that takes a session.
func Parse(line []byte) (Line, error) {
	if len(line) >= MaxLine {
		return Line{}, fmt.Errorf("%w: %d bytes", ErrMalformed, len(line))
	}
	macHex, body, ok := bytes.Cut(line, []byte(" "))
	if !ok {
		return Line{}, fmt.Errorf("%w: no space", ErrMalformed)
	}
	var l Line
	if string(macHex) != unsigned {
		l.MAC = make([]byte, hex.DecodedLen(len(macHex)))
		if n, err := hex.Decode(l.MAC, macHex); err != nil || n != sha256.Size {
			return Line{}, fmt.Errorf("%w: bad MAC field", ErrMalformed)
		}
	}
	if err := json.Unmarshal(body, &l.Msg); err != nil {
		return Line{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if l.Msg.Type == "" {
		return Line{}, fmt.Errorf("%w: no type", ErrMalformed)
	}
	l.Body = body
	return l, nil
}

// Unsigned returns the line of a message sent without a MAC (hello,
// discover, refuse), newline included.
func Unsigned(m Message) ([]byte, error) {
	m.V = Version
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return append(append([]byte(unsigned+" "), body...), '\n'), nil
}

// Key is a site key ready for use.
type Key [sha256.Size]byte

// NewKey derives the key from the site key setting (DlmSiteKey).
func NewKey(siteKey string) Key {
	return sha256.Sum256([]byte("evse-dlm site key\x00" + siteKey))
}

// Nonce returns 16 fresh random bytes.
func Nonce() []byte {
	b := make([]byte, 16)
	rand.Read(b)
	return b
}

// Session authenticates the lines of one link: each direction numbers
// its lines from 0, and the MAC covers both nonces, the direction and the
// number, so a line cannot be replayed, reordered or reflected.
type Session struct {
	key                     Key
	slaveNonce, masterNonce []byte
	slave                   string // the slave's id, as in its hello
	master                  bool   // this end is the master
	sent, received          uint64
}

// NewSession starts a session. A master knows both nonces at once; a
// slave learns the master's from the welcome (SetMasterNonce).
func NewSession(key Key, master bool, slaveNonce, masterNonce []byte) *Session {
	return &Session{key: key, master: master, slaveNonce: slaveNonce, masterNonce: masterNonce}
}

// MasterNonce returns the master's nonce.
func (s *Session) MasterNonce() []byte { return s.masterNonce }

// SetSlave binds the session to the slave's id of the hello, so that a
// hello rewritten on the way (the hello carries no MAC) breaks the link.
func (s *Session) SetSlave(id string) { s.slave = id }

// SetMasterNonce sets the master's nonce, taken from its welcome.
func (s *Session) SetMasterNonce(n []byte) { s.masterNonce = n }

func (s *Session) mac(fromMaster bool, seq uint64, body []byte) []byte {
	h := hmac.New(sha256.New, s.key[:])
	dir := byte('s')
	if fromMaster {
		dir = 'm'
	}
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], seq)
	h.Write([]byte("evse-dlm/1\x00"))
	h.Write([]byte{dir})
	h.Write(hdr[:])
	h.Write([]byte{byte(len(s.slaveNonce))})
	h.Write(s.slaveNonce)
	h.Write([]byte{byte(len(s.masterNonce))})
	h.Write(s.masterNonce)
	h.Write([]byte{byte(len(s.slave))})
	h.Write([]byte(s.slave))
	h.Write(body)
	return h.Sum(nil)
}

// Seal returns the next line to send, newline included.
func (s *Session) Seal(m Message) ([]byte, error) {
	m.V = Version
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if len(body)+2*sha256.Size+2 > MaxLine {
		return nil, fmt.Errorf("message of %d bytes is too long", len(body))
	}
	mac := s.mac(s.master, s.sent, body)
	s.sent++
	out := make([]byte, 0, 2*len(mac)+len(body)+2)
	out = hex.AppendEncode(out, mac)
	out = append(out, ' ')
	out = append(out, body...)
	return append(out, '\n'), nil
}

// Verify checks the next line received from the other end.
func (s *Session) Verify(l Line) error {
	if l.MAC == nil {
		return fmt.Errorf("%w: %s line without MAC", ErrBadMAC, l.Msg.Type)
	}
	if !hmac.Equal(l.MAC, s.mac(!s.master, s.received, l.Body)) {
		return ErrBadMAC
	}
	s.received++
	return nil
}
