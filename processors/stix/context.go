package stix

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/elastic-agent-libs/mapstr"

	"github.com/tibeat/tibeat/internal/jsonvalue"
	"github.com/tibeat/tibeat/internal/stix"
	"github.com/tibeat/tibeat/internal/stix/enrich"
)

// rawKey is the event field where decode_stix leaves the object's JSON text
// for stix_to_ecs when a Context is set, and where a republished indicator
// arrives. stix_to_ecs removes it, so no document carries it.
const rawKey = "_stix_raw"

// Context connects the processors of every input to one context index.
type Context struct {
	Index *enrich.Index
	// Republish receives the ids of indicators stored in Index whose context
	// changed after they were published. It must not block for long,
	// because it runs inside the pipeline client's Publish.
	Republish func(indicatorIDs []string)
}

// WithContext returns a copy of cfg whose processors record every object
// in ctx.Index, enrich indicators from it, and report the indicators to
// publish again. input is the id of the input the processors serve; a
// republished indicator goes through that input's processors again.
func (c Config) WithContext(ctx *Context, input string) Config {
	c.context = ctx
	c.input = input
	if c.ObservablesAsIndicators && ctx != nil && ctx.Index != nil {
		ctx.Index.EnableObservables(input)
	}
	return c
}

// republishedKey marks an event that decode_stix read from rawKey, so that
// stix_to_ecs neither counts nor logs it a second time.
const republishedKey = "_stix_republished"

// RepublishEvent returns the event that publishes a stored indicator again.
// The input's decode_stix reads it whatever its field setting. source is
// the JSON object of fields that the input set on the first document (see
// enrich.Index.SetSource), such as log.file.path; the copy carries them too.
func RepublishEvent(raw []byte, source json.RawMessage) beat.Event {
	fields := mapstr.M{}
	if len(source) > 0 {
		var m map[string]any
		if json.Unmarshal(source, &m) == nil {
			fields = mapstr.M(m)
		}
	}
	fields[rawKey] = string(raw)
	return beat.Event{Fields: fields}
}

// RevisionName names the processor that NewRevisions returns in logs.
const RevisionName = "stix_context_revision"

// sourceFields are the top-level event fields an input sets to say where an
// object came from: log.* for files, url.* for TAXII and CEL. They are
// sorted, because sourceOfEvent writes them in this order as json.Marshal
// writes the keys of a map.
var sourceFields = []string{"log", "url"}

// maxOrderedRevision is the largest revision that still moves
// stix.ioc_revision_date. Revision n adds n nanoseconds to the version
// instant, so 999 keeps every revision of a version before any version
// modified at least a microsecond later.
const maxOrderedRevision = 999

// Revisions is the processor that runs after stix_to_ecs when a Context is
// set. It gives each indicator document that carries context from the
// index its own _id and a stix.ioc_revision_date that sorts it after the
// copies of the same version that came before it. A data stream accepts
// only new _ids, so without its own _id an enriched copy would be dropped
// as a duplicate of the first one.
type Revisions struct {
	index *enrich.Index
}

// NewRevisions returns the processor for cfg, or nil when cfg has no
// Context.
func NewRevisions(cfg Config) beat.Processor {
	if cfg.context == nil || cfg.context.Index == nil {
		return nil
	}
	return &Revisions{index: cfg.context.Index}
}

func (r *Revisions) String() string { return RevisionName }

// Run sets the _id, stix.ioc_context_revision and stix.ioc_revision_date of
// an indicator document and records its source fields. Other events pass
// unchanged.
func (r *Revisions) Run(event *beat.Event) (*beat.Event, error) {
	obj := stixObject(event)
	if obj == nil {
		return event, nil
	}
	var source json.RawMessage
	if objectType := obj["type"]; objectType == "indicator" || objectType == "observed-data" {
		source = sourceOfEvent(event.Fields)
	}
	if !isIndicatorDocument(event.Fields) {
		// observed-data whose objects have not arrived is no indicator
		// document yet, but its copy published later needs the source too.
		if source != nil {
			r.index.SetSource(obj, source)
		}
		return event, nil
	}

	// NOTE: stix_to_ecs read the context a moment before this call. When
	// an input and the republishing loop convert the same indicator at
	// once, the copy with the older context can get the higher revision.
	digest := contextDigest(event.Fields, obj)
	revision := r.index.Published(obj, source, digest)
	obj["ioc_context_revision"] = revision
	if version, ok := versionInstant(event.Fields, obj); ok && inDateNanosRange(version) {
		obj["ioc_revision_date"] = revisionDate(version, revision)
	}
	if digest == "" && revision == 0 {
		// The document carries nothing from the index, so the _id of
		// stix_to_ecs (the STIX id and modified) stays.
		return event, nil
	}
	if base, ok := event.Meta["_id"].(string); ok {
		event.Meta["_id"] = revisedID(base, digest, revision)
	}
	return event, nil
}

func stixObject(event *beat.Event) map[string]any {
	switch o := event.Fields["stix"].(type) {
	case map[string]any:
		return o
	case mapstr.M:
		return o
	}
	return nil
}

func isIndicatorDocument(fields mapstr.M) bool {
	value, ok := lookup(fields, "event", "type")
	if !ok {
		return false
	}
	switch types := value.(type) {
	case []string:
		for _, t := range types {
			if t == "indicator" {
				return true
			}
		}
	case []any:
		for _, t := range types {
			if t == "indicator" {
				return true
			}
		}
	}
	return false
}

// lookup returns the value under a path of keys in nested event maps, as
// mapstr.M.GetValue does for the dotted path, without splitting a string.
func lookup(fields mapstr.M, path ...string) (any, bool) {
	var node any = fields
	for _, key := range path {
		var m map[string]any
		switch n := node.(type) {
		case mapstr.M:
			m = n
		case map[string]any:
			m = n
		default:
			return nil, false
		}
		var ok bool
		if node, ok = m[key]; !ok {
			return nil, false
		}
	}
	return node, true
}

// sourceOfEvent returns the input's source fields as a JSON object, as
// json.Marshal writes it, or nil when the event has none.
func sourceOfEvent(fields mapstr.M) json.RawMessage {
	source := make(map[string]any, len(sourceFields))
	for _, key := range sourceFields {
		if v, ok := fields[key]; ok {
			source[key] = v
		}
	}
	if len(source) == 0 {
		return nil
	}
	text, err := jsonvalue.Append(make([]byte, 0, 128), source)
	if err != nil {
		return nil
	}
	return text
}

// contextDigest fingerprints the fields of a document that come from the
// context index rather than from the object itself, and returns "" when
// there are none. They are threat.software, threat.group, threat.technique,
// threat.tactic and stix.campaign, the TLP level of marking definitions the
// feed sent, and an expiration set by a newer revoked version. For STIX 2.1
// observed-data, threat.indicator counts too, because its values come from
// the objects that object_refs name.
func contextDigest(fields mapstr.M, obj map[string]any) string {
	// Most documents carry no context, so the map is made only for one
	// that does.
	var parts map[string]any
	add := func(key string, v any) {
		if parts == nil {
			parts = map[string]any{}
		}
		parts[key] = v
	}
	for _, key := range []string{"software", "group", "technique", "tactic"} {
		if v, ok := lookup(fields, "threat", key); ok {
			add("threat."+key, v)
		}
	}
	if v, ok := obj["campaign"]; ok {
		add("stix.campaign", v)
	}
	if refersToFeedMarking(obj) {
		if v, ok := lookup(fields, "threat", "indicator", "marking"); ok {
			add("threat.indicator.marking", v)
		}
	}
	if revoked, _ := obj["revoked"].(bool); !revoked && obj["ioc_expiration_reason"] == stix.ExpirationRevoked {
		add("stix.ioc_expiration_date", obj["ioc_expiration_date"])
	}
	if _, embeds := obj["objects"]; !embeds && obj["type"] == "observed-data" {
		// The values come from the objects that object_refs resolved to,
		// which the index may hold more of on the next conversion.
		if v, ok := lookup(fields, "threat", "indicator"); ok {
			add("threat.indicator", v)
		}
	}
	if parts == nil {
		return ""
	}
	text, err := json.Marshal(parts)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(text)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// refersToFeedMarking reports whether the object names a marking definition
// other than the predefined TLP ones, whose level only the index stores.
func refersToFeedMarking(obj map[string]any) bool {
	refs, _ := obj["object_marking_refs"].([]any)
	for _, ref := range refs {
		if id, ok := ref.(string); ok {
			if _, predefined := stix.PredefinedTLP(id); !predefined {
				return true
			}
		}
	}
	_, granular := obj["granular_markings"]
	return granular
}

// versionInstant returns the instant of the object's version: modified, or
// created for objects without it. Cyber-observables have neither.
func versionInstant(fields mapstr.M, obj map[string]any) (time.Time, bool) {
	candidates := [3]any{nil, obj["modified"], obj["created"]}
	candidates[0], _ = lookup(fields, "threat", "indicator", "modified_at")
	for _, candidate := range candidates {
		if text, ok := candidate.(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, text); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// inDateNanosRange reports whether Elasticsearch's date_nanos type, which
// holds the years 1970 to 2262, can store t plus any revision. A value out
// of that range would make Elasticsearch reject the whole document.
func inDateNanosRange(t time.Time) bool {
	return !t.Before(time.Unix(0, 0)) && t.Year() < 2262
}

// revisionDate formats the version instant plus one nanosecond per
// revision, up to maxOrderedRevision, in the date_nanos format.
func revisionDate(version time.Time, revision int) string {
	step := min(revision, maxOrderedRevision)
	return version.UTC().Add(time.Duration(step)).Format("2006-01-02T15:04:05.000000000Z")
}

// revisedID derives the _id of a document that carries context from the _id
// of its version, so that each context revision is a new document and the
// same revision delivered again is not.
func revisedID(base, digest string, revision int) string {
	text := base + "\n" + digest + "\n" + strconv.Itoa(revision)
	sum := sha256.Sum256([]byte(text))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
