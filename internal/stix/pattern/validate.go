package pattern

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Validation rules, the Rule of a ValidationError.
const (
	// RuleBrackets: after any opening parentheses and white space, the
	// pattern must start with '['. The grammar also allows a comment there,
	// but stix2-patterns 2.1.2 rejects it.
	RuleBrackets = "brackets"
	// RuleQualifier: WITHIN, REPEATS or START/STOP applied twice to the same
	// bracketed observation, as in [a:x = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS.
	RuleQualifier = "qualifier"
	// RuleHash: a comparison on a hashes.ALGORITHM path whose literal is not
	// a digest of that algorithm.
	RuleHash = "hash"
)

// ValidationError is a grammatical pattern that fails one of the checks the
// OASIS reference validator, stix2-patterns 2.1.2, runs after parsing.
type ValidationError struct {
	// Offset is the byte offset of the offending part of the pattern.
	Offset int
	// Rule is one of the Rule constants.
	Rule string
	// Message states what is wrong.
	Message string
}

func (e *ValidationError) Error() string {
	return "pattern: at offset " + itoa(int64(e.Offset)) + ": " + e.Message
}

// Validate applies to a parsed pattern the checks that stix2-patterns
// 2.1.2 adds to the grammar: the pattern starts with '[' (RuleBrackets), no
// qualifier kind repeats on one bracketed observation (RuleQualifier), and
// hash values are digests of their algorithm (RuleHash). source is the
// text p was parsed from. Parse together with Validate accepts what the
// reference accepts, apart from the differences listed in the package
// documentation.
//
// Parse does not run these checks, because each of them rejects a pattern
// whose comparisons are still readable: the converter maps the other values
// of such a pattern and reports a bad digest as a warning on its field.
func Validate(source string, p *Pattern) []*ValidationError {
	var errs []*ValidationError
	if offset, ok := checkBrackets(source); !ok {
		errs = append(errs, &ValidationError{Offset: offset, Rule: RuleBrackets,
			Message: "the pattern must start with '[', after any '(' and white space"})
	}
	checkQualifiers(p.Expr, &errs)
	for _, c := range p.Comparisons() {
		if err := checkHash(c); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// checkBrackets returns the offset of the first character that is neither
// '(' nor white space, and whether it is '['. The reference treats every
// character Python's str.isspace accepts as white space. Those that Go's
// unicode.IsSpace lacks (U+001C to U+001F) are outside the grammar anyway.
func checkBrackets(source string) (int, bool) {
	for i, r := range source {
		if r == '(' || unicode.IsSpace(r) || 0x1c <= r && r <= 0x1f {
			continue
		}
		return i, r == '['
	}
	return len(source), false
}

// checkQualifiers reports a qualifier kind applied twice in one chain of
// qualifiers on a bracketed observation. Like the reference, it does not
// count across parentheses: in ([a:x = 1] WITHIN 5 SECONDS) WITHIN 6 SECONDS
// the second WITHIN applies to a group, which is allowed, and so are the
// qualifiers that follow it.
func checkQualifiers(e ObservationExpr, errs *[]*ValidationError) {
	switch e := e.(type) {
	case *CompoundObservation:
		checkQualifiers(e.Left, errs)
		checkQualifiers(e.Right, errs)
	case *QualifiedObservation:
		// Parse nests a chain with the last qualifier outermost, so chain
		// runs from the last qualifier to the first.
		var chain []*QualifiedObservation
		var base ObservationExpr = e
		for {
			q, ok := base.(*QualifiedObservation)
			if !ok {
				break
			}
			chain = append(chain, q)
			base = q.Expr
		}
		checkQualifiers(base, errs)
		observation, counting := base.(*Observation)
		var seen [3]bool
		for i := len(chain) - 1; i >= 0; i-- {
			// A parenthesized operand ends the count for this qualifier
			// and every later one.
			if chain[i].Parenthesized {
				counting = false
			}
			if !counting {
				continue
			}
			kind := chain[i].Qualifier.Kind
			if seen[kind] {
				*errs = append(*errs, &ValidationError{Offset: observation.Offset, Rule: RuleQualifier,
					Message: "the observation has more than one " + qualifierName(kind) + " qualifier"})
				return
			}
			seen[kind] = true
		}
	}
}

func qualifierName(kind QualifierKind) string {
	switch kind {
	case QualifierWithin:
		return "WITHIN"
	case QualifierRepeats:
		return "REPEATS"
	}
	return "START/STOP"
}

// hashFormat is the set of characters and the lengths a digest may have.
type hashFormat struct {
	name    string
	hex     bool  // hex digits only; else the SSDEEP alphabet
	lengths []int // allowed lengths; for SSDEEP, 1 to lengths[0]
}

// hashFormats are the algorithms stix2-patterns 2.1.2 checks, keyed by
// the hashes property name upper-cased and without '-' and '\”. The other
// algorithms of the STIX 2.1 hash-algorithm-ov (TLSH) and custom keys are
// not checked.
var hashFormats = map[string]hashFormat{
	"MD5":       {"MD5", true, []int{32}},
	"MD6":       {"MD6", true, []int{32, 40, 56, 64, 96, 128}},
	"RIPEMD160": {"RIPEMD-160", true, []int{40}},
	"SHA1":      {"SHA-1", true, []int{40}},
	"SHA224":    {"SHA-224", true, []int{56}},
	"SHA256":    {"SHA-256", true, []int{64}},
	"SHA384":    {"SHA-384", true, []int{96}},
	"SHA512":    {"SHA-512", true, []int{128}},
	"SHA3224":   {"SHA3-224", true, []int{56}},
	"SHA3256":   {"SHA3-256", true, []int{64}},
	"SHA3384":   {"SHA3-384", true, []int{96}},
	"SHA3512":   {"SHA3-512", true, []int{128}},
	"SSDEEP":    {"SSDEEP", false, []int{128}},
	"WHIRLPOOL": {"WHIRLPOOL", true, []int{128}},
}

// checkHash checks a comparison whose path goes through a property named
// hashes and ends in a known algorithm, such as file:hashes.'SHA-256' or
// file:extensions.'ntfs-ext'.alternate_data_streams[0].hashes.MD5. As in
// the reference, every operator but EXISTS is checked, so a LIKE or
// MATCHES operand must be a digest too. The members of an IN set are
// checked one by one.
func checkHash(c *Comparison) *ValidationError {
	if c.Operator == OpExists || !throughHashes(c.Path.Steps) {
		return nil
	}
	last := c.Path.Steps[len(c.Path.Steps)-1]
	if last.IsIndex {
		return nil
	}
	key := strings.NewReplacer("-", "", "'", "").Replace(strings.ToUpper(last.Property))
	format, ok := hashFormats[key]
	if !ok {
		return nil
	}
	values := []Value{c.Value}
	if c.Value.Kind == KindSet {
		values = c.Value.Set
	}
	for _, v := range values {
		digest := strings.ReplaceAll(LiteralText(v), "'", "")
		if !format.matches(digest) {
			return &ValidationError{Offset: c.Offset, Rule: RuleHash,
				Message: "'" + digest + "' is not a valid " + format.name + " hash"}
		}
	}
	return nil
}

func throughHashes(steps []PathStep) bool {
	for _, s := range steps {
		if !s.IsIndex && s.Property == "hashes" {
			return true
		}
	}
	return false
}

func (f hashFormat) matches(s string) bool {
	if f.hex {
		if !isHexContent(s) {
			return false
		}
		for _, n := range f.lengths {
			if len(s) == n {
				return true
			}
		}
		return false
	}
	if s == "" || utf8.RuneCountInString(s) > f.lengths[0] {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isIdentPart(c) && c != '_' || c == '/' || c == '+' || c == ':' || c == '.') {
			return false
		}
	}
	return true
}

// LiteralText returns a literal as the pattern writes it, without white
// space: strings quoted and escaped, h'..', b'..' and t'..' with their
// prefix, numbers as spelled, and a set as (a,b,c). It is the text the
// reference inspector (stix2-patterns' Pattern.inspect) reports for a
// comparison's value.
func LiteralText(v Value) string {
	if v.Kind != KindSet {
		return v.String()
	}
	var b strings.Builder
	b.WriteByte('(')
	for i, member := range v.Set {
		if i > 0 {
			b.WriteByte(',')
		}
		writeValue(&b, member)
	}
	b.WriteByte(')')
	return b.String()
}
