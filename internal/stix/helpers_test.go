package stix

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// repoRoot is the repository root seen from this package's folder.
const repoRoot = "../.."

// lookupField finds a dotted field such as "threat.indicator.url.domain" in
// a document. "@timestamp" is Document.Timestamp. Keys that contain dots
// themselves are found too, because every split of the path is tried.
func lookupField(doc *Document, field string) (any, bool) {
	if field == "@timestamp" {
		if doc.Timestamp.IsZero() {
			return nil, false
		}
		return doc.Timestamp, true
	}
	return lookupPath(doc.Fields, field)
}

func lookupPath(m map[string]any, path string) (any, bool) {
	if v, ok := m[path]; ok {
		return v, true
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		switch sub := m[path[:i]].(type) {
		case map[string]any:
			if v, ok := lookupPath(sub, path[i+1:]); ok {
				return v, true
			}
		case []any:
			if v, ok := lookupInList(sub, path[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// lookupInList collects a field from every object of a list, the way
// Elasticsearch indexes a field inside an array of objects.
func lookupInList(objects []any, path string) (any, bool) {
	var collected []any
	for _, o := range objects {
		m, ok := o.(map[string]any)
		if !ok {
			continue
		}
		if v, ok := lookupPath(m, path); ok {
			values, _ := fieldValues(v)
			collected = append(collected, values...)
		}
	}
	return collected, len(collected) > 0
}

// fieldValues returns the values of a field as JSON would show them
// (strings, float64 numbers, booleans, maps), and whether the field is a
// list.
func fieldValues(v any) ([]any, bool) {
	switch v := v.(type) {
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out, true
	case []int64:
		out := make([]any, len(v))
		for i, n := range v {
			out[i] = float64(n)
		}
		return out, true
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = scalarValue(e)
		}
		return out, true
	case []map[string]any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = e
		}
		return out, true
	}
	return []any{scalarValue(v)}, false
}

func scalarValue(v any) any {
	switch v := v.(type) {
	case int:
		return float64(v)
	case int64:
		return float64(v)
	}
	return v
}

// checkField asserts that a field holds want. A list in want means the
// field holds exactly these values in any order; a scalar means the field
// holds that one value, either bare or as a one-element list, which
// Elasticsearch treats alike.
func checkField(t *testing.T, doc *Document, field string, want any) {
	t.Helper()
	got, ok := lookupField(doc, field)
	if !ok {
		t.Errorf("%s is absent, want %v", field, want)
		return
	}
	if field == "@timestamp" {
		checkInstant(t, field, got.(time.Time), want)
		return
	}
	gotValues, _ := fieldValues(got)
	if wantList, ok := want.([]any); ok {
		if !sameValues(gotValues, wantList) {
			t.Errorf("%s = %v, want exactly %v (any order)", field, gotValues, wantList)
		}
		return
	}
	if len(gotValues) != 1 || valueKey(gotValues[0]) != valueKey(scalarValue(want)) {
		t.Errorf("%s = %v, want %v", field, gotValues, want)
	}
}

func checkAbsent(t *testing.T, doc *Document, field string) {
	t.Helper()
	if got, ok := lookupField(doc, field); ok {
		t.Errorf("%s = %v, want the field absent", field, got)
	}
}

// checkInstant compares @timestamp as an instant, because Document.Timestamp
// is a time.Time and its formatting is the publisher's concern.
func checkInstant(t *testing.T, field string, got time.Time, want any) {
	t.Helper()
	text, ok := want.(string)
	if !ok {
		t.Errorf("%s: expectation %v is not a timestamp string", field, want)
		return
	}
	wantTime, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		t.Fatalf("%s: expectation %q: %v", field, text, err)
	}
	if !got.Equal(wantTime) {
		t.Errorf("%s = %s, want %s", field, got.Format(time.RFC3339Nano), text)
	}
}

func sameValues(got, want []any) bool {
	if len(got) != len(want) {
		return false
	}
	g := make([]string, len(got))
	w := make([]string, len(want))
	for i := range got {
		g[i] = valueKey(got[i])
		w[i] = valueKey(scalarValue(want[i]))
	}
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

func valueKey(v any) string { return fmt.Sprintf("%T:%v", v, v) }

// hasWarning reports whether doc has a warning on field whose message
// contains text.
func hasWarning(doc *Document, field, text string) bool {
	for _, w := range doc.Warnings {
		if w.Field == field && strings.Contains(w.Message, text) {
			return true
		}
	}
	return false
}

// hasWarningText reports whether any warning of doc contains text.
func hasWarningText(doc *Document, text string) bool {
	for _, w := range doc.Warnings {
		if strings.Contains(w.Message, text) {
			return true
		}
	}
	return false
}

// decodeObject decodes one JSON object the way the inputs do.
func decodeObject(t testing.TB, text string) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal([]byte(text), &obj); err != nil {
		t.Fatalf("decode %s: %v", text, err)
	}
	return obj
}

// loadObjects reads the STIX objects of a bundle, a plain JSON array of
// objects, or an NDJSON file.
func loadObjects(t testing.TB, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if strings.HasSuffix(path, ".ndjson") {
		var objects []map[string]any
		for _, line := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(line) != "" {
				objects = append(objects, decodeObject(t, line))
			}
		}
		return objects
	}
	var top any
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	var list []any
	switch top := top.(type) {
	case []any:
		list = top
	case map[string]any:
		list, _ = top["objects"].([]any)
	}
	objects := make([]map[string]any, 0, len(list))
	for _, o := range list {
		if m, ok := o.(map[string]any); ok {
			objects = append(objects, m)
		}
	}
	return objects
}

// loadJSON decodes a JSON file into v.
func loadJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
}

func casePath(name string) string {
	return filepath.Join(repoRoot, "tests", "cases", name)
}

// findObject returns the object with the given id from a test data file.
func findObject(t testing.TB, path, id string) map[string]any {
	t.Helper()
	for _, obj := range loadObjects(t, path) {
		if obj["id"] == id {
			return obj
		}
	}
	t.Fatalf("%s has no object %s", path, id)
	return nil
}

// mustConvert converts obj with default options and fails the test on an
// error.
func mustConvert(t testing.TB, obj map[string]any) *Document {
	t.Helper()
	doc, err := Convert(obj, nil)
	if err != nil {
		t.Fatalf("Convert: %v", err)
	}
	return doc
}

// list builds an expected list value.
func list(values ...any) []any { return values }
