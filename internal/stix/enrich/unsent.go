package enrich

import "sort"

// unsentMark is the journal entry that tracks a copy of an indicator
// published again with new context: written unsent before the copy goes
// out, and again with Sent set once the output acknowledged it.
type unsentMark struct {
	ID   string `json:"id"`
	Sent bool   `json:"sent,omitempty"`
}

// MarkUnsent records that copies of the indicators ids, published again
// with new context, are on their way. The index keeps the new context as
// published as soon as the copy is converted, so a copy lost at a stop
// would otherwise never go out again: the next run finds the context
// already known. Unsent lists them until MarkSent.
func (x *Index) MarkUnsent(ids []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, id := range ids {
		if x.indicators[id] == nil || x.unsent[id] {
			continue
		}
		x.unsent[id] = true
		x.append(entry{Unsent: &unsentMark{ID: id}})
	}
}

// MarkSent records that the output acknowledged the copy of indicator id.
func (x *Index) MarkSent(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.unsent[id] {
		return
	}
	delete(x.unsent, id)
	x.append(entry{Unsent: &unsentMark{ID: id, Sent: true}})
}

// Unsent returns, in id order, the stored indicators whose copies with new
// context were not acknowledged before the index was last closed.
func (x *Index) Unsent() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.unsentLocked()
}

// unsentLocked returns the unsent ids of stored indicators and drops the
// marks of evicted ones.
func (x *Index) unsentLocked() []string {
	var ids []string
	for id := range x.unsent {
		if x.indicators[id] == nil {
			delete(x.unsent, id)
			continue
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (x *Index) applyUnsent(m *unsentMark) {
	if m.Sent {
		delete(x.unsent, m.ID)
		return
	}
	x.unsent[m.ID] = true
}

// compactUnsent writes the marks of stored indicators still unsent.
func (x *Index) compactUnsent(write func(entry)) {
	for _, id := range x.unsentLocked() {
		write(entry{Unsent: &unsentMark{ID: id}})
	}
}
