package stix

import (
	"slices"
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
	p := &contextPipeline{t: t, index: enrich.New(enrich.DefaultLimits)}
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
