package logfile

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readResult is everything a Reader returned for one stream.
type readResult struct {
	objects   []Object   // with Raw copied
	positions []Position // Reader.Position after each object
	errs      []*ReadError
	format    Format
	final     Position
}

func readAll(t *testing.T, src io.Reader, opts ReaderOptions) readResult {
	t.Helper()
	r := NewReader(src, opts)
	var res readResult
	for i := 0; ; i++ {
		if i > 10_000_000 {
			t.Fatal("reader does not reach the end")
		}
		obj, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var readErr *ReadError
			if !errors.As(err, &readErr) {
				t.Fatalf("Next returned %T %v, expected *ReadError", err, err)
			}
			res.errs = append(res.errs, readErr)
			continue
		}
		obj.Raw = bytes.Clone(obj.Raw)
		res.objects = append(res.objects, obj)
		res.positions = append(res.positions, r.Position())
	}
	res.format = r.Format()
	res.final = r.Position()
	return res
}

// expectedObjects lists the STIX objects of a document with encoding/json:
// the objects of a bundle, the elements of an array, or each top-level
// object of a stream (NDJSON or concatenated objects).
func expectedObjects(t *testing.T, data []byte) [][]byte {
	t.Helper()
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	dec := json.NewDecoder(bytes.NewReader(data))
	var objects [][]byte
	for {
		var value json.RawMessage
		err := dec.Decode(&value)
		if errors.Is(err, io.EOF) {
			return objects
		}
		if err != nil {
			t.Fatalf("encoding/json cannot decode the test input: %v", err)
		}
		switch value[0] {
		case '[':
			var elements []json.RawMessage
			if err := json.Unmarshal(value, &elements); err != nil {
				t.Fatal(err)
			}
			for _, e := range elements {
				objects = append(objects, e)
			}
		case '{':
			var members map[string]json.RawMessage
			if err := json.Unmarshal(value, &members); err != nil {
				t.Fatal(err)
			}
			var typ string
			if raw, ok := members["type"]; ok {
				_ = json.Unmarshal(raw, &typ)
			}
			var elements []json.RawMessage
			if raw, ok := members["objects"]; ok && (typ == "" || typ == "bundle") && json.Unmarshal(raw, &elements) == nil {
				for _, e := range elements {
					objects = append(objects, e)
				}
				continue
			}
			objects = append(objects, value)
		default:
			t.Fatalf("test input holds a top-level %c value", value[0])
		}
	}
}

func compact(t *testing.T, raw []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		t.Fatalf("object is not valid JSON: %v\n%s", err, raw)
	}
	return buf.String()
}

func gzipBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// onlyReader hides every method but Read, such as Seek.
type onlyReader struct{ io.Reader }

// lineAt returns the 1-based line of the byte at offset.
func lineAt(data []byte, offset int64) int64 {
	return int64(bytes.Count(data[:min(offset, int64(len(data)))], []byte("\n"))) + 1
}

// checkObjects compares what the Reader returned with the objects that
// encoding/json finds in data, and checks that each offset and line points
// at the object's bytes in data.
func checkObjects(t *testing.T, data []byte, got readResult) {
	t.Helper()
	want := expectedObjects(t, data)
	if len(got.objects) != len(want) {
		t.Fatalf("read %d objects, encoding/json finds %d", len(got.objects), len(want))
	}
	for i, obj := range got.objects {
		if compact(t, obj.Raw) != compact(t, want[i]) {
			t.Fatalf("object %d differs:\nread %s\nwant %s", i, obj.Raw, want[i])
		}
		end := obj.Offset + int64(len(obj.Raw))
		if obj.Offset < 0 || end > int64(len(data)) || !bytes.Equal(data[obj.Offset:end], obj.Raw) {
			t.Fatalf("object %d: offset %d does not point at its bytes", i, obj.Offset)
		}
		if line := lineAt(data, obj.Offset); obj.Line != line {
			t.Fatalf("object %d: line %d, its offset is on line %d", i, obj.Line, line)
		}
	}
}

func TestReaderFormats(t *testing.T) {
	indicator := `{"type":"indicator","spec_version":"2.1","id":"indicator--0b1a8d0b-4d4c-4a59-9b0a-1a2b3c4d5e6f","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z"}`
	malware := `{"type":"malware","spec_version":"2.1","id":"malware--1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f","name":"esc \"quoted\" \\ and \u00e9 {not a brace}","is_family":false,"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","nested":{"a":[1,-2.5e3,true,null,{"b":[]}]}}`

	tests := []struct {
		name   string
		data   string
		format Format
	}{
		{"bundle type first", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[` + indicator + `,` + malware + `]}`, FormatBundle},
		{"bundle id and objects before type", "{\n  \"id\": \"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\",\n  \"objects\": [\n    " + indicator + ",\n    " + malware + "\n  ],\n  \"spec_version\": \"2.0\",\n  \"type\": \"bundle\"\n}\n", FormatBundle},
		{"bundle with spec_version", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","spec_version":"2.1","objects":[` + indicator + `]}`, FormatBundle},
		{"bundle with empty objects", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[]}`, FormatBundle},
		{"bundle with a byte order mark", "\xef\xbb\xbf" + `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[` + indicator + `]}`, FormatBundle},
		{"top-level array", "[\n" + indicator + ",\n" + malware + "\n]\n", FormatArray},
		{"empty top-level array", "[ ]", FormatArray},
		{"ndjson", indicator + "\n" + malware + "\n", FormatNDJSON},
		{"ndjson without final newline", indicator + "\n" + malware, FormatNDJSON},
		{"ndjson with crlf and blank lines", "\r\n" + indicator + "\r\n\r\n  \r\n" + malware + "\r\n", FormatNDJSON},
		{"single bare object on one line", indicator, FormatNDJSON},
		{"single pretty-printed object", "{\n  \"type\": \"campaign\",\n  \"id\": \"campaign--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061\",\n  \"objects\": {\"0\": {\"type\": \"file\"}}\n}\n", FormatObjects},
		{"pretty-printed objects one after another", "{\n \"type\": \"x\",\n \"id\": \"x--1\"\n}\n{\n \"type\": \"y\",\n \"id\": \"y--2\"\n}\n", FormatObjects},
		{"one bundle per line", `{"type":"bundle","id":"bundle--1","objects":[` + indicator + `]}` + "\n" + `{"type":"bundle","id":"bundle--2","objects":[` + malware + `]}` + "\n", FormatBundle},
		{"pretty bundle then array", "{\"type\": \"bundle\",\n \"id\": \"bundle--1\",\n \"objects\": [\n" + indicator + "\n]}\n[\n" + malware + "\n]\n", FormatArray},
		{"object whose objects array follows a non-bundle type", "{\"type\":\"x-custom\",\"id\":\"x-custom--1\",\"objects\":[1,2]}\n", FormatNDJSON},
	}
	for _, tc := range tests {
		for _, size := range []int{0, 7, 100} {
			for _, compressed := range []bool{false, true} {
				data := []byte(tc.data)
				src := data
				if compressed {
					src = gzipBytes(t, data)
				}
				got := readAll(t, bytes.NewReader(src), ReaderOptions{BufferSize: size})
				if len(got.errs) > 0 {
					t.Fatalf("%s (buffer %d, gzip %v): unexpected error %v", tc.name, size, compressed, got.errs[0])
				}
				if got.format != tc.format {
					t.Fatalf("%s: format %q, expected %q", tc.name, got.format, tc.format)
				}
				t.Run(fmt.Sprintf("%s buffer %d gzip %v", tc.name, size, compressed), func(t *testing.T) {
					checkObjects(t, data, got)
				})
			}
		}
	}
}

// stixTestFiles lists the STIX test data of the repository.
func stixTestFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, root := range []string{"../../tests/data/stix", "../../tests/cases/B26"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch filepath.Ext(path) {
			case ".json", ".ndjson", ".stix2":
				if filepath.Base(path) != "expected.json" {
					files = append(files, path)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 100 {
		t.Fatalf("found only %d STIX test files", len(files))
	}
	return files
}

func TestReaderRealFiles(t *testing.T) {
	formats := map[Format]int{}
	for _, path := range stixTestFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, compressed := range []bool{false, true} {
			src := data
			if compressed {
				src = gzipBytes(t, data)
			}
			got := readAll(t, bytes.NewReader(src), ReaderOptions{})
			for _, e := range got.errs {
				if !e.Warning {
					t.Fatalf("%s (gzip %v): %v", path, compressed, e)
				}
			}
			checkObjects(t, data, got)
			formats[got.format]++
		}
	}
	for _, f := range []Format{FormatBundle, FormatNDJSON, FormatObjects, FormatArray} {
		if formats[f] == 0 {
			t.Errorf("no test file was read as %s", f)
		}
	}
}

func TestReaderKeyOrderOfRealBundles(t *testing.T) {
	// Some Unit 42 bundles write "id" and "objects" before "type".
	paths, err := filepath.Glob("../../tests/data/stix/unit42-playbooks/*.json")
	if err != nil {
		t.Fatal(err)
	}
	objectsFirst := 0
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		typeAt := bytes.Index(data, []byte(`"type": "bundle"`))
		objectsAt := bytes.Index(data, []byte(`"objects"`))
		if typeAt < 0 || objectsAt > typeAt {
			continue
		}
		objectsFirst++
		got := readAll(t, bytes.NewReader(data), ReaderOptions{})
		if len(got.errs) > 0 {
			t.Fatalf("%s: %v", path, got.errs[0])
		}
		if got.format != FormatBundle {
			t.Fatalf("%s: format %q, expected bundle", path, got.format)
		}
		checkObjects(t, data, got)
	}
	if objectsFirst == 0 {
		t.Fatal("no Unit 42 bundle has its objects before its type")
	}
}

func TestReaderBundleSpecVersionCase(t *testing.T) {
	data, err := os.ReadFile("../../tests/cases/B26/bundle-with-spec-version.json")
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, bytes.NewReader(data), ReaderOptions{})
	if len(got.errs) > 0 {
		t.Fatalf("unexpected error %v", got.errs[0])
	}
	checkObjects(t, data, got)
}

// wantError is an expected ReadError. Offsets are computed from the input,
// and the expected line is the line of the offset in the input.
type wantError struct {
	offset     int64
	noLine     bool // the error has no line
	warning    bool
	fatal      bool
	incomplete bool
	reason     string // a part of the reason
}

func checkErrors(t *testing.T, data []byte, got []*ReadError, want []wantError) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d errors %v, expected %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Offset != w.offset {
			t.Errorf("error %d (%v): offset %d, expected %d", i, g, g.Offset, w.offset)
		}
		line := lineAt(data, w.offset)
		if w.noLine {
			line = 0
		}
		if g.Line != line {
			t.Errorf("error %d (%v): line %d, expected %d", i, g, g.Line, line)
		}
		if g.Warning != w.warning || g.Fatal != w.fatal || g.Incomplete != w.incomplete {
			t.Errorf("error %d (%v): warning %v fatal %v incomplete %v, expected %v %v %v",
				i, g, g.Warning, g.Fatal, g.Incomplete, w.warning, w.fatal, w.incomplete)
		}
		if !strings.Contains(g.Reason, w.reason) {
			t.Errorf("error %d: reason %q does not contain %q", i, g.Reason, w.reason)
		}
	}
}

func at(data, marker string) int64 {
	i := strings.Index(data, marker)
	if i < 0 {
		panic("marker " + marker + " not in test input")
	}
	return int64(i)
}

func TestReaderBadInput(t *testing.T) {
	const (
		a = `{"type":"indicator","id":"indicator--1"}`
		b = `{"type":"malware","id":"malware--2"}`
	)
	badID, err := os.ReadFile("../../tests/cases/B26/bad-bundle-id.json")
	if err != nil {
		t.Fatal(err)
	}
	cutBundle := `{"type":"bundle","id":"bundle--1","objects":[` + a + `,` + b + `,{"type":"tool","na`
	binary := "\x00\x01\x02\x03STIX\xff\xfe"
	noNUL := "\xff\xfe\xfd\xfc\x80\x81 not text"
	elements := `{"type":"bundle","id":"bundle--1","objects":[` + a + `, 42, "text", [1], null, ` + b + `]}`
	arrayElements := `[` + a + `,true,` + b + `]`
	missingQuote := `{"type":"bundle","id":"bundle--1","objects":[` + a +
		`,{"type":"indicator","id":"indicator--2","name":"A,"pattern":"[x]"}` +
		`,{"type":"indicator","id":"indicator--3","x_note":{"text":"say \"hi\""},"x_inner":{"type":"indicator","id":"indicator--4"}}` +
		`,` + b + `]}`

	tests := []struct {
		name    string
		data    string
		objects []string // nil: compare with encoding/json
		errs    []wantError
	}{
		{
			name:    "ndjson line of invalid JSON",
			data:    a + "\n{\"type\": tru}\n" + b + "\n",
			objects: []string{a, b},
			errs:    []wantError{{offset: at(a+"\n{\"type\": tru}\n", "tru}") + 3, reason: "invalid character '}' in literal"}},
		},
		{
			name:    "ndjson line not starting with a brace",
			data:    a + "\nnot json\n" + b + "\n",
			objects: []string{a, b},
			errs:    []wantError{{offset: int64(len(a) + 1), reason: "expected '{'"}},
		},
		{
			name:    "ndjson first line invalid",
			data:    "{\"type\":,}\n" + a + "\n",
			objects: []string{a},
			errs:    []wantError{{offset: at("{\"type\":,}", ","), reason: "where a value must start"}},
		},
		{
			name:    "ndjson line with an unterminated string",
			data:    a + "\n{\"type\":\"x\n" + b + "\n",
			objects: []string{a, b},
			errs:    []wantError{{offset: int64(len(a) + len("\n{\"type\":\"x")), reason: "control character"}},
		},
		{
			name:    "ndjson line missing its closing brace",
			data:    a + "\n{\"type\":\"x\"\n" + b + "\n",
			objects: []string{a, b},
			errs:    []wantError{{offset: int64(len(a) + len("\n{\"type\":\"x\"")), reason: "line ends"}},
		},
		{
			name:    "ndjson data after the object on its line",
			data:    a + " junk\n" + b + "\n",
			objects: []string{a, b},
			errs:    []wantError{{offset: int64(len(a) + 1), reason: "after the object"}},
		},
		{
			name:    "ndjson last line cut short",
			data:    a + "\n" + `{"type":"mal`,
			objects: []string{a},
			errs:    []wantError{{offset: int64(len(a) + 1 + len(`{"type":"mal`)), fatal: true, incomplete: true, reason: "cut short"}},
		},
		{
			name:    "bundle cut short inside an object",
			data:    cutBundle,
			objects: []string{a, b},
			errs:    []wantError{{offset: int64(len(cutBundle)), fatal: true, incomplete: true, reason: "bundle is cut short"}},
		},
		{
			name:    "bundle cut short after a comma",
			data:    `{"type":"bundle","id":"bundle--1","objects":[` + a + ",\n",
			objects: []string{a},
			errs:    []wantError{{offset: int64(len(`{"type":"bundle","id":"bundle--1","objects":[` + a + ",\n")), fatal: true, incomplete: true, reason: "bundle is cut short"}},
		},
		{
			name:    "bundle cut short before its closing brace",
			data:    `{"type":"bundle","id":"bundle--1","objects":[` + a + `]`,
			objects: []string{a},
			errs:    []wantError{{offset: int64(len(`{"type":"bundle","id":"bundle--1","objects":[` + a + `]`)), fatal: true, incomplete: true, reason: "closing '}'"}},
		},
		{
			name:    "bundle with invalid JSON inside an object",
			data:    `{"type":"bundle","id":"bundle--1","objects":[` + a + `,{"type" "x"},` + b + `]}`,
			objects: []string{a, b},
			errs:    []wantError{{offset: at(`{"type":"bundle","id":"bundle--1","objects":[`+a+`,{"type" "x"}`, `{"type" "x"}`), reason: "after object key, expected ':' at offset"}},
		},
		{
			name:    "bundle without a comma between objects",
			data:    `{"type":"bundle","id":"bundle--1","objects":[` + a + "\n" + b + `]}`,
			objects: []string{a, b},
			errs:    []wantError{{offset: at(`{"type":"bundle","id":"bundle--1","objects":[`+a+"\n"+b, b), warning: true, reason: "read as the next element"}},
		},
		{
			name:    "array with a comma after its last object",
			data:    `[` + a + `,` + b + `, ]`,
			objects: []string{a, b},
			errs:    []wantError{{offset: int64(len(`[` + a + `,` + b + `, `)), warning: true, reason: "read as the end of the array"}},
		},
		{
			name:    "ndjson first line cut short",
			data:    `{"type":"indicator","id":` + "\n" + a + "\n" + b + "\n",
			objects: []string{a, b},
			errs:    []wantError{{offset: int64(len(`{"type":"indicator","id":`)), reason: "line ends before the value is complete"}},
		},
		{
			name:    "bundle followed by NUL bytes",
			data:    `{"type":"bundle","id":"bundle--1","objects":[` + a + `]}` + "\n\x00\x00\x00",
			objects: []string{a},
			errs:    []wantError{{offset: int64(len(`{"type":"bundle","id":"bundle--1","objects":[`+a+`]}`) + 1), fatal: true, reason: "unexpected data after the end of the bundle"}},
		},
		{
			name:    "ndjson with a line of NUL bytes",
			data:    a + "\n\x00\x00\n" + b + "\n",
			objects: []string{a, b},
			errs:    []wantError{{offset: int64(len(a) + 1), reason: "expected '{'"}},
		},
		{
			name:    "array with extra commas between and before objects",
			data:    `[,` + a + `,, ` + b + `]`,
			objects: []string{a, b},
			errs: []wantError{
				{offset: 1, warning: true, reason: "where an array element must start; ignored"},
				{offset: int64(len(`[,` + a + `,`)), warning: true, reason: "where an array element must start; ignored"},
			},
		},
		{
			// A missing closing quote shifts which bytes are inside strings,
			// so skipping by brackets could end inside the next object and
			// publish one of its nested objects.
			name:    "bundle with a value missing its closing quote",
			data:    missingQuote,
			objects: []string{a},
			errs:    []wantError{{offset: at(missingQuote, `pattern":"[x]"`), fatal: true, reason: "invalid character 'p' after object member"}},
		},
		{
			name:    "bundle with a bracket of the wrong kind inside an object",
			data:    `{"type":"bundle","id":"bundle--1","objects":[` + a + `,{"type":"x"],` + b + `]}`,
			objects: []string{a},
			errs:    []wantError{{offset: at(`{"type":"bundle","id":"bundle--1","objects":[`+a+`,{"type":"x"],`, `],`), fatal: true, reason: "after object member"}},
		},
		{
			name:    "objects array elements that are not objects",
			data:    elements,
			objects: []string{a, b},
			errs: []wantError{
				{offset: at(elements, "42"), reason: "a number"},
				{offset: at(elements, `"text"`), reason: "a string"},
				{offset: at(elements, "[1]"), reason: "an array"},
				{offset: at(elements, "null"), reason: "null"},
			},
		},
		{
			name:    "top-level array element that is not an object",
			data:    arrayElements,
			objects: []string{a, b},
			errs:    []wantError{{offset: at(arrayElements, "true"), reason: "a boolean"}},
		},
		{
			name: "bundle id without the bundle prefix",
			data: string(badID),
			errs: []wantError{{offset: at(string(badID), `"marking-definition--`), warning: true, reason: "does not start with \"bundle--\""}},
		},
		{
			name:    "object with an objects array and no type",
			data:    `{"id":"bundle--1","objects":[` + a + `]}`,
			objects: []string{a},
			errs:    []wantError{{offset: int64(len(`{"id":"bundle--1","objects":[` + a + `]}`)), warning: true, reason: "has no type"}},
		},
		{
			name:    "type after the objects array that is not bundle",
			data:    `{"objects":[` + a + `],"type":"report"}`,
			objects: []string{a},
			errs:    []wantError{{offset: int64(len(`{"objects":[` + a + `],"type":"report"}`)), warning: true, reason: `type "report"`}},
		},
		{
			name:    "bundle without an objects array",
			data:    `{"type":"bundle","id":"bundle--1"}`,
			objects: []string{},
			errs:    []wantError{{offset: 0, warning: true, reason: "no objects array"}},
		},
		{
			name:    "data after the bundle",
			data:    `{"type":"bundle","id":"bundle--1","objects":[` + a + `]} xyz`,
			objects: []string{a},
			errs:    []wantError{{offset: at(`{"type":"bundle","id":"bundle--1","objects":[`+a+`]} xyz`, "xyz"), fatal: true, reason: "after the end of the bundle"}},
		},
		{
			name:    "binary file",
			objects: []string{},
			data:    binary,
			errs:    []wantError{{offset: 0, fatal: true, reason: "binary file"}},
		},
		{
			name:    "binary file without NUL bytes",
			objects: []string{},
			data:    noNUL,
			errs:    []wantError{{offset: 0, fatal: true, reason: "binary file"}},
		},
		{
			name:    "empty file",
			objects: []string{},
			data:    "",
			errs:    []wantError{{offset: 0, noLine: true, warning: true, reason: "empty file"}},
		},
		{
			name:    "file of whitespace",
			objects: []string{},
			data:    " \n\t\r\n",
			errs:    []wantError{{offset: 5, noLine: true, warning: true, reason: "only whitespace"}},
		},
		{
			name:    "pretty-printed object broken on a later line",
			data:    "{\n \"type\": \"x\",\n \"id\" \"x--1\"\n}\n",
			objects: []string{},
			errs:    []wantError{{offset: at("{\n \"type\": \"x\",\n \"id\" \"x--1\"\n}\n", `"x--1"`), fatal: true, reason: "after object key"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, strings.NewReader(tc.data), ReaderOptions{})
			checkErrors(t, []byte(tc.data), got.errs, tc.errs)
			if tc.objects == nil {
				checkObjects(t, []byte(tc.data), got)
				return
			}
			if len(got.objects) != len(tc.objects) {
				t.Fatalf("read %d objects, expected %d", len(got.objects), len(tc.objects))
			}
			for i, want := range tc.objects {
				if string(got.objects[i].Raw) != want {
					t.Errorf("object %d is %s, expected %s", i, got.objects[i].Raw, want)
				}
				if off := at(tc.data, want); got.objects[i].Offset != off {
					t.Errorf("object %d at offset %d, expected %d", i, got.objects[i].Offset, off)
				}
			}
		})
	}
}

func TestReaderObjectTooLarge(t *testing.T) {
	small := `{"type":"x","id":"x--1"}`
	large := `{"type":"x","id":"x--2","description":"` + strings.Repeat("long ", 40) + `"}`
	for _, tc := range []struct {
		name string
		data string
	}{
		{"ndjson", small + "\n" + large + "\n" + small + "\n"},
		{"bundle", `{"type":"bundle","id":"bundle--1","objects":[` + small + `,` + large + `,` + small + `]}`},
		{"pretty-printed objects", "{\n" + small[1:] + "\n" + large + "\n" + small + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, strings.NewReader(tc.data), ReaderOptions{MaxObjectSize: 100, BufferSize: 16})
			checkErrors(t, []byte(tc.data), got.errs, []wantError{{offset: at(tc.data, large), reason: "larger than the maximum object size of 100 bytes"}})
			if len(got.objects) != 2 {
				t.Fatalf("read %d objects, expected the 2 small ones", len(got.objects))
			}
		})
	}
}

func TestReaderCorruptGzip(t *testing.T) {
	data, err := os.ReadFile("../../tests/data/stix/unit42-playbooks/emotet.json")
	if err != nil {
		t.Fatal(err)
	}
	compressed := gzipBytes(t, data)

	t.Run("checksum mismatch", func(t *testing.T) {
		corrupt := bytes.Clone(compressed)
		// The gzip trailer is the CRC-32 and the size, 4 bytes each.
		corrupt[len(corrupt)-8] ^= 0xff
		got := readAll(t, bytes.NewReader(corrupt), ReaderOptions{})
		checkErrors(t, data, got.errs, []wantError{{offset: int64(len(data)), fatal: true, reason: "corrupt gzip data"}})
	})

	t.Run("flipped bytes in the compressed data", func(t *testing.T) {
		corrupt := bytes.Clone(compressed)
		for i := len(corrupt) / 2; i < len(corrupt)/2+64; i++ {
			corrupt[i] ^= 0x5a
		}
		got := readAll(t, bytes.NewReader(corrupt), ReaderOptions{})
		// Deflate may turn the damage into other bytes without noticing,
		// so the error can be invalid JSON as well as corrupt gzip data.
		if len(got.errs) != 1 || !got.errs[0].Fatal {
			t.Fatalf("errors %v, expected one fatal error", got.errs)
		}
		if got.errs[0].Offset <= 0 || got.errs[0].Offset > int64(len(data)) {
			t.Fatalf("error offset %d is outside the decompressed data", got.errs[0].Offset)
		}
		for i, obj := range got.objects {
			end := obj.Offset + int64(len(obj.Raw))
			if end > int64(len(data)) || !bytes.Equal(data[obj.Offset:end], obj.Raw) {
				t.Fatalf("object %d read before the damage differs from the original", i)
			}
		}
	})

	t.Run("truncated stream", func(t *testing.T) {
		got := readAll(t, bytes.NewReader(compressed[:len(compressed)/2]), ReaderOptions{})
		if len(got.errs) != 1 || !got.errs[0].Fatal || !got.errs[0].Incomplete {
			t.Fatalf("errors %v, expected one fatal incomplete error", got.errs)
		}
		if len(got.objects) == 0 || len(got.objects) >= len(expectedObjects(t, data)) {
			t.Fatalf("read %d objects from half the file", len(got.objects))
		}
	})

	t.Run("bad header", func(t *testing.T) {
		got := readAll(t, bytes.NewReader([]byte{0x1f, 0x8b, 0x00, 0x01, 0x02}), ReaderOptions{})
		checkErrors(t, nil, got.errs, []wantError{{offset: 0, fatal: true, reason: "corrupt gzip data"}})
	})
}

func TestReaderResume(t *testing.T) {
	bundle, err := os.ReadFile("../../tests/data/stix/unit42-playbooks/cryptoclippy.json")
	if err != nil {
		t.Fatal(err)
	}
	ndjson, err := os.ReadFile("../../tests/data/stix/ndjson/misp-stix-tests-stix21.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	array, err := os.ReadFile("../../tests/cases/B26/plain-array.json")
	if err != nil {
		t.Fatal(err)
	}
	objects := []byte("{\n \"type\": \"x\",\n \"id\": \"x--1\"\n}\n{\n \"type\": \"y\",\n \"id\": \"y--2\"\n}\n{\"type\": \"z\",\n \"id\": \"z--3\"}\n")
	ndjsonWithErrors := []byte("{\"a\":1}\nbad line\n\n{\"b\":2}\r\n{\"c\":\n{\"d\":4}\n")
	invalidElements := []byte(prettyBundle(fourObjects(`"name": "a\qb", "confidence": 1.2.3,`)))

	for _, tc := range []struct {
		name   string
		data   []byte
		format Format
	}{
		{"bundle", bundle, FormatBundle},
		{"ndjson", ndjson, FormatNDJSON},
		{"ndjson with bad lines", ndjsonWithErrors, FormatNDJSON},
		{"bundle with an invalid object", invalidElements, FormatBundle},
		{"array", array, FormatArray},
		{"pretty-printed objects", objects, FormatObjects},
		{"two bundles", append(append(bytes.Clone(bundle), '\n'), array...), FormatArray},
	} {
		for _, compressed := range []bool{false, true} {
			for _, seekable := range []bool{false, true} {
				src := tc.data
				if compressed {
					src = gzipBytes(t, tc.data)
				}
				open := func() io.Reader {
					if seekable {
						return bytes.NewReader(src)
					}
					return onlyReader{bytes.NewReader(src)}
				}
				full := readAll(t, open(), ReaderOptions{})
				if full.format != tc.format {
					t.Fatalf("%s: format %q, expected %q", tc.name, full.format, tc.format)
				}
				for k, pos := range full.positions {
					rest := readAll(t, open(), ReaderOptions{Resume: pos, BufferSize: 64})
					if len(rest.objects) != len(full.objects)-k-1 {
						t.Fatalf("%s (gzip %v, seek %v): resuming after object %d read %d objects, expected %d",
							tc.name, compressed, seekable, k, len(rest.objects), len(full.objects)-k-1)
					}
					for i, obj := range rest.objects {
						want := full.objects[k+1+i]
						if !bytes.Equal(obj.Raw, want.Raw) || obj.Offset != want.Offset || obj.Line != want.Line {
							t.Fatalf("%s: resuming after object %d: object %d at %d line %d, expected at %d line %d",
								tc.name, k, i, obj.Offset, obj.Line, want.Offset, want.Line)
						}
					}
					if rest.format != tc.format {
						t.Fatalf("%s: resumed format %q", tc.name, rest.format)
					}
				}
			}
		}
	}
}

func TestReaderResumeAfterAppend(t *testing.T) {
	first := "{\"a\":1}\n{\"b\":2}"
	appended := first + "\n{\"c\":3}\n\n{\"d\":4}\n"
	before := readAll(t, strings.NewReader(first), ReaderOptions{})
	if len(before.objects) != 2 {
		t.Fatalf("read %d objects before the append, expected 2", len(before.objects))
	}
	after := readAll(t, strings.NewReader(appended), ReaderOptions{Resume: before.final})
	if len(after.errs) > 0 {
		t.Fatalf("unexpected error %v", after.errs[0])
	}
	if len(after.objects) != 2 {
		t.Fatalf("read %d appended objects, expected 2", len(after.objects))
	}
	for i, want := range []string{`{"c":3}`, `{"d":4}`} {
		obj := after.objects[i]
		if string(obj.Raw) != want || obj.Offset != at(appended, want) {
			t.Errorf("appended object %d is %s at %d, expected %s at %d", i, obj.Raw, obj.Offset, want, at(appended, want))
		}
		if line := int64(strings.Count(appended[:obj.Offset], "\n") + 1); obj.Line != line {
			t.Errorf("appended object %d on line %d, expected %d", i, obj.Line, line)
		}
	}
}

func TestReaderResumeBeyondData(t *testing.T) {
	data := gzipBytes(t, []byte("{\"a\":1}\n"))
	got := readAll(t, bytes.NewReader(data), ReaderOptions{Resume: Position{Offset: 100, Line: 3, Format: FormatNDJSON}})
	checkErrors(t, nil, got.errs, []wantError{{offset: 8, noLine: true, fatal: true, incomplete: true, reason: "before the resume offset 100"}})
}

func FuzzReader(f *testing.F) {
	for _, seed := range []string{
		`{"type":"bundle","id":"bundle--1","objects":[{"type":"x","id":"x--1"},{"type":"y"}]}`,
		`{"id":"bundle--1","objects":[{"a":1}, 2],"type":"bundle"}`,
		"[{\"a\":1},\n{\"b\":[1,2]}]",
		"[{\"a\":1},{\"b\":\"\\q\"},{\"c\":1.2.3},{\"d\":tru},{\"e\":4}]",
		"{\"a\":1}\n{bad}\n\n{\"b\":\"\\u00e9\"}\r\n",
		"{\n \"a\": 1\n}\n{\n \"b\": 2\n}",
		"\x00\x01", "", "   ", "\xef\xbb\xbf[]",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := readAll(t, bytes.NewReader(data), ReaderOptions{BufferSize: 8, MaxObjectSize: 1 << 16})
		plain := !bytes.HasPrefix(data, []byte{0x1f, 0x8b})
		for i, obj := range got.objects {
			if len(obj.Raw) == 0 || obj.Raw[0] != '{' || !json.Valid(obj.Raw) {
				t.Fatalf("object %d is not a JSON object: %q", i, obj.Raw)
			}
			end := obj.Offset + int64(len(obj.Raw))
			if plain && (end > int64(len(data)) || !bytes.Equal(data[obj.Offset:end], obj.Raw)) {
				t.Fatalf("object %d: offset %d does not point at its bytes", i, obj.Offset)
			}
		}
		for _, e := range got.errs {
			if e.Offset < 0 || (plain && e.Offset > int64(len(data))) {
				t.Fatalf("error %v: offset outside the data", e)
			}
		}
		for k, pos := range got.positions {
			rest := readAll(t, bytes.NewReader(data), ReaderOptions{Resume: pos, BufferSize: 8, MaxObjectSize: 1 << 16})
			if len(rest.objects) != len(got.objects)-k-1 {
				t.Fatalf("resuming after object %d read %d objects, expected %d", k, len(rest.objects), len(got.objects)-k-1)
			}
		}
	})
}

// invalidElementFaults are errors inside a string, number or literal of the
// second object. marker locates the fault in the object's text and skip is
// how many bytes into marker the invalid byte is.
var invalidElementFaults = []struct {
	name   string
	member string
	marker string
	skip   int
	reason string
}{
	{"bad escape", `"name": "a\qb"`, `\qb`, 1, `invalid escape 'q' in string`},
	{"raw newline in a string", "\"name\": \"a\nb\"", "a\nb", 1, "invalid control character 0x0a in string"},
	{"raw control character in a string", "\"name\": \"a\x01b\"", "a\x01b", 1, "invalid control character 0x01 in string"},
	{"bad unicode escape", `"name": "\u12G4"`, `\u12G4`, 4, `invalid character 'G' in \u escape`},
	{"malformed number", `"confidence": 1.2.3`, `1.2.3`, 3, "invalid character '.' in number"},
	{"leading zero", `"confidence": 012`, `012`, 1, "invalid character '1' in number"},
	{"cut literal", `"revoked": tru,`, `tru,`, 3, "invalid character ',' in literal"},
	// A Windows path written without escaping its backslashes ends with a
	// backslash before the closing quote.
	{"NaN", `"confidence": NaN`, `NaN`, 0, `invalid character 'N' where a value must start`},
	{"plus sign", `"confidence": +1`, `+1`, 0, `invalid character '+' where a value must start`},
	{"single quotes", `"name": 'x'`, `'x'`, 0, `invalid character ''' where a value must start`},
	{"unescaped Windows path", `"x_path": "C:\data\"`, `\data`, 1, `invalid escape 'd' in string`},
	{"missing colon", `"name" "x"`, `"x"`, 0, `invalid character '"' after object key, expected ':'`},
	{"missing comma between members", `"name": "x" "aliases": []`, `"aliases"`, 0, `invalid character '"' after object member, expected ',' or '}'`},
	{"doubled comma", `"name": "x",,`, `,,`, 1, `invalid character ',' where an object key must start`},
	{"missing value", `"name": ,`, `: ,`, 2, `invalid character ',' where a value must start`},
	{"doubled comma in a list", `"aliases": ["a",, "b"]`, `,,`, 1, `invalid character ',' where a value must start`},
}

// fourObjects returns four pretty-printed STIX objects whose second one
// contains member, indented as inside a bundle's objects array.
func fourObjects(member string) []string {
	return []string{
		"{\n      \"type\": \"indicator\",\n      \"id\": \"indicator--1\"\n    }",
		"{\n      \"type\": \"malware\",\n      \"id\": \"malware--2\",\n      " + member + "\n      \"is_family\": false\n    }",
		"{\n      \"type\": \"tool\",\n      \"id\": \"tool--3\",\n      \"name\": \"a \\\" ] } [ {\"\n    }",
		"{\n      \"type\": \"campaign\",\n      \"id\": \"campaign--4\"\n    }",
	}
}

func prettyBundle(objects []string) string {
	return "{\n  \"type\": \"bundle\",\n  \"id\": \"bundle--1\",\n  \"objects\": [\n    " +
		strings.Join(objects, ",\n    ") + "\n  ]\n}\n"
}

func prettyArray(objects []string) string {
	return "[\n    " + strings.Join(objects, ",\n    ") + "\n]\n"
}

func TestReaderSkipsInvalidElement(t *testing.T) {
	for _, fault := range invalidElementFaults {
		member := fault.member
		if !strings.HasSuffix(member, ",") {
			member += ","
		}
		objects := fourObjects(member)
		for _, layout := range []struct {
			name   string
			build  func([]string) string
			format Format
		}{
			{"bundle", prettyBundle, FormatBundle},
			{"array", prettyArray, FormatArray},
		} {
			data := layout.build(objects)
			badAt := at(data, objects[1])
			faultAt := at(data, fault.marker) + int64(fault.skip)
			wantReason := fmt.Sprintf("%s at offset %d, line %d; object skipped", fault.reason, faultAt, lineAt([]byte(data), faultAt))
			for _, size := range []int{0, 7, 64} {
				for _, compressed := range []bool{false, true} {
					name := fmt.Sprintf("%s in %s buffer %d gzip %v", fault.name, layout.name, size, compressed)
					t.Run(name, func(t *testing.T) {
						src := []byte(data)
						if compressed {
							src = gzipBytes(t, src)
						}
						got := readAll(t, bytes.NewReader(src), ReaderOptions{BufferSize: size})
						checkErrors(t, []byte(data), got.errs, []wantError{{offset: badAt, reason: wantReason}})
						if got.format != layout.format {
							t.Errorf("format %q, expected %q", got.format, layout.format)
						}
						want := []string{objects[0], objects[2], objects[3]}
						if len(got.objects) != len(want) {
							t.Fatalf("read %d objects, expected %d", len(got.objects), len(want))
						}
						for i, w := range want {
							obj := got.objects[i]
							if string(obj.Raw) != w {
								t.Errorf("object %d is %q, expected %q", i, obj.Raw, w)
							}
							if off := at(data, w); obj.Offset != off {
								t.Errorf("object %d at offset %d, expected %d", i, obj.Offset, off)
							}
							if line := lineAt([]byte(data), at(data, w)); obj.Line != line {
								t.Errorf("object %d on line %d, expected %d", i, obj.Line, line)
							}
						}
					})
				}
			}
		}
	}
}

func TestReaderSkipsInvalidScalarElement(t *testing.T) {
	const (
		a = `{"type":"indicator","id":"indicator--1"}`
		b = `{"type":"malware","id":"malware--2"}`
	)
	for _, bad := range []string{`tru`, `1.2.3`, `"a\qb"`, `-x`} {
		data := "[" + a + ", " + bad + " ,\n" + b + "]"
		got := readAll(t, strings.NewReader(data), ReaderOptions{BufferSize: 5})
		checkErrors(t, []byte(data), got.errs, []wantError{{offset: at(data, bad), reason: "; array element skipped"}})
		if len(got.objects) != 2 {
			t.Errorf("%s: read %d objects, expected 2", bad, len(got.objects))
			continue
		}
		for i, want := range []string{a, b} {
			if string(got.objects[i].Raw) != want {
				t.Errorf("%s: object %d is %s, expected %s", bad, i, got.objects[i].Raw, want)
			}
		}
	}
}

func TestReaderInvalidElementStructuralErrors(t *testing.T) {
	objects := fourObjects(`"name": "a\qb",`)
	mismatched := strings.Replace(objects[1], "\n    }", "\n    ]", 1)
	cases := []struct {
		name string
		data string
		errs func(data string) []wantError
	}{
		{
			name: "bracket closing a brace",
			data: prettyBundle([]string{objects[0], strings.Replace(objects[2], "\n    }", "\n    ]", 1), objects[3]}),
			errs: func(data string) []wantError {
				return []wantError{{offset: at(data, "\n    ]") + 5, fatal: true, reason: "invalid character ']' after object member"}}
			},
		},
		{
			name: "bracket closing a brace after a bad escape",
			data: prettyBundle([]string{objects[0], mismatched, objects[2], objects[3]}),
			errs: func(data string) []wantError {
				return []wantError{{offset: at(data, "\n    ]") + 5, fatal: true, reason: `invalid character ']' where '}' must close the object, after invalid escape 'q' in string at offset ` + fmt.Sprint(at(data, `\qb`)+1)}}
			},
		},
		{
			name: "array cut short inside an object with a bad escape",
			data: strings.TrimSuffix(prettyArray(objects[:2]), "\n    }\n]\n"),
			errs: func(data string) []wantError {
				return []wantError{{offset: int64(len(data)), fatal: true, incomplete: true, reason: "array is cut short"}}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, size := range []int{0, 7} {
				got := readAll(t, strings.NewReader(tc.data), ReaderOptions{BufferSize: size})
				checkErrors(t, []byte(tc.data), got.errs, tc.errs(tc.data))
				if len(got.objects) != 1 || string(got.objects[0].Raw) != objects[0] {
					t.Fatalf("buffer %d: read %d objects, expected only the first", size, len(got.objects))
				}
			}
		})
	}
}

func TestReaderResumeAfterInvalidElement(t *testing.T) {
	objects := fourObjects(`"name": "a\qb",`)
	for _, build := range []func([]string) string{prettyBundle, prettyArray} {
		data := build(objects)
		for _, seekable := range []bool{false, true} {
			open := func() io.Reader {
				if seekable {
					return strings.NewReader(data)
				}
				return onlyReader{strings.NewReader(data)}
			}

			r := NewReader(open(), ReaderOptions{BufferSize: 16})
			var skippedAt Position
			for skippedAt.Format == FormatUnknown {
				_, err := r.Next()
				var readErr *ReadError
				if errors.As(err, &readErr) && !readErr.Fatal {
					skippedAt = r.Position()
					continue
				}
				if err != nil {
					t.Fatalf("Next returned %v before the invalid object was skipped", err)
				}
			}
			afterBad := at(data, objects[1]) + int64(len(objects[1]))
			if skippedAt.Offset != afterBad {
				t.Fatalf("position after the skipped object is %d, expected %d", skippedAt.Offset, afterBad)
			}
			if line := lineAt([]byte(data), afterBad); skippedAt.Line != line {
				t.Fatalf("line after the skipped object is %d, expected %d", skippedAt.Line, line)
			}

			rest := readAll(t, open(), ReaderOptions{Resume: skippedAt, BufferSize: 16})
			if len(rest.errs) > 0 {
				t.Fatalf("resumed read returned error %v", rest.errs[0])
			}
			if len(rest.objects) != 2 {
				t.Fatalf("resumed read returned %d objects, expected objects 3 and 4", len(rest.objects))
			}
			for i, want := range objects[2:] {
				obj := rest.objects[i]
				if string(obj.Raw) != want || obj.Offset != at(data, want) {
					t.Errorf("resumed object %d is %q at %d, expected %q at %d", i, obj.Raw, obj.Offset, want, at(data, want))
				}
				if line := lineAt([]byte(data), at(data, want)); obj.Line != line {
					t.Errorf("resumed object %d on line %d, expected %d", i, obj.Line, line)
				}
			}
			if rest.final.Offset <= afterBad {
				t.Errorf("final position %d is not after the resume point %d", rest.final.Offset, afterBad)
			}
		}
	}
}

func TestReaderInvalidElementMemory(t *testing.T) {
	const maxObject = 4096
	head := `{"type":"bundle","id":"bundle--1","objects":[{"type":"x","id":"x--1"},{"type":"x","id":"x--2","name":"\q","description":"`
	tail := `"},{"type":"x","id":"x--3"}]}`
	filler := strings.Repeat("long text ", 400_000) // 4 MB
	data := io.MultiReader(strings.NewReader(head), strings.NewReader(filler), strings.NewReader(tail))

	r := NewReader(data, ReaderOptions{MaxObjectSize: maxObject, BufferSize: 256})
	var ids []string
	var errs []*ReadError
	for {
		obj, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var readErr *ReadError
		if errors.As(err, &readErr) {
			errs = append(errs, readErr)
			continue
		}
		var decoded struct{ ID string }
		if err := json.Unmarshal(obj.Raw, &decoded); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, decoded.ID)
	}
	if len(errs) != 1 {
		t.Fatalf("errors %v, expected one for the skipped object", errs)
	}
	if errs[0].Fatal {
		t.Errorf("error %v is fatal, expected the object to be skipped", errs[0])
	}
	if want := `invalid escape 'q' in string at offset ` + fmt.Sprint(strings.Index(head, `\q`)+1); !strings.Contains(errs[0].Reason, want) {
		t.Errorf("reason %q does not contain %q", errs[0].Reason, want)
	}
	if want := int64(strings.Index(head, `{"type":"x","id":"x--2"`)); errs[0].Offset != want {
		t.Errorf("error at offset %d, expected %d", errs[0].Offset, want)
	}
	if strings.Join(ids, " ") != "x--1 x--3" {
		t.Fatalf("read objects %v, expected x--1 and x--3", ids)
	}
	if len(r.buf) > 2*maxObject {
		t.Fatalf("read buffer grew to %d bytes while skipping a %d byte object", len(r.buf), len(filler))
	}
}

// When the end of a skipped element cannot be found before the data ends,
// the error still names the invalid content that started the skip.
func TestReaderCutShortWhileSkippingNamesTheCause(t *testing.T) {
	data := `[{"type":"x","id":"x--1"}, {"id":"x--2","name":"a\qb` + "\n"
	got := readAll(t, strings.NewReader(data), ReaderOptions{})
	if len(got.objects) != 1 {
		t.Errorf("read %d objects, expected the first one", len(got.objects))
	}
	if len(got.errs) != 1 {
		t.Fatalf("%d errors, expected 1: %v", len(got.errs), got.errs)
	}
	reason := got.errs[0].Reason
	for _, want := range []string{"cut short", "while skipping an element with invalid escape 'q' in string"} {
		if !strings.Contains(reason, want) {
			t.Errorf("reason %q does not contain %q", reason, want)
		}
	}
}
