package logfile

import (
	"bytes"
	"testing"

	"github.com/elastic/beats/v7/libbeat/common/transform/typeconv"
)

func TestDecideRead(t *testing.T) {
	long := bytes.Repeat([]byte("{\"type\":\"x\",\"id\":\"x--1\"}\n"), 100) // over fingerprintSize
	short := []byte("{\"type\":\"x\",\"id\":\"x--1\"}\n")
	stored := func(content []byte, eof bool) fileState {
		prefix := content[:min(len(content), fingerprintSize)]
		return fileState{
			Path: "/f", Offset: int64(len(content)), Format: string(FormatNDJSON), Size: int64(len(content)), EOF: eof,
			Fingerprint: fingerprint(prefix), FingerprintSize: int64(len(prefix)),
		}
	}
	prefixOf := func(content []byte) []byte { return content[:min(len(content), fingerprintSize)] }
	replaced := bytes.Clone(long)
	replaced[10] = 'X'
	grownShort := append(bytes.Clone(short), short...)

	tests := []struct {
		name    string
		prev    fileState
		known   bool
		content []byte
		want    readDecision
	}{
		{"unknown file", fileState{}, false, long, readFromStart},
		{"read to its end and unchanged", stored(long, true), true, long, skipFile},
		{"grown after a full read", stored(long, true), true, append(bytes.Clone(long), short...), readFromOffset},
		{"partly read", stored(long, false), true, long, readFromOffset},
		{"leading bytes replaced", stored(long, true), true, replaced, readFromStart},
		{"truncated below its fingerprint", stored(long, true), true, long[:100], readFromStart},
		{"truncated above its fingerprint", stored(long, true), true, long[:len(long)-26], readFromStart},
		{"small file grown", stored(short, true), true, grownShort, readFromOffset},
		{"small file replaced", stored(short, true), true, []byte("{\"type\":\"y\",\"id\":\"y--1\"}\n"), readFromStart},
		{"no resume position", fileState{Fingerprint: fingerprint(prefixOf(long)), FingerprintSize: fingerprintSize, Size: 10}, true, long, readFromStart},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := decideRead(tc.prev, tc.known, int64(len(tc.content)), prefixOf(tc.content))
			if got != tc.want {
				t.Fatalf("decision %d (%s), expected %d", got, reason, tc.want)
			}
		})
	}
}

// input-cursor applies each update with typeconv.Convert into an
// interface{} holding the previous cursor. The input relies on that
// replacing the value: a file dropped from the map must be dropped from the
// stored cursor.
func TestTypeconvReplacesCursorMap(t *testing.T) {
	var stored interface{}
	first := cursorState{Version: cursorVersion, Files: map[string]fileState{
		"1-10": {Path: "/a", Offset: 100, Format: "bundle"},
		"1-11": {Path: "/b", Offset: 200, Format: "ndjson"},
	}}
	second := cursorState{Version: cursorVersion, Files: map[string]fileState{
		"1-10": {Path: "/a", Offset: 300, Format: "bundle"},
	}}
	if err := typeconv.Convert(&stored, first); err != nil {
		t.Fatal(err)
	}
	if err := typeconv.Convert(&stored, second); err != nil {
		t.Fatal(err)
	}

	got := cursorState{Files: map[string]fileState{}}
	if err := typeconv.Convert(&got, stored); err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Files["1-11"]; ok {
		t.Errorf("file dropped by the second update is still in the cursor: %+v", got.Files)
	}
	if got.Files["1-10"].Offset != 300 {
		t.Errorf("offset %d after the second update, expected 300", got.Files["1-10"].Offset)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	var stored interface{}
	want := cursorState{Version: cursorVersion, Files: map[string]fileState{"1-10": {Path: "/a", Offset: 7, Line: 2, Format: "ndjson", Size: 9, EOF: true}}}
	if err := typeconv.Convert(&stored, want); err != nil {
		t.Fatal(err)
	}
	got := cursorState{Files: map[string]fileState{}}
	if err := typeconv.Convert(&got, stored); err != nil {
		t.Fatal(err)
	}
	if got.Files["1-10"] != want.Files["1-10"] || got.Version != cursorVersion {
		t.Fatalf("cursor round trip gave %+v, expected %+v", got, want)
	}
}
