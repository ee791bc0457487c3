package pattern

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// endOfPattern is the Found text of an error raised at the end of the input.
const endOfPattern = "end of pattern"

// maxFoundLength bounds the Found text, because a stray string literal can
// run to the end of a long pattern.
const maxFoundLength = 40

// SyntaxError reports a pattern that does not follow the STIX patterning
// grammar.
type SyntaxError struct {
	// Offset is the byte offset into the pattern of the token that failed.
	Offset int
	// Expected names what the grammar allows at Offset, such as "']'" or
	// "a literal".
	Expected string
	// Found is the source text of the failing token, or "end of pattern".
	Found string
	// Hint is an optional suggestion for a common mistake, such as a keyword
	// written in lower case.
	Hint string
}

// Error formats the error as `pattern: at offset 17: expected ']', found "AND"`,
// followed by the hint when there is one.
func (e *SyntaxError) Error() string {
	var b strings.Builder
	b.WriteString("pattern: at offset ")
	b.WriteString(strconv.Itoa(e.Offset))
	b.WriteString(": expected ")
	b.WriteString(e.Expected)
	b.WriteString(", found ")
	if e.Found == endOfPattern {
		b.WriteString(endOfPattern)
	} else {
		b.WriteString(strconv.Quote(e.Found))
	}
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteByte(')')
	}
	return b.String()
}

// foundText returns src[start:end] cut to maxFoundLength bytes on a rune
// boundary, or "end of pattern" for an empty range at the end of src.
func foundText(src string, start, end int) string {
	if start >= len(src) {
		return endOfPattern
	}
	if end-start <= maxFoundLength {
		return src[start:end]
	}
	cut := start + maxFoundLength
	for cut > start && !utf8.RuneStart(src[cut]) {
		cut--
	}
	return src[start:cut] + "..."
}
