package logfile

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// bundleGenerator streams a STIX 2.1 bundle of count indicators without
// holding it, in the shape of the large-bundle case: one indicator per
// line, addresses from the documentation ranges.
type bundleGenerator struct {
	count, next int
	buf         []byte
	done        bool
}

func (g *bundleGenerator) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		switch {
		case g.done:
			return 0, io.EOF
		case g.next == 0 && g.buf == nil:
			g.buf = []byte(`{"type": "bundle", "id": "bundle--5f0c3a2e-9d41-4b7e-8a16-2c3b4d5e6f70", "objects": [` + "\n")
		case g.next < g.count:
			sep := ",\n"
			if g.next == 0 {
				sep = ""
			}
			g.buf = fmt.Appendf(g.buf[:0], `%s{"type": "indicator", "spec_version": "2.1", "id": "indicator--%08x-0000-4000-8000-%012x", `+
				`"created": "2025-06-13T00:00:00.000Z", "modified": "2025-06-13T00:00:00.000Z", "indicator_types": ["malicious-activity"], `+
				`"pattern": "[ipv4-addr:value = '198.51.100.%d']", "pattern_type": "stix", "valid_from": "2025-06-13T00:00:00Z"}`,
				sep, g.next, g.next, g.next%256)
			g.next++
		default:
			g.buf = append(g.buf[:0], "\n]}\n"...)
			g.done = true
		}
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

func TestReaderLargeBundleMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a generated 200 MB bundle")
	}
	const count = 600_000 // about 200 MB
	const maxHeapGrowth = 32 << 20

	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	baseline := stats.HeapInuse

	r := NewReader(&bundleGenerator{count: count}, ReaderOptions{})
	objects := 0
	var peak uint64
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		objects++
		if objects%20_000 == 0 {
			runtime.ReadMemStats(&stats)
			peak = max(peak, stats.HeapInuse)
		}
	}
	if objects != count {
		t.Fatalf("read %d objects, expected %d", objects, count)
	}
	if r.Offset() < 200_000_000 {
		t.Fatalf("generated only %d bytes, expected about 200 MB", r.Offset())
	}
	if peak > baseline+maxHeapGrowth {
		t.Fatalf("heap in use grew from %d to %d bytes while reading %d bytes", baseline, peak, r.Offset())
	}
	t.Logf("read %d bytes, heap in use %d bytes before and at most %d during the read", r.Offset(), baseline, peak)
}
