package config

import (
	"encoding/hex"
	"github.com/evse-dev/evse/internal/meter"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Measurands the simulated meter supports, in the order they are listed.
var Measurands = []string{"Energy.Active.Import.Register", "Power.Active.Import", "Current.Import"}

// Profiles are the OCPP 1.6 feature profiles.
var Profiles = []string{"Core", "FirmwareManagement", "LocalAuthListManagement", "Reservation", "SmartCharging", "RemoteTrigger"}

// PhaseRotations are the values of a ConnectorPhaseRotation item.
var PhaseRotations = []string{"NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR"}

// MaxValueLength is the longest value OCPP can carry (CiString500 of
// ChangeConfiguration and GetConfiguration).
const MaxValueLength = 500

// Parse checks a value for the key on its own (not against other keys) and
// returns it in read-back form.
func (k Key) Parse(value string) (string, error) {
	if utf8.RuneCountInString(value) > MaxValueLength {
		return "", &ValueError{Key: k.Name, Value: value, Reason: "longer than 500 characters"}
	}
	v, err := k.parse(value)
	if err == nil && utf8.RuneCountInString(v) > MaxValueLength {
		return "", &ValueError{Key: k.Name, Value: value, Reason: "reads back longer than 500 characters"}
	}
	return v, err
}

func (k Key) parse(value string) (string, error) {
	bad := func(reason string) (string, error) {
		return "", &ValueError{Key: k.Name, Value: value, Reason: reason}
	}
	switch k.Kind {
	case KindInt:
		n, err := parseInt(value)
		if err != nil {
			return bad("not an integer")
		}
		if n < k.Min || n > k.Max {
			return bad("out of range [" + strconv.FormatInt(k.Min, 10) + ".." + strconv.FormatInt(k.Max, 10) + "]")
		}
		return strconv.FormatInt(n, 10), nil
	case KindBool:
		switch strings.ToLower(value) {
		case "true", "1", "on":
			return "true", nil
		case "false", "0", "off":
			return "false", nil
		}
		return bad("want true or false (1/0, On/Off)")
	case KindOfflineTx:
		switch strings.ToLower(value) {
		case "false", "0", "off":
			return "false", nil
		case "true", "1", "on":
			return "true", nil
		case "immediatelywhenplugged", "2":
			return "ImmediatelyWhenPlugged", nil
		}
		return bad("want false, true or ImmediatelyWhenPlugged (0, 1, 2)")
	case KindEnum:
		if n, err := parseInt(value); err == nil {
			if n >= 0 && n < int64(len(k.Labels)) {
				return strconv.FormatInt(n, 10), nil
			}
			return bad("no such option; " + k.options())
		}
		for i, l := range k.Labels {
			if strings.EqualFold(strings.Join(strings.Fields(value), " "), l) {
				return strconv.Itoa(i), nil
			}
		}
		return bad("no such option; " + k.options())
	case KindString:
		if utf8.RuneCountInString(value) > k.MaxLen {
			return bad("longer than " + strconv.Itoa(k.MaxLen) + " characters")
		}
		if n := utf8.RuneCountInString(value); n > 0 && n < k.MinLen {
			return bad("shorter than " + strconv.Itoa(k.MinLen) + " characters: too easy to guess")
		}
		if !utf8.ValidString(value) {
			return bad("not valid UTF-8")
		}
		return value, nil
	case KindMeasurands:
		return parseList(value, Measurands, true, bad)
	case KindProfiles:
		return parseList(value, Profiles, false, bad)
	case KindRateUnits:
		return parseList(value, []string{"Current"}, false, bad)
	case KindList:
		return parseList(value, k.Labels, false, bad)
	case KindPhaseRotation:
		items, err := ParsePhaseRotation(value)
		if err != nil {
			return bad(err.Error())
		}
		return FormatPhaseRotation(items), nil
	case KindIPPort:
		if value == "" {
			return "", nil
		}
		if _, err := ParseIPPort(value); err != nil {
			return bad(err.Error())
		}
		return value, nil
	case KindMeterURL:
		c, err := meter.Parse(value)
		if err != nil {
			return bad(strings.TrimPrefix(err.Error(), meter.ErrConfig.Error()+": "))
		}
		return c.String(), nil
	case KindHexKey:
		if value == "" {
			return "", nil
		}
		b, err := hex.DecodeString(value)
		if err != nil {
			return bad("not hex-encoded")
		}
		if len(b) < 16 || len(b) > 20 {
			return bad("must encode 16 to 20 bytes (32 to 40 hex digits)")
		}
		return value, nil
	case KindComputed:
		return "", ErrNotStored
	}
	return bad("key of unknown kind")
}

func (k Key) options() string {
	var b strings.Builder
	b.WriteString("options:")
	for i, l := range k.Labels {
		b.WriteString(" (" + strconv.Itoa(i) + ")" + l)
	}
	return b.String()
}

// parseInt accepts an optional sign and decimal digits, nothing else.
func parseInt(s string) (int64, error) {
	if s == "" || strings.ContainsAny(s, " \t_") || strings.HasPrefix(s, "+") && len(s) == 1 {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseInt(s, 10, 64)
}

// parseList checks a comma-separated list against the allowed items (spaces
// around items are dropped, case must match an item ignoring case) and
// returns it joined by commas with each item as the standard spells it.
func parseList(value string, allowed []string, emptyOK bool, bad func(string) (string, error)) (string, error) {
	if strings.TrimSpace(value) == "" {
		if emptyOK {
			return "", nil
		}
		return bad("empty list")
	}
	var out []string
	for _, item := range strings.Split(value, ",") {
		item = strings.TrimSpace(item)
		i := slices.IndexFunc(allowed, func(a string) bool { return strings.EqualFold(a, item) })
		if i < 0 {
			return bad("unsupported item " + strconv.Quote(item) + "; supported: " + strings.Join(allowed, ", "))
		}
		if slices.Contains(out, allowed[i]) {
			return bad("item " + allowed[i] + " listed twice")
		}
		out = append(out, allowed[i])
	}
	return strings.Join(out, ","), nil
}

// PhaseRotationItem is one item of ConnectorPhaseRotation.
type PhaseRotationItem struct {
	Connector int
	Rotation  string
}

// ParsePhaseRotation parses a ConnectorPhaseRotation value such as
// "0.RST, 1.RTS". Each connector appears at most once.
func ParsePhaseRotation(value string) ([]PhaseRotationItem, error) {
	if strings.TrimSpace(value) == "" {
		return nil, nil
	}
	var items []PhaseRotationItem
	for _, part := range strings.Split(value, ",") {
		part = strings.TrimSpace(part)
		conn, rot, ok := strings.Cut(part, ".")
		if !ok {
			return nil, errorString("item " + strconv.Quote(part) + " is not <connector>.<rotation>")
		}
		n, err := parseInt(conn)
		if err != nil || n < 0 || n > 254 {
			return nil, errorString("item " + strconv.Quote(part) + ": connector is not 0 to 254")
		}
		i := slices.IndexFunc(PhaseRotations, func(r string) bool { return strings.EqualFold(r, rot) })
		if i < 0 {
			return nil, errorString("item " + strconv.Quote(part) + ": rotation is not one of " + strings.Join(PhaseRotations, ", "))
		}
		if slices.ContainsFunc(items, func(it PhaseRotationItem) bool { return it.Connector == int(n) }) {
			return nil, errorString("connector " + conn + " listed twice")
		}
		items = append(items, PhaseRotationItem{Connector: int(n), Rotation: PhaseRotations[i]})
	}
	return items, nil
}

// FormatPhaseRotation is the read-back form of a ConnectorPhaseRotation value.
func FormatPhaseRotation(items []PhaseRotationItem) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = strconv.Itoa(it.Connector) + "." + it.Rotation
	}
	return strings.Join(parts, ",")
}

// ParseIPPort parses DlmMasterIp: an IPv4 or IPv6 address, with an optional
// port (IPv6 with a port in brackets: [fd00::1]:4000). The port is 0 when
// none is given.
func ParseIPPort(value string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(value); err == nil {
		if ap.Port() == 0 {
			return netip.AddrPort{}, errorString("port 0")
		}
		if ap.Addr().Zone() != "" {
			return netip.AddrPort{}, errorString("zoned address")
		}
		return ap, nil
	}
	a, err := netip.ParseAddr(value)
	if err != nil || a.Zone() != "" {
		return netip.AddrPort{}, errorString("not IP[:port]")
	}
	return netip.AddrPortFrom(a, 0), nil
}

type errorString string

func (e errorString) Error() string { return string(e) }
