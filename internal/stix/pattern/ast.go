package pattern

import "strings"

// Pattern is a parsed STIX pattern: one observation expression, possibly
// compound and qualified.
type Pattern struct {
	Expr ObservationExpr
}

// ObservationExpr is one of *Observation, *CompoundObservation and
// *QualifiedObservation.
type ObservationExpr interface {
	observationExpr()
}

// Observation is one bracketed comparison expression, such as
// [ipv4-addr:value = '198.51.100.1'].
type Observation struct {
	Offset int // byte offset of the opening bracket
	Expr   ComparisonExpr
}

// ObservationOperator joins two observation expressions.
type ObservationOperator int

const (
	ObservationAnd ObservationOperator = iota
	ObservationOr
	ObservationFollowedBy
)

// CompoundObservation is two observation expressions joined by AND, OR or
// FOLLOWEDBY.
type CompoundObservation struct {
	Operator    ObservationOperator
	Left, Right ObservationExpr
}

// QualifiedObservation is an observation expression with one qualifier.
// A chain such as [a] REPEATS 2 TIMES WITHIN 5 SECONDS nests, with the last
// qualifier outermost.
type QualifiedObservation struct {
	Expr      ObservationExpr
	Qualifier Qualifier
	// Parenthesized is true when Expr was written in parentheses, as in
	// ([a] WITHIN 5 SECONDS) WITHIN 9 SECONDS. The reference validator
	// (stix2-patterns 2.1.2) rejects a qualifier kind repeated on one
	// observation but does not look through such parentheses, so a check
	// that matches its verdicts needs this flag.
	Parenthesized bool
}

// QualifierKind names the qualifier that follows an observation expression.
type QualifierKind int

const (
	QualifierWithin QualifierKind = iota
	QualifierRepeats
	QualifierStartStop
)

// Qualifier is WITHIN n SECONDS, REPEATS n TIMES or START t STOP t.
type Qualifier struct {
	Kind QualifierKind
	// Seconds is the WITHIN window; it may be fractional.
	Seconds float64
	// Times is the REPEATS count.
	Times int64
	// Start and Stop hold the START/STOP literals (timestamp or string).
	Start, Stop Value
}

// ComparisonExpr is one of *Comparison and *CompoundComparison.
type ComparisonExpr interface {
	comparisonExpr()
}

// BooleanOperator joins two comparison expressions inside one observation.
type BooleanOperator int

const (
	BooleanAnd BooleanOperator = iota
	BooleanOr
)

// CompoundComparison is two comparison expressions joined by AND or OR.
type CompoundComparison struct {
	Operator    BooleanOperator
	Left, Right ComparisonExpr
}

// Operator is a comparison operator.
type Operator string

const (
	OpEqual      Operator = "="
	OpNotEqual   Operator = "!="
	OpLess       Operator = "<"
	OpLessEq     Operator = "<="
	OpGreater    Operator = ">"
	OpGreaterEq  Operator = ">="
	OpIn         Operator = "IN"
	OpLike       Operator = "LIKE"
	OpMatches    Operator = "MATCHES"
	OpIsSubset   Operator = "ISSUBSET"
	OpIsSuperset Operator = "ISSUPERSET"
	OpExists     Operator = "EXISTS"
)

// Comparison is one property test: an object path, an operator and a
// literal. EXISTS comparisons have no value.
type Comparison struct {
	Offset   int // byte offset of the object path
	Path     ObjectPath
	Operator Operator
	// Negated is true when NOT precedes the operator.
	Negated bool
	Value   Value
}

// ObjectPath is an object type and the property steps below it, such as
// file:hashes.'SHA-256' or network-traffic:src_ref.value.
type ObjectPath struct {
	ObjectType string
	Steps      []PathStep
}

// PathStep is one property name or one list index.
type PathStep struct {
	// Property is the property name, unquoted. Empty for an index step.
	Property string
	// Index is the list index; AnyIndex is true for [*].
	Index    int64
	AnyIndex bool
	IsIndex  bool
}

// ValueKind is the type of a literal.
type ValueKind int

const (
	KindNone ValueKind = iota // EXISTS has no value
	KindString
	KindInt
	KindFloat
	KindBool
	KindHex       // h'...'
	KindBinary    // b'...'
	KindTimestamp // t'...'
	KindSet       // ( v, v, ... ) for IN
)

// Value is a literal. Text holds the decoded text of string, hex, binary and
// timestamp literals (escapes resolved; hex and base64 as written) and the
// literal spelling of numbers and booleans.
type Value struct {
	Kind  ValueKind
	Text  string
	Int   int64
	Float float64
	Bool  bool
	Set   []Value
}

func (*Observation) observationExpr()          {}
func (*CompoundObservation) observationExpr()  {}
func (*QualifiedObservation) observationExpr() {}
func (*Comparison) comparisonExpr()            {}
func (*CompoundComparison) comparisonExpr()    {}

// String renders the path the way STIX writes it, quoting property names
// that are not plain identifiers: file:hashes.'SHA-256'.
func (p ObjectPath) String() string {
	var b strings.Builder
	b.WriteString(p.ObjectType)
	b.WriteByte(':')
	for i, s := range p.Steps {
		if s.IsIndex {
			if s.AnyIndex {
				b.WriteString("[*]")
			} else {
				b.WriteByte('[')
				b.WriteString(itoa(s.Index))
				b.WriteByte(']')
			}
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		// Keywords such as AND or true cannot be unquoted property names.
		if isIdentifier(s.Property) && !isKeyword(s.Property) {
			b.WriteString(s.Property)
		} else {
			b.WriteByte('\'')
			b.WriteString(strings.ReplaceAll(strings.ReplaceAll(s.Property, `\`, `\\`), `'`, `\'`))
			b.WriteByte('\'')
		}
	}
	return b.String()
}

// Comparisons lists every comparison of the pattern in source order.
func (p *Pattern) Comparisons() []*Comparison {
	var out []*Comparison
	var walkComparison func(ComparisonExpr)
	walkComparison = func(e ComparisonExpr) {
		switch e := e.(type) {
		case *Comparison:
			out = append(out, e)
		case *CompoundComparison:
			walkComparison(e.Left)
			walkComparison(e.Right)
		}
	}
	var walk func(ObservationExpr)
	walk = func(e ObservationExpr) {
		switch e := e.(type) {
		case *Observation:
			walkComparison(e.Expr)
		case *CompoundObservation:
			walk(e.Left)
			walk(e.Right)
		case *QualifiedObservation:
			walk(e.Expr)
		}
	}
	if p != nil {
		walk(p.Expr)
	}
	return out
}
