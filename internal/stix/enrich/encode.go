package enrich

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// appendIndicatorEntry appends the journal line of r, without its newline,
// with text as its raw field, and returns where text starts in the line.
// The line is the one json.Marshal gives for entry{Indicator: r}, except
// that text is copied as it is, where json.Marshal would also escape the
// HTML characters in it. It is written without reflection because every
// indicator read adds one: encoding/json took about a third of the index's
// CPU on a feed of indicators. text must be on one line (see oneLine).
func appendIndicatorEntry(dst []byte, r *indicatorRecord, text []byte) ([]byte, int, error) {
	var err error
	dst = append(dst, `{"indicator":{"id":`...)
	dst = appendString(dst, r.ID)
	dst = append(dst, `,"modified":`...)
	if dst, err = appendTime(dst, r.Modified); err != nil {
		return nil, 0, err
	}
	if r.Revoked {
		dst = append(dst, `,"revoked":true`...)
	}
	if r.Input != "" {
		dst = append(dst, `,"input":`...)
		dst = appendString(dst, r.Input)
	}
	if len(r.Markings) > 0 {
		dst = append(dst, `,"markings":`...)
		dst = appendStrings(dst, r.Markings)
	}
	if len(r.Refs) > 0 {
		dst = append(dst, `,"object_refs":`...)
		dst = appendStrings(dst, r.Refs)
	}
	if r.Digest != "" {
		dst = append(dst, `,"context_digest":`...)
		dst = appendString(dst, r.Digest)
	}
	if r.Revision != 0 {
		dst = append(dst, `,"revision":`...)
		dst = strconv.AppendInt(dst, int64(r.Revision), 10)
	}
	if len(r.Source) > 0 {
		dst = append(dst, `,"source":`...)
		if dst, err = appendRawJSON(dst, r.Source); err != nil {
			return nil, 0, err
		}
	}
	dst = append(dst, `,"raw":`...)
	textStart := len(dst)
	if len(text) == 0 {
		// json.Marshal writes an empty json.RawMessage as null.
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, text...)
	}
	return append(dst, "}}"...), textStart, nil
}

// oneLine returns JSON text without line breaks: text itself when it has
// none, else its compact form, because the journal holds one entry per
// line.
func oneLine(text []byte) ([]byte, error) {
	if bytes.IndexByte(text, '\n') < 0 && bytes.IndexByte(text, '\r') < 0 {
		return text, nil
	}
	// The text was parsed before it reached the index, so only the white
	// space between tokens needs to go. json.Compact, which checks the
	// grammar again, took most of the time an indicator spends here.
	compact := make([]byte, 0, len(text))
	inString := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inString:
			compact = append(compact, c)
			if c == '\\' && i+1 < len(text) {
				i++
				compact = append(compact, text[i])
			} else if c == '"' {
				inString = false
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			compact = append(compact, c)
			inString = c == '"'
		}
	}
	if inString {
		return nil, errors.New("unterminated string in JSON text")
	}
	return compact, nil
}

// needsEscape reports whether json.Marshal writes byte c of a string other
// than as itself: quotes, backslashes, control characters, the HTML
// characters <, > and &, and bytes of non-ASCII characters, some of which
// it escapes or replaces.
func needsEscape(c byte) bool {
	return c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&'
}

// appendString appends s as json.Marshal writes it.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if needsEscape(s[i]) {
			quoted, _ := json.Marshal(s)
			return append(dst, quoted...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

func appendStrings(dst []byte, list []string) []byte {
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

// appendTime appends t as json.Marshal writes it, which fails for years
// outside 0 to 9999.
func appendTime(dst []byte, t time.Time) ([]byte, error) {
	if year := t.Year(); year < 0 || year > 9999 {
		text, err := json.Marshal(t)
		return append(dst, text...), err
	}
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"'), nil
}

// appendRawJSON appends a json.RawMessage as json.Marshal writes it: in
// compact form, with the HTML characters escaped. Text made by json.Marshal
// is already in that form and is copied. Text with spaces, line breaks,
// HTML characters or the byte that starts U+2028 and U+2029 goes through
// json.Marshal.
func appendRawJSON(dst []byte, text []byte) ([]byte, error) {
	canonical := true
	for _, c := range text {
		switch c {
		case ' ', '\t', '\r', '\n', '<', '>', '&', 0xe2:
			canonical = false
		}
	}
	if canonical {
		return append(dst, text...), nil
	}
	encoded, err := json.Marshal(json.RawMessage(text))
	if err != nil {
		return nil, err
	}
	return append(dst, encoded...), nil
}
