package stix

import (
	"sort"
	"strconv"

	"github.com/tibeat/tibeat/internal/stix/pattern"
)

// observableIndicatorTypes are the cyber-observable object types that
// Options.ObservablesAsIndicators turns into indicator documents.
var observableIndicatorTypes = map[string]bool{
	"ipv4-addr":            true,
	"ipv6-addr":            true,
	"domain-name":          true,
	"url":                  true,
	"file":                 true,
	"email-addr":           true,
	"autonomous-system":    true,
	"x509-certificate":     true,
	"windows-registry-key": true,
	"mac-addr":             true,
}

// x509Properties are the x509-certificate properties with an ECS
// counterpart, besides hashes.
var x509Properties = []string{
	"serial_number", "issuer", "subject", "validity_not_before", "validity_not_after",
	"signature_algorithm", "subject_public_key_algorithm", "version",
}

// ObservableSource provides cyber-observable objects that arrived apart
// from the observed-data that refers to them. A ContextSource that also
// implements it lets STIX 2.1 observed-data resolve its object_refs.
type ObservableSource interface {
	// Observable returns the decoded cyber-observable object with the given
	// id, or ok false when it has not arrived.
	Observable(id string) (obj map[string]any, ok bool)
}

// IsObservableIndicatorType reports whether Options.ObservablesAsIndicators
// turns objects of the given type into indicator documents.
func IsObservableIndicatorType(objectType string) bool {
	return observableIndicatorTypes[objectType]
}

// observedValues returns the ECS values of a cyber-observable object, or of
// the objects an observed-data object embeds (objects, STIX 2.0) or refers
// to (object_refs, STIX 2.1), when they are read as indicators. ok is false
// for other objects and for observed-data without an object of a known
// type.
//
// object_refs resolve through source when it implements ObservableSource.
// A reference to an object that has not arrived yet gives nothing, so the
// document covers the objects known at conversion time.
func observedValues(objectType string, obj map[string]any, source ContextSource) (values indicatorFields, ok bool) {
	if objectType == "observed-data" {
		if embedded, isMap := obj["objects"].(map[string]any); isMap {
			for _, key := range sortedKeys(embedded) {
				if sco, isMap := embedded[key].(map[string]any); isMap {
					ok = values.addObservableOf(sco) || ok
				}
			}
			return values, ok
		}
		observables, canResolve := source.(ObservableSource)
		refs, _ := obj["object_refs"].([]any)
		if !canResolve || len(refs) == 0 {
			return values, false
		}
		for _, ref := range refs {
			id, _ := ref.(string)
			if sco, found := observables.Observable(id); found {
				ok = values.addObservableOf(sco) || ok
			}
		}
		return values, ok
	}
	if !observableIndicatorTypes[objectType] {
		return values, false
	}
	values.addObservable(objectType, obj)
	return values, true
}

// addObservableOf maps an object found through observed-data when its type
// is one read as an indicator, and reports whether it was.
func (f *indicatorFields) addObservableOf(sco map[string]any) bool {
	scoType, _ := sco["type"].(string)
	if !observableIndicatorTypes[scoType] {
		return false
	}
	f.addObservable(scoType, sco)
	return true
}

// addObservable maps the properties of one cyber-observable object the way
// a pattern comparing each of them with = would be mapped, so that
// [ipv4-addr:value = '198.51.100.1'] and the ipv4-addr object with that
// value give the same threat.indicator fields.
func (f *indicatorFields) addObservable(objectType string, sco map[string]any) {
	switch objectType {
	case "file":
		f.addHashes(objectType, sco)
		f.addProperty(objectType, sco, "name")
		f.addProperty(objectType, sco, "size")
	case "autonomous-system":
		f.addProperty(objectType, sco, "number")
		f.addProperty(objectType, sco, "name")
	case "x509-certificate":
		f.addHashes(objectType, sco)
		for _, name := range x509Properties {
			f.addProperty(objectType, sco, name)
		}
	case "windows-registry-key":
		f.addProperty(objectType, sco, "key")
		registryValues, _ := sco["values"].([]any)
		for i, item := range registryValues {
			if value, ok := item.(map[string]any); ok {
				for _, name := range []string{"name", "data"} {
					if literal, ok := literalOf(value[name]); ok {
						f.addValue(objectPath(objectType, pattern.PathStep{Property: "values"},
							pattern.PathStep{IsIndex: true, Index: int64(i)}, pattern.PathStep{Property: name}), literal)
					}
				}
			}
		}
	default:
		f.addProperty(objectType, sco, "value")
	}
}

// addProperty maps objectType:name when the object has that property.
func (f *indicatorFields) addProperty(objectType string, sco map[string]any, name string) {
	if literal, ok := literalOf(sco[name]); ok {
		f.addValue(objectPath(objectType, pattern.PathStep{Property: name}), literal)
	}
}

// addHashes maps every entry of the hashes dictionary, in key order.
func (f *indicatorFields) addHashes(objectType string, sco map[string]any) {
	hashes, _ := sco["hashes"].(map[string]any)
	for _, key := range sortedKeys(hashes) {
		if literal, ok := literalOf(hashes[key]); ok {
			f.addValue(objectPath(objectType, pattern.PathStep{Property: "hashes"}, pattern.PathStep{Property: key}), literal)
		}
	}
}

func objectPath(objectType string, steps ...pattern.PathStep) pattern.ObjectPath {
	return pattern.ObjectPath{ObjectType: objectType, Steps: steps}
}

// literalOf turns a JSON string or whole number into the pattern literal it
// would be written as. Other JSON values have no literal that maps to ECS.
func literalOf(v any) (pattern.Value, bool) {
	switch v := v.(type) {
	case string:
		return pattern.Value{Kind: pattern.KindString, Text: v}, true
	case float64:
		n := int64(v)
		if float64(n) != v {
			return pattern.Value{}, false
		}
		return pattern.Value{Kind: pattern.KindInt, Text: strconv.FormatInt(n, 10), Int: n}, true
	}
	return pattern.Value{}, false
}

// sortedKeys returns the keys of m in a fixed order: shorter first, so that
// the keys "2" and "10" of an observed-data objects dictionary keep their
// numeric order, then alphabetical.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) < len(keys[j])
		}
		return keys[i] < keys[j]
	})
	return keys
}
