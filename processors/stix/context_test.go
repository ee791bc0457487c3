package stix

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/logp/logptest"
	"github.com/elastic/elastic-agent-libs/mapstr"

	"github.com/tibeat/tibeat/internal/stix/enrich"
)

const (
	emotetMalware = `{"type":"malware","spec_version":"2.1","id":"malware--7e0b0c3a-0a4d-4f1e-9b7a-3c2d1e0f9a02",
 "created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Emotet","is_family":true}`
	emotetRelationship = `{"type":"relationship","spec_version":"2.1","id":"relationship--7e0b0c3a-0a4d-4f1e-9b7a-3c2d1e0f9a03",
 "created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","relationship_type":"indicates",
 "source_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","target_ref":"malware--7e0b0c3a-0a4d-4f1e-9b7a-3c2d1e0f9a02"}`
	// olderIPIndicator is a version of ipIndicator modified a day before it.
	olderIPIndicator = `{"type":"indicator","spec_version":"2.1",
 "id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
 "created":"2024-03-01T10:00:00.000Z","modified":"2024-03-01T10:00:00.000Z",
 "pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix",
 "valid_from":"2024-03-01T10:00:00Z"}`
)

// contextPipeline runs the processors one input gets with a context index,
// and records the indicators reported for republishing.
type contextPipeline struct {
	t           *testing.T
	index       *enrich.Index
	processors  []beat.Processor
	republished []string
}

func newContextPipeline(t *testing.T) *contextPipeline {
	return newPipelineWithIndex(t, enrich.New(enrich.DefaultLimits))
}

func newPipelineWithIndex(t *testing.T, index *enrich.Index) *contextPipeline {
	p := &contextPipeline{t: t, index: index}
	cfg := DefaultConfig().WithContext(&Context{Index: p.index, Republish: func(ids []string) {
		p.republished = append(p.republished, ids...)
	}}, "feed")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := logptest.NewTestingLogger(t, "")
	p.processors = []beat.Processor{NewDecoder(cfg, log), NewConverter(cfg, log), NewRevisions(cfg)}
	return p
}

func (p *contextPipeline) run(fields mapstr.M) *beat.Event {
	p.t.Helper()
	event := &beat.Event{Timestamp: time.Unix(0, 0), Fields: fields}
	for _, processor := range p.processors {
		var err error
		if event, err = processor.Run(event); err != nil || event == nil {
			p.t.Fatalf("%s: event %v, error %v", processor, event, err)
		}
	}
	return event
}

// republish publishes the stored indicator again, as the beater does.
func (p *contextPipeline) republish(id string) *beat.Event {
	p.t.Helper()
	raw, _, source, ok := p.index.Stored(id)
	if !ok {
		p.t.Fatalf("indicator %s is not stored", id)
	}
	event := RepublishEvent(raw, source)
	return p.run(event.Fields)
}

func fileEvent(text, path string, offset int) mapstr.M {
	return mapstr.M{"message": text, "log": mapstr.M{"offset": offset, "file": mapstr.M{"path": path}}}
}

// idWithoutContext is the _id stix_to_ecs alone gives: the fingerprint of
// the STIX id and modified.
func idWithoutContext(t *testing.T, text string) string {
	t.Helper()
	return process(t, DefaultConfig(), mapstr.M{"message": text}).Meta["_id"].(string)
}

// Context that arrives after its indicator publishes an enriched copy with
// its own _id, a revision date one nanosecond after the first copy's, and
// the first copy's source fields.
func TestRevisionsContextAfterIndicator(t *testing.T) {
	p := newContextPipeline(t)
	first := p.run(fileEvent(ipIndicator, "/feeds/a-indicators.json", 0))
	p.run(fileEvent(emotetMalware, "/feeds/b-context.json", 0))
	p.run(fileEvent(emotetRelationship, "/feeds/b-context.json", 180))
	if !slices.Equal(p.republished, []string{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}) {
		t.Fatalf("republished %v, want the indicator", p.republished)
	}

	enriched := p.republish("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")

	if got, want := first.Meta["_id"], idWithoutContext(t, ipIndicator); got != want {
		t.Errorf("first copy _id = %v, want the _id without context %v", got, want)
	}
	if enriched.Meta["_id"] == first.Meta["_id"] {
		t.Error("the enriched copy has the first copy's _id, which a data stream rejects as a duplicate")
	}
	// modified is 2024-03-02T10:00:00.000Z.
	if got := value(t, first, "stix.ioc_revision_date"); got != "2024-03-02T10:00:00.000000000Z" {
		t.Errorf("first copy stix.ioc_revision_date = %v", got)
	}
	if got := value(t, enriched, "stix.ioc_revision_date"); got != "2024-03-02T10:00:00.000000001Z" {
		t.Errorf("enriched copy stix.ioc_revision_date = %v", got)
	}
	if got := value(t, first, "stix.ioc_context_revision"); got != 0 {
		t.Errorf("first copy stix.ioc_context_revision = %v, want 0", got)
	}
	if got := value(t, enriched, "stix.ioc_context_revision"); got != 1 {
		t.Errorf("enriched copy stix.ioc_context_revision = %v, want 1", got)
	}
	if got := value(t, enriched, "threat.software.name"); !slices.Equal(got.([]string), []string{"Emotet"}) {
		t.Errorf("threat.software.name = %v, want [Emotet]", got)
	}
	if got := value(t, enriched, "log.file.path"); got != "/feeds/a-indicators.json" {
		t.Errorf("log.file.path = %v, want the file the indicator came from", got)
	}
	if got, err := enriched.Fields.GetValue("log.offset"); err != nil || got != float64(0) {
		t.Errorf("log.offset = %v (%v), want 0", got, err)
	}
	for _, key := range []string{rawKey, republishedKey} {
		if _, ok := enriched.Fields[key]; ok {
			t.Errorf("the enriched copy still has the internal field %s", key)
		}
	}

	again := p.republish("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")
	if again.Meta["_id"] != enriched.Meta["_id"] {
		t.Error("the same context published again got a new _id, so a repeat delivery would be a new document")
	}
	reread := p.run(fileEvent(ipIndicator, "/feeds/a-indicators.json", 0))
	if reread.Meta["_id"] != enriched.Meta["_id"] {
		t.Error("the indicator read again with the same context got a new _id")
	}
}

// An index with a journal keeps the indicator's text and source fields on
// disk, and a copy published again after a restart gets them, with the
// revision and _id of the copy published before it.
func TestRevisionsJournalAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	index, err := enrich.Open(dir, enrich.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	p := newPipelineWithIndex(t, index)
	p.run(fileEvent(ipIndicator, "/feeds/a-indicators.json", 512))
	p.run(fileEvent(emotetMalware, "/feeds/b-context.json", 0))
	p.run(fileEvent(emotetRelationship, "/feeds/b-context.json", 180))
	enriched := p.republish("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")
	if err := index.Close(); err != nil {
		t.Fatal(err)
	}

	reopened, err := enrich.Open(dir, enrich.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	again := newPipelineWithIndex(t, reopened).republish("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")

	if got := value(t, enriched, "stix.ioc_context_revision"); got != 1 {
		t.Errorf("enriched copy stix.ioc_context_revision = %v, want 1", got)
	}
	if again.Meta["_id"] != enriched.Meta["_id"] {
		t.Error("the copy published after the restart got a new _id")
	}
	for _, event := range []*beat.Event{enriched, again} {
		if got := value(t, event, "log.file.path"); got != "/feeds/a-indicators.json" {
			t.Errorf("log.file.path = %v, want the file the indicator came from", got)
		}
		if got, err := event.Fields.GetValue("log.offset"); err != nil || got != float64(512) {
			t.Errorf("log.offset = %v (%v), want 512", got, err)
		}
	}
}

// Context that arrives first gives the first copy a revision, so that it
// sorts after a copy without context that another instance may have
// written.
func TestRevisionsContextBeforeIndicator(t *testing.T) {
	p := newContextPipeline(t)
	p.run(fileEvent(emotetMalware, "/feeds/a.json", 0))
	p.run(fileEvent(emotetRelationship, "/feeds/a.json", 180))

	doc := p.run(fileEvent(ipIndicator, "/feeds/a.json", 400))

	if len(p.republished) != 0 {
		t.Errorf("republished %v, want nothing", p.republished)
	}
	if doc.Meta["_id"] == idWithoutContext(t, ipIndicator) {
		t.Error("a copy with context has the _id of the copy without it")
	}
	if got := value(t, doc, "stix.ioc_revision_date"); got != "2024-03-02T10:00:00.000000001Z" {
		t.Errorf("stix.ioc_revision_date = %v", got)
	}
}

// An older version that arrives after a newer one sorts before it, whatever
// context either carries.
func TestRevisionsOlderVersionSortsFirst(t *testing.T) {
	p := newContextPipeline(t)
	newer := p.run(fileEvent(ipIndicator, "/feeds/a.json", 0))
	p.run(fileEvent(emotetMalware, "/feeds/a.json", 300))
	p.run(fileEvent(emotetRelationship, "/feeds/a.json", 500))

	older := p.run(fileEvent(olderIPIndicator, "/feeds/b.json", 0))

	newerDate, _ := time.Parse(time.RFC3339Nano, value(t, newer, "stix.ioc_revision_date").(string))
	olderDate, _ := time.Parse(time.RFC3339Nano, value(t, older, "stix.ioc_revision_date").(string))
	if !olderDate.Before(newerDate) {
		t.Errorf("older version sorts at %v, not before the newer version's %v", olderDate, newerDate)
	}
}

func TestRevisionsSkipOtherObjects(t *testing.T) {
	p := newContextPipeline(t)

	event := p.run(fileEvent(emotetMalware, "/feeds/a.json", 0))

	if _, err := event.Fields.GetValue("stix.ioc_revision_date"); err == nil {
		t.Error("a malware document got stix.ioc_revision_date")
	}
	if event.Meta["_id"] != idWithoutContext(t, emotetMalware) {
		t.Error("a malware document got another _id")
	}
}

func TestRevisionDateCapsRevisions(t *testing.T) {
	version := time.Date(2024, 3, 2, 10, 0, 0, 0, time.UTC)
	tests := map[int]string{
		0:    "2024-03-02T10:00:00.000000000Z",
		1:    "2024-03-02T10:00:00.000000001Z",
		999:  "2024-03-02T10:00:00.000000999Z",
		5000: "2024-03-02T10:00:00.000000999Z",
	}
	for revision, want := range tests {
		if got := revisionDate(version, revision); got != want {
			t.Errorf("revisionDate(%d) = %s, want %s", revision, got, want)
		}
	}
}

func TestNewRevisionsWithoutContext(t *testing.T) {
	if NewRevisions(DefaultConfig()) != nil {
		t.Error("NewRevisions returned a processor for a configuration without a context index")
	}
}

// BenchmarkRevisions times the processors of an input with a context
// index, without and with stix_context_revision, on the real samples.
func BenchmarkRevisions(b *testing.B) {
	for name, path := range benchmarkFiles {
		for _, withRevisions := range []bool{false, true} {
			variant := name + "/context"
			if withRevisions {
				variant += "+revisions"
			}
			b.Run(variant, func(b *testing.B) {
				lines := readLines(b, path)
				cfg := DefaultConfig().WithContext(&Context{Index: enrich.New(enrich.DefaultLimits), Republish: func([]string) {}}, "feed")
				if err := cfg.Validate(); err != nil {
					b.Fatal(err)
				}
				log := logp.NewNopLogger()
				processors := []beat.Processor{NewDecoder(cfg, log), NewConverter(cfg, log)}
				if withRevisions {
					processors = append(processors, NewRevisions(cfg))
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					event := &beat.Event{Fields: mapstr.M{"message": lines[i%len(lines)],
						"log": mapstr.M{"offset": i, "file": mapstr.M{"path": path}}}}
					for _, processor := range processors {
						event, _ = processor.Run(event)
					}
				}
			})
		}
	}
}

// BenchmarkContextIndex times what the context index adds to each object
// as tibeat runs it: an index with its journal on disk, and the objects
// new to it, because each pass over the file gives them new ids. Each
// object goes through decode_stix and stix_to_ecs without a context, then
// through the three processors with one, back to back, so that load
// changes on a shared machine affect both alike. index-share is the part
// of the second time that the index and stix_context_revision take.
func BenchmarkContextIndex(b *testing.B) {
	for name, path := range benchmarkFiles {
		b.Run(name, func(b *testing.B) {
			lines := readLines(b, path)
			index, err := enrich.Open(b.TempDir(), enrich.DefaultLimits)
			if err != nil {
				b.Fatal(err)
			}
			defer index.Close()
			log := logp.NewNopLogger()
			plain := DefaultConfig()
			withContext := DefaultConfig().WithContext(&Context{Index: index, Republish: func([]string) {}}, "feed")
			for _, cfg := range []Config{plain, withContext} {
				if err := cfg.Validate(); err != nil {
					b.Fatal(err)
				}
			}
			plainProcessors := []beat.Processor{NewDecoder(plain, log), NewConverter(plain, log)}
			contextProcessors := []beat.Processor{NewDecoder(withContext, log), NewConverter(withContext, log), NewRevisions(withContext)}
			run := func(processors []beat.Processor, text string, offset int) time.Duration {
				start := time.Now()
				event := &beat.Event{Fields: mapstr.M{"message": text,
					"log": mapstr.M{"offset": offset, "file": mapstr.M{"path": path}}}}
				for _, processor := range processors {
					event, _ = processor.Run(event)
				}
				return time.Since(start)
			}

			var without, with time.Duration
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				text := lines[i%len(lines)]
				if pass := i / len(lines); pass > 0 {
					text = strings.ReplaceAll(text, "--", "--"+strconv.Itoa(pass)+"-")
				}
				with += run(contextProcessors, text, i)
				without += run(plainProcessors, text, i)
			}
			b.ReportMetric(float64(without.Nanoseconds())/float64(b.N), "plain-ns/object")
			b.ReportMetric(float64(with.Nanoseconds())/float64(b.N), "context-ns/object")
			b.ReportMetric(float64(with-without)/float64(with), "index-share")
		})
	}
}

// The source fields are written as encoding/json writes them, so that the
// index compares and stores the same text whichever way it was made.
func TestSourceOfEventMatchesEncodingJSON(t *testing.T) {
	tests := map[string]mapstr.M{
		"file": {"message": "x", "log": mapstr.M{"offset": int64(1234), "file": mapstr.M{"path": "/feeds/a.json"}}},
		"url and file": {
			"url": mapstr.M{"original": "https://taxii.example/api/collections/1/objects/?added_after=2024&limit=<10>"},
			"log": map[string]any{"offset": 7, "flags": []any{"a"}, "file": map[string]any{"path": "/feeds/b c \u00e9.json"}},
		},
		"republished":        {"log": map[string]any{"offset": float64(1e21), "file": map[string]any{"path": "/feeds/a.json", "device_id": uint64(2049)}}},
		"nulls and booleans": {"url": mapstr.M{"original": nil, "fragment": true, "port": int32(443)}},
	}
	for name, fields := range tests {
		t.Run(name, func(t *testing.T) {
			source := map[string]any{}
			for _, key := range []string{"log", "url"} {
				if v, ok := fields[key]; ok {
					source[key] = v
				}
			}
			want, err := json.Marshal(source)
			if err != nil {
				t.Fatal(err)
			}

			if got := sourceOfEvent(fields); string(got) != string(want) {
				t.Errorf("sourceOfEvent = %s\nwant          %s", got, want)
			}
		})
	}
	if got := sourceOfEvent(mapstr.M{"message": "x"}); got != nil {
		t.Errorf("sourceOfEvent without source fields = %s, want nil", got)
	}
}
