package ocppschema

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DateTime is an OCPP dateTime: a time.Time that travels as an RFC 3339
// date-time. It is written in UTC with milliseconds
// ("2026-11-24T10:00:00.000Z") and read in any RFC 3339 form, keeping the
// offset it was written with. A leap second (":60"), which time.Time cannot
// hold, is read as the last nanosecond of the minute before it.
type DateTime struct {
	time.Time
}

// Layouts of MarshalJSON: UTC, and the time's own offset for the instants
// whose UTC year RFC 3339 cannot express.
const (
	layoutUTC    = "2006-01-02T15:04:05.000Z"
	layoutOffset = "2006-01-02T15:04:05.000Z07:00"
)

// MarshalJSON writes d in UTC with millisecond precision (truncating). If
// the year in UTC is outside 0000 to 9999 but in d's own offset is not (as
// for 0000-01-01T00:00:00+01:00), it keeps the offset; it fails for other
// years, which RFC 3339 cannot express.
func (d DateTime) MarshalJSON() ([]byte, error) {
	t, layout := d.UTC(), layoutUTC
	if y := t.Year(); y < 0 || y > 9999 {
		t, layout = d.Time, layoutOffset
		if y := t.Year(); y < 0 || y > 9999 {
			return nil, fmt.Errorf("ocppschema: DateTime year %d is outside 0000-9999", y)
		}
	}
	b := make([]byte, 0, len(layoutOffset)+2)
	b = append(b, '"')
	b = t.AppendFormat(b, layout)
	return append(b, '"'), nil
}

// UnmarshalJSON reads an RFC 3339 date-time string.
func (d *DateTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil // as encoding/json does for other types
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return errors.New("ocppschema: DateTime is not a JSON string")
	}
	s := string(b[1 : len(b)-1])
	if strings.IndexByte(s, '\\') >= 0 {
		// Escapes are legal JSON, if odd in a date-time.
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	t, err := ParseDateTime(s)
	if err != nil {
		return err
	}
	*d = t
	return nil
}

// ParseDateTime parses an RFC 3339 (section 5.6) date-time, the grammar of
// the "date-time" format of JSON Schema: "T" and "Z" may be lower case,
// fractional seconds have any number of digits (kept to the nanosecond),
// and the offset is "Z" or ±hh:mm.
func ParseDateTime(s string) (DateTime, error) {
	t, ok := parseDateTime(s)
	if !ok {
		return DateTime{}, fmt.Errorf("ocppschema: %q is not an RFC 3339 date-time", s)
	}
	return DateTime{t}, nil
}

// parseDateTime is ParseDateTime without the error value, for the
// validator.
func parseDateTime(s string) (time.Time, bool) {
	// yyyy-mm-ddThh:mm:ss: 19 bytes, then [.fraction] and the offset.
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
		s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	rest := s[19:]

	nsec := 0
	if rest != "" && rest[0] == '.' {
		n := digitRun(rest[1:])
		if n == 0 {
			return time.Time{}, false
		}
		for i := 0; i < 9; i++ {
			nsec *= 10
			if i < n {
				nsec += int(rest[1+i] - '0')
			}
		}
		rest = rest[1+n:]
	}

	var offset int // seconds east of UTC
	switch {
	case rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits(rest[1:3])
		om, ok2 := digits(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}

	// A leap second is only possible at 23:59 UTC.
	if sec == 60 {
		utc := ((hour*60+minute-offset/60)%1440 + 1440) % 1440
		if utc != 23*60+59 {
			return time.Time{}, false
		}
	}

	if sec == 60 {
		sec, nsec = 59, 999999999
	}
	loc := time.UTC
	if rest != "Z" && rest != "z" {
		loc = time.FixedZone("", offset)
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), true
}

// digits parses a fixed-width run of ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// daysIn returns the number of days of a month of the proleptic Gregorian
// calendar.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
