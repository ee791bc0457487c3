package logfile

import (
	"fmt"
	"strings"
)

// scanState is the position of the value scanner inside the JSON grammar.
type scanState uint8

const (
	stateValue           scanState = iota // a value must start here
	stateObjectFirst                      // after '{': a key or '}'
	stateObjectKey                        // after ',' in an object: a key
	stateColon                            // after a key: ':'
	stateArrayFirst                       // after '[': a value or ']'
	stateAfterValue                       // inside a container after a member: ',' or the closing bracket
	stateString                           // inside a string
	stateEscape                           // after '\' inside a string
	stateUnicode                          // inside the 4 hex digits of a \u escape
	stateLiteral                          // inside true, false or null
	stateLiteralEnd                       // after a literal that must be followed by ',', a bracket or whitespace
	stateNumberMinus                      // after a leading '-'
	stateNumberZero                       // after a leading '0'
	stateNumberInt                        // in the integer digits after 1-9
	stateNumberDot                        // after '.'
	stateNumberFraction                   // in the fraction digits
	stateNumberExp                        // after 'e' or 'E'
	stateNumberExpSign                    // after the exponent sign
	stateNumberExpDigits                  // in the exponent digits

	// The skip states look only for the end of a value with invalid
	// content, so they track strings and brackets and check nothing else.
	stateSkip       // outside strings
	stateSkipString // inside a string
	stateSkipEscape // after '\' inside a string: the next byte is escaped
	// stateSkipRawString is the rest of a string whose invalid escape shows
	// that its writer did not escape backslashes, as in a Windows path
	// written "C:\data\": a backslash there is an ordinary byte, so the
	// next quote ends the string.
	stateSkipRawString
)

// scanResult is the outcome of feeding bytes to the scanner.
type scanResult uint8

const (
	scanMore  scanResult = iota // the value continues past the bytes given
	scanDone                    // the value ended inside the bytes given
	scanError                   // the bytes are not valid JSON
)

// valueScanner finds where one JSON value ends without decoding it. It checks
// the whole grammar (strings and their escapes, numbers, literals, nesting,
// commas and colons) so that invalid JSON is found here with its exact byte
// offset. It does not check that strings are valid UTF-8, as encoding/json
// does not either.
//
// The scanner is incremental: scan may be called again with the bytes that
// follow, so a value can be scanned across buffer refills and a value larger
// than the buffer can be skipped without holding it.
//
// After an error inside a string, number or literal, skipInvalid lets the
// scanner go on to the end of the value, so that a caller can drop just
// that value.
type valueScanner struct {
	stack      []byte // open containers, '{' or '['
	state      scanState
	inKey      bool   // the current string is an object key
	literal    string // the bytes the current literal still needs
	hexLeft    int    // hex digits left in the current \u escape
	singleLine bool   // a newline outside a string ends the value with an error
	inArray    bool   // the value is an array element, so only ',', ']' or whitespace follow it
	reason     string // set when scan returns scanError

	// skipState is the state skipInvalid continues in, or stateValue when
	// the last error leaves the end of the value unknown.
	skipState scanState
}

// begin prepares the scanner for a new value. With singleLine set, a newline
// before the value ends is an error, as in NDJSON.
func (s *valueScanner) begin(singleLine bool) {
	s.stack = s.stack[:0]
	s.state = stateValue
	s.inKey = false
	s.literal = ""
	s.hexLeft = 0
	s.singleLine = singleLine
	s.inArray = false
	s.reason = ""
	s.skipState = stateValue
}

// stringStop marks the bytes that end the fast path inside a string: the
// closing quote, a backslash and the control characters JSON forbids there.
var stringStop = func() (table [256]bool) {
	for c := 0; c < 0x20; c++ {
		table[c] = true
	}
	table['"'] = true
	table['\\'] = true
	return table
}()

// scan feeds p to the scanner and returns how many bytes of p belong to the
// value, with one of three results. scanDone means the value ended,
// scanMore means all of p was consumed and the value goes on. scanError
// means n is at the offending byte, which s.reason describes.
//
// A number is only known to end at the next byte that cannot be part of it.
// When a number is the whole value, that byte is not counted in n.
func (s *valueScanner) scan(p []byte) (n int, result scanResult) {
	i := 0
	for i < len(p) {
		c := p[i]
		switch s.state {
		case stateString:
			for i < len(p) && !stringStop[p[i]] {
				i++
			}
			if i == len(p) {
				return i, scanMore
			}
			c = p[i]
			switch {
			case c == '"':
				i++
				if s.inKey {
					s.inKey = false
					s.state = stateColon
					continue
				}
				if s.endValue() {
					return i, scanDone
				}
			case c == '\\':
				i++
				s.state = stateEscape
			default:
				// NOTE: a raw line break may also mean that the string lost
				// its closing quote, which the skip cannot tell. Then it
				// takes the inside of strings for the outside and can end
				// inside a later object, which may publish a nested object.
				return i, s.failContent(fmt.Sprintf("invalid control character %s in string", quoteByte(c)), stateSkipString)
			}

		case stateEscape:
			switch c {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.state = stateString
			case 'u':
				s.state = stateUnicode
				s.hexLeft = 4
			default:
				// The skip states read c as the escaped byte.
				return i, s.failContent(fmt.Sprintf("invalid escape %s in string", quoteByte(c)), stateSkipRawString)
			}
			i++

		case stateUnicode:
			if !isHex(c) {
				return i, s.failContent(fmt.Sprintf("invalid character %s in \\u escape", quoteByte(c)), stateSkipString)
			}
			i++
			s.hexLeft--
			if s.hexLeft == 0 {
				s.state = stateString
			}

		case stateLiteral:
			if c != s.literal[0] {
				return i, s.failContent(fmt.Sprintf("invalid character %s in literal", quoteByte(c)), stateSkip)
			}
			i++
			s.literal = s.literal[1:]
			if s.literal != "" {
				continue
			}
			if s.mustBeFollowed() {
				// The next byte decides whether the literal ended, as in truex.
				s.state = stateLiteralEnd
				continue
			}
			if s.endValue() {
				return i, scanDone
			}

		case stateLiteralEnd:
			if !canFollowValue(c) {
				return i, s.failContent(fmt.Sprintf("invalid character %s after literal", quoteByte(c)), stateSkip)
			}
			if s.endValue() {
				return i, scanDone
			}

		case stateNumberMinus, stateNumberZero, stateNumberInt, stateNumberDot,
			stateNumberFraction, stateNumberExp, stateNumberExpSign, stateNumberExpDigits:
			consumed, ended, ok := s.number(c)
			if !ok {
				return i, s.failContent(fmt.Sprintf("invalid character %s in number", quoteByte(c)), stateSkip)
			}
			if consumed {
				i++
				continue
			}
			if !ended {
				continue
			}
			if s.mustBeFollowed() && !canFollowValue(c) {
				// A byte such as the second '.' of 1.2.3 makes the number invalid, not the structure.
				return i, s.failContent(fmt.Sprintf("invalid character %s in number", quoteByte(c)), stateSkip)
			}
			if s.endValue() {
				// The byte after the number belongs to whatever follows the value.
				return i, scanDone
			}

		case stateSkip, stateSkipString, stateSkipEscape, stateSkipRawString:
			consumed, done, ok := s.skip(p[i:])
			i += consumed
			if !ok {
				return i, scanError
			}
			if done {
				return i, scanDone
			}

		default:
			if isSpace(c) {
				if c == '\n' && s.singleLine {
					return i, s.fail("line ends before the value is complete")
				}
				i++
				continue
			}
			consumed, done, ok := s.structural(c)
			if !ok {
				return i, scanError
			}
			if consumed {
				i++
			}
			if done {
				return i, scanDone
			}
		}
	}
	return i, scanMore
}

// structural handles a byte outside strings, literals and numbers. It
// reports whether the byte was consumed and whether the value is complete.
func (s *valueScanner) structural(c byte) (consumed, done, ok bool) {
	switch s.state {
	case stateValue:
		return s.startValue(c)

	case stateArrayFirst:
		if c == ']' {
			return true, s.closeContainer(), true
		}
		return s.startValue(c)

	case stateObjectFirst, stateObjectKey:
		if c == '}' && s.state == stateObjectFirst {
			return true, s.closeContainer(), true
		}
		if c != '"' {
			s.failGrammar(c, fmt.Sprintf("invalid character %s where an object key must start", quoteByte(c)))
			return false, false, false
		}
		s.state = stateString
		s.inKey = true
		return true, false, true

	case stateColon:
		if c != ':' {
			s.failGrammar(c, fmt.Sprintf("invalid character %s after object key, expected ':'", quoteByte(c)))
			return false, false, false
		}
		s.state = stateValue
		return true, false, true

	case stateAfterValue:
		top := s.stack[len(s.stack)-1]
		switch {
		case c == ',' && top == '{':
			s.state = stateObjectKey
			return true, false, true
		case c == ',':
			s.state = stateValue
			return true, false, true
		case c == '}' && top == '{', c == ']' && top == '[':
			return true, s.closeContainer(), true
		}
		if top == '{' {
			s.failGrammar(c, fmt.Sprintf("invalid character %s after object member, expected ',' or '}'", quoteByte(c)))
		} else {
			s.failGrammar(c, fmt.Sprintf("invalid character %s after array element, expected ',' or ']'", quoteByte(c)))
		}
		return false, false, false
	}
	s.fail(fmt.Sprintf("scanner in unexpected state %d", s.state))
	return false, false, false
}

// startValue handles the first byte of a value.
func (s *valueScanner) startValue(c byte) (consumed, done, ok bool) {
	switch {
	case c == '{':
		s.stack = append(s.stack, '{')
		s.state = stateObjectFirst
	case c == '[':
		s.stack = append(s.stack, '[')
		s.state = stateArrayFirst
	case c == '"':
		s.state = stateString
	case c == 't':
		s.state, s.literal = stateLiteral, "rue"
	case c == 'f':
		s.state, s.literal = stateLiteral, "alse"
	case c == 'n':
		s.state, s.literal = stateLiteral, "ull"
	case c == '-':
		s.state = stateNumberMinus
	case c == '0':
		s.state = stateNumberZero
	case c >= '1' && c <= '9':
		s.state = stateNumberInt
	case c == ',' || c == ':' || c == ']' || c == '}':
		s.failGrammar(c, fmt.Sprintf("invalid character %s where a value must start", quoteByte(c)))
		return false, false, false
	default:
		// A value such as NaN, +1, True or 'x' is an invalid number or
		// literal, so the nesting around it is intact.
		s.failContent(fmt.Sprintf("invalid character %s where a value must start", quoteByte(c)), stateSkip)
		return false, false, false
	}
	return true, false, true
}

// number advances the number grammar by one byte. consumed means c is part
// of the number. ended means the number finished before c, so the
// enclosing grammar must read c. Neither means c is invalid.
func (s *valueScanner) number(c byte) (consumed, ended, ok bool) {
	digit := c >= '0' && c <= '9'
	switch s.state {
	case stateNumberMinus:
		switch {
		case c == '0':
			s.state = stateNumberZero
		case digit:
			s.state = stateNumberInt
		default:
			return false, false, false
		}
		return true, false, true
	case stateNumberZero, stateNumberInt:
		switch {
		case digit && s.state == stateNumberInt:
			return true, false, true
		case c == '.':
			s.state = stateNumberDot
			return true, false, true
		case c == 'e' || c == 'E':
			s.state = stateNumberExp
			return true, false, true
		case digit:
			// JSON forbids leading zeros such as 01.
			return false, false, false
		}
		return false, true, true
	case stateNumberDot:
		if !digit {
			return false, false, false
		}
		s.state = stateNumberFraction
		return true, false, true
	case stateNumberFraction:
		switch {
		case digit:
			return true, false, true
		case c == 'e' || c == 'E':
			s.state = stateNumberExp
			return true, false, true
		}
		return false, true, true
	case stateNumberExp:
		switch {
		case c == '+' || c == '-':
			s.state = stateNumberExpSign
		case digit:
			s.state = stateNumberExpDigits
		default:
			return false, false, false
		}
		return true, false, true
	case stateNumberExpSign:
		if !digit {
			return false, false, false
		}
		s.state = stateNumberExpDigits
		return true, false, true
	case stateNumberExpDigits:
		if digit {
			return true, false, true
		}
		return false, true, true
	}
	return false, false, false
}

// mustBeFollowed reports whether the scalar that just ended is known to be
// followed by whitespace, ',' or a closing bracket, so that another byte
// is an error in the scalar rather than in the structure.
func (s *valueScanner) mustBeFollowed() bool {
	return len(s.stack) > 0 || s.inArray
}

func canFollowValue(c byte) bool {
	return isSpace(c) || c == ',' || c == ']' || c == '}'
}

// endValue records that a scalar ended and reports whether it was the whole
// value.
func (s *valueScanner) endValue() bool {
	if len(s.stack) == 0 {
		return true
	}
	s.state = stateAfterValue
	return false
}

// closeContainer pops the innermost container and reports whether it was
// the whole value.
func (s *valueScanner) closeContainer() bool {
	s.stack = s.stack[:len(s.stack)-1]
	return s.endValue()
}

func (s *valueScanner) fail(reason string) scanResult {
	s.reason = reason
	s.skipState = stateValue
	return scanError
}

// failContent records an error that leaves the nesting intact, so that
// skipInvalid can still find the end of the value from skipState.
func (s *valueScanner) failContent(reason string, skipState scanState) scanResult {
	s.reason = reason
	s.skipState = skipState
	return scanError
}

// failGrammar records a grammar error found at byte c inside a container.
// When c is a quote, a bracket, ',' or ':', the error is a missing or
// extra ',' or ':'. Writers that make these mistakes still balance their
// brackets, so skipInvalid may find the end of the value by the brackets
// alone. Any other byte, such as the p of "a,"pattern", most
// often follows a missing or extra quote, after which the skip would take
// the inside of strings for the outside and could end inside a nested
// object. That error stays final, as do a closing bracket of the wrong
// kind and an error outside any container.
func (s *valueScanner) failGrammar(c byte, reason string) scanResult {
	if len(s.stack) == 0 || strings.IndexByte(`",:{}[]`, c) < 0 {
		return s.fail(reason)
	}
	if (c == '}' || c == ']') && c != closerOf(s.stack[len(s.stack)-1]) {
		return s.fail(reason)
	}
	return s.failContent(reason, stateSkip)
}

// skipInvalid switches the scanner, after scan returned scanError for an
// invalid string, number or literal, or a grammar error that failGrammar
// allows, to finding the end of the value without checking it. The next
// call to scan starts at the byte the error was at. skipInvalid reports
// false, and changes nothing, after any other error.
func (s *valueScanner) skipInvalid() bool {
	if s.skipState == stateValue {
		return false
	}
	s.state = s.skipState
	s.skipState = stateValue
	return true
}

// skip scans p in the skip states. It returns how many bytes it consumed
// and whether the value ended there. Inside a container the value ends
// with the bracket that closes its outermost one. A value that is a bare
// scalar ends with its closing quote, or before the first whitespace or
// structural byte. A closing bracket of the wrong kind is an error.
func (s *valueScanner) skip(p []byte) (n int, done, ok bool) {
	for n < len(p) {
		c := p[n]
		switch s.state {
		case stateSkipEscape:
			s.state = stateSkipString
			n++

		case stateSkipRawString:
			for n < len(p) && p[n] != '"' {
				n++
			}
			if n == len(p) {
				return n, false, true
			}
			n++
			s.state = stateSkip
			if len(s.stack) == 0 {
				return n, true, true
			}

		case stateSkipString:
			for n < len(p) && p[n] != '"' && p[n] != '\\' {
				n++
			}
			if n == len(p) {
				return n, false, true
			}
			if p[n] == '\\' {
				s.state = stateSkipEscape
				n++
				continue
			}
			n++
			s.state = stateSkip
			if len(s.stack) == 0 {
				return n, true, true
			}

		default:
			if len(s.stack) == 0 && (isSpace(c) || strings.IndexByte(",:[]{}\"", c) >= 0) {
				return n, true, true
			}
			switch c {
			case '"':
				s.state = stateSkipString
			case '{', '[':
				s.stack = append(s.stack, c)
			case '}', ']':
				open := s.stack[len(s.stack)-1]
				if (c == '}') != (open == '{') {
					s.fail(fmt.Sprintf("invalid character %s where %s must close the %s", quoteByte(c), quoteByte(closerOf(open)), containerName(open)))
					return n, false, false
				}
				s.stack = s.stack[:len(s.stack)-1]
				if len(s.stack) == 0 {
					return n + 1, true, true
				}
			}
			n++
		}
	}
	return n, false, true
}

func closerOf(open byte) byte {
	if open == '{' {
		return '}'
	}
	return ']'
}

func containerName(open byte) string {
	if open == '{' {
		return "object"
	}
	return "array"
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// quoteByte formats a byte for an error message, printable or as hex.
func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("'%c'", c)
	}
	return fmt.Sprintf("0x%02x", c)
}
