package enrich

import (
	"bytes"
	"encoding/json"
	"slices"
)

// observableRecord is a cyber-observable object of a type read as an
// indicator, kept as its JSON text.
type observableRecord struct {
	ID  string          `json:"id"`
	Raw json.RawMessage `json:"raw"`
}

// EnableObservables makes the index keep cyber-observable objects and
// STIX 2.1 observed-data that the input reads, so that observed-data can
// resolve object_refs to objects that arrive before or after it.
func (x *Index) EnableObservables(input string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.observableInputs[input] = true
}

// observeObserved keeps STIX 2.1 observed-data that lists its objects in
// object_refs only, so that it can be published again when one of them
// arrives. observed-data that embeds its objects needs nothing else.
func (x *Index) observeObserved(obj map[string]any, id string, raw []byte, input string) {
	if _, embeds := obj["objects"]; embeds || len(raw) == 0 {
		return
	}
	refs := stringsOf(obj, "object_refs")
	if len(refs) == 0 {
		return
	}
	x.mu.Lock()
	enabled := x.observableInputs[input]
	x.mu.Unlock()
	if enabled {
		x.observeIndicator(obj, id, raw, input, refs)
	}
}

// observeObservable keeps one cyber-observable object and returns the
// stored observed-data objects that refer to it. The same text again
// returns nothing, because it adds no value to their documents.
func (x *Index) observeObservable(obj map[string]any, id string, raw []byte, input string) []string {
	if len(raw) == 0 {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.observableInputs[input] {
		return nil
	}
	if old := x.observables[id]; old != nil && bytes.Equal(old.Raw, raw) {
		return nil
	}
	r := &observableRecord{ID: id, Raw: slices.Clone(raw)}
	x.putObservable(r)
	x.append(entry{Observable: r})

	var affected []string
	for observer := range x.observedBy[id] {
		if x.indicators[observer] != nil {
			affected = append(affected, observer)
		}
	}
	slices.Sort(affected)
	return affected
}

// Observable implements stix.ObservableSource.
func (x *Index) Observable(id string) (map[string]any, bool) {
	x.mu.Lock()
	r := x.observables[id]
	x.mu.Unlock()
	if r == nil {
		return nil, false
	}
	var obj map[string]any
	if json.Unmarshal(r.Raw, &obj) != nil {
		return nil, false
	}
	return obj, true
}

func (x *Index) putObservable(r *observableRecord) {
	if old := x.observables[r.ID]; old != nil {
		x.observableBytes -= int64(len(old.Raw))
	} else {
		x.observableOrder = append(x.observableOrder, r.ID)
	}
	x.observables[r.ID] = r
	x.observableBytes += int64(len(r.Raw))
	for (len(x.observables) > x.limits.Observables || x.observableBytes > x.limits.ObservableBytes) && len(x.observableOrder) > 0 {
		id := x.observableOrder[0]
		x.observableOrder = x.observableOrder[1:]
		if old := x.observables[id]; old != nil {
			x.observableBytes -= int64(len(old.Raw))
			delete(x.observables, id)
		}
	}
}
