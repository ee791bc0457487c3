package pattern

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// collectPatterns adds to patterns the "pattern" of every object in the
// JSON value whose pattern_type is "stix" or absent, mapped to the file it
// came from. It walks nested values, so patterns inside bundles, TAXII
// envelopes and recorded exchanges are found too.
func collectPatterns(value any, file string, patterns map[string]string) {
	switch v := value.(type) {
	case map[string]any:
		if source, ok := v["pattern"].(string); ok {
			patternType, hasType := v["pattern_type"]
			if !hasType || patternType == "stix" {
				if _, seen := patterns[source]; !seen {
					patterns[source] = file
				}
			}
		}
		for _, child := range v {
			collectPatterns(child, file, patterns)
		}
	case []any:
		for _, child := range v {
			collectPatterns(child, file, patterns)
		}
	}
}

// readPatterns collects the STIX patterns of every .json and .ndjson file
// under root.
func readPatterns(t *testing.T, root string, patterns map[string]string) {
	t.Helper()
	err := filepath.WalkDir(root, func(name string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if entry.IsDir() || !strings.HasSuffix(name, ".json") && !strings.HasSuffix(name, ".ndjson") {
			return nil
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		if strings.HasSuffix(name, ".ndjson") {
			lines := bufio.NewScanner(bytes.NewReader(data))
			lines.Buffer(nil, 16<<20)
			for lines.Scan() {
				var value any
				if json.Unmarshal(lines.Bytes(), &value) == nil {
					collectPatterns(value, name, patterns)
				}
			}
			return lines.Err()
		}
		var value any
		if err := json.Unmarshal(data, &value); err != nil {
			// Some cases are malformed on purpose; they hold no pattern to check.
			t.Logf("skipping %s: %v", name, err)
			return nil
		}
		collectPatterns(value, name, patterns)
		return nil
	})
	if err != nil {
		t.Fatalf("reading %s: %v", root, err)
	}
}

// TestParseRealPatterns parses every STIX pattern of the sample feeds and
// bug-report cases. All of them are valid: the one that breaks the STIX 2.1
// grammar, START '...' STOP '...' with plain strings in tests/cases/B19, is
// valid STIX 2.0, and Parse accepts it as such.
func TestParseRealPatterns(t *testing.T) {
	patterns := map[string]string{}
	readPatterns(t, filepath.Join("..", "..", "..", "tests", "data", "stix"), patterns)
	readPatterns(t, filepath.Join("..", "..", "..", "tests", "cases"), patterns)

	// The sample data held 8,587 distinct STIX patterns when this test was
	// written; far fewer means the walk missed the data.
	if len(patterns) < 8000 {
		t.Fatalf("found %d distinct patterns, want at least 8000", len(patterns))
	}

	sources := make([]string, 0, len(patterns))
	for source := range patterns {
		sources = append(sources, source)
	}
	sort.Strings(sources)
	for _, source := range sources {
		p, err := Parse(source)
		if err != nil {
			t.Errorf("%s: %v\npattern: %s", patterns[source], err, source)
			continue
		}
		checkRoundTrip(t, source, p)
	}
}

func TestParseCaseB19Qualifiers(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    ObservationExpr
	}{
		{"START STOP timestamps",
			"[domain-name:value = 'b19-one.example.com'] START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'",
			startStop(observe(compare(path("domain-name", prop("value")), OpEqual, str("b19-one.example.com"))),
				timestamp("2024-01-01T00:00:00Z"), timestamp("2024-02-01T00:00:00Z"))},
		{"START STOP STIX 2.0 strings",
			"[file:name = 'dropper.dll'] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'",
			startStop(observe(compare(path("file", prop("name")), OpEqual, str("dropper.dll"))),
				str("2016-06-01T00:00:00Z"), str("2016-07-01T00:00:00Z"))},
		{"REPEATS then WITHIN",
			"[ipv4-addr:value = '192.0.2.44'] REPEATS 5 TIMES WITHIN 180 SECONDS",
			within(repeats(observe(compare(path("ipv4-addr", prop("value")), OpEqual, str("192.0.2.44"))), 5), 180)},
		{"WITHIN on a FOLLOWEDBY group",
			"([ipv4-addr:value = '192.0.2.45'] FOLLOWEDBY [url:value = 'http://b19.example.net/c2']) WITHIN 600 SECONDS",
			grouped(within(followedBy(
				observe(compare(path("ipv4-addr", prop("value")), OpEqual, str("192.0.2.45"))),
				observe(compare(path("url", prop("value")), OpEqual, str("http://b19.example.net/c2")))), 600))},
		{"START STOP with fractional seconds",
			"[ipv6-addr:value = '2001:db8::44'] START t'2024-01-01T00:00:00.123456Z' STOP t'2024-12-31T23:59:59.999Z'",
			startStop(observe(compare(path("ipv6-addr", prop("value")), OpEqual, str("2001:db8::44"))),
				timestamp("2024-01-01T00:00:00.123456Z"), timestamp("2024-12-31T23:59:59.999Z"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.pattern)
			if !reflect.DeepEqual(got.Expr, tt.want) {
				t.Errorf("Parse(%q)\n got %s\nwant %s", tt.pattern, got, &Pattern{Expr: tt.want})
			}
		})
	}
}
