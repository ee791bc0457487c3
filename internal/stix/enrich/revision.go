package enrich

import (
	"bytes"
	"encoding/json"
)

// Revision returns the context revision of a document of one indicator
// version that carries the context whose fingerprint is digest, the empty
// string for no context. obj is the decoded indicator (or observed-data);
// only its id and version are read.
//
// A version starts at revision 0 with no context. The revision grows by one
// each time a document of the version carries a context other than the one
// before it, so a document with context gets at least revision 1 even when
// the context arrived first. A document that carries the same context again,
// such as a repeat delivery after a restart, keeps its revision. A version
// that is not the newest stored one, or not stored at all, always gets
// revision 0. Revisions are saved with the index.
func (x *Index) Revision(obj map[string]any, digest string) int {
	return x.Published(obj, nil, digest)
}

// SetSource records the fields that the input set on a document of the
// newest stored version of an indicator, such as log.file.path or
// url.original, as a JSON object. Stored returns them, so that a copy
// published again keeps the fields that name where the indicator came from.
func (x *Index) SetSource(obj map[string]any, source json.RawMessage) {
	x.mu.Lock()
	defer x.mu.Unlock()
	r := x.storedVersion(obj)
	if r == nil {
		return
	}
	x.save(r, x.setSource(r, source))
}

// Published does for one indicator document what SetSource and then
// Revision do, and returns the revision. A nil source records no fields.
// The journal gets at most one entry for both, and for an indicator that
// Observe has just stored it gets the only entry of that indicator.
func (x *Index) Published(obj map[string]any, source json.RawMessage, digest string) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	r := x.storedVersion(obj)
	if r == nil {
		return 0
	}
	changed := source != nil && x.setSource(r, source)
	if r.Digest != digest {
		r.Revision++
		r.Digest = digest
		changed = true
	}
	x.save(r, changed)
	return r.Revision
}

// storedVersion returns the record of obj when the index holds that
// version of it, else nil.
func (x *Index) storedVersion(obj map[string]any) *indicatorRecord {
	r := x.indicators[stringOf(obj, "id")]
	if r == nil || !r.Modified.Equal(versionOf(obj)) {
		return nil
	}
	return r
}

// setSource replaces the source fields of r and reports whether they
// changed. Consecutive documents of one TAXII page or CEL request have the
// same fields, so their records share one copy.
func (x *Index) setSource(r *indicatorRecord, source json.RawMessage) bool {
	if bytes.Equal(r.Source, source) {
		return false
	}
	x.indicatorBytes -= recordBytes(r)
	if bytes.Equal(x.lastSource, source) {
		r.Source = x.lastSource
	} else {
		r.Source = bytes.Clone(source)
		x.lastSource = r.Source
	}
	x.indicatorBytes += recordBytes(r)
	return true
}

// save writes what changed in r to the journal: the entry of r itself when
// it is still pending, else an update entry.
func (x *Index) save(r *indicatorRecord, changed bool) {
	if i := x.pendingIndex(r); i >= 0 {
		x.writePending(i)
		return
	}
	if changed {
		x.append(entry{Update: updateOf(r)})
	}
}
