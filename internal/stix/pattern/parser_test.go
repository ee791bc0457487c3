package pattern

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// Builders for expected trees. They leave offsets zero, because the parse
// tests clear offsets before comparing and TestParseOffsets checks them.

func path(objectType string, steps ...PathStep) ObjectPath {
	return ObjectPath{ObjectType: objectType, Steps: steps}
}

func prop(name string) PathStep { return PathStep{Property: name} }
func index(n int64) PathStep    { return PathStep{IsIndex: true, Index: n} }
func anyIndex() PathStep        { return PathStep{IsIndex: true, AnyIndex: true} }

func str(text string) Value              { return Value{Kind: KindString, Text: text} }
func integer(text string, n int64) Value { return Value{Kind: KindInt, Text: text, Int: n} }
func float(text string, f float64) Value { return Value{Kind: KindFloat, Text: text, Float: f} }
func boolean(b bool) Value {
	if b {
		return Value{Kind: KindBool, Text: "true", Bool: true}
	}
	return Value{Kind: KindBool, Text: "false"}
}
func hex(text string) Value       { return Value{Kind: KindHex, Text: text} }
func binary(text string) Value    { return Value{Kind: KindBinary, Text: text} }
func timestamp(text string) Value { return Value{Kind: KindTimestamp, Text: text} }
func set(elements ...Value) Value { return Value{Kind: KindSet, Set: elements} }

func compare(p ObjectPath, op Operator, v Value) *Comparison {
	return &Comparison{Path: p, Operator: op, Value: v}
}

func notCompare(p ObjectPath, op Operator, v Value) *Comparison {
	return &Comparison{Path: p, Operator: op, Negated: true, Value: v}
}

func exists(p ObjectPath) *Comparison { return &Comparison{Path: p, Operator: OpExists} }

func and(l, r ComparisonExpr) *CompoundComparison {
	return &CompoundComparison{Operator: BooleanAnd, Left: l, Right: r}
}

func or(l, r ComparisonExpr) *CompoundComparison {
	return &CompoundComparison{Operator: BooleanOr, Left: l, Right: r}
}

func observe(e ComparisonExpr) *Observation { return &Observation{Expr: e} }

func obsAnd(l, r ObservationExpr) *CompoundObservation {
	return &CompoundObservation{Operator: ObservationAnd, Left: l, Right: r}
}

func obsOr(l, r ObservationExpr) *CompoundObservation {
	return &CompoundObservation{Operator: ObservationOr, Left: l, Right: r}
}

func followedBy(l, r ObservationExpr) *CompoundObservation {
	return &CompoundObservation{Operator: ObservationFollowedBy, Left: l, Right: r}
}

func within(e ObservationExpr, seconds float64) *QualifiedObservation {
	return &QualifiedObservation{Expr: e, Qualifier: Qualifier{Kind: QualifierWithin, Seconds: seconds}}
}

func repeats(e ObservationExpr, times int64) *QualifiedObservation {
	return &QualifiedObservation{Expr: e, Qualifier: Qualifier{Kind: QualifierRepeats, Times: times}}
}

func startStop(e ObservationExpr, start, stop Value) *QualifiedObservation {
	return &QualifiedObservation{Expr: e, Qualifier: Qualifier{Kind: QualifierStartStop, Start: start, Stop: stop}}
}

func grouped(q *QualifiedObservation) *QualifiedObservation {
	q.Parenthesized = true
	return q
}

// observeX returns the observation [a:x = n], a short operand for tests of
// the observation operators.
func observeX(n int64) *Observation {
	return observe(compare(path("a", prop("x")), OpEqual, integer(itoa(n), n)))
}

// clearOffsets zeroes every offset in the tree so that trees parsed from
// different spellings compare equal.
func clearOffsets(e ObservationExpr) {
	switch e := e.(type) {
	case *Observation:
		e.Offset = 0
		clearComparisonOffsets(e.Expr)
	case *CompoundObservation:
		clearOffsets(e.Left)
		clearOffsets(e.Right)
	case *QualifiedObservation:
		clearOffsets(e.Expr)
	}
}

func clearComparisonOffsets(e ComparisonExpr) {
	switch e := e.(type) {
	case *Comparison:
		e.Offset = 0
	case *CompoundComparison:
		clearComparisonOffsets(e.Left)
		clearComparisonOffsets(e.Right)
	}
}

// mustParse parses s with offsets cleared and fails the test on error.
func mustParse(t *testing.T, s string) *Pattern {
	t.Helper()
	p, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	clearOffsets(p.Expr)
	return p
}

func TestParseGrammar(t *testing.T) {
	ipv4 := path("ipv4-addr", prop("value"))
	ax, ay, az := path("a", prop("x")), path("a", prop("y")), path("a", prop("z"))
	integerOne := integer("1", 1)

	tests := []struct {
		name    string
		pattern string
		want    ObservationExpr
	}{
		// pattern, observationExpression: LBRACK comparisonExpression RBRACK
		{"simple observation", "[ipv4-addr:value = '198.51.100.1']",
			observe(compare(ipv4, OpEqual, str("198.51.100.1")))},
		{"spaces inside brackets", "[ ipv4-addr:value = '10.0.0.1' ]",
			observe(compare(ipv4, OpEqual, str("10.0.0.1")))},
		{"no spaces at all", "[a:x<-1]",
			observe(compare(ax, OpLess, integer("-1", -1)))},

		// observationExpressions, observationExpressionOr, observationExpressionAnd
		{"observation AND", "[a:x = 1] AND [a:x = 2]", obsAnd(observeX(1), observeX(2))},
		{"observation OR", "[a:x = 1] OR [a:x = 2]", obsOr(observeX(1), observeX(2))},
		{"FOLLOWEDBY", "[a:x = 1] FOLLOWEDBY [a:x = 2]", followedBy(observeX(1), observeX(2))},
		{"AND binds tighter than OR", "[a:x = 1] OR [a:x = 2] AND [a:x = 3]",
			obsOr(observeX(1), obsAnd(observeX(2), observeX(3)))},
		{"OR binds tighter than FOLLOWEDBY", "[a:x = 1] FOLLOWEDBY [a:x = 2] OR [a:x = 3] AND [a:x = 4]",
			followedBy(observeX(1), obsOr(observeX(2), obsAnd(observeX(3), observeX(4))))},
		{"AND after FOLLOWEDBY groups right", "[a:x = 1] AND [a:x = 2] FOLLOWEDBY [a:x = 3]",
			followedBy(obsAnd(observeX(1), observeX(2)), observeX(3))},
		{"OR is left-associative", "[a:x = 1] OR [a:x = 2] OR [a:x = 3]",
			obsOr(obsOr(observeX(1), observeX(2)), observeX(3))},
		{"AND is left-associative", "[a:x = 1] AND [a:x = 2] AND [a:x = 3]",
			obsAnd(obsAnd(observeX(1), observeX(2)), observeX(3))},
		{"FOLLOWEDBY is left-associative", "[a:x = 1] FOLLOWEDBY [a:x = 2] FOLLOWEDBY [a:x = 3]",
			followedBy(followedBy(observeX(1), observeX(2)), observeX(3))},

		// observationExpression: LPAREN observationExpressions RPAREN
		{"parentheses override precedence", "([a:x = 1] OR [a:x = 2]) AND [a:x = 3]",
			obsAnd(obsOr(observeX(1), observeX(2)), observeX(3))},
		{"parentheses on the right", "[a:x = 1] FOLLOWEDBY ([a:x = 2] FOLLOWEDBY [a:x = 3])",
			followedBy(observeX(1), followedBy(observeX(2), observeX(3)))},
		{"redundant parentheses vanish", "(([a:x = 1]))", observeX(1)},

		// withinQualifier, repeatedQualifier, startStopQualifier
		{"WITHIN integer", "[a:x = 1] WITHIN 5 SECONDS", within(observeX(1), 5)},
		{"WITHIN float", "[a:x = 1] WITHIN 2.5 SECONDS", within(observeX(1), 2.5)},
		{"WITHIN float without integer part", "[a:x = 1] WITHIN .5 SECONDS", within(observeX(1), 0.5)},
		{"WITHIN with plus sign", "[a:x = 1] WITHIN +5 SECONDS", within(observeX(1), 5)},
		{"WITHIN zero", "[a:x = 1] WITHIN 0 SECONDS", within(observeX(1), 0)},
		{"WITHIN beyond int64", "[a:x = 1] WITHIN 99999999999999999999 SECONDS", within(observeX(1), 1e20)},
		{"REPEATS", "[a:x = 1] REPEATS 5 TIMES", repeats(observeX(1), 5)},
		{"REPEATS zero", "[a:x = 1] REPEATS 0 TIMES", repeats(observeX(1), 0)},
		{"START STOP timestamps",
			"[a:x = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00.5Z'",
			startStop(observeX(1), timestamp("2016-06-01T00:00:00Z"), timestamp("2016-07-01T00:00:00.5Z"))},
		{"START STOP STIX 2.0 strings",
			"[a:x = 1] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'",
			startStop(observeX(1), str("2016-06-01T00:00:00Z"), str("2016-07-01T00:00:00Z"))},
		{"START timestamp STOP string",
			"[a:x = 1] START t'2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'",
			startStop(observeX(1), timestamp("2016-06-01T00:00:00Z"), str("2016-07-01T00:00:00Z"))},
		{"qualifier binds tighter than AND", "[a:x = 1] AND [a:x = 2] WITHIN 5 SECONDS",
			obsAnd(observeX(1), within(observeX(2), 5))},
		{"qualifier chain nests left to right", "[a:x = 1] REPEATS 2 TIMES WITHIN 5 SECONDS",
			within(repeats(observeX(1), 2), 5)},
		{"same qualifier twice is grammatical", "[a:x = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS",
			within(within(observeX(1), 5), 6)},
		{"qualifier on a group", "([a:x = 1] FOLLOWEDBY [a:x = 2]) WITHIN 600 SECONDS",
			grouped(within(followedBy(observeX(1), observeX(2)), 600))},
		{"qualifier on a parenthesized observation", "([a:x = 1]) WITHIN 5 SECONDS",
			grouped(within(observeX(1), 5))},
		{"qualifier on a parenthesized qualifier", "([a:x = 1] WITHIN 5 SECONDS) WITHIN 9 SECONDS",
			grouped(within(within(observeX(1), 5), 9))},
		{"qualifiers after a parenthesized observation", "([a:x = 1]) WITHIN 5 SECONDS WITHIN 9 SECONDS",
			within(grouped(within(observeX(1), 5)), 9)},

		// comparisonExpression, comparisonExpressionAnd, propTestParen
		{"comparison AND", "[a:x = 1 AND a:y = 1]", observe(and(compare(ax, OpEqual, integerOne), compare(ay, OpEqual, integerOne)))},
		{"comparison OR", "[a:x = 1 OR a:y = 1]", observe(or(compare(ax, OpEqual, integerOne), compare(ay, OpEqual, integerOne)))},
		{"comparison AND binds tighter than OR", "[a:x = 1 OR a:y = 1 AND a:z = 1]",
			observe(or(compare(ax, OpEqual, integerOne), and(compare(ay, OpEqual, integerOne), compare(az, OpEqual, integerOne))))},
		{"comparison OR is left-associative", "[a:x = 1 OR a:y = 1 OR a:z = 1]",
			observe(or(or(compare(ax, OpEqual, integerOne), compare(ay, OpEqual, integerOne)), compare(az, OpEqual, integerOne)))},
		{"comparison parentheses", "[(a:x = 1 OR a:y = 1) AND a:z = 1]",
			observe(and(or(compare(ax, OpEqual, integerOne), compare(ay, OpEqual, integerOne)), compare(az, OpEqual, integerOne)))},
		{"comparison parentheses around integerOne test", "[((a:x = 1))]", observe(compare(ax, OpEqual, integerOne))},
		{"comparisons on different object types", "[a:x = 1 AND b:x = 1]",
			observe(and(compare(ax, OpEqual, integerOne), compare(path("b", prop("x")), OpEqual, integerOne)))},

		// propTestEqual, propTestOrder
		{"equal", "[a:x = 1]", observe(compare(ax, OpEqual, integerOne))},
		{"double equal", "[a:x == 1]", observe(compare(ax, OpEqual, integerOne))},
		{"not equal", "[a:x != 1]", observe(compare(ax, OpNotEqual, integerOne))},
		{"not equal diamond", "[a:x <> 1]", observe(compare(ax, OpNotEqual, integerOne))},
		{"NOT equal", "[a:x NOT = 1]", observe(notCompare(ax, OpEqual, integerOne))},
		{"less", "[a:x < 1]", observe(compare(ax, OpLess, integerOne))},
		{"less or equal", "[a:x <= 1]", observe(compare(ax, OpLessEq, integerOne))},
		{"greater", "[a:x > 1]", observe(compare(ax, OpGreater, integerOne))},
		{"greater or equal", "[a:x >= 1]", observe(compare(ax, OpGreaterEq, integerOne))},
		{"NOT greater", "[a:x NOT > 1]", observe(notCompare(ax, OpGreater, integerOne))},
		{"order on a timestamp", "[a:x > t'2020-01-01T00:00:00Z']",
			observe(compare(ax, OpGreater, timestamp("2020-01-01T00:00:00Z")))},

		// propTestSet, propTestLike, propTestRegex, propTestIsSubset, propTestIsSuperset
		{"IN", "[a:x IN ('a', 2, 3.5, true, h'ff')]",
			observe(compare(ax, OpIn, set(str("a"), integer("2", 2), float("3.5", 3.5), boolean(true), hex("ff"))))},
		{"IN empty set", "[a:x IN ()]", observe(compare(ax, OpIn, set()))},
		{"NOT IN", "[a:x NOT IN (1)]", observe(notCompare(ax, OpIn, set(integerOne)))},
		{"LIKE", "[a:x LIKE 'evil%']", observe(compare(ax, OpLike, str("evil%")))},
		{"NOT LIKE", "[a:x NOT LIKE 'evil%']", observe(notCompare(ax, OpLike, str("evil%")))},
		{"MATCHES", `[a:x MATCHES '^\\d+$']`, observe(compare(ax, OpMatches, str(`^\d+$`)))},
		{"ISSUBSET", "[a:x ISSUBSET '198.51.100.0/24']", observe(compare(ax, OpIsSubset, str("198.51.100.0/24")))},
		{"ISSUPERSET", "[a:x ISSUPERSET '198.51.100.0/24']", observe(compare(ax, OpIsSuperset, str("198.51.100.0/24")))},
		{"NOT ISSUBSET", "[a:x NOT ISSUBSET '198.51.100.0/24']", observe(notCompare(ax, OpIsSubset, str("198.51.100.0/24")))},

		// propTestExists
		{"EXISTS", "[EXISTS a:x]", observe(exists(ax))},
		{"NOT EXISTS", "[NOT EXISTS a:x]", observe(&Comparison{Path: ax, Operator: OpExists, Negated: true})},
		{"EXISTS joined by AND", "[EXISTS a:x AND a:y = 1]", observe(and(exists(ax), compare(ay, OpEqual, integerOne)))},

		// Literals
		{"string with escaped quote and backslash", `[a:x = 'it\'s C:\\temp']`, observe(compare(ax, OpEqual, str(`it's C:\temp`)))},
		{"empty string", "[a:x = '']", observe(compare(ax, OpEqual, str("")))},
		{"string with curly quotes and Cyrillic", "[a:x = '“привет”']", observe(compare(ax, OpEqual, str("“привет”")))},
		{"string keeps a tab and a newline", "[a:x = 'a\tb\nc']", observe(compare(ax, OpEqual, str("a\tb\nc")))},
		{"string keeps brackets and keywords", "[a:x = '] AND [']", observe(compare(ax, OpEqual, str("] AND [")))},
		{"zero", "[a:x = 0]", observe(compare(ax, OpEqual, integer("0", 0)))},
		{"negative integer", "[a:x = -42]", observe(compare(ax, OpEqual, integer("-42", -42)))},
		{"integer with plus", "[a:x = +42]", observe(compare(ax, OpEqual, integer("+42", 42)))},
		{"largest int64", "[a:x = 9223372036854775807]",
			observe(compare(ax, OpEqual, integer("9223372036854775807", math.MaxInt64)))},
		{"float", "[a:x = 7.25]", observe(compare(ax, OpEqual, float("7.25", 7.25)))},
		{"negative float without integer part", "[a:x = -.5]", observe(compare(ax, OpEqual, float("-.5", -0.5)))},
		{"float with leading zeros", "[a:x = 007.5]", observe(compare(ax, OpEqual, float("007.5", 7.5)))},
		{"true", "[a:x = true]", observe(compare(ax, OpEqual, boolean(true)))},
		{"false", "[a:x != false]", observe(compare(ax, OpNotEqual, boolean(false)))},
		{"hex", "[a:x = h'00aaFF']", observe(compare(ax, OpEqual, hex("00aaFF")))},
		{"empty hex", "[a:x = h'']", observe(compare(ax, OpEqual, hex("")))},
		{"binary", "[a:x = b'dGliZWF0']", observe(compare(ax, OpEqual, binary("dGliZWF0")))},
		{"binary with two padding characters", "[a:x = b'YQ==']", observe(compare(ax, OpEqual, binary("YQ==")))},
		{"binary with integerOne padding character", "[a:x = b'YWI=']", observe(compare(ax, OpEqual, binary("YWI=")))},
		{"timestamp with leap second", "[a:x = t'2016-12-31T23:59:60Z']",
			observe(compare(ax, OpEqual, timestamp("2016-12-31T23:59:60Z")))},
		{"timestamp with microseconds", "[a:x = t'2024-01-01T00:00:00.123456Z']",
			observe(compare(ax, OpEqual, timestamp("2024-01-01T00:00:00.123456Z")))},

		// objectPath, objectType, firstPathComponent, objectPathComponent
		{"quoted property step", "[file:hashes.'SHA-256' = 'aa']",
			observe(compare(path("file", prop("hashes"), prop("SHA-256")), OpEqual, str("aa")))},
		{"quoted first component", "[a:'x y' = 1]", observe(compare(path("a", prop("x y")), OpEqual, integerOne))},
		{"quoted property with escapes", `[a:x.'it\'s' = 1]`, observe(compare(path("a", prop("x"), prop("it's")), OpEqual, integerOne))},
		{"quoted keyword as property", "[a:x.'AND' = 1]", observe(compare(path("a", prop("x"), prop("AND")), OpEqual, integerOne))},
		{"index step", "[a:x[0] = 1]", observe(compare(path("a", prop("x"), index(0)), OpEqual, integerOne))},
		{"negative index step", "[a:x[-1] = 1]", observe(compare(path("a", prop("x"), index(-1)), OpEqual, integerOne))},
		{"any index step", "[a:x[*] = 1]", observe(compare(path("a", prop("x"), anyIndex()), OpEqual, integerOne))},
		{"deep path", "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.5]",
			observe(compare(path("file", prop("extensions"), prop("windows-pebinary-ext"), prop("sections"), anyIndex(), prop("entropy")),
				OpGreater, float("7.5", 7.5)))},
		{"consecutive index steps", "[a:x[1][*] = 1]", observe(compare(path("a", prop("x"), index(1), anyIndex()), OpEqual, integerOne))},
		{"reference path", "[network-traffic:src_ref.value = '198.51.100.1']",
			observe(compare(path("network-traffic", prop("src_ref"), prop("value")), OpEqual, str("198.51.100.1")))},
		{"object type with digits and hyphens", "[x-acme-2:v_1 = 1]", observe(compare(path("x-acme-2", prop("v_1")), OpEqual, integerOne))},
		{"object type with underscore", "[_custom:_x = 1]", observe(compare(path("_custom", prop("_x")), OpEqual, integerOne))},
		{"integerOne-letter names that prefix literals", "[h:t.b = 1]", observe(compare(path("h", prop("t"), prop("b")), OpEqual, integerOne))},
		{"spaces inside a path", "[a : x . y [ 0 ] = 1]", observe(compare(path("a", prop("x"), prop("y"), index(0)), OpEqual, integerOne))},

		// WS, COMMENT and LINE_COMMENT
		{"line breaks and tabs", "[a:x = 1]\n\tAND\r\n[a:x = 2]\n", obsAnd(observeX(1), observeX(2))},
		{"Unicode spaces", "[a:x\u00a0=\u30001]\u2003", observeX(1)},
		{"block comment", "[a:x = 1] /* first */ AND /**/ [a:x = 2]", obsAnd(observeX(1), observeX(2))},
		{"line comment", "[a:x = 1] // only integerOne\n", observeX(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.pattern)
			if !reflect.DeepEqual(got.Expr, tt.want) {
				t.Errorf("Parse(%q)\n got %s\nwant %s", tt.pattern, got, (&Pattern{Expr: tt.want}))
			}
		})
	}
}

func TestParseComparisons(t *testing.T) {
	p := mustParse(t, "([file:name = 'a.exe' AND file:size > 10] OR [EXISTS process:pid]) "+
		"FOLLOWEDBY [url:value IN ('http://example.com/', 'http://example.net/')] WITHIN 60 SECONDS")
	want := []*Comparison{
		compare(path("file", prop("name")), OpEqual, str("a.exe")),
		compare(path("file", prop("size")), OpGreater, integer("10", 10)),
		exists(path("process", prop("pid"))),
		compare(path("url", prop("value")), OpIn, set(str("http://example.com/"), str("http://example.net/"))),
	}
	got := p.Comparisons()
	if len(got) != len(want) {
		t.Fatalf("got %d comparisons, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("comparison %d: got %s, want %s", i, got[i], want[i])
		}
	}
}

func TestParseOffsets(t *testing.T) {
	//            0         1         2         3         4
	//            0123456789012345678901234567890123456789012345
	const src = "( [a:x = 1] OR [ EXISTS b:y ]) AND [(c:z = 2)]"
	p, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}

	var observations []int
	var walk func(ObservationExpr)
	walk = func(e ObservationExpr) {
		switch e := e.(type) {
		case *Observation:
			observations = append(observations, e.Offset)
		case *CompoundObservation:
			walk(e.Left)
			walk(e.Right)
		case *QualifiedObservation:
			walk(e.Expr)
		}
	}
	walk(p.Expr)
	if want := []int{2, 15, 35}; !reflect.DeepEqual(observations, want) {
		t.Errorf("observation offsets = %v, want %v", observations, want)
	}

	var comparisons []int
	for _, c := range p.Comparisons() {
		comparisons = append(comparisons, c.Offset)
	}
	if want := []int{3, 24, 37}; !reflect.DeepEqual(comparisons, want) {
		t.Errorf("comparison offsets = %v, want %v", comparisons, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		pattern  string
		offset   int
		expected string
		found    string
	}{
		{"empty pattern", "", 0, "'[' or '('", endOfPattern},
		{"only spaces and a comment", "  /* */ ", 8, "'[' or '('", endOfPattern},
		{"comparison outside brackets", "ipv4-addr:value = '198.51.100.1'", 0, "'[' or '('", "ipv4-addr"},
		{"empty brackets", "[]", 1, "an object path, EXISTS or '('", "]"},
		{"empty parentheses", "()", 1, "'[' or '('", ")"},
		{"unclosed bracket", "[a:x = 1", 8, "']'", endOfPattern},
		{"extra closing bracket", "[a:x = 1]]", 9, "AND, OR, FOLLOWEDBY, a qualifier or end of pattern", "]"},
		{"unclosed parenthesis", "([a:x = 1]", 10, "AND, OR, FOLLOWEDBY, a qualifier or ')'", endOfPattern},
		{"extra closing parenthesis", "[a:x = 1])", 9, "AND, OR, FOLLOWEDBY, a qualifier or end of pattern", ")"},
		{"unclosed comparison parenthesis", "[(a:x = 1]", 9, "AND, OR or ')'", "]"},
		{"bracket closed by parenthesis", "[a:x = 1)", 8, "']'", ")"},
		{"two observations without operator", "[a:x = 1] [a:x = 2]", 10, "AND, OR, FOLLOWEDBY, a qualifier or end of pattern", "["},
		{"dangling observation operator", "[a:x = 1] AND", 13, "'[' or '('", endOfPattern},
		{"dangling comparison operator", "[a:x = 1 AND]", 12, "an object path, EXISTS or '('", "]"},
		{"unterminated string", "[a:x = 'abc]", 7, "a closing quote for the literal that starts here", endOfPattern},
		{"string ends in a backslash", `[a:x = 'abc\`, 7, "a closing quote for the literal that starts here", endOfPattern},
		{"unknown escape", `[a:x = 'C:\temp']`, 10, `\' or \\ after a backslash`, `\t`},
		{"unknown escape before non-ASCII", `[a:x = '\ж']`, 8, `\' or \\ after a backslash`, `\ж`},
		{"missing operator", "[a:x 'a']", 5, "a comparison operator or NOT", "'a'"},
		{"missing operator after NOT", "[a:x NOT 'a']", 9, "a comparison operator", "'a'"},
		{"double NOT", "[a:x NOT NOT = 1]", 9, "a comparison operator", "NOT"},
		{"missing literal", "[a:x = ]", 7, "a literal", "]"},
		{"set as equality operand", "[a:x = (1)]", 7, "a literal", "("},
		{"boolean with order operator", "[a:x < true]", 7, "a number, string, binary, hex or timestamp literal", "true"},
		{"LIKE with a number", "[a:x LIKE 1]", 10, "a string literal", "1"},
		{"MATCHES with a hex literal", "[a:x MATCHES h'00']", 13, "a string literal", "h'00'"},
		{"IN without parentheses", "[a:x IN 'a']", 8, "'('", "'a'"},
		{"IN with trailing comma", "[a:x IN (1,)]", 11, "a literal", ")"},
		{"IN with missing comma", "[a:x IN (1 2)]", 11, "',' or ')'", "2"},
		{"IN with nested set", "[a:x IN ((1))]", 9, "a literal", "("},
		{"odd number of hex digits", "[a:x = h'abc']", 7, "an even number of hex digits in h'...'", "h'abc'"},
		{"non-hex digit", "[a:x = h'zz']", 7, "an even number of hex digits in h'...'", "h'zz'"},
		{"unterminated hex", "[a:x = h'ab", 7, "a closing quote for the literal that starts here", endOfPattern},
		{"base64 without padding", "[a:x = b'YQ']", 7, "padded base64 in b'...'", "b'YQ'"},
		{"base64 with three padding characters", "[a:x = b'Y===']", 7, "padded base64 in b'...'", "b'Y==='"},
		{"base64 with padding inside", "[a:x = b'YQ==YQ==']", 7, "padded base64 in b'...'", "b'YQ==YQ=='"},
		{"empty base64", "[a:x = b'']", 7, "padded base64 in b'...'", "b''"},
		{"timestamp month 13", "[a:x = t'2016-13-01T00:00:00Z']", 7,
			"a timestamp of the form t'YYYY-MM-DDTHH:MM:SS[.fraction]Z'", "t'2016-13-01T00:00:00Z'"},
		{"timestamp hour 24", "[a:x = t'2016-01-01T24:00:00Z']", 7,
			"a timestamp of the form t'YYYY-MM-DDTHH:MM:SS[.fraction]Z'", "t'2016-01-01T24:00:00Z'"},
		{"timestamp without Z", "[a:x = t'2016-01-01T00:00:00']", 7,
			"a timestamp of the form t'YYYY-MM-DDTHH:MM:SS[.fraction]Z'", "t'2016-01-01T00:00:00'"},
		{"timestamp with zone offset", "[a:x = t'2016-01-01T00:00:00+01:00']", 7,
			"a timestamp of the form t'YYYY-MM-DDTHH:MM:SS[.fraction]Z'", "t'2016-01-01T00:00:00+01:00'"},
		{"timestamp with empty fraction", "[a:x = t'2016-01-01T00:00:00.Z']", 7,
			"a timestamp of the form t'YYYY-MM-DDTHH:MM:SS[.fraction]Z'", "t'2016-01-01T00:00:00.Z'"},
		{"date without time", "[a:x = t'2016-01-01']", 7,
			"a timestamp of the form t'YYYY-MM-DDTHH:MM:SS[.fraction]Z'", "t'2016-01-01'"},
		{"integer beyond int64", "[a:x = 9223372036854775808]", 7,
			"an integer between -9223372036854775808 and 9223372036854775807", "9223372036854775808"},
		{"integer with leading zero", "[a:x = 01]", 8, "']'", "1"},
		{"float without fraction digits", "[a:x = 5.]", 8, "']'", "."},
		{"float with exponent", "[a:x = 1e5]", 8, "']'", "e5"},
		{"lone minus", "[a:x = -]", 7, "a literal", "-"},
		{"WITHIN without SECONDS", "[a:x = 1] WITHIN 5", 18, "SECONDS", endOfPattern},
		{"WITHIN with TIMES", "[a:x = 1] WITHIN 5 TIMES", 19, "SECONDS", "TIMES"},
		{"WITHIN without number", "[a:x = 1] WITHIN SECONDS", 17, "a non-negative number", "SECONDS"},
		{"WITHIN negative", "[a:x = 1] WITHIN -5 SECONDS", 17, "a non-negative number", "-5"},
		{"WITHIN string", "[a:x = 1] WITHIN '5' SECONDS", 17, "a non-negative number", "'5'"},
		{"REPEATS float", "[a:x = 1] REPEATS 2.5 TIMES", 18, "a non-negative integer", "2.5"},
		{"REPEATS negative", "[a:x = 1] REPEATS -2 TIMES", 18, "a non-negative integer", "-2"},
		{"REPEATS without TIMES", "[a:x = 1] REPEATS 2", 19, "TIMES", endOfPattern},
		{"START without STOP", "[a:x = 1] START t'2016-01-01T00:00:00Z'", 39, "STOP", endOfPattern},
		{"START with an integer", "[a:x = 1] START 5 STOP 6", 16, "a timestamp literal", "5"},
		{"STOP without START", "[a:x = 1] STOP t'2016-01-01T00:00:00Z'", 10,
			"AND, OR, FOLLOWEDBY, a qualifier or end of pattern", "STOP"},
		{"qualifier before observation", "WITHIN 5 SECONDS [a:x = 1]", 0, "'[' or '('", "WITHIN"},
		{"qualifier inside brackets", "[a:x = 1 WITHIN 5 SECONDS]", 9, "']'", "WITHIN"},
		{"unsupported LAST qualifier", "[a:x = 1] LAST 5 SECONDS", 10,
			"AND, OR, FOLLOWEDBY, a qualifier or end of pattern", "LAST"},
		{"trailing garbage", "[a:x = 1] garbage", 10, "AND, OR, FOLLOWEDBY, a qualifier or end of pattern", "garbage"},
		{"trailing NUL", "[a:x = 1]\x00", 9, "AND, OR, FOLLOWEDBY, a qualifier or end of pattern", "\x00"},
		{"character outside the grammar", "[a:x = 1] §", 10, "AND, OR, FOLLOWEDBY, a qualifier or end of pattern", "§"},
		{"lower-case observation AND", "[a:x = 1] and [a:x = 2]", 10, "AND, OR, FOLLOWEDBY, a qualifier or end of pattern", "and"},
		{"lower-case comparison OR", "[a:x = 1 or a:y = 2]", 9, "']'", "or"},
		{"lower-case LIKE", "[a:x like 'a%']", 5, "a comparison operator or NOT", "like"},
		{"lower-case SECONDS", "[a:x = 1] WITHIN 5 seconds", 19, "SECONDS", "seconds"},
		{"upper-case boolean", "[a:x = TRUE]", 7, "a literal", "TRUE"},
		{"missing colon", "[a = 1]", 3, "':'", "="},
		{"missing property", "[a: = 1]", 4, "a property name", "="},
		{"unquoted property with hyphen", "[file:hashes.SHA-256 = 'aa']", 13, "a property name", "SHA-256"},
		{"keyword as property", "[a:x.AND = 1]", 5, "a property name", "AND"},
		{"boolean as property", "[a:true = 1]", 3, "a property name", "true"},
		{"keyword as object type", "[AND:x = 1]", 1, "an object path, EXISTS or '('", "AND"},
		{"object type starting with a digit", "[1a:x = 1]", 1, "an object path, EXISTS or '('", "1"},
		{"double-quoted property", `[a:"x" = 1]`, 3, "a property name", `"`},
		{"dot before index", "[a:x.[0] = 1]", 5, "a property name", "["},
		{"property index", "[a:x[y] = 1]", 5, "an integer or '*'", "y"},
		{"float index", "[a:x[1.5] = 1]", 5, "an integer or '*'", "1.5"},
		{"unclosed index", "[a:x[0 = 1]", 7, "']'", "="},
		{"NOT before path", "[NOT a:x = 1]", 5, "EXISTS", "a"},
		{"NOT EXISTS after path", "[a:x NOT EXISTS a:y]", 9, "a comparison operator", "EXISTS"},
		{"EXISTS with operator", "[EXISTS a:x = 1]", 12, "']'", "="},
		{"EXISTS without path", "[EXISTS]", 7, "an object type", "]"},
		{"unterminated comment", "[a:x = 1] /* note", 10, "'*/' to close the comment", endOfPattern},
		{"found text is shortened", "[a:x 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']", 5,
			"a comparison operator or NOT", "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.pattern)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", tt.pattern, p)
			}
			var syntaxErr *SyntaxError
			if !errors.As(err, &syntaxErr) {
				t.Fatalf("Parse(%q) error %T is not a *SyntaxError: %v", tt.pattern, err, err)
			}
			if syntaxErr.Offset != tt.offset {
				t.Errorf("Offset = %d, want %d (%v)", syntaxErr.Offset, tt.offset, err)
			}
			if syntaxErr.Expected != tt.expected {
				t.Errorf("Expected = %q, want %q", syntaxErr.Expected, tt.expected)
			}
			if syntaxErr.Found != tt.found {
				t.Errorf("Found = %q, want %q", syntaxErr.Found, tt.found)
			}
		})
	}
}

func TestParseNestingLimit(t *testing.T) {
	deep := strings.Repeat("(", maxNesting) + "[a:x = 1]" + strings.Repeat(")", maxNesting)
	_, err := Parse(deep)
	var syntaxErr *SyntaxError
	if !errors.As(err, &syntaxErr) {
		t.Fatalf("Parse of %d nested groups: error %v, want a *SyntaxError", maxNesting, err)
	}
	if syntaxErr.Offset != maxNesting {
		t.Errorf("Offset = %d, want %d", syntaxErr.Offset, maxNesting)
	}

	allowed := strings.Repeat("(", maxNesting-1) + "[a:x = 1]" + strings.Repeat(")", maxNesting-1)
	if _, err := Parse(allowed); err != nil {
		t.Errorf("Parse of %d nested groups: %v", maxNesting-1, err)
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    string
	}{
		{"quotes the found token", "[a:x = 1 WITHIN 5 SECONDS]",
			`pattern: at offset 9: expected ']', found "WITHIN"`},
		{"end of pattern is not quoted", "[a:x = 1",
			`pattern: at offset 8: expected ']', found end of pattern`},
		{"empty pattern has a hint", "",
			`pattern: at offset 0: expected '[' or '(', found end of pattern (the pattern is empty)`},
		{"lower-case keyword has a hint", "[a:x = 1] and [a:x = 2]",
			`pattern: at offset 10: expected AND, OR, FOLLOWEDBY, a qualifier or end of pattern, found "and" (keywords are case-sensitive: write AND)`},
		{"upper-case boolean has a hint", "[a:x = FALSE]",
			`pattern: at offset 7: expected a literal, found "FALSE" (booleans are lower-case: write false)`},
		{"missing brackets have a hint", "file:name = 'a.exe'",
			`pattern: at offset 0: expected '[' or '(', found "file" (comparisons must be inside square brackets, as in [ipv4-addr:value = '198.51.100.1'])`},
		{"missing brackets around a hyphenated type", "ipv4-addr:value = '198.51.100.1'",
			`pattern: at offset 0: expected '[' or '(', found "ipv4-addr" (comparisons must be inside square brackets, as in [ipv4-addr:value = '198.51.100.1'])`},
		{"misplaced hyphenated type has no hint", "[a:x = 1] x-y",
			`pattern: at offset 10: expected AND, OR, FOLLOWEDBY, a qualifier or end of pattern, found "x-y"`},
		{"nesting limit", strings.Repeat("(", maxNesting) + "[a:x = 1]",
			`pattern: at offset 1000: expected at most 1000 levels of parentheses and brackets, found "["`},
		{"hyphenated property has a hint", "[file:hashes.SHA-256 = 'aa']",
			`pattern: at offset 13: expected a property name, found "SHA-256" (property names with hyphens must be quoted, as in hashes.'SHA-256')`},
		{"NOT before path has a hint", "[NOT file:name = 'a.exe']",
			`pattern: at offset 5: expected EXISTS, found "file" (NOT goes after the object path, as in file:name NOT = 'a.exe')`},
		{"unknown escape has a hint", `[a:x = 'C:\temp']`,
			`pattern: at offset 10: expected \' or \\ after a backslash, found "\\t" (STIX strings have no other escapes, so write a literal backslash as \\)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.pattern)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want an error", tt.pattern)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestPatternString(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    string
	}{
		{"spacing is normalized", "[ipv4-addr:value='198.51.100.1']", "[ipv4-addr:value = '198.51.100.1']"},
		{"operator spellings are normalized", "[a:x == 1 AND a:y <> 2]", "[a:x = 1 AND a:y != 2]"},
		{"quotes and backslashes are escaped", `[a:x = 'it\'s C:\\temp']`, `[a:x = 'it\'s C:\\temp']`},
		{"property names are quoted only when needed", "[file:'hashes'.'SHA-256' = 'aa']", "[file:hashes.'SHA-256' = 'aa']"},
		{"keyword property names stay quoted", "[a:x.'OR' = 1]", "[a:x.'OR' = 1]"},
		{"number spelling is kept", "[a:x = +1 OR a:y = -.5]", "[a:x = +1 OR a:y = -.5]"},
		{"redundant parentheses are dropped", "(([a:x = 1]) AND ([a:y = 2]))", "[a:x = 1] AND [a:y = 2]"},
		{"needed parentheses are kept", "([a:x = 1] OR [a:y = 2]) AND [a:z = 3]", "([a:x = 1] OR [a:y = 2]) AND [a:z = 3]"},
		{"right operand at the same level is grouped", "[a:x = 1] OR ([a:y = 2] OR [a:z = 3])", "[a:x = 1] OR ([a:y = 2] OR [a:z = 3])"},
		{"comparison parentheses are kept where needed", "[(a:x = 1 OR a:y = 2) AND a:z = 3]", "[(a:x = 1 OR a:y = 2) AND a:z = 3]"},
		{"qualified group", "([a:x = 1] FOLLOWEDBY [a:y = 2]) WITHIN 600 SECONDS", "([a:x = 1] FOLLOWEDBY [a:y = 2]) WITHIN 600 SECONDS"},
		{"parenthesized qualifier operand is kept", "([a:x = 1]) REPEATS 2 TIMES", "([a:x = 1]) REPEATS 2 TIMES"},
		{"WITHIN float", "[a:x = 1] WITHIN .25 SECONDS", "[a:x = 1] WITHIN 0.25 SECONDS"},
		{"START STOP", "[a:x = 1] START t'2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'",
			"[a:x = 1] START t'2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'"},
		{"literals", "[a:x IN (h'ff', b'YQ==', t'2016-06-01T00:00:00Z', true, 1.5)]",
			"[a:x IN (h'ff', b'YQ==', t'2016-06-01T00:00:00Z', true, 1.5)]"},
		{"NOT and EXISTS", "[NOT EXISTS a:x OR a:y NOT LIKE 'a%']", "[NOT EXISTS a:x OR a:y NOT LIKE 'a%']"},
		{"comments are dropped", "[a:x = 1] /* c */ // d", "[a:x = 1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.String(); got != tt.want {
				t.Errorf("String() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestValueStringWithoutText(t *testing.T) {
	tests := []struct {
		name  string
		value Value
		want  string
	}{
		{"integer", Value{Kind: KindInt, Int: -3}, "-3"},
		{"whole float gets a fraction", Value{Kind: KindFloat, Float: 2}, "2.0"},
		{"float", Value{Kind: KindFloat, Float: 0.125}, "0.125"},
		{"boolean", Value{Kind: KindBool, Bool: true}, "true"},
		{"empty set", Value{Kind: KindSet}, "()"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.value.String(); got != tt.want {
				t.Errorf("String() = %s, want %s", got, tt.want)
			}
		})
	}
}

// checkRoundTrip parses the rendering of p and requires the same tree,
// offsets aside, and the same rendering.
func checkRoundTrip(t *testing.T, source string, p *Pattern) {
	t.Helper()
	rendered := p.String()
	again, err := Parse(rendered)
	if err != nil {
		t.Fatalf("Parse(%q) succeeded but its rendering %q fails: %v", source, rendered, err)
	}
	if second := again.String(); second != rendered {
		t.Fatalf("rendering is not stable for %q: %q, then %q", source, rendered, second)
	}
	clearOffsets(p.Expr)
	clearOffsets(again.Expr)
	if !reflect.DeepEqual(p, again) {
		t.Fatalf("rendering %q of %q parses to a different tree", rendered, source)
	}
}

func TestParseRoundTrip(t *testing.T) {
	invalidSeeds := map[string]bool{
		"[a:x = 1] and [a:x = 2]": true,
		`[a:x = 'C:\temp']`:       true,
	}
	for _, source := range seedPatterns {
		p, err := Parse(source)
		if err != nil {
			if !invalidSeeds[source] {
				t.Errorf("Parse(%q): %v", source, err)
			}
			continue
		}
		if invalidSeeds[source] {
			t.Errorf("Parse(%q) succeeded, want an error", source)
		}
		checkRoundTrip(t, source, p)
	}
}
