package stix

import (
	"fmt"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/processors"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/mapstr"

	"github.com/tibeat/tibeat/internal/jsonvalue"
)

// DecodeName is the name users give decode_stix in a processors list.
const DecodeName = "decode_stix"

// decodedKey is the event metadata key under which an input leaves the
// object its message holds, decoded on the input's goroutine (see
// AttachDecoded). libbeat's event normalization skips the metadata. In the
// fields it would turn the map into a mapstr.M copy, which decode_stix
// would not take.
const decodedKey = "_stix_decoded"

// DecodeAhead parses the JSON text of a STIX object for AttachDecoded. It
// returns nil for text that is not a JSON object: decode_stix then parses
// message itself and reports the error with the event's source.
func DecodeAhead(text string) map[string]any {
	obj, err := jsonvalue.Object(text)
	if err != nil {
		return nil
	}
	return obj
}

// AttachDecoded leaves obj, which DecodeAhead returned for the event's
// message, with the event, so that decode_stix, which runs on the
// publishing goroutine, does not parse message again. decode_stix always
// removes it, so it never reaches a document.
func AttachDecoded(event *beat.Event, obj map[string]any) {
	if obj == nil {
		return
	}
	if event.Meta == nil {
		event.Meta = mapstr.M{}
	}
	event.Meta[decodedKey] = obj
}

func init() {
	processors.RegisterPlugin(DecodeName, func(c *conf.C, log *logp.Logger) (beat.Processor, error) {
		cfg := DefaultConfig()
		if err := c.Unpack(&cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", DecodeName, err)
		}
		return NewDecoder(cfg, log), nil
	})
}

// Decoder is the decode_stix processor: it parses the STIX object's JSON text
// that an input left in the configured field and puts the object under stix.
type Decoder struct {
	field    string
	preserve bool
	keepRaw  bool // for stix_to_ecs, when a Context is set
	log      *logp.Logger
	metrics  *Metrics
}

// NewDecoder returns a decode_stix processor.
func NewDecoder(cfg Config, log *logp.Logger) *Decoder {
	return &Decoder{
		field:    cfg.Field,
		preserve: cfg.PreserveOriginalEvent,
		keepRaw:  cfg.context != nil,
		log:      log.Named(DecodeName),
		metrics:  GlobalMetrics(),
	}
}

func (d *Decoder) String() string { return DecodeName + "=[field=" + d.field + "]" }

// Run decodes one event. An event without the field passes unchanged, so
// inputs that publish objects already decoded under stix need no special
// case. Invalid JSON is published as a pipeline error document rather than
// dropped, so the bad text can be found in the index.
func (d *Decoder) Run(event *beat.Event) (*beat.Event, error) {
	var ahead map[string]any
	if event.Meta != nil {
		ahead, _ = event.Meta[decodedKey].(map[string]any)
		delete(event.Meta, decodedKey)
	}
	field := d.field
	raw, ok := event.Fields[field].(string)
	if !ok {
		// A republished indicator carries its text under rawKey.
		if raw, ok = event.Fields[rawKey].(string); !ok {
			return event, nil
		}
		field = rawKey
	}

	obj := ahead
	if obj == nil || field != "message" {
		// Inputs decode ahead only the message they publish.
		var err error
		if obj, err = jsonvalue.Object(raw); err != nil {
			d.metrics.DecodeErrors.Inc()
			msg := fmt.Sprintf("invalid STIX object JSON: %v", err)
			d.log.Warnw("kept a STIX object that is not valid JSON as a pipeline_error document", "source", sourceOf(event), "error", err)
			markPipelineError(event, msg)
			return event, nil
		}
	}
	if field == rawKey {
		// A republished indicator was counted when it was first read.
		event.Fields[republishedKey] = true
	} else {
		d.metrics.Objects.Inc()
	}

	event.Fields["stix"] = obj
	delete(event.Fields, field)
	if d.keepRaw {
		event.Fields[rawKey] = raw
	}
	if d.preserve {
		event.Fields.Put("event.original", raw)
	}
	return event, nil
}

// markPipelineError tags a document that carries no threat data, so that it
// never counts as intelligence.
func markPipelineError(event *beat.Event, msg string) {
	event.Fields["event"] = mapstr.M{"kind": "pipeline_error"}
	event.Fields.Put("error.message", msg)
}

// sourceOf names where an event came from, for log lines: the file and byte
// offset for files, else the URL.
func sourceOf(event *beat.Event) string {
	if path, err := event.Fields.GetValue("log.file.path"); err == nil {
		if off, err := event.Fields.GetValue("log.offset"); err == nil {
			return fmt.Sprintf("%v at offset %v", path, off)
		}
		return fmt.Sprint(path)
	}
	if u, err := event.Fields.GetValue("url.original"); err == nil {
		return fmt.Sprint(u)
	}
	return "unknown source"
}
