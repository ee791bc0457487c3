package pattern

import "unicode/utf8"

// tokenKind is the lexical class of a token. The classes follow the lexer
// rules of the STIX 2.1 grammar (STIXPattern.g4 in
// oasis-open/cti-stix2-json-schemas).
type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokLBracket
	tokRBracket
	tokLParen
	tokRParen
	tokColon
	tokDot
	tokComma
	tokAsterisk
	tokEqual     // = or ==
	tokNotEqual  // != or <>
	tokLess      // <
	tokLessEq    // <=
	tokGreater   // >
	tokGreaterEq // >=

	tokIdent       // IdentifierWithoutHyphen: [A-Za-z_][A-Za-z0-9_]*
	tokIdentHyphen // IdentifierWithHyphen that contains a hyphen
	tokInt
	tokFloat
	tokString
	tokHex
	tokBinary
	tokTimestamp
	tokTrue
	tokFalse

	tokAnd
	tokOr
	tokNot
	tokFollowedBy
	tokLike
	tokMatches
	tokIsSuperset
	tokIsSubset
	tokExists
	tokLast
	tokIn
	tokStart
	tokStop
	tokSeconds
	tokWithin
	tokRepeats
	tokTimes

	// tokOther is a character that no parser rule uses, such as +, -, ^, /
	// or a letter outside ASCII.
	tokOther
)

// token is one lexeme. start and end are byte offsets into the pattern, so
// the parser slices the source instead of copying text.
type token struct {
	kind  tokenKind
	start int
	end   int
	// escaped marks a string literal that contains \' or \\, which must be
	// decoded before use.
	escaped bool
}

// keywordKind returns the token kind of a reserved word, or tokIdent. The
// grammar's keywords are case-sensitive: AND is a keyword, and is an
// identifier.
func keywordKind(word string) tokenKind {
	switch word {
	case "AND":
		return tokAnd
	case "OR":
		return tokOr
	case "NOT":
		return tokNot
	case "FOLLOWEDBY":
		return tokFollowedBy
	case "LIKE":
		return tokLike
	case "MATCHES":
		return tokMatches
	case "ISSUPERSET":
		return tokIsSuperset
	case "ISSUBSET":
		return tokIsSubset
	case "EXISTS":
		return tokExists
	case "LAST":
		return tokLast
	case "IN":
		return tokIn
	case "START":
		return tokStart
	case "STOP":
		return tokStop
	case "SECONDS":
		return tokSeconds
	case "WITHIN":
		return tokWithin
	case "REPEATS":
		return tokRepeats
	case "TIMES":
		return tokTimes
	case "true":
		return tokTrue
	case "false":
		return tokFalse
	}
	return tokIdent
}

// isKeyword reports whether word is reserved, so it cannot be an object type
// or an unquoted property name.
func isKeyword(word string) bool {
	return keywordKind(word) != tokIdent
}

// lexer splits a pattern into tokens on demand.
type lexer struct {
	src string
	pos int
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) }

// isSpaceRune reports the non-ASCII characters of the grammar's WS rule.
func isSpaceRune(r rune) bool {
	switch r {
	case 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return 0x2000 <= r && r <= 0x200a
}

// skipSpace moves past whitespace and /* */ and // comments, which the
// grammar discards between any two tokens.
func (l *lexer) skipSpace() error {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			l.pos++
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '/':
			l.pos += 2
			for l.pos < len(l.src) && l.src[l.pos] != '\n' && l.src[l.pos] != '\r' {
				l.pos++
			}
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '*':
			end := indexFrom(l.src, l.pos+2, "*/")
			if end < 0 {
				return &SyntaxError{Offset: l.pos, Expected: "'*/' to close the comment", Found: endOfPattern}
			}
			l.pos = end + 2
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(l.src[l.pos:])
			if !isSpaceRune(r) {
				return nil
			}
			l.pos += size
		default:
			return nil
		}
	}
	return nil
}

// indexFrom returns the offset of the first sep in s at or after from, or -1.
func indexFrom(s string, from int, sep string) int {
	for i := from; i+len(sep) <= len(s); i++ {
		if s[i:i+len(sep)] == sep {
			return i
		}
	}
	return -1
}

// next scans the token at the current position.
func (l *lexer) next() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tokEOF, start: start, end: start}, nil
	}
	c := l.src[start]
	peek := byte(0)
	if start+1 < len(l.src) {
		peek = l.src[start+1]
	}

	switch {
	case c == '[':
		return l.emit(start, 1, tokLBracket)
	case c == ']':
		return l.emit(start, 1, tokRBracket)
	case c == '(':
		return l.emit(start, 1, tokLParen)
	case c == ')':
		return l.emit(start, 1, tokRParen)
	case c == ':':
		return l.emit(start, 1, tokColon)
	case c == ',':
		return l.emit(start, 1, tokComma)
	case c == '*':
		return l.emit(start, 1, tokAsterisk)
	case c == '=':
		if peek == '=' {
			return l.emit(start, 2, tokEqual)
		}
		return l.emit(start, 1, tokEqual)
	case c == '!':
		if peek == '=' {
			return l.emit(start, 2, tokNotEqual)
		}
		return l.emit(start, 1, tokOther)
	case c == '<':
		switch peek {
		case '=':
			return l.emit(start, 2, tokLessEq)
		case '>':
			return l.emit(start, 2, tokNotEqual)
		}
		return l.emit(start, 1, tokLess)
	case c == '>':
		if peek == '=' {
			return l.emit(start, 2, tokGreaterEq)
		}
		return l.emit(start, 1, tokGreater)
	case c == '\'':
		return l.scanString(start)
	case c == '.':
		if isDigit(peek) {
			return l.scanNumber(start), nil
		}
		return l.emit(start, 1, tokDot)
	case c == '+' || c == '-':
		if isDigit(peek) || peek == '.' && start+2 < len(l.src) && isDigit(l.src[start+2]) {
			return l.scanNumber(start), nil
		}
		return l.emit(start, 1, tokOther)
	case isDigit(c):
		return l.scanNumber(start), nil
	case isIdentStart(c):
		return l.scanWord(start)
	case c >= utf8.RuneSelf:
		_, size := utf8.DecodeRuneInString(l.src[start:])
		l.pos = start + size
		return token{kind: tokOther, start: start, end: l.pos}, nil
	}
	return l.emit(start, 1, tokOther)
}

// emit returns the token of the given length at start and moves past it.
func (l *lexer) emit(start, length int, kind tokenKind) (token, error) {
	l.pos = start + length
	return token{kind: kind, start: start, end: l.pos}, nil
}

// scanNumber scans IntPosLiteral, IntNegLiteral, FloatPosLiteral or
// FloatNegLiteral. Like the reference lexer it takes the longest match, so
// "01" is the integer 0 followed by 1, and "1e5" is 1 followed by the
// identifier e5.
func (l *lexer) scanNumber(start int) token {
	i := start
	if l.src[i] == '+' || l.src[i] == '-' {
		i++
	}
	digits := i
	for i < len(l.src) && isDigit(l.src[i]) {
		i++
	}
	if i+1 < len(l.src) && l.src[i] == '.' && isDigit(l.src[i+1]) {
		i++
		for i < len(l.src) && isDigit(l.src[i]) {
			i++
		}
		l.pos = i
		return token{kind: tokFloat, start: start, end: i}
	}
	// IntLiteral is '0' | [1-9][0-9]*, so a leading zero ends the token.
	if l.src[digits] == '0' {
		i = digits + 1
	}
	l.pos = i
	return token{kind: tokInt, start: start, end: i}
}

// scanWord scans an identifier, a keyword, or a literal with a one-letter
// prefix: h'..', b'..' or t'..'.
func (l *lexer) scanWord(start int) (token, error) {
	i := start + 1
	hyphen := false
	for i < len(l.src) {
		c := l.src[i]
		if c == '-' {
			hyphen = true
		} else if !isIdentPart(c) {
			break
		}
		i++
	}
	if i == start+1 && i < len(l.src) && l.src[i] == '\'' {
		switch l.src[start] {
		case 'h':
			return l.scanPrefixed(start, tokHex)
		case 'b':
			return l.scanPrefixed(start, tokBinary)
		case 't':
			return l.scanPrefixed(start, tokTimestamp)
		}
	}
	l.pos = i
	if hyphen {
		return token{kind: tokIdentHyphen, start: start, end: i}, nil
	}
	return token{kind: keywordKind(l.src[start:i]), start: start, end: i}, nil
}

// scanString scans a quoted string. The grammar allows only \' and \\ as
// escapes, and the reference lexer (stix2-patterns 2.1.2) rejects any other
// backslash too. So 'C:\Windows' is an error and must be written
// 'C:\\Windows'.
func (l *lexer) scanString(start int) (token, error) {
	escaped := false
	for i := start + 1; i < len(l.src); i++ {
		switch l.src[i] {
		case '\'':
			l.pos = i + 1
			return token{kind: tokString, start: start, end: l.pos, escaped: escaped}, nil
		case '\\':
			if i+1 >= len(l.src) {
				return token{}, unterminatedError(start)
			}
			next := l.src[i+1]
			if next != '\'' && next != '\\' {
				_, size := utf8.DecodeRuneInString(l.src[i+1:])
				return token{}, &SyntaxError{
					Offset:   i,
					Expected: `\' or \\ after a backslash`,
					Found:    l.src[i : i+1+size],
					Hint:     `STIX strings have no other escapes, so write a literal backslash as \\`,
				}
			}
			escaped = true
			i++
		}
	}
	return token{}, unterminatedError(start)
}

// scanPrefixed scans h'..', b'..' or t'..' and checks its content against
// the grammar's HexLiteral, BinaryLiteral or TimestampLiteral rule. None of
// them allows escapes, so the literal ends at the next quote.
func (l *lexer) scanPrefixed(start int, kind tokenKind) (token, error) {
	closing := -1
	for i := start + 2; i < len(l.src); i++ {
		if l.src[i] == '\'' {
			closing = i
			break
		}
	}
	if closing < 0 {
		return token{}, unterminatedError(start)
	}
	content := l.src[start+2 : closing]
	var valid bool
	var expected string
	switch kind {
	case tokHex:
		valid, expected = isHexContent(content), "an even number of hex digits in h'...'"
	case tokBinary:
		valid, expected = isBase64Content(content), "padded base64 in b'...'"
	default:
		valid, expected = isTimestampContent(content), "a timestamp of the form t'YYYY-MM-DDTHH:MM:SS[.fraction]Z'"
	}
	if !valid {
		return token{}, &SyntaxError{Offset: start, Expected: expected, Found: foundText(l.src, start, closing+1)}
	}
	l.pos = closing + 1
	return token{kind: kind, start: start, end: l.pos}, nil
}

// unterminatedError reports a quoted literal, opened at offset start, that
// runs to the end of the pattern.
func unterminatedError(start int) *SyntaxError {
	return &SyntaxError{Offset: start, Expected: "a closing quote for the literal that starts here", Found: endOfPattern}
}

func isHexDigit(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isHexContent checks the grammar's TwoHexDigits*, which allows an empty
// hex literal.
func isHexContent(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

func isBase64Char(c byte) bool {
	return isIdentStart(c) && c != '_' || isDigit(c) || c == '+' || c == '/'
}

// isBase64Content checks the grammar's BinaryLiteral: one or more groups of
// four characters, where only the last group may end in "=" or "==". An
// empty binary literal does not match the rule.
func isBase64Content(s string) bool {
	if len(s) == 0 || len(s)%4 != 0 {
		return false
	}
	body := len(s)
	for padding := 0; padding < 2 && s[body-1] == '='; padding++ {
		body--
	}
	for i := 0; i < body; i++ {
		if !isBase64Char(s[i]) {
			return false
		}
	}
	return true
}

// isTimestampContent checks the grammar's TimestampLiteral:
// YYYY-MM-DDTHH:MM:SS, optional fractional seconds, and a mandatory Z. The
// grammar checks each field's range (month 01-12, day 01-31, hour 00-23,
// minute 00-59, second 00-60) but not the day against the month, and so does
// this function.
func isTimestampContent(s string) bool {
	const layout = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(layout)+1 || s[len(s)-1] != 'Z' {
		return false
	}
	for i := 0; i < len(layout); i++ {
		if layout[i] == 'd' {
			if !isDigit(s[i]) {
				return false
			}
		} else if s[i] != layout[i] {
			return false
		}
	}
	two := func(at int) int { return int(s[at]-'0')*10 + int(s[at+1]-'0') }
	month, day, hour, minute, second := two(5), two(8), two(11), two(14), two(17)
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60 {
		return false
	}
	fraction := s[len(layout) : len(s)-1]
	if fraction == "" {
		return true
	}
	if fraction[0] != '.' || len(fraction) == 1 {
		return false
	}
	for i := 1; i < len(fraction); i++ {
		if !isDigit(fraction[i]) {
			return false
		}
	}
	return true
}
