package cel

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/monitoring"
)

// stixPage returns a TAXII 2.1 envelope of n indicators, about 450 bytes
// each.
func stixPage(n int) []byte {
	objects := make([]any, n)
	for i := range objects {
		objects[i] = map[string]any{
			"type":            "indicator",
			"spec_version":    "2.1",
			"id":              fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i),
			"created":         "2024-05-20T09:00:00.000Z",
			"modified":        "2024-05-20T09:00:00.000Z",
			"name":            fmt.Sprintf("C2 server %d", i),
			"indicator_types": []any{"malicious-activity"},
			"pattern":         fmt.Sprintf("[ipv4-addr:value = '198.51.%d.%d']", i/256%256, i%256),
			"pattern_type":    "stix",
			"valid_from":      "2024-05-20T09:00:00.000Z",
			"labels":          []any{"c2", "botnet"},
			"confidence":      80,
		}
	}
	page, _ := json.Marshal(map[string]any{"more": false, "objects": objects})
	return page
}

type discardPublisher struct{ events int }

func (p *discardPublisher) Publish(e beat.Event, _ any) error {
	p.events++
	return nil
}

// BenchmarkEvaluate measures one evaluation of the TAXII program on a page
// of 1000 objects from a local server, publishing included. That covers the
// HTTP exchange, JSON decoding, the conversion of the result and the
// encoding of every object for message, which the program does itself with
// encode_json in the "encode_json" variant, as programs written for
// Filebeat do.
func BenchmarkEvaluate(b *testing.B) {
	program, err := os.ReadFile("testdata/programs/taxii21.cel")
	if err != nil {
		b.Fatal(err)
	}
	const objects = `body.?objects.orValue([])`
	if !strings.Contains(string(program), objects) {
		b.Fatalf("taxii21.cel no longer contains %s", objects)
	}
	encoding := strings.Replace(string(program), objects, objects+`.map(o, {"message": o.encode_json()})`, 1)
	b.Run("objects", func(b *testing.B) { benchmarkEvaluate(b, string(program)) })
	b.Run("encode_json", func(b *testing.B) { benchmarkEvaluate(b, encoding) })
}

func benchmarkEvaluate(b *testing.B, program string) {
	page := stixPage(1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/taxii+json;version=2.1")
		w.Header().Set("X-TAXII-Date-Added-Last", "2024-05-20T09:00:00.000000Z")
		w.Write(page)
	}))
	defer srv.Close()
	cfg, err := unpackConfig(map[string]any{
		"program":       string(program),
		"resource.url":  srv.URL + "/collections/1/objects/",
		"redact.fields": []string{},
		"state":         map[string]any{"initial_interval": "24h"},
	})
	if err != nil {
		b.Fatal(err)
	}
	inp := &input{config: cfg}
	log := logp.NewNopLogger()
	pub := &discardPublisher{}
	r, err := inp.newRunner(context.Background(), v2.Context{Logger: log, MetricsRegistry: monitoring.NewRegistry()}, log, nil, pub)
	if err != nil {
		b.Fatal(err)
	}
	defer r.close()
	initial := r.state

	b.SetBytes(int64(len(page)))
	b.ResetTimer()
	for range b.N {
		r.state = initial
		if _, _, err := r.evaluateOnce(context.Background(), 1); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if pub.events != 1000*b.N {
		b.Fatalf("published %d events in %d evaluations, expected 1000 each", pub.events, b.N)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*1000), "µs/object")
}
