package pattern

import (
	"math"
	"strconv"
	"strings"
)

// maxNesting bounds the depth of parentheses and brackets, so that a
// hostile pattern cannot exhaust the stack through recursion.
const maxNesting = 1000

// Parse parses a STIX 2.1 pattern into its syntax tree. It also accepts the
// STIX 2.0 form START '...' STOP '...' with plain string literals. A pattern
// that breaks the grammar yields a *SyntaxError.
func Parse(s string) (*Pattern, error) {
	p := parser{lex: lexer{src: s}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return nil, &SyntaxError{Offset: p.tok.start, Expected: "'[' or '('", Found: endOfPattern, Hint: "the pattern is empty"}
	}
	expr, err := p.parseObservationExpressions(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.unexpected("AND, OR, FOLLOWEDBY, a qualifier or end of pattern")
	}
	return &Pattern{Expr: expr}, nil
}

// parser is a recursive-descent parser with one token of lookahead. Each
// parse method starts at p.tok and leaves p.tok at the first token after
// its production.
type parser struct {
	lex   lexer
	tok   token
	depth int
}

func (p *parser) advance() error {
	tok, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = tok
	return nil
}

// text returns the source text of the current token.
func (p *parser) text() string {
	return p.lex.src[p.tok.start:p.tok.end]
}

// unexpected reports that the current token does not fit the grammar.
func (p *parser) unexpected(expected string) *SyntaxError {
	return &SyntaxError{
		Offset:   p.tok.start,
		Expected: expected,
		Found:    foundText(p.lex.src, p.tok.start, p.tok.end),
		Hint:     p.hint(),
	}
}

// hint suggests a fix when the current token is a keyword in the wrong case.
func (p *parser) hint() string {
	if p.tok.kind != tokIdent {
		return ""
	}
	word := p.text()
	if upper := strings.ToUpper(word); upper != word && keywordKind(upper) != tokIdent {
		return "keywords are case-sensitive: write " + upper
	}
	if lower := strings.ToLower(word); lower != word && (lower == "true" || lower == "false") {
		return "booleans are lower-case: write " + lower
	}
	return ""
}

// expect consumes a token of the given kind or reports what was expected.
func (p *parser) expect(kind tokenKind, expected string) error {
	if p.tok.kind != kind {
		return p.unexpected(expected)
	}
	return p.advance()
}

// enter counts one level of nesting and fails past maxNesting.
func (p *parser) enter() error {
	p.depth++
	if p.depth > maxNesting {
		return &SyntaxError{
			Offset:   p.tok.start,
			Expected: "at most " + strconv.Itoa(maxNesting) + " levels of parentheses and brackets",
			Found:    foundText(p.lex.src, p.tok.start, p.tok.end),
		}
	}
	return nil
}

// observationLevels lists the observation operators from the loosest to the
// tightest binding, as the grammar's observationExpressions,
// observationExpressionOr and observationExpressionAnd rules order them.
var observationLevels = [...]struct {
	kind     tokenKind
	operator ObservationOperator
}{
	{tokFollowedBy, ObservationFollowedBy},
	{tokOr, ObservationOr},
	{tokAnd, ObservationAnd},
}

// parseObservationExpressions parses the operators of observationLevels
// from level on. Every level is left-associative.
func (p *parser) parseObservationExpressions(level int) (ObservationExpr, error) {
	if level == len(observationLevels) {
		return p.parseQualifiedObservation()
	}
	left, err := p.parseObservationExpressions(level + 1)
	if err != nil {
		return nil, err
	}
	for p.tok.kind == observationLevels[level].kind {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.parseObservationExpressions(level + 1)
		if err != nil {
			return nil, err
		}
		left = &CompoundObservation{Operator: observationLevels[level].operator, Left: left, Right: right}
	}
	return left, nil
}

// parseQualifiedObservation parses an observation with any number of
// qualifiers. Qualifiers bind tighter than AND, OR and FOLLOWEDBY, so in
// [a] AND [b] WITHIN 5 SECONDS the qualifier applies to [b] alone.
func (p *parser) parseQualifiedObservation() (ObservationExpr, error) {
	expr, parenthesized, err := p.parseObservation()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokWithin || p.tok.kind == tokRepeats || p.tok.kind == tokStart {
		qualifier, err := p.parseQualifier()
		if err != nil {
			return nil, err
		}
		expr = &QualifiedObservation{Expr: expr, Qualifier: qualifier, Parenthesized: parenthesized}
		parenthesized = false
	}
	return expr, nil
}

// parseObservation parses [comparisons] or (observation expressions) and
// reports which of the two it was.
func (p *parser) parseObservation() (ObservationExpr, bool, error) {
	switch p.tok.kind {
	case tokLBracket:
		offset := p.tok.start
		if err := p.enter(); err != nil {
			return nil, false, err
		}
		if err := p.advance(); err != nil {
			return nil, false, err
		}
		expr, err := p.parseComparisonOr()
		if err != nil {
			return nil, false, err
		}
		if err := p.expect(tokRBracket, "']'"); err != nil {
			return nil, false, err
		}
		p.depth--
		return &Observation{Offset: offset, Expr: expr}, false, nil
	case tokLParen:
		if err := p.enter(); err != nil {
			return nil, false, err
		}
		if err := p.advance(); err != nil {
			return nil, false, err
		}
		expr, err := p.parseObservationExpressions(0)
		if err != nil {
			return nil, false, err
		}
		if err := p.expect(tokRParen, "AND, OR, FOLLOWEDBY, a qualifier or ')'"); err != nil {
			return nil, false, err
		}
		p.depth--
		return expr, true, nil
	}
	err := p.unexpected("'[' or '('")
	if err.Hint == "" && (p.tok.kind == tokIdent || p.tok.kind == tokIdentHyphen) {
		err.Hint = "comparisons must be inside square brackets, as in [ipv4-addr:value = '198.51.100.1']"
	}
	return nil, false, err
}

// parseQualifier parses WITHIN n SECONDS, REPEATS n TIMES or
// START t STOP t.
func (p *parser) parseQualifier() (Qualifier, error) {
	switch p.tok.kind {
	case tokWithin:
		if err := p.advance(); err != nil {
			return Qualifier{}, err
		}
		seconds, err := p.parseWithinSeconds()
		if err != nil {
			return Qualifier{}, err
		}
		if err := p.expect(tokSeconds, "SECONDS"); err != nil {
			return Qualifier{}, err
		}
		return Qualifier{Kind: QualifierWithin, Seconds: seconds}, nil
	case tokRepeats:
		if err := p.advance(); err != nil {
			return Qualifier{}, err
		}
		if p.tok.kind != tokInt || p.text()[0] == '-' {
			return Qualifier{}, p.unexpected("a non-negative integer")
		}
		times, err := p.parseInt()
		if err != nil {
			return Qualifier{}, err
		}
		if err := p.expect(tokTimes, "TIMES"); err != nil {
			return Qualifier{}, err
		}
		return Qualifier{Kind: QualifierRepeats, Times: times}, nil
	default:
		if err := p.advance(); err != nil {
			return Qualifier{}, err
		}
		start, err := p.parseStartStopTime()
		if err != nil {
			return Qualifier{}, err
		}
		if err := p.expect(tokStop, "STOP"); err != nil {
			return Qualifier{}, err
		}
		stop, err := p.parseStartStopTime()
		if err != nil {
			return Qualifier{}, err
		}
		return Qualifier{Kind: QualifierStartStop, Start: start, Stop: stop}, nil
	}
}

// parseWithinSeconds parses the IntPosLiteral or FloatPosLiteral of WITHIN.
// Integers are read as floats, so they have no int64 limit.
func (p *parser) parseWithinSeconds() (float64, error) {
	if p.tok.kind != tokInt && p.tok.kind != tokFloat || p.text()[0] == '-' {
		return 0, p.unexpected("a non-negative number")
	}
	seconds, err := strconv.ParseFloat(p.text(), 64)
	if err != nil || math.IsInf(seconds, 0) {
		return 0, p.unexpected("a number below 1.8e308")
	}
	return seconds, p.advance()
}

// parseStartStopTime parses the literal after START or STOP: a timestamp as
// STIX 2.1 requires, or a plain string as the STIX 2.0 grammar allowed.
func (p *parser) parseStartStopTime() (Value, error) {
	switch p.tok.kind {
	case tokTimestamp, tokString:
		return p.parseLiteral()
	}
	return Value{}, p.unexpected("a timestamp literal")
}

// parseComparisonOr parses comparisons joined by OR, which binds looser
// than AND.
func (p *parser) parseComparisonOr() (ComparisonExpr, error) {
	left, err := p.parseComparisonAnd()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokOr {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.parseComparisonAnd()
		if err != nil {
			return nil, err
		}
		left = &CompoundComparison{Operator: BooleanOr, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) parseComparisonAnd() (ComparisonExpr, error) {
	left, err := p.parsePropTest()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokAnd {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.parsePropTest()
		if err != nil {
			return nil, err
		}
		left = &CompoundComparison{Operator: BooleanAnd, Left: left, Right: right}
	}
	return left, nil
}

// parsePropTest parses the grammar's propTest: a parenthesized comparison
// expression, [NOT] EXISTS path, or path [NOT] operator literal.
func (p *parser) parsePropTest() (ComparisonExpr, error) {
	switch p.tok.kind {
	case tokLParen:
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		expr, err := p.parseComparisonOr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(tokRParen, "AND, OR or ')'"); err != nil {
			return nil, err
		}
		p.depth--
		return expr, nil
	case tokNot, tokExists:
		return p.parseExists()
	case tokIdent, tokIdentHyphen:
		return p.parseComparison()
	}
	return nil, p.unexpected("an object path, EXISTS or '('")
}

// comparisonBlock puts a comparison and room for the first steps of its
// path in one allocation, because most paths have one or two steps, as in
// file:hashes.'SHA-256'.
type comparisonBlock struct {
	comparison Comparison
	steps      [2]PathStep
}

func newComparison(offset int) *Comparison {
	block := &comparisonBlock{}
	block.comparison.Offset = offset
	block.comparison.Path.Steps = block.steps[:0:len(block.steps)]
	return &block.comparison
}

// parseExists parses EXISTS path. The grammar has no NOT before EXISTS, but
// the reference parser (stix2-patterns 2.1.2) accepts NOT EXISTS, and so
// does this one.
func (p *parser) parseExists() (ComparisonExpr, error) {
	negated := p.tok.kind == tokNot
	if negated {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokExists {
			err := p.unexpected("EXISTS")
			err.Hint = "NOT goes after the object path, as in file:name NOT = 'a.exe'"
			return nil, err
		}
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	c := newComparison(p.tok.start)
	c.Operator, c.Negated = OpExists, negated
	if err := p.parseObjectPath(&c.Path); err != nil {
		return nil, err
	}
	return c, nil
}

// comparisonOperator returns the operator that a token spells, if any.
func comparisonOperator(kind tokenKind) (Operator, bool) {
	switch kind {
	case tokEqual:
		return OpEqual, true
	case tokNotEqual:
		return OpNotEqual, true
	case tokLess:
		return OpLess, true
	case tokLessEq:
		return OpLessEq, true
	case tokGreater:
		return OpGreater, true
	case tokGreaterEq:
		return OpGreaterEq, true
	case tokIn:
		return OpIn, true
	case tokLike:
		return OpLike, true
	case tokMatches:
		return OpMatches, true
	case tokIsSubset:
		return OpIsSubset, true
	case tokIsSuperset:
		return OpIsSuperset, true
	}
	return "", false
}

// parseComparison parses path [NOT] operator literal. Which literals an
// operator takes follows propTestEqual, propTestOrder, propTestSet,
// propTestLike, propTestRegex, propTestIsSubset and propTestIsSuperset.
func (p *parser) parseComparison() (ComparisonExpr, error) {
	c := newComparison(p.tok.start)
	if err := p.parseObjectPath(&c.Path); err != nil {
		return nil, err
	}
	if p.tok.kind == tokNot {
		c.Negated = true
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	operator, ok := comparisonOperator(p.tok.kind)
	if !ok {
		if c.Negated {
			return nil, p.unexpected("a comparison operator")
		}
		return nil, p.unexpected("a comparison operator or NOT")
	}
	c.Operator = operator
	if err := p.advance(); err != nil {
		return nil, err
	}
	var value Value
	var err error
	switch operator {
	case OpEqual, OpNotEqual:
		value, err = p.parsePrimitiveLiteral()
	case OpLess, OpLessEq, OpGreater, OpGreaterEq:
		value, err = p.parseOrderableLiteral()
	case OpIn:
		value, err = p.parseSetLiteral()
	default:
		value, err = p.parseStringLiteral()
	}
	if err != nil {
		return nil, err
	}
	c.Value = value
	return c, nil
}

// parseObjectPath parses objectType ':' firstPathComponent followed by
// .property, .'quoted property', [n] and [*] steps. It appends the steps to
// path.Steps.
func (p *parser) parseObjectPath(path *ObjectPath) error {
	if p.tok.kind != tokIdent && p.tok.kind != tokIdentHyphen {
		return p.unexpected("an object type")
	}
	path.ObjectType = p.text()
	if err := p.advance(); err != nil {
		return err
	}
	if err := p.expect(tokColon, "':'"); err != nil {
		return err
	}
	property, err := p.parsePropertyName()
	if err != nil {
		return err
	}
	path.Steps = append(path.Steps, PathStep{Property: property})
	for {
		switch p.tok.kind {
		case tokDot:
			if err := p.advance(); err != nil {
				return err
			}
			property, err := p.parsePropertyName()
			if err != nil {
				return err
			}
			path.Steps = append(path.Steps, PathStep{Property: property})
		case tokLBracket:
			if err := p.advance(); err != nil {
				return err
			}
			step := PathStep{IsIndex: true}
			switch p.tok.kind {
			case tokAsterisk:
				step.AnyIndex = true
				if err := p.advance(); err != nil {
					return err
				}
			case tokInt:
				index, err := p.parseInt()
				if err != nil {
					return err
				}
				step.Index = index
			default:
				return p.unexpected("an integer or '*'")
			}
			if err := p.expect(tokRBracket, "']'"); err != nil {
				return err
			}
			path.Steps = append(path.Steps, step)
		default:
			return nil
		}
	}
}

// parsePropertyName parses an unquoted IdentifierWithoutHyphen or a quoted
// string. Keywords and names with hyphens must be quoted.
func (p *parser) parsePropertyName() (string, error) {
	switch p.tok.kind {
	case tokIdent:
		name := p.text()
		return name, p.advance()
	case tokString:
		name := p.stringValue()
		return name, p.advance()
	}
	err := p.unexpected("a property name")
	if p.tok.kind == tokIdentHyphen {
		err.Hint = "property names with hyphens must be quoted, as in hashes.'SHA-256'"
	}
	return "", err
}

// parseInt parses the current IntPosLiteral or IntNegLiteral as an int64.
func (p *parser) parseInt() (int64, error) {
	n, err := strconv.ParseInt(p.text(), 10, 64)
	if err != nil {
		return 0, p.unexpected("an integer between -9223372036854775808 and 9223372036854775807")
	}
	return n, p.advance()
}

// parsePrimitiveLiteral parses any literal but a set: the operand of = and !=.
func (p *parser) parsePrimitiveLiteral() (Value, error) {
	switch p.tok.kind {
	case tokTrue, tokFalse:
		return p.parseLiteral()
	}
	return p.parseOrderableLiteral()
}

// parseOrderableLiteral parses the operand of <, <=, > and >=: any literal
// but a boolean or a set.
func (p *parser) parseOrderableLiteral() (Value, error) {
	switch p.tok.kind {
	case tokInt, tokFloat, tokString, tokHex, tokBinary, tokTimestamp:
		return p.parseLiteral()
	case tokTrue, tokFalse:
		return Value{}, p.unexpected("a number, string, binary, hex or timestamp literal")
	}
	return Value{}, p.unexpected("a literal")
}

// parseStringLiteral parses the operand of LIKE, MATCHES, ISSUBSET and
// ISSUPERSET.
func (p *parser) parseStringLiteral() (Value, error) {
	if p.tok.kind != tokString {
		return Value{}, p.unexpected("a string literal")
	}
	return p.parseLiteral()
}

// parseSetLiteral parses ( ) or ( literal, literal, ... ), the operand of IN.
func (p *parser) parseSetLiteral() (Value, error) {
	if err := p.expect(tokLParen, "'('"); err != nil {
		return Value{}, err
	}
	set := Value{Kind: KindSet}
	if p.tok.kind == tokRParen {
		return set, p.advance()
	}
	for {
		element, err := p.parsePrimitiveLiteral()
		if err != nil {
			return Value{}, err
		}
		set.Set = append(set.Set, element)
		switch p.tok.kind {
		case tokComma:
			if err := p.advance(); err != nil {
				return Value{}, err
			}
		case tokRParen:
			return set, p.advance()
		default:
			return Value{}, p.unexpected("',' or ')'")
		}
	}
}

// parseLiteral converts the current literal token into a Value. The caller
// has checked that the token is a literal the production allows.
func (p *parser) parseLiteral() (Value, error) {
	text := p.text()
	var v Value
	switch p.tok.kind {
	case tokInt:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return Value{}, p.unexpected("an integer between -9223372036854775808 and 9223372036854775807")
		}
		v = Value{Kind: KindInt, Text: text, Int: n}
	case tokFloat:
		// A float too large for float64 becomes ±Inf; Text keeps the spelling.
		f, _ := strconv.ParseFloat(text, 64)
		v = Value{Kind: KindFloat, Text: text, Float: f}
	case tokString:
		v = Value{Kind: KindString, Text: p.stringValue()}
	case tokHex:
		v = Value{Kind: KindHex, Text: text[2 : len(text)-1]}
	case tokBinary:
		v = Value{Kind: KindBinary, Text: text[2 : len(text)-1]}
	case tokTimestamp:
		v = Value{Kind: KindTimestamp, Text: text[2 : len(text)-1]}
	case tokTrue:
		v = Value{Kind: KindBool, Text: text, Bool: true}
	case tokFalse:
		v = Value{Kind: KindBool, Text: text}
	default:
		return Value{}, p.unexpected("a literal")
	}
	return v, p.advance()
}

// stringValue returns the decoded content of the current string token. It
// slices the source unless the literal contains escapes.
func (p *parser) stringValue() string {
	raw := p.lex.src[p.tok.start+1 : p.tok.end-1]
	if !p.tok.escaped {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		// The lexer has checked that every backslash starts \' or \\.
		if raw[i] == '\\' {
			i++
		}
		b.WriteByte(raw[i])
	}
	return b.String()
}
