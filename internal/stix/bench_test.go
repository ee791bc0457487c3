package stix

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// generatedData holds 20,000 synthetic STIX 2.1 indicators written by the
// benchmark harness's generator (options -n 20000 -seed 1), one per line.
// The benchmark skips that data set when the file is absent.
const generatedData = "/tmp/gen-20000.ndjson"

// BenchmarkConvert measures one object per iteration, so ns/op and
// allocs/op are per object. For each data set, "decode" is json.Unmarshal
// of the line into map[string]any, and "decode+convert" adds Convert, as an
// input runs them. The difference is the cost of Convert.
func BenchmarkConvert(b *testing.B) {
	sets := []struct{ name, path string }{
		{"amnesty", filepath.Join(repoRoot, "tests", "data", "stix", "ndjson", "amnesty-investigations.ndjson")},
		{"unit42", filepath.Join(repoRoot, "tests", "data", "stix", "ndjson", "unit42-playbooks-indicators.ndjson")},
		{"generated", generatedData},
	}
	for _, set := range sets {
		b.Run(set.name, func(b *testing.B) {
			data, err := os.ReadFile(set.path)
			if os.IsNotExist(err) && set.path == generatedData {
				b.Skipf("%s is absent; create it with the benchmark harness's generator", generatedData)
			}
			if err != nil {
				b.Fatal(err)
			}
			lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
			benchmarkLines(b, lines)
		})
	}
}

func benchmarkLines(b *testing.B, lines [][]byte) {
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			var obj map[string]any
			if err := json.Unmarshal(lines[i%len(lines)], &obj); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("decode+convert", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			var obj map[string]any
			if err := json.Unmarshal(lines[i%len(lines)], &obj); err != nil {
				b.Fatal(err)
			}
			if _, err := Convert(obj, nil); err != nil {
				b.Fatal(err)
			}
		}
	})

	// On a shared machine the load changes between sub-benchmarks, so this
	// one times decode and convert of the same object back to back and
	// reports their ratio, which such changes affect much less. The GC
	// work of either step may land in the other's time.
	b.Run("interleaved", func(b *testing.B) {
		var decodeTime, convertTime time.Duration
		for i := 0; b.Loop(); i++ {
			line := lines[i%len(lines)]
			var obj map[string]any
			start := time.Now()
			if err := json.Unmarshal(line, &obj); err != nil {
				b.Fatal(err)
			}
			decoded := time.Now()
			if _, err := Convert(obj, nil); err != nil {
				b.Fatal(err)
			}
			converted := time.Now()
			decodeTime += decoded.Sub(start)
			convertTime += converted.Sub(decoded)
		}
		b.ReportMetric(float64(decodeTime.Nanoseconds())/float64(b.N), "decode-ns/object")
		b.ReportMetric(float64(convertTime.Nanoseconds())/float64(b.N), "convert-ns/object")
		b.ReportMetric(float64(convertTime)/float64(decodeTime), "convert/decode")
	})
}
