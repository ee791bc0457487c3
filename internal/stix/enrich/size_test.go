package enrich

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestContextIndexSize measures the index after 100,000 objects of the
// Unit 42 playbooks, whose 23,868 objects are repeated under new ids
// until there are enough. It runs only when TIBEAT_MEASURE_INDEX is set,
// to 1 for 100,000 objects or to another count:
//
//	TIBEAT_MEASURE_INDEX=1 go test -run TestContextIndexSize -v ./internal/stix/enrich/
//	TIBEAT_MEASURE_INDEX=1000000 go test -run TestContextIndexSize -v -timeout 30m ./internal/stix/enrich/
func TestContextIndexSize(t *testing.T) {
	setting := os.Getenv("TIBEAT_MEASURE_INDEX")
	if setting == "" {
		t.Skip("set TIBEAT_MEASURE_INDEX=1 to measure the index")
	}
	total := 100_000
	if n, err := strconv.Atoi(setting); err == nil && n > 1 {
		total = n
	}
	entries, err := os.ReadDir(filepath.Join("..", "..", "..", "tests", "data", "stix", "unit42-playbooks"))
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, entry := range entries {
		if filepath.Ext(entry.Name()) == ".json" {
			_, raws := unit42Objects(t, entry.Name())
			for _, raw := range raws {
				texts = append(texts, string(raw))
			}
		}
	}

	dir := t.TempDir()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	x, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < total; n++ {
		// A new id prefix for each pass keeps every object distinct.
		text := strings.ReplaceAll(texts[n%len(texts)], "--", "--"+strconv.Itoa(n/len(texts))+"-")
		feed(t, x, text)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	stats := x.Stats()
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	reopened, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	info, err := os.Stat(filepath.Join(dir, JournalName))
	if err != nil {
		t.Fatal(err)
	}

	t.Logf("%d objects: %+v", total, stats)
	t.Logf("heap growth %.1f MiB, journal after compaction %.1f MiB",
		float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), float64(info.Size())/(1<<20))
}
