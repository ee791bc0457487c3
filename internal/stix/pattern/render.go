package pattern

import (
	"strconv"
	"strings"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// isIdentifier reports whether s matches the grammar's
// IdentifierWithoutHyphen, [A-Za-z_][A-Za-z0-9_]*, and so can be written
// without quotes unless it is a keyword.
func isIdentifier(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentPart(s[i]) {
			return false
		}
	}
	return true
}

// String renders the pattern in canonical form: single spaces between
// tokens, = and != for == and <>, and parentheses only where precedence or
// QualifiedObservation.Parenthesized needs them. For a tree that Parse
// returned, parsing the result gives an equal tree apart from offsets.
func (p *Pattern) String() string {
	var b strings.Builder
	writeObservation(&b, p.Expr, precedenceLoosest)
	return b.String()
}

func (o *Observation) String() string          { return renderObservation(o) }
func (o *CompoundObservation) String() string  { return renderObservation(o) }
func (o *QualifiedObservation) String() string { return renderObservation(o) }
func (c *Comparison) String() string           { return renderComparison(c) }
func (c *CompoundComparison) String() string   { return renderComparison(c) }

func renderObservation(e ObservationExpr) string {
	var b strings.Builder
	writeObservation(&b, e, precedenceLoosest)
	return b.String()
}

func renderComparison(e ComparisonExpr) string {
	var b strings.Builder
	writeComparison(&b, e, precedenceLoosest)
	return b.String()
}

// String renders the qualifier as it follows an observation expression.
func (q Qualifier) String() string {
	var b strings.Builder
	writeQualifier(&b, q)
	return b.String()
}

// String renders the literal as pattern source: numbers in their Text
// spelling when it is set, strings quoted with ' and \ escaped.
func (v Value) String() string {
	var b strings.Builder
	writeValue(&b, v)
	return b.String()
}

// Operator precedence for rendering, from loosest to tightest. An operand
// is parenthesized when it binds looser than its context.
const (
	precedenceLoosest = iota
	precedenceFollowedBy
	precedenceOr
	precedenceAnd
	precedenceAtom
)

func observationPrecedence(e ObservationExpr) int {
	c, ok := e.(*CompoundObservation)
	if !ok {
		return precedenceAtom
	}
	switch c.Operator {
	case ObservationFollowedBy:
		return precedenceFollowedBy
	case ObservationOr:
		return precedenceOr
	}
	return precedenceAnd
}

func observationKeyword(op ObservationOperator) string {
	switch op {
	case ObservationFollowedBy:
		return " FOLLOWEDBY "
	case ObservationOr:
		return " OR "
	}
	return " AND "
}

// writeObservation writes e, in parentheses when it binds looser than
// context. Operators are left-associative, so a right operand at the same
// precedence as its parent is parenthesized.
func writeObservation(b *strings.Builder, e ObservationExpr, context int) {
	if observationPrecedence(e) < context {
		b.WriteByte('(')
		writeObservation(b, e, precedenceLoosest)
		b.WriteByte(')')
		return
	}
	switch e := e.(type) {
	case *Observation:
		b.WriteByte('[')
		writeComparison(b, e.Expr, precedenceLoosest)
		b.WriteByte(']')
	case *CompoundObservation:
		level := observationPrecedence(e)
		writeObservation(b, e.Left, level)
		b.WriteString(observationKeyword(e.Operator))
		writeObservation(b, e.Right, level+1)
	case *QualifiedObservation:
		if e.Parenthesized {
			b.WriteByte('(')
			writeObservation(b, e.Expr, precedenceLoosest)
			b.WriteByte(')')
		} else {
			writeObservation(b, e.Expr, precedenceAtom)
		}
		b.WriteByte(' ')
		writeQualifier(b, e.Qualifier)
	}
}

func writeQualifier(b *strings.Builder, q Qualifier) {
	switch q.Kind {
	case QualifierWithin:
		b.WriteString("WITHIN ")
		b.WriteString(strconv.FormatFloat(q.Seconds, 'f', -1, 64))
		b.WriteString(" SECONDS")
	case QualifierRepeats:
		b.WriteString("REPEATS ")
		b.WriteString(itoa(q.Times))
		b.WriteString(" TIMES")
	case QualifierStartStop:
		b.WriteString("START ")
		writeValue(b, q.Start)
		b.WriteString(" STOP ")
		writeValue(b, q.Stop)
	}
}

func comparisonPrecedence(e ComparisonExpr) int {
	c, ok := e.(*CompoundComparison)
	if !ok {
		return precedenceAtom
	}
	if c.Operator == BooleanOr {
		return precedenceOr
	}
	return precedenceAnd
}

func writeComparison(b *strings.Builder, e ComparisonExpr, context int) {
	if comparisonPrecedence(e) < context {
		b.WriteByte('(')
		writeComparison(b, e, precedenceLoosest)
		b.WriteByte(')')
		return
	}
	switch e := e.(type) {
	case *Comparison:
		if e.Operator == OpExists {
			if e.Negated {
				b.WriteString("NOT ")
			}
			b.WriteString("EXISTS ")
			b.WriteString(e.Path.String())
			return
		}
		b.WriteString(e.Path.String())
		b.WriteByte(' ')
		if e.Negated {
			b.WriteString("NOT ")
		}
		b.WriteString(string(e.Operator))
		b.WriteByte(' ')
		writeValue(b, e.Value)
	case *CompoundComparison:
		level := comparisonPrecedence(e)
		writeComparison(b, e.Left, level)
		if e.Operator == BooleanOr {
			b.WriteString(" OR ")
		} else {
			b.WriteString(" AND ")
		}
		writeComparison(b, e.Right, level+1)
	}
}

func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
}

func writeValue(b *strings.Builder, v Value) {
	switch v.Kind {
	case KindString:
		writeQuoted(b, v.Text)
	case KindInt:
		if v.Text != "" {
			b.WriteString(v.Text)
		} else {
			b.WriteString(itoa(v.Int))
		}
	case KindFloat:
		if v.Text != "" {
			b.WriteString(v.Text)
			return
		}
		// FloatLiteral needs a '.', and the grammar has no exponent form.
		text := strconv.FormatFloat(v.Float, 'f', -1, 64)
		b.WriteString(text)
		if !strings.Contains(text, ".") {
			b.WriteString(".0")
		}
	case KindBool:
		b.WriteString(strconv.FormatBool(v.Bool))
	case KindHex:
		b.WriteString("h'")
		b.WriteString(v.Text)
		b.WriteByte('\'')
	case KindBinary:
		b.WriteString("b'")
		b.WriteString(v.Text)
		b.WriteByte('\'')
	case KindTimestamp:
		b.WriteString("t'")
		b.WriteString(v.Text)
		b.WriteByte('\'')
	case KindSet:
		b.WriteByte('(')
		for i, element := range v.Set {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, element)
		}
		b.WriteByte(')')
	}
}
