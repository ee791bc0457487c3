package logfile

import (
	"bytes"
	"encoding/json"
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
	})
}
