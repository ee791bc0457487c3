package stix

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/elastic/beats/v7/libbeat/beat"
	jsoncodec "github.com/elastic/beats/v7/libbeat/outputs/codec/json"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/mapstr"
)

// benchmarkFiles are NDJSON files of STIX objects, one object per line.
// The generated one comes from the benchmark harness's generator and is
// skipped when absent.
var benchmarkFiles = map[string]string{
	"amnesty":   "../../tests/data/stix/ndjson/amnesty-investigations.ndjson",
	"unit42":    "../../tests/data/stix/ndjson/unit42-playbooks-indicators.ndjson",
	"generated": "/tmp/gen-20000.ndjson",
}

func readLines(b *testing.B, path string) []string {
	f, err := os.Open(path)
	if err != nil {
		b.Skipf("no benchmark data: %v", err)
	}
	defer f.Close()
	var lines []string
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 1<<26)
	for scanner.Scan() {
		lines = append(lines, scanner.Text())
	}
	return lines
}

// defaultProcessors returns decode_stix and stix_to_ecs with the default
// settings.
func defaultProcessors(b *testing.B) (*Decoder, *Converter) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	log := logp.NewNopLogger()
	return NewDecoder(cfg, log), NewConverter(cfg, log)
}

// BenchmarkProcessors times decode_stix and stix_to_ecs on each object
// beside a bare json.Unmarshal of the same bytes into a map, the baseline
// the conversion cost is judged against.
func BenchmarkProcessors(b *testing.B) {
	decoder, converter := defaultProcessors(b)

	for name, path := range benchmarkFiles {
		b.Run(name+"/bare-unmarshal", func(b *testing.B) {
			lines := readLines(b, path)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var obj map[string]any
				if err := json.Unmarshal([]byte(lines[i%len(lines)]), &obj); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/processors", func(b *testing.B) {
			lines := readLines(b, path)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				event := &beat.Event{Fields: mapstr.M{"message": lines[i%len(lines)]}}
				event, _ = decoder.Run(event)
				if _, err := converter.Run(event); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOutputEncoding times libbeat's JSON codec, which output.file
// runs on one goroutine. It encodes the documents stix_to_ecs makes, and
// the same objects in the shape Filebeat's ndjson parser gives them: under
// one key beside the file fields. Neither has the agent, host and ecs
// fields the pipeline adds. The figures are a lower bound on what each
// published object costs in the output.
func BenchmarkOutputEncoding(b *testing.B) {
	decoder, converter := defaultProcessors(b)

	for name, path := range benchmarkFiles {
		lines := readLines(b, path)
		if len(lines) > 2000 {
			lines = lines[:2000]
		}
		var converted, plain []*beat.Event
		for i, line := range lines {
			event := &beat.Event{Fields: mapstr.M{"message": line}}
			event, _ = decoder.Run(event)
			event, err := converter.Run(event)
			if err != nil || event == nil {
				b.Fatalf("%s line %d: conversion failed: %v", name, i+1, err)
			}
			converted = append(converted, event)

			var obj map[string]any
			if err := json.Unmarshal([]byte(line), &obj); err != nil {
				b.Fatal(err)
			}
			plain = append(plain, &beat.Event{Fields: mapstr.M{
				"stix":  obj,
				"log":   mapstr.M{"file": mapstr.M{"path": path}, "offset": int64(i)},
				"input": mapstr.M{"type": "filestream"},
			}})
		}
		for _, variant := range []struct {
			name   string
			events []*beat.Event
		}{{"ecs-document", converted}, {"object-under-stix", plain}} {
			b.Run(name+"/"+variant.name, func(b *testing.B) {
				encoder := jsoncodec.New("9.3.0", jsoncodec.Config{})
				var size int
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					text, err := encoder.Encode("tibeat", variant.events[i%len(variant.events)])
					if err != nil {
						b.Fatal(err)
					}
					size += len(text)
				}
				b.ReportMetric(float64(size)/float64(b.N), "bytes/doc")
			})
		}
	}
}
