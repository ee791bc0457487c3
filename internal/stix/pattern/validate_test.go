package pattern

import (
	"strings"
	"testing"
)

// The expected verdicts follow stix2-patterns 2.1.2, which
// tests/system/test_reference_patterns.py runs on the same kinds of pattern,
// apart from the two documented differences marked below.
func TestValidate(t *testing.T) {
	md5 := "d41d8cd98f00b204e9800998ecf8427e"
	sha256 := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	tests := []struct {
		name    string
		pattern string
		rules   []string // the Rule of each error, in order; none for a valid pattern
	}{
		{"plain observation", "[a:x = 1]", nil},
		{"leading parentheses and spaces", " ( ([a:x = 1]))", nil},
		{"leading comment", "/* c */ [a:x = 1]", []string{RuleBrackets}},
		{"leading line comment", "// c\n[a:x = 1]", []string{RuleBrackets}},
		{"comment after parenthesis", "(/* c */[a:x = 1])", []string{RuleBrackets}},

		{"two kinds of qualifier", "[a:x = 1] REPEATS 2 TIMES WITHIN 5 SECONDS", nil},
		{"WITHIN twice", "[a:x = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS", []string{RuleQualifier}},
		{"REPEATS twice around WITHIN", "[a:x = 1] REPEATS 2 TIMES WITHIN 5 SECONDS REPEATS 3 TIMES", []string{RuleQualifier}},
		{"START STOP twice",
			"[a:x = 1] START t'2016-01-01T00:00:00Z' STOP t'2016-02-01T00:00:00Z' START t'2016-01-01T00:00:00Z' STOP t'2016-02-01T00:00:00Z'",
			[]string{RuleQualifier}},
		{"repeat on a parenthesized qualifier", "([a:x = 1] WITHIN 5 SECONDS) WITHIN 6 SECONDS", nil},
		// Found by the comparison with the reference: parentheses in the
		// middle of a chain end the count for every later qualifier too.
		{"repeat after a parenthesized qualifier", "([a:x = 1] REPEATS 2 TIMES) REPEATS 3 TIMES REPEATS 4 TIMES", nil},
		{"repeat after a parenthesized observation", "([a:x = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS", nil},
		{"repeat inside parentheses", "([a:x = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS) WITHIN 7 SECONDS", []string{RuleQualifier}},
		{"qualifiers on two observations", "[a:x = 1] WITHIN 5 SECONDS AND [a:x = 2] WITHIN 5 SECONDS", nil},

		{"MD5 digest", "[file:hashes.MD5 = '" + md5 + "']", nil},
		{"upper-case hex digest", "[file:hashes.MD5 = '" + strings.ToUpper(md5) + "']", nil},
		{"SHA-256 digest of the wrong length", "[file:hashes.'SHA-256' = '" + md5 + "']", []string{RuleHash}},
		{"key spelled in lower case", "[file:hashes.sha256 = 'zz']", []string{RuleHash}},
		{"key with an underscore is not checked", "[file:hashes.'SHA_256' = 'zz']", nil},
		{"unknown algorithm", "[file:hashes.TLSH = 'zz']", nil},
		{"certificate hash", "[x509-certificate:hashes.'SHA-1' = 'zz']", []string{RuleHash}},
		{"hash deep in a path", "[file:extensions.'ntfs-ext'.alternate_data_streams[0].hashes.MD5 = 'zz']", []string{RuleHash}},
		{"hashes without an algorithm", "[file:hashes = 'zz']", nil},
		{"hash at a list index", "[file:hashes[0] = 'zz']", nil},
		{"hash at any index", "[file:hashes[*] = 'zz']", nil},
		{"LIKE on a hash", "[file:hashes.MD5 LIKE 'd41d%']", []string{RuleHash}},
		{"NOT equal on a hash", "[file:hashes.MD5 NOT = 'zz']", []string{RuleHash}},
		{"EXISTS on a hash", "[EXISTS file:hashes.MD5]", nil},
		{"hex literal as a hash", "[file:hashes.MD5 = h'" + md5 + "']", []string{RuleHash}},
		{"integer as SSDEEP", "[file:hashes.SSDEEP = 5]", nil},
		{"SSDEEP digest", "[file:hashes.SSDEEP = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C'] ", nil},
		{"SSDEEP with a space", "[file:hashes.SSDEEP = '3:AX GB:x']", []string{RuleHash}},
		{"empty SSDEEP", "[file:hashes.SSDEEP = '']", []string{RuleHash}},
		{"two bad hashes", "[file:hashes.MD5 = 'a' OR file:hashes.'SHA-1' = 'b']", []string{RuleHash, RuleHash}},
		// Differences from the reference, which tests the set's text
		// "('...','...')" as one digest and so rejects every IN on a hash.
		{"IN with digests", "[file:hashes.'SHA-256' IN ('" + sha256 + "', '" + sha256 + "')]", nil},
		{"IN with one bad member", "[file:hashes.MD5 IN ('" + md5 + "', 'zz')]", []string{RuleHash}},
		// Difference from the reference, whose MD6 expression accepts any
		// text that starts with 32 hex digits.
		{"MD6 of 33 hex digits", "[file:hashes.MD6 = '" + md5 + "0']", []string{RuleHash}},
		{"MD6 of 64 hex digits", "[file:hashes.MD6 = '" + sha256 + "']", nil},

		{"every rule at once", "/**/[file:hashes.MD5 = 'zz'] WITHIN 1 SECONDS WITHIN 2 SECONDS",
			[]string{RuleBrackets, RuleQualifier, RuleHash}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.pattern)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.pattern, err)
			}
			errs := Validate(tt.pattern, p)
			var rules []string
			for _, e := range errs {
				rules = append(rules, e.Rule)
			}
			if strings.Join(rules, ",") != strings.Join(tt.rules, ",") {
				t.Errorf("Validate(%q) rules = %v, want %v (%v)", tt.pattern, rules, tt.rules, errs)
			}
		})
	}
}

func TestValidateMessages(t *testing.T) {
	source := "[a:x = 1] AND [file:hashes.'SHA-1' = 'zz'] REPEATS 2 TIMES REPEATS 3 TIMES"
	p, err := Parse(source)
	if err != nil {
		t.Fatal(err)
	}

	errs := Validate(source, p)

	if len(errs) != 2 {
		t.Fatalf("got %d errors, want 2: %v", len(errs), errs)
	}
	if got, want := errs[0].Error(), "pattern: at offset 14: the observation has more than one REPEATS qualifier"; got != want {
		t.Errorf("qualifier error = %q, want %q", got, want)
	}
	if got, want := errs[1].Error(), "pattern: at offset 15: 'zz' is not a valid SHA-1 hash"; got != want {
		t.Errorf("hash error = %q, want %q", got, want)
	}
}

func TestLiteralText(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"[a:x = 'it\\'s C:\\\\']", `'it\'s C:\\'`},
		{"[a:x = +7]", "+7"},
		{"[a:x = -.5]", "-.5"},
		{"[a:x = h'00ff']", "h'00ff'"},
		{"[a:x = b'YQ==']", "b'YQ=='"},
		{"[a:x = t'2016-01-01T00:00:00Z']", "t'2016-01-01T00:00:00Z'"},
		{"[a:x = true]", "true"},
		{"[a:x IN ( 'a' , 2,h'00' )]", "('a',2,h'00')"},
		{"[a:x IN ()]", "()"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			p := mustParse(t, tt.pattern)
			if got := LiteralText(p.Comparisons()[0].Value); got != tt.want {
				t.Errorf("LiteralText = %q, want %q", got, tt.want)
			}
		})
	}
}
