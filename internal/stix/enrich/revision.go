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
	id := stringOf(obj, "id")
	version := versionOf(obj)

	x.mu.Lock()
	defer x.mu.Unlock()
	r := x.indicators[id]
	if r == nil || !r.Modified.Equal(version) {
		return 0
	}
	if r.Digest == digest {
		return r.Revision
	}
	r.Revision++
	r.Digest = digest
	x.append(entry{Update: updateOf(r)})
	return r.Revision
}

// SetSource records the fields that the input set on a document of the
// newest stored version of an indicator, such as log.file.path or
// url.original, as a JSON object. Stored returns them, so that a copy
// published again keeps the fields that name where the indicator came from.
func (x *Index) SetSource(obj map[string]any, source json.RawMessage) {
	id := stringOf(obj, "id")
	version := versionOf(obj)

	x.mu.Lock()
	defer x.mu.Unlock()
	r := x.indicators[id]
	if r == nil || !r.Modified.Equal(version) || bytes.Equal(r.Source, source) {
		return
	}
	x.indicatorBytes -= recordBytes(r)
	r.Source = bytes.Clone(source)
	x.indicatorBytes += recordBytes(r)
	x.append(entry{Update: updateOf(r)})
}
