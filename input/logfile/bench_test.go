package logfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/elastic-agent-libs/logp"
)

// Benchmark data comes from the project's benchmark generator, for example:
//
//	go -C ../shared/bench run ./gen -n 100000 -seed 1 -o /tmp/gen-100000.ndjson
//	go -C ../shared/bench run ./gen -n 100000 -seed 1 -format bundle -o /tmp/gen-100000.bundle.json
var benchmarkFiles = []struct{ name, path string }{
	{"ndjson", "/tmp/gen-100000.ndjson"},
	{"bundle", "/tmp/gen-100000.bundle.json"},
}

func loadBenchmarkFile(b *testing.B, path string) []byte {
	b.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		b.Skipf("%s is missing; generate it with the benchmark generator", path)
	}
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkReader measures the Reader alone, from memory.
func BenchmarkReader(b *testing.B) {
	for _, bf := range benchmarkFiles {
		b.Run(bf.name, func(b *testing.B) {
			data := loadBenchmarkFile(b, bf.path)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			objects := 0
			for b.Loop() {
				objects += countObjects(b, bytes.NewReader(data), func(Object) {})
			}
			b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// BenchmarkReaderEvents measures the Reader plus building each event, the
// input's work per object before the pipeline.
func BenchmarkReaderEvents(b *testing.B) {
	for _, bf := range benchmarkFiles {
		b.Run(bf.name, func(b *testing.B) {
			data := loadBenchmarkFile(b, bf.path)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			objects := 0
			var sink int
			for b.Loop() {
				objects += countObjects(b, bytes.NewReader(data), func(obj Object) {
					event := newEvent(obj, bf.path, time.Now())
					sink += len(event.Fields)
				})
			}
			b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

func countObjects(b *testing.B, src io.Reader, each func(Object)) int {
	r := NewReader(src, ReaderOptions{})
	n := 0
	for {
		obj, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		each(obj)
		n++
	}
}

// discardPublisher drops events, standing in for a pipeline that never
// blocks.
type discardPublisher struct{ events, updates int }

func (p *discardPublisher) Publish(_ beat.Event, cursor any) error {
	p.events++
	if cursor != nil {
		p.updates++
	}
	return nil
}

// BenchmarkHarvester measures the input's work for one file on disk: open,
// fingerprint, read, build events and cursor updates.
func BenchmarkHarvester(b *testing.B) {
	for _, bf := range benchmarkFiles {
		b.Run(bf.name, func(b *testing.B) {
			info, err := os.Stat(bf.path)
			if errors.Is(err, os.ErrNotExist) {
				b.Skipf("%s is missing; generate it with the benchmark generator", bf.path)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(info.Size())
			b.ReportAllocs()
			events := 0
			for b.Loop() {
				pub := &discardPublisher{}
				h := newHarvester(harvesterConfig{
					log:       logp.NewNopLogger(),
					publisher: pub,
					cancel:    context.Background(),
					metrics:   newInputMetrics(nil, b.Name()),
					once:      true,
				})
				if err := h.scan([]string{bf.path}); err != nil {
					b.Fatal(err)
				}
				events += pub.events
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}
