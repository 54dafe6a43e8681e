// Package meter describes the external meter of DLM: the phase currents
// of the site's main distribution, read from a three-phase meter. It
// holds the configuration and the register maps, without I/O; package
// modbusmeter reads them.
package meter

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Registers is where a meter model keeps its phase currents.
type Registers struct {
	// Model is the name used in the configuration.
	Model string
	// Input: input registers (function 04); otherwise holding registers
	// (function 03).
	Input bool
	// Addr is the first of the two registers of the current of L1, L2
	// and L3 (0-based protocol addresses).
	Addr [3]uint16
	// Float: IEEE 754 float32; otherwise an unsigned 32-bit integer in
	// units of Scale amperes. Both high word first, big-endian.
	Float bool
	Scale float64
}

// Maps are the register maps of the meters supported, by model name.
var Maps = map[string]Registers{
	// Eastron SDM630 (and the SDM630MCT, SDM630-TCP and their clones):
	// input registers 30007, 30009, 30011, float32 amperes.
	"sdm630": {Model: "sdm630", Input: true, Addr: [3]uint16{0x0006, 0x0008, 0x000A}, Float: true, Scale: 1},
	// ABB B23/B24: holding registers 0x5B0C, 0x5B0E, 0x5B10, unsigned
	// 32-bit in hundredths of an ampere.
	"abb-b23": {Model: "abb-b23", Addr: [3]uint16{0x5B0C, 0x5B0E, 0x5B10}, Scale: 0.01},
}

// Models lists the supported model names, sorted.
func Models() []string {
	var m []string
	for k := range Maps {
		m = append(m, k)
	}
	slices.Sort(m)
	return m
}

// Config is a meter's connection: the local setting DlmExtMeter, a URL
//
//	tcp://HOST:PORT?map=MODEL[&unit=N]
//	rtu:///dev/ttyUSB0?map=MODEL[&unit=N][&baud=9600][&parity=even|odd|none]
//	rtuovertcp://HOST:PORT?map=MODEL[&unit=N]
//
// (Modbus TCP, Modbus RTU on a serial port, RTU frames through a TCP
// gateway).
type Config struct {
	// URL is what the Modbus client opens: scheme and address.
	URL  string
	Regs Registers
	// Unit is the Modbus unit (slave) id, 1 to 247.
	Unit uint8
	// Baud and Parity are the serial settings (rtu only).
	Baud   uint
	Parity string
}

// ErrConfig wraps every configuration error.
var ErrConfig = errors.New("meter configuration")

// Parse reads a DlmExtMeter value; an empty one is no meter (zero Config,
// nil error).
func Parse(s string) (Config, error) {
	if s == "" {
		return Config{}, nil
	}
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("not a URL: %v", err)
	}
	c := Config{Unit: 1}
	switch u.Scheme {
	case "tcp", "rtuovertcp":
		host, port, err := net.SplitHostPort(u.Host)
		if err != nil || host == "" {
			return bad("%s wants HOST:PORT", u.Scheme)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return bad("port %q", port)
		}
		c.URL = u.Scheme + "://" + u.Host
	case "rtu":
		if u.Host != "" || u.Path == "" {
			return bad("rtu wants rtu:///dev/SERIALPORT")
		}
		c.URL, c.Baud, c.Parity = "rtu://"+u.Path, 9600, "even"
	default:
		return bad("scheme %q: want tcp, rtu or rtuovertcp", u.Scheme)
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "map", "unit":
		case "baud", "parity":
			if u.Scheme != "rtu" {
				return bad("%s is for rtu only", k)
			}
		default:
			return bad("unknown parameter %q", k)
		}
	}
	model := strings.ToLower(q.Get("map"))
	regs, ok := Maps[model]
	if !ok {
		return bad("map %q: want one of %s", q.Get("map"), strings.Join(Models(), ", "))
	}
	c.Regs = regs
	if v := q.Get("unit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 247 {
			return bad("unit %q: want 1 to 247", v)
		}
		c.Unit = uint8(n)
	}
	if v := q.Get("baud"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1200 || n > 115200 {
			return bad("baud %q: want 1200 to 115200", v)
		}
		c.Baud = uint(n)
	}
	if v := q.Get("parity"); v != "" {
		if v != "none" && v != "even" && v != "odd" {
			return bad("parity %q: want none, even or odd", v)
		}
		c.Parity = v
	}
	return c, nil
}

// String is the canonical form of the configuration.
func (c Config) String() string {
	if c.URL == "" {
		return ""
	}
	s := c.URL + "?map=" + c.Regs.Model + "&unit=" + strconv.Itoa(int(c.Unit))
	if strings.HasPrefix(c.URL, "rtu://") {
		s += "&baud=" + strconv.Itoa(int(c.Baud)) + "&parity=" + c.Parity
	}
	return s
}
