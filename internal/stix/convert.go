package stix

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tibeat/tibeat/internal/stix/pattern"
)

// Options are the conversion settings an input can override. The zero value
// is valid.
type Options struct {
	// FeedName and FeedReference fill threat.feed.name and
	// threat.feed.reference when set.
	FeedName, FeedReference string
	// ExpirationDuration is the lifetime of an indicator without valid_until
	// that is not revoked, counted from modified (or valid_from). Zero or
	// negative means DefaultExpiration (90 days).
	ExpirationDuration time.Duration
	// ObservablesAsIndicators makes indicator documents of cyber-observable
	// objects (ipv4-addr, ipv6-addr, domain-name, url, file, email-addr,
	// autonomous-system, x509-certificate, windows-registry-key, mac-addr)
	// and of observed-data objects that embed them in objects or refer to
	// them in object_refs (resolved through Context), with the
	// threat.indicator fields that a pattern over the same values gives.
	ObservablesAsIndicators bool
	// Context, when set, adds to each indicator what relationships link it
	// to (threat.software, threat.group, threat.technique, threat.tactic,
	// stix.campaign), the TLP level of marking definitions the feed sent,
	// and the revocation of a newer version.
	Context ContextSource
}

// Document is the result of converting one STIX object.
type Document struct {
	// ID is the document _id: a fingerprint of the STIX id and the version
	// instant (see fingerprint).
	ID string
	// Timestamp is the value for @timestamp: the object's created time. It
	// is the zero time when created is absent or invalid.
	Timestamp time.Time
	// Fields holds the event fields as nested maps under the keys "stix",
	// "threat", "event", "related" and "tags". Fields["stix"] is the object
	// map passed to Convert, with stix.observables,
	// stix.ioc_expiration_date and stix.ioc_expiration_reason added.
	Fields map[string]any
	// Indicator is true when the object is a STIX indicator, or an
	// observable read as one (Options.ObservablesAsIndicators).
	Indicator bool
	// Types lists the threat.indicator.type values, for the run summary.
	Types []string
	// Warnings lists the problems that did not stop the conversion.
	Warnings []Warning
}

// Warning is a problem found while converting an object that did not stop
// the conversion, such as a pattern syntax error or an invalid timestamp.
type Warning struct {
	// Field is the STIX property concerned, such as "modified", or "pattern"
	// for a pattern syntax error. A value inside a valid pattern that could
	// not be mapped is named by its object path, such as "url:value".
	Field string
	// Message states what is wrong and what was done instead.
	Message string
}

func (w Warning) String() string { return w.Field + ": " + w.Message }

var (
	// ErrMissingType is returned, wrapped, for an object whose "type"
	// property is absent, empty or not a string.
	ErrMissingType = errors.New(`missing or invalid "type" property`)
	// ErrMissingID is returned, wrapped, for an object whose "id" property
	// is absent, empty or not a string.
	ErrMissingID = errors.New(`missing or invalid "id" property`)
)

// objectTimes holds the parsed timestamps of one object.
type objectTimes struct {
	created, modified, validFrom, validUntil             timestamp
	hasCreated, hasModified, hasValidFrom, hasValidUntil bool
	// lastSeen is modified, except for observed-data, whose last_observed
	// it is.
	lastSeen    timestamp
	hasLastSeen bool
	// rawCreated and rawModified hold the text of a timestamp that was
	// present but could not be parsed, for the fingerprint.
	rawCreated, rawModified string
}

// Convert turns one STIX object, as encoding/json decodes it into
// map[string]any, into an ECS document.
//
// Convert takes ownership of obj: the map becomes Fields["stix"] and
// receives the stix.* fields that Convert adds, so the caller must not
// reuse it. It returns an error wrapping ErrMissingType or ErrMissingID when
// the object cannot be identified. Every other problem is a Warning on a
// document that is still produced.
func Convert(obj map[string]any, opts *Options) (*Document, error) {
	objectType, err := requiredString(obj, "type", ErrMissingType)
	if err != nil {
		if id, ok := obj["id"].(string); ok && id != "" {
			return nil, fmt.Errorf("STIX object %s: %w", id, err)
		}
		return nil, err
	}
	id, err := requiredString(obj, "id", ErrMissingID)
	if err != nil {
		return nil, fmt.Errorf("%s object: %w", objectType, err)
	}
	if opts == nil {
		opts = &Options{}
	}

	var observed *indicatorFields
	if opts.ObservablesAsIndicators {
		if values, ok := observedValues(objectType, obj, opts.Context); ok {
			observed = &values
		}
	}

	doc := &Document{Indicator: objectType == "indicator" || observed != nil}
	var times objectTimes
	times.created, times.hasCreated, times.rawCreated = readTimestamp(obj, "created", doc)
	times.modified, times.hasModified, times.rawModified = readTimestamp(obj, "modified", doc)
	if times.hasCreated {
		doc.Timestamp = times.created.time
	}
	switch {
	case times.hasModified || times.rawModified != "":
		doc.ID = fingerprint(id, times.modified, times.hasModified, times.rawModified)
	default:
		doc.ID = fingerprint(id, times.created, times.hasCreated, times.rawCreated)
	}

	fields := make(map[string]any, 5)
	fields["stix"] = obj
	if labels, ok := obj["labels"].([]any); ok && len(labels) > 0 {
		fields["tags"] = labels
	}

	var threat map[string]any
	if opts.FeedName != "" || opts.FeedReference != "" {
		feed := make(map[string]any, 2)
		if opts.FeedName != "" {
			feed["name"] = opts.FeedName
		}
		if opts.FeedReference != "" {
			feed["reference"] = opts.FeedReference
		}
		threat = map[string]any{"feed": feed}
	}

	if !doc.Indicator {
		fields["event"] = map[string]any{"kind": "enrichment"}
		if threat != nil {
			fields["threat"] = threat
		}
		doc.Fields = fields
		return doc, nil
	}

	fields["event"] = map[string]any{
		"kind":     "enrichment",
		"category": []string{"threat"},
		"type":     []string{"indicator"},
	}
	if threat == nil {
		threat = make(map[string]any, 1)
	}
	fields["threat"] = threat

	times.lastSeen, times.hasLastSeen = times.modified, times.hasModified
	if objectType == "observed-data" {
		times.validFrom, times.hasValidFrom, _ = readTimestamp(obj, "first_observed", doc)
		times.lastSeen, times.hasLastSeen, _ = readTimestamp(obj, "last_observed", doc)
	} else {
		times.validFrom, times.hasValidFrom, _ = readTimestamp(obj, "valid_from", doc)
		times.validUntil, times.hasValidUntil, _ = readTimestamp(obj, "valid_until", doc)
	}
	var context *IndicatorContext
	if opts.Context != nil {
		context = opts.Context.IndicatorContext(id)
	}
	threat["indicator"] = convertIndicator(obj, id, &times, opts, doc, fields, observed, context)
	if context != nil {
		writeContext(context, threat, obj)
	}

	doc.Fields = fields
	return doc, nil
}

// convertIndicator returns the threat.indicator fields of an indicator, or
// of an observable read as one when observed is not nil, and adds related.*
// to fields and the stix.* additions to obj.
func convertIndicator(obj map[string]any, id string, times *objectTimes, opts *Options,
	doc *Document, fields map[string]any, observed *indicatorFields, context *IndicatorContext) map[string]any {
	var values indicatorFields
	if observed != nil {
		values = *observed
	} else if text, ok := stixPattern(obj, doc); ok {
		parsed, err := pattern.Parse(text)
		if err != nil {
			doc.warn("pattern", err.Error())
		} else {
			for _, c := range parsed.Comparisons() {
				values.addComparison(c)
			}
		}
	}
	if len(values.observables) > 0 {
		obj["observables"] = values.observables
	}
	doc.Types = values.types
	doc.Warnings = append(doc.Warnings, values.warnings...)

	description, _ := obj["description"].(string)
	confidence, hasConfidence := confidenceLevel(obj, doc)
	reference := firstReferenceURL(obj)
	tlp, hasTLP := findTLP(obj, opts.Context)

	// Sizing the map for the fields it receives keeps an indicator with few
	// properties in a single-group map and spares larger ones a regrowth.
	size := 4 + values.fieldCount()
	for _, present := range [...]bool{description != "", hasConfidence, reference != "", hasTLP} {
		if present {
			size++
		}
	}
	indicator := make(map[string]any, size)
	indicator["id"] = []string{id}
	if description != "" {
		indicator["description"] = description
	}
	var modified any
	if times.hasModified {
		// Formatted and boxed once, stored twice.
		modified = times.modified.String()
		indicator["modified_at"] = modified
	}
	switch {
	case times.hasLastSeen && times.hasModified && times.lastSeen == times.modified:
		indicator["last_seen"] = modified
	case times.hasLastSeen:
		indicator["last_seen"] = times.lastSeen.String()
	}
	if times.hasValidFrom {
		// Many producers set valid_from to the modified time, so the value
		// already formatted is reused when the two match.
		if times.hasModified && times.validFrom.digits == times.modified.digits &&
			times.validFrom.time.Equal(times.modified.time) {
			indicator["first_seen"] = modified
		} else {
			indicator["first_seen"] = times.validFrom.String()
		}
	}
	if hasConfidence {
		indicator["confidence"] = confidence
	}
	if reference != "" {
		indicator["reference"] = reference
	}
	if hasTLP {
		marking := map[string]any{"tlp": tlp.level}
		if tlp.version != "" {
			marking["tlp_version"] = tlp.version
		}
		indicator["marking"] = marking
	}
	values.writeTo(indicator)
	values.writeRelated(fields)

	if times.hasValidFrom && times.hasValidUntil && !times.validUntil.time.After(times.validFrom.time) {
		doc.warn("valid_until", "valid_until "+times.validUntil.String()+
			" is not later than valid_from "+times.validFrom.String()+
			", which STIX 2.1 forbids. The indicator is kept and expires at valid_until.")
	}
	lifetime := opts.ExpirationDuration
	if lifetime <= 0 {
		lifetime = DefaultExpiration
	}
	revoked, _ := obj["revoked"].(bool)
	exp, ok := indicatorExpiration(times, revoked, lifetime)
	if context != nil && context.HasRevoked && !revoked && times.hasModified && times.modified.time.Before(context.Revoked) {
		// A newer version revoked the indicator, so this older one must not
		// stay active past the revocation either.
		if !ok || exp.date.time.After(context.Revoked) {
			exp, ok = expiration{timestamp{context.Revoked, 3}, ExpirationRevoked}, true
		}
	}
	if ok {
		obj["ioc_expiration_date"] = exp.date.String()
		obj["ioc_expiration_reason"] = exp.reasonValue()
	}
	return indicator
}

// stixPattern returns the pattern text when the indicator's pattern is STIX
// patterning: pattern_type "stix" (any case), or no pattern_type at all, as
// in STIX 2.0, which has no such property. Other languages (sigma, yara,
// snort, suricata, pcre, ...) are left in stix.pattern untouched and
// without a warning.
func stixPattern(obj map[string]any, doc *Document) (string, bool) {
	if value, present := obj["pattern_type"]; present {
		patternType, ok := value.(string)
		if !ok {
			doc.warn("pattern_type", "is "+jsonTypeName(value)+", not a string, so the pattern is not parsed")
			return "", false
		}
		if !strings.EqualFold(patternType, "stix") {
			return "", false
		}
	}
	value, present := obj["pattern"]
	if !present {
		doc.warn("pattern", "the indicator has no pattern")
		return "", false
	}
	text, ok := value.(string)
	if !ok {
		doc.warn("pattern", "is "+jsonTypeName(value)+", not a string")
		return "", false
	}
	return text, true
}

// confidenceLevel maps the STIX confidence (0 to 100) to the
// None/Low/Medium/High scale of STIX 2.1 Appendix A, which ECS uses for
// threat.indicator.confidence: 0 None, 1-29 Low, 30-69 Medium, 70-100 High.
// The level is returned as an interface holding a constant, which costs no
// allocation when stored in the document.
func confidenceLevel(obj map[string]any, doc *Document) (any, bool) {
	value, present := obj["confidence"]
	if !present {
		return nil, false
	}
	number, ok := value.(float64)
	if !ok || number != float64(int(number)) || number < 0 || number > 100 {
		doc.warn("confidence", "is not an integer from 0 to 100; threat.indicator.confidence is not set")
		return nil, false
	}
	switch {
	case number == 0:
		return "None", true
	case number < 30:
		return "Low", true
	case number < 70:
		return "Medium", true
	}
	return "High", true
}

// firstReferenceURL returns the url of the first external reference that has
// one.
func firstReferenceURL(obj map[string]any) string {
	references, _ := obj["external_references"].([]any)
	for _, r := range references {
		if reference, ok := r.(map[string]any); ok {
			if url, ok := reference["url"].(string); ok && url != "" {
				return url
			}
		}
	}
	return ""
}

// readTimestamp parses obj[name]. It returns ok false when the property is
// absent or invalid. For an invalid string it also returns the raw text, and
// every invalid value adds a warning. A timestamp without a zone is read as
// UTC with a warning.
func readTimestamp(obj map[string]any, name string, doc *Document) (ts timestamp, ok bool, raw string) {
	value, present := obj[name]
	if !present {
		return ts, false, ""
	}
	text, isString := value.(string)
	if !isString {
		doc.warn(name, "is "+jsonTypeName(value)+", not a timestamp string; it is left out of the ECS fields")
		return ts, false, ""
	}
	ts, zoneless, err := parseTimestamp(text)
	if err != nil {
		doc.warn(name, "invalid timestamp \""+text+"\" ("+err.Error()+"); it is left out of the ECS fields")
		return ts, false, text
	}
	if zoneless {
		doc.warn(name, "timestamp \""+text+"\" has no time zone, which RFC 3339 requires; it is read as UTC")
	}
	return ts, true, ""
}

func requiredString(obj map[string]any, name string, sentinel error) (string, error) {
	value, present := obj[name]
	if !present {
		return "", fmt.Errorf("%w: it is absent", sentinel)
	}
	text, ok := value.(string)
	if !ok {
		return "", fmt.Errorf("%w: it is %s, not a string", sentinel, jsonTypeName(value))
	}
	if text == "" {
		return "", fmt.Errorf("%w: it is empty", sentinel)
	}
	return text, nil
}

// jsonTypeName names the JSON type of a value decoded by encoding/json.
func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "of an unexpected type"
}

func (d *Document) warn(field, message string) {
	d.Warnings = append(d.Warnings, Warning{Field: field, Message: message})
}
