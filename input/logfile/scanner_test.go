package logfile

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// scanWhole reports whether the scanner accepts doc as exactly one JSON
// value with optional whitespace around it, feeding it in pieces of chunk
// bytes. It returns the offset of the error when it rejects doc.
func scanWhole(doc []byte, chunk int) (bool, int) {
	var s valueScanner
	s.begin(false)
	// A space ends a top-level number, which only ends at the next byte.
	input := append(bytes.Clone(doc), ' ')
	offset := 0
	for offset < len(input) {
		end := min(offset+chunk, len(input))
		n, result := s.scan(input[offset:end])
		offset += n
		switch result {
		case scanError:
			return false, offset
		case scanDone:
			rest := bytes.TrimLeft(input[offset:], " \t\r\n")
			return len(rest) == 0, offset
		}
	}
	return false, offset
}

var scannerCases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+10`, `-12.25E-3`, `true`, `false`, `null`,
	`{"a":1,"b":[1,2,{"c":"d"}],"e":{"f":null}}`,
	` { "a" : [ 1 , 2 ] } `,
	`"esc \" \\ \/ \b \f \n \r \t \u00e9 \uD834\uDD1E"`,
	`{"a":"}"}`, `{"a":"]"}`, `["{", "[", "\""]`,
	`[[[[[[[[[[]]]]]]]]]]`,
	// invalid
	``, ` `, `{`, `}`, `[`, `]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`,
	`{a:1}`, `{'a':1}`, `{"a":1 "b":2}`, `[1 2]`, `01`, `1.`, `.5`, `1e`, `1e+`,
	`-`, `--1`, `+1`, `tru`, `nul`, `falsey`, `"\x"`, `"\u12G4"`, "\"a\tb\"",
	"\"a\nb\"", `"unterminated`, `{"a":[}`, `[}`, `{]`, `1 2`, `{} {}`, `{"a":1}}`,
	`NaN`, `Infinity`, `{"a":-}`, `[0x10]`,
}

func TestScannerAgreesWithEncodingJSON(t *testing.T) {
	for _, doc := range scannerCases {
		want := json.Valid([]byte(doc))
		for _, chunk := range []int{1, 2, 3, 1000} {
			if got, at := scanWhole([]byte(doc), chunk); got != want {
				t.Errorf("%q in pieces of %d: scanner valid=%v (stopped at %d), encoding/json valid=%v", doc, chunk, got, at, want)
			}
		}
	}
}

func TestScannerErrorOffset(t *testing.T) {
	tests := []struct {
		doc    string
		offset int // index of the first byte that makes doc invalid
	}{
		{`{"a":1,}`, 7},
		{`{"a" 1}`, 5},
		{`[1,2,x]`, 5},
		{`{"a":tru}`, 8},
		{"{\"a\":\"b\nc\"}", 7},
		{`{"a":01}`, 6},
		{`{"a":"\q"}`, 7},
	}
	for _, tc := range tests {
		ok, at := scanWhole([]byte(tc.doc), 1000)
		if ok || at != tc.offset {
			t.Errorf("%q: valid=%v error at %d, expected an error at %d", tc.doc, ok, at, tc.offset)
		}
	}
}

func TestScannerSingleLine(t *testing.T) {
	var s valueScanner
	s.begin(true)
	n, result := s.scan([]byte("{\"a\":\n1}"))
	if result != scanError || n != 5 {
		t.Fatalf("result %v at %d, expected an error at the newline (5)", result, n)
	}
	s.begin(true)
	if _, result := s.scan([]byte("{\"a\": 1}\n")); result != scanDone {
		t.Fatalf("result %v, expected the value to end before the newline", result)
	}
}

func FuzzScanner(f *testing.F) {
	for _, doc := range scannerCases {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		want := json.Valid(doc)
		if got, at := scanWhole(doc, 3); got != want {
			t.Fatalf("%q: scanner valid=%v (stopped at %d), encoding/json valid=%v", doc, got, at, want)
		}

		// A space ends a top-level number, as after an array element.
		skipped, errorAt, end := scanSkipping(string(doc)+" ", 3)
		if want && skipped {
			t.Fatalf("%q: valid JSON has a skippable error at %d", doc, errorAt)
		}
		if end > len(doc)+1 || (end >= 0 && end < errorAt) {
			t.Fatalf("%q: value ends at %d, error at %d", doc, end, errorAt)
		}
	})
}

// scanSkipping scans doc in pieces of chunk bytes as an array element, and
// after the first error calls skipInvalid and goes on. It returns whether
// skipInvalid accepted the error, the offset of the first error, and where
// the value ended, or -1 when the scan failed again or needs more data.
func scanSkipping(doc string, chunk int) (skipped bool, errorAt, end int) {
	var s valueScanner
	s.begin(false)
	s.inArray = true
	errorAt = -1
	offset := 0
	for offset < len(doc) {
		stop := min(offset+chunk, len(doc))
		n, result := s.scan([]byte(doc[offset:stop]))
		offset += n
		switch result {
		case scanDone:
			return skipped, errorAt, offset
		case scanError:
			if errorAt >= 0 {
				return skipped, errorAt, -1
			}
			if !s.skipInvalid() {
				return false, offset, -1
			}
			skipped, errorAt = true, offset
		}
	}
	return skipped, errorAt, -1
}

func TestScannerSkipInvalid(t *testing.T) {
	tests := []struct {
		doc    string
		fault  string // text at the first invalid byte, which is skip bytes into it
		skip   int
		endAt  string // the text that follows the value, or "" when no end is found
		reason string
	}{
		{`{"a":"x\qy","b":[1,{"c":"]"}]}, next`, `\qy`, 1, `, next`, "invalid escape 'q'"},
		// After an invalid escape, a backslash in the same string is an
		// ordinary byte, as in an unescaped Windows path, so the next quote
		// ends the string.
		{`{"a":"x\"y\q\"}"}]`, `\q\"`, 1, `"}]`, "invalid escape 'q'"},
		{`{"path":"C:\data\"},{"n":1}`, `\data`, 1, `,{"n":1}`, "invalid escape 'd'"},
		{"{\"a\":\"x\ny\",\"b\":\"\\\\\"},", "x\ny", 1, `,`, "invalid control character 0x0a"},
		{`{"a":"\u12G4 ]"} ,`, `G4`, 0, ` ,`, `invalid character 'G' in \u escape`},
		{`{"a":tru,"b":"}"}]`, `tru,`, 3, `]`, "invalid character ',' in literal"},
		{`{"a":truex}]`, `x}`, 0, `]`, "invalid character 'x' after literal"},
		{`{"a":[1.2.3,{}]}  `, `.3`, 0, `  `, "invalid character '.' in number"},
		{`{"a":01}]`, `1}`, 0, `]`, "invalid character '1' in number"},
		{`1.2.3, {}`, `.3`, 0, `, {}`, "invalid character '.' in number"},
		{`"a\qb"]`, `\qb`, 1, `]`, "invalid escape 'q'"},
		{`tru ,`, `tru `, 3, ` ,`, "invalid character ' ' in literal"},
		// A wrong closing bracket or the end of the data leave the end unknown.
		{`{"a":"\q"]`, `\q`, 1, ``, "invalid escape 'q'"},
		{`{"a":"\q", "b": [}`, `\q`, 1, ``, "invalid escape 'q'"},
		{`{"a":"\q"`, `\q`, 1, ``, "invalid escape 'q'"},
	}
	for _, tc := range tests {
		wantError := strings.Index(tc.doc, tc.fault) + tc.skip
		wantEnd := -1
		if tc.endAt != "" {
			wantEnd = strings.LastIndex(tc.doc, tc.endAt)
		}
		for _, chunk := range []int{1, 2, 3, 1000} {
			skipped, errorAt, end := scanSkipping(tc.doc, chunk)
			if !skipped || errorAt != wantError {
				t.Errorf("%q in pieces of %d: skipped %v at %d, expected a skippable error at %d", tc.doc, chunk, skipped, errorAt, wantError)
			}
			if end != wantEnd {
				t.Errorf("%q in pieces of %d: value ends at %d, expected %d", tc.doc, chunk, end, wantEnd)
			}
		}

		var s valueScanner
		s.begin(false)
		s.inArray = true
		if _, result := s.scan([]byte(tc.doc)); result != scanError || !strings.Contains(s.reason, tc.reason) {
			t.Errorf("%q: result %v reason %q, expected an error with %q", tc.doc, result, s.reason, tc.reason)
		}
	}
}

// A missing or extra ',' or ':' leaves the brackets balanced, so the value
// can be skipped to its closing bracket. An error at any other byte may
// come from a missing quote, and a closing bracket of the wrong kind from
// a missing bracket: neither can be skipped.
func TestScannerSkipInvalidAfterGrammarErrors(t *testing.T) {
	for _, tc := range []struct {
		doc       string
		skippable bool
	}{
		{`{"a" "b"}`, true},
		{`{"a":1,}`, true},
		{`[1,,2]`, true},
		{`{"a":1 "b":2}`, true},
		{`{"a":,}`, true},
		{`{"a":[1,,2],"b":{"c" "d"}}`, true},
		{`{"a":"x" {}}`, true},
		{`{"a" 1}`, false},
		{`[1 2]`, false},
		{`{a:1}`, false},
		{`{"a":"b,"c":"d"}`, false},
		{`{"a":1]`, false},
		{`[}`, false},
		{`{"a":[1}`, false},
	} {
		var s valueScanner
		s.begin(false)
		s.inArray = true
		if _, result := s.scan([]byte(tc.doc)); result != scanError {
			t.Errorf("%q: result %v, expected an error", tc.doc, result)
			continue
		}
		if got := s.skipInvalid(); got != tc.skippable {
			t.Errorf("%q: skipInvalid returned %v after %q, expected %v", tc.doc, got, s.reason, tc.skippable)
		}
	}
}

func TestScannerMismatchedBracketWhileSkipping(t *testing.T) {
	doc := `{"a":["\q"}]`
	var s valueScanner
	s.begin(false)
	n, result := s.scan([]byte(doc))
	if result != scanError || !s.skipInvalid() {
		t.Fatalf("result %v at %d (%s), expected a skippable error", result, n, s.reason)
	}
	m, result := s.scan([]byte(doc[n:]))
	if result != scanError || n+m != strings.Index(doc, "}") {
		t.Fatalf("result %v at %d, expected an error at the '}'", result, n+m)
	}
	if want := "invalid character '}' where ']' must close the array"; s.reason != want {
		t.Fatalf("reason %q, expected %q", s.reason, want)
	}
}
