package stix

import (
	"errors"
	"time"
)

// timestamp is an instant read from a STIX timestamp, with the number of
// fractional-second digits the producer wrote, so that the ECS copy keeps
// the precision of the source.
type timestamp struct {
	time   time.Time // always UTC
	digits int       // fractional-second digits as written, at most 9
}

var (
	errTimestampSyntax = errors.New("expected YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)")
	errTimestampRange  = errors.New("date or time out of range")
)

// parseTimestamp reads RFC 3339 date-times the way STIX feeds write them.
// Beyond strict RFC 3339 it accepts a lower-case "t" or "z", a space between
// date and time, and a missing zone. zoneless reports the last case: the
// value is then read as UTC and the caller should warn, because RFC 3339
// requires a zone.
//
// The parser is written by hand because time.Parse with a layout cannot
// accept all these spellings at once and costs more per call.
func parseTimestamp(s string) (ts timestamp, zoneless bool, err error) {
	// The shortest accepted form is "YYYY-MM-DDTHH:MM:SS" (19 bytes).
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return ts, false, errTimestampSyntax
	}
	switch s[10] {
	case 'T', 't', ' ':
	default:
		return ts, false, errTimestampSyntax
	}
	year, ok1 := digitsValue(s[0:4])
	month, ok2 := digitsValue(s[5:7])
	day, ok3 := digitsValue(s[8:10])
	hour, ok4 := digitsValue(s[11:13])
	minute, ok5 := digitsValue(s[14:16])
	second, ok6 := digitsValue(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return ts, false, errTimestampSyntax
	}
	// Second 60 is a leap second, which RFC 3339 allows. time.Date moves it
	// to the first second of the next minute.
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || second > 60 {
		return ts, false, errTimestampRange
	}

	rest := s[19:]
	nanos, digits := 0, 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			// Digits past the ninth are below time.Time's resolution.
			if digits < 9 {
				nanos = nanos*10 + int(rest[i]-'0')
				digits++
			}
			i++
		}
		if i == 1 {
			return ts, false, errTimestampSyntax
		}
		for n := digits; n < 9; n++ {
			nanos *= 10
		}
		rest = rest[i:]
	}

	offset := 0
	switch {
	case rest == "":
		zoneless = true
	case rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, okh := digitsValue(rest[1:3])
		om, okm := digitsValue(rest[4:6])
		if !okh || !okm || oh > 23 || om > 59 {
			return ts, false, errTimestampSyntax
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return ts, false, errTimestampSyntax
	}

	t := time.Date(year, time.Month(month), day, hour, minute, second, nanos, time.UTC)
	if offset != 0 {
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	return timestamp{time: t, digits: digits}, zoneless, nil
}

// String formats the instant as RFC 3339 in UTC with at least millisecond
// precision, or the precision of the source when it had more digits.
func (ts timestamp) String() string {
	var buf [40]byte
	return string(ts.appendTo(buf[:0], max(ts.digits, 3)))
}

// appendTo appends YYYY-MM-DDTHH:MM:SS.fffZ with exactly digits fractional
// digits (0 to 9) to b.
func (ts timestamp) appendTo(b []byte, digits int) []byte {
	t := ts.time
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, second, 2)
	if digits > 0 {
		fraction := t.Nanosecond()
		for n := digits; n < 9; n++ {
			fraction /= 10
		}
		b = append(b, '.')
		b = appendDigits(b, fraction, digits)
	}
	return append(b, 'Z')
}

// appendDigits appends v in decimal, zero-padded to width digits. Values
// wider than width keep their extra leading digits.
func appendDigits(b []byte, v, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for v >= 10 || width > 1 {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	tmp[i] = byte('0' + v)
	return append(b, tmp[i:]...)
}

// digitsValue reads s as an unsigned decimal made only of ASCII digits.
func digitsValue(s string) (int, bool) {
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, len(s) > 0
}

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
