package stix

import (
	"fmt"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/processors"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/mapstr"

	"github.com/tibeat/tibeat/internal/stix"
)

// ConvertName is the name users give stix_to_ecs in a processors list.
const ConvertName = "stix_to_ecs"

func init() {
	processors.RegisterPlugin(ConvertName, func(c *conf.C, log *logp.Logger) (beat.Processor, error) {
		cfg := DefaultConfig()
		if err := c.Unpack(&cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", ConvertName, err)
		}
		return NewConverter(cfg, log), nil
	})
}

// Converter is the stix_to_ecs processor: it turns the STIX object under stix
// into an ECS document and sets the document _id.
type Converter struct {
	opts     stix.Options
	context  *Context
	input    string
	restrict bool
	log      *logp.Logger
	metrics  *Metrics
}

// NewConverter returns a stix_to_ecs processor. cfg must have been
// validated.
func NewConverter(cfg Config, log *logp.Logger) *Converter {
	return &Converter{
		opts: stix.Options{
			FeedName:                cfg.Feed.Name,
			FeedReference:           cfg.Feed.Reference,
			ExpirationDuration:      cfg.expiration,
			ObservablesAsIndicators: cfg.ObservablesAsIndicators,
		},
		context:  cfg.context,
		input:    cfg.input,
		restrict: cfg.RestrictToIndicators,
		log:      log.Named(ConvertName),
		metrics:  GlobalMetrics(),
	}
}

func (c *Converter) String() string { return ConvertName }

// Run converts one event. Objects without type or id are dropped with a
// warning because no document _id can be derived for them. Values that
// cannot be mapped stay under stix.* and are logged; they never drop the
// document.
func (c *Converter) Run(event *beat.Event) (*beat.Event, error) {
	var obj map[string]any
	switch o := event.Fields["stix"].(type) {
	case map[string]any:
		obj = o
	case mapstr.M:
		// libbeat normalises the maps an input publishes into mapstr.M
		// before the processors run.
		obj = o
	default:
		return event, nil
	}

	_, republished := event.Fields[republishedKey]
	delete(event.Fields, republishedKey)
	opts := &c.opts
	if c.context != nil {
		raw, _ := event.Fields[rawKey].(string)
		delete(event.Fields, rawKey)
		c.observe(obj, raw)
		withContext := c.opts
		withContext.Context = c.context.Index
		opts = &withContext
	}

	doc, err := stix.Convert(obj, opts)
	if err != nil {
		c.metrics.ObjectErrors.Inc()
		c.log.Warnw("skipped a STIX object", "source", sourceOf(event), "error", err)
		return nil, nil
	}
	if c.restrict && !doc.Indicator {
		c.metrics.Restricted.Inc()
		return nil, nil
	}

	if !republished {
		c.record(event, doc, obj["id"])
	}
	for k, v := range doc.Fields {
		switch k {
		case "tags":
			mergeTags(event, v)
		case "stix":
			// The converter owns stix: it is the decoded object plus
			// what was derived from it.
			event.Fields[k] = v
		default:
			mergeField(event.Fields, k, v)
		}
	}
	if !doc.Timestamp.IsZero() {
		event.Timestamp = doc.Timestamp
	}
	if event.Meta == nil {
		event.Meta = map[string]any{}
	}
	event.Meta["_id"] = doc.ID
	return event, nil
}

// observe records the object in the context index before Convert takes
// the map over, and hands the indicators that gained context to Republish.
func (c *Converter) observe(obj map[string]any, raw string) {
	if objectType, _ := obj["type"].(string); objectType == "indicator" && raw == "" {
		// Without its text the indicator could not be published again.
		return
	}
	if affected := c.context.Index.Observe(obj, []byte(raw), c.input); len(affected) > 0 {
		c.context.Republish(affected)
	}
}

// record counts the document and logs its warnings. A pattern that does not
// parse also goes to error.message, so the document shows why it has no
// threat.indicator values.
func (c *Converter) record(event *beat.Event, doc *stix.Document, id any) {
	if doc.Indicator {
		c.metrics.Indicators.Inc()
		for _, t := range doc.Types {
			c.metrics.countType(t)
		}
	}
	for _, w := range doc.Warnings {
		if w.Field == "pattern" {
			c.metrics.PatternErrors.Inc()
			doc.Fields["error"] = map[string]any{"message": w.Message}
		} else {
			c.metrics.Warnings.Inc()
		}
		c.log.Warnw("kept a STIX value that could not be mapped",
			"source", sourceOf(event), "stix.id", id, "field", w.Field, "reason", w.Message)
	}
}

// mergeTags appends the object's labels to the tags the pipeline already set
// from the input's tags setting, which runs before this processor.
func mergeTags(event *beat.Event, labels any) {
	var add []string
	switch l := labels.(type) {
	case []string:
		add = l
	case []any:
		for _, v := range l {
			if s, ok := v.(string); ok {
				add = append(add, s)
			}
		}
	}
	if len(add) == 0 {
		return
	}
	if err := mapstr.AddTags(event.Fields, add); err != nil {
		event.Fields["tags"] = add
	}
}

// mergeField sets key to v, merging maps into a map already there so that
// fields set earlier in the pipeline, such as event.original or
// event.dataset, survive.
func mergeField(dst map[string]any, key string, v any) {
	src, ok := v.(map[string]any)
	if !ok {
		dst[key] = v
		return
	}
	var existing map[string]any
	switch e := dst[key].(type) {
	case mapstr.M:
		existing = e
	case map[string]any:
		existing = e
	default:
		dst[key] = v
		return
	}
	for k, sv := range src {
		mergeField(existing, k, sv)
	}
}
