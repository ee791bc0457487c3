package stix

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/processors"
	"github.com/elastic/beats/v7/libbeat/publisher/processing"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp/logptest"
	"github.com/elastic/elastic-agent-libs/mapstr"
)

const ipIndicator = `{"type":"indicator","spec_version":"2.1",
 "id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
 "created":"2024-03-01T10:00:00.000Z","modified":"2024-03-02T10:00:00.000Z",
 "labels":["c2"],
 "pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix",
 "valid_from":"2024-03-01T10:00:00Z"}`

func process(t *testing.T, cfg Config, fields mapstr.M) *beat.Event {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := logptest.NewTestingLogger(t, "")
	event := &beat.Event{Timestamp: time.Unix(0, 0), Fields: fields}
	event, err := NewDecoder(cfg, log).Run(event)
	if err != nil || event == nil {
		t.Fatalf("decode_stix: event %v, error %v", event, err)
	}
	event, err = NewConverter(cfg, log).Run(event)
	if err != nil {
		t.Fatalf("stix_to_ecs: %v", err)
	}
	return event
}

func value(t *testing.T, event *beat.Event, key string) any {
	t.Helper()
	v, err := event.Fields.GetValue(key)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return v
}

func TestProcessorsConvertAnIndicator(t *testing.T) {
	event := process(t, DefaultConfig(), mapstr.M{"message": ipIndicator, "tags": []string{"from-input"}})

	if _, err := event.Fields.GetValue("message"); err == nil {
		t.Error("message is still set after decoding")
	}
	if got := value(t, event, "stix.id"); got != "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" {
		t.Errorf("stix.id = %v", got)
	}
	want := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	if !event.Timestamp.Equal(want) {
		t.Errorf("@timestamp = %v, want created %v", event.Timestamp, want)
	}
	if id, _ := event.Meta["_id"].(string); id == "" {
		t.Error("@metadata._id is not set")
	}
	tags, _ := event.Fields["tags"].([]string)
	if len(tags) != 2 || tags[0] != "from-input" || tags[1] != "c2" {
		t.Errorf("tags = %v, want the input's tag then the label", event.Fields["tags"])
	}
	if got := value(t, event, "event.kind"); got != "enrichment" {
		t.Errorf("event.kind = %v, want enrichment", got)
	}
}

func TestProcessorsKeepInvalidJSONAsAnErrorDocument(t *testing.T) {
	before := GlobalMetrics().DecodeErrors.Get()

	event := process(t, DefaultConfig(), mapstr.M{"message": `{"type": "indicator",`})

	if got := value(t, event, "event.kind"); got != "pipeline_error" {
		t.Errorf("event.kind = %v, want pipeline_error", got)
	}
	if _, err := event.Fields.GetValue("error.message"); err != nil {
		t.Error("error.message is not set")
	}
	if got := value(t, event, "message"); got != `{"type": "indicator",` {
		t.Errorf("message = %v, want the original text", got)
	}
	if _, err := event.Fields.GetValue("threat"); err == nil {
		t.Error("an undecodable event must carry no threat fields")
	}
	if GlobalMetrics().DecodeErrors.Get() != before+1 {
		t.Error("decode_errors did not count the event")
	}
}

func TestConverterDropsObjectWithoutID(t *testing.T) {
	before := GlobalMetrics().ObjectErrors.Get()
	cfg := DefaultConfig()
	_ = cfg.Validate()
	log := logptest.NewTestingLogger(t, "")
	event := &beat.Event{Fields: mapstr.M{"message": `{"type":"indicator","pattern":"[ipv4-addr:value = '198.51.100.1']"}`}}
	event, _ = NewDecoder(cfg, log).Run(event)

	out, err := NewConverter(cfg, log).Run(event)

	if err != nil || out != nil {
		t.Fatalf("got event %v, error %v; want the object dropped", out, err)
	}
	if GlobalMetrics().ObjectErrors.Get() != before+1 {
		t.Error("object_errors did not count the object")
	}
}

func TestConverterRestrictsToIndicators(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RestrictToIndicators = true
	_ = cfg.Validate()
	log := logptest.NewTestingLogger(t, "")
	malware := `{"type":"malware","spec_version":"2.1","id":"malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
	  "created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","name":"x","is_family":true}`
	event, _ := NewDecoder(cfg, log).Run(&beat.Event{Fields: mapstr.M{"message": malware}})

	out, err := NewConverter(cfg, log).Run(event)

	if err != nil || out != nil {
		t.Fatalf("got event %v, error %v; want the malware object dropped", out, err)
	}
}

func TestDecoderPreservesOriginalEvent(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PreserveOriginalEvent = true

	event := process(t, cfg, mapstr.M{"message": ipIndicator})

	if got := value(t, event, "event.original"); got != ipIndicator {
		t.Errorf("event.original = %v, want the object's text", got)
	}
}

func TestConverterObservablesAsIndicators(t *testing.T) {
	ipv4 := `{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--1e4ffad7-0b88-41d4-ba4d-77d27490b956","value":"198.51.100.3"}`
	c, err := conf.NewConfigWithYAML([]byte("observables_as_indicators: true"), "test")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	if err := c.Unpack(&cfg); err != nil {
		t.Fatal(err)
	}

	event := process(t, cfg, mapstr.M{"message": ipv4})

	if got := value(t, event, "threat.indicator.ip"); !reflect.DeepEqual(got, []string{"198.51.100.3"}) {
		t.Errorf("threat.indicator.ip = %#v, want [198.51.100.3]", got)
	}
	if got := value(t, event, "event.type"); !reflect.DeepEqual(got, []string{"indicator"}) {
		t.Errorf("event.type = %#v, want [indicator]", got)
	}
}

// decode_stix takes the object an input decoded ahead instead of parsing
// message again, through libbeat's own processing pipeline, whose event
// normalization must leave the object alone, and the object never reaches
// the document.
func TestDecoderTakesTheObjectDecodedAhead(t *testing.T) {
	ahead := DecodeAhead(ipIndicator)
	if ahead == nil {
		t.Fatal("DecodeAhead returned nil for a valid STIX object")
	}
	// A mark that only the object decoded ahead carries shows which one the
	// document was made from.
	ahead["x_mark"] = "decoded ahead"
	event := &beat.Event{Timestamp: time.Unix(0, 0), Fields: mapstr.M{"message": ipIndicator}}
	AttachDecoded(event, ahead)

	event = runPipeline(t, event)

	if got := value(t, event, "stix.x_mark"); got != "decoded ahead" {
		t.Errorf("stix.x_mark = %v, expected the object decoded ahead to be used", got)
	}
	if _, found := event.Meta[decodedKey]; found {
		t.Errorf("%s reached the document's metadata", decodedKey)
	}
	if got := value(t, event, "threat.indicator.ip"); fmt.Sprint(got) != "[198.51.100.7]" {
		t.Errorf("threat.indicator.ip = %v, expected [198.51.100.7]", got)
	}
}

// runPipeline runs event through libbeat's default processing, with
// decode_stix and stix_to_ecs as the client's processors, as tibeat does.
func runPipeline(t *testing.T, event *beat.Event) *beat.Event {
	t.Helper()
	log := logptest.NewTestingLogger(t, "")
	support, err := processing.MakeDefaultSupport(true, nil)(beat.Info{Beat: "tibeat", Logger: log}, log, conf.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer support.Close()
	cfg := DefaultConfig()
	list := processors.NewList(log)
	list.AddProcessor(NewDecoder(cfg, log))
	list.AddProcessor(NewConverter(cfg, log))
	proc, err := support.Create(beat.ProcessingConfig{Processor: list}, false)
	if err != nil {
		t.Fatal(err)
	}
	out, err := proc.Run(event)
	if err != nil || out == nil {
		t.Fatalf("processing: event %v, error %v", out, err)
	}
	return out
}

// Text that does not decode ahead is parsed by decode_stix, which reports it.
func TestDecoderReportsTextThatDidNotDecodeAhead(t *testing.T) {
	text := `{"type": "indicator",`
	if DecodeAhead(text) != nil {
		t.Fatal("DecodeAhead accepted invalid JSON")
	}
	event := &beat.Event{Timestamp: time.Unix(0, 0), Fields: mapstr.M{"message": text}}
	AttachDecoded(event, DecodeAhead(text))

	event = runPipeline(t, event)

	if got := value(t, event, "event.kind"); got != "pipeline_error" {
		t.Errorf("event.kind = %v, expected pipeline_error", got)
	}
}
