package enrich

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// journalName is the file under the index folder. Each line is one entry;
// a later entry for an id replaces an earlier one.
const journalName = "context.ndjson"

// flushSize is how much the journal buffers before it writes. A crash
// loses at most this much, which the inputs send again because the output
// had not acknowledged it either.
const flushSize = 256 << 10

// entry is one line of the journal: exactly one field is set.
type entry struct {
	Object     *objectRecord     `json:"object,omitempty"`
	Relation   *relationRecord   `json:"relationship,omitempty"`
	Indicator  *indicatorRecord  `json:"indicator,omitempty"`
	Marking    *markingRecord    `json:"marking,omitempty"`
	Observable *observableRecord `json:"observable,omitempty"`
	// Update changes the revision or source of an indicator record that an
	// earlier line holds, without writing its JSON text again.
	Update *recordUpdate `json:"update,omitempty"`
}

// recordUpdate is the part of an indicator record that Revision and
// SetSource change after the record was written.
type recordUpdate struct {
	ID       string          `json:"id"`
	Modified time.Time       `json:"modified"`
	Digest   string          `json:"context_digest,omitempty"`
	Revision int             `json:"revision,omitempty"`
	Source   json.RawMessage `json:"source,omitempty"`
}

func updateOf(r *indicatorRecord) *recordUpdate {
	return &recordUpdate{ID: r.ID, Modified: r.Modified, Digest: r.Digest, Revision: r.Revision, Source: r.Source}
}

// applyUpdate sets the revision and source of the record an update names,
// when the index still holds that version.
func (x *Index) applyUpdate(u *recordUpdate) {
	r := x.indicators[u.ID]
	if r == nil || !r.Modified.Equal(u.Modified) {
		return
	}
	x.indicatorBytes -= recordBytes(r)
	r.Digest, r.Revision, r.Source = u.Digest, u.Revision, u.Source
	x.indicatorBytes += recordBytes(r)
}

// journal is the append-only file of an index. Once it holds more than
// twice what is live, Index.append rewrites it from memory.
type journal struct {
	path    string
	file    *os.File
	writer  *bufio.Writer
	written int64 // bytes in the file, buffered ones included
}

func openJournal(path string) (*journal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the context index: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open the context index: %w", err)
	}
	return &journal{path: path, file: f, writer: bufio.NewWriterSize(f, flushSize), written: info.Size()}, nil
}

func (j *journal) write(e entry) error {
	line, err := marshalEntry(e)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	if _, err := j.writer.Write(line); err != nil {
		return err
	}
	j.written += int64(len(line))
	return nil
}

func (j *journal) flush() error { return j.writer.Flush() }

func (j *journal) close() error {
	err := j.writer.Flush()
	if cerr := j.file.Close(); err == nil {
		err = cerr
	}
	return err
}

// append writes e to the journal, compacting it when it has grown past
// twice the size of the live entries. An error is kept for the next Flush
// or Close, because conversion must go on without the file.
func (x *Index) append(e entry) {
	if x.log == nil {
		return
	}
	if err := x.log.write(e); err != nil {
		x.failed = err
		return
	}
	if x.log.written > 2*x.liveEstimate()+flushSize {
		if err := x.compactLocked(); err != nil {
			x.failed = err
		}
	}
}

// liveEstimate is the journal size the live entries need, estimated from
// the indicators' text and a fixed size for every other entry.
func (x *Index) liveEstimate() int64 {
	const entrySize = 300
	return x.indicatorBytes + x.observableBytes +
		int64(len(x.indicators)+len(x.objects)+len(x.relations)+len(x.markings)+len(x.observables))*entrySize
}

// compactLocked rewrites the journal with the live entries only, through a
// temporary file renamed over the old one.
func (x *Index) compactLocked() error {
	temporary := x.log.path + ".tmp"
	f, err := os.OpenFile(temporary, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("compact the context index: %w", err)
	}
	fresh := &journal{path: x.log.path, file: f, writer: bufio.NewWriterSize(f, flushSize)}
	write := func(e entry) {
		if err == nil {
			err = fresh.write(e)
		}
	}
	for _, id := range x.objectOrder {
		if r := x.objects[id]; r != nil {
			write(entry{Object: r})
		}
	}
	for _, id := range x.markingOrder {
		if r := x.markings[id]; r != nil {
			write(entry{Marking: r})
		}
	}
	for _, id := range x.relationOrder {
		if r := x.relations[id]; r != nil {
			write(entry{Relation: r})
		}
	}
	for _, id := range x.observableOrder {
		if r := x.observables[id]; r != nil {
			write(entry{Observable: r})
		}
	}
	for _, id := range x.indicatorOrder {
		if r := x.indicators[id]; r != nil {
			write(entry{Indicator: r})
		}
	}
	if err == nil {
		err = fresh.flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(temporary, x.log.path)
	}
	if err != nil {
		f.Close()
		os.Remove(temporary)
		return fmt.Errorf("compact the context index: %w", err)
	}
	x.log.close()
	// The renamed file is the new journal; appending goes on at its end.
	f.Close()
	log, err := openJournal(x.log.path)
	if err != nil {
		return err
	}
	x.log = log
	x.compactOrders()
	return nil
}

// compactOrders drops the ids of removed entries from the eviction orders.
func (x *Index) compactOrders() {
	x.objectOrder = keepPresent(x.objectOrder, func(id string) bool { return x.objects[id] != nil })
	x.markingOrder = keepPresent(x.markingOrder, func(id string) bool { return x.markings[id] != nil })
	x.relationOrder = keepPresent(x.relationOrder, func(id string) bool { return x.relations[id] != nil })
	x.indicatorOrder = keepPresent(x.indicatorOrder, func(id string) bool { return x.indicators[id] != nil })
	x.observableOrder = keepPresent(x.observableOrder, func(id string) bool { return x.observables[id] != nil })
}

func keepPresent(order []string, present func(string) bool) []string {
	seen := make(map[string]bool, len(order))
	out := order[:0]
	for _, id := range order {
		if present(id) && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (x *Index) putObject(r *objectRecord) {
	old := x.objects[r.ID]
	if old == nil {
		x.objectOrder = append(x.objectOrder, r.ID)
	} else if old.AttackID != "" && x.attackIDs[old.AttackID] == r.ID {
		delete(x.attackIDs, old.AttackID)
	}
	x.objects[r.ID] = r
	if r.AttackID != "" {
		x.attackIDs[r.AttackID] = r.ID
	}
	for len(x.objects) > x.limits.Objects && len(x.objectOrder) > 0 {
		id := x.objectOrder[0]
		x.objectOrder = x.objectOrder[1:]
		if o := x.objects[id]; o != nil {
			delete(x.objects, id)
			if x.attackIDs[o.AttackID] == id {
				delete(x.attackIDs, o.AttackID)
			}
		}
	}
}

func (x *Index) putMarking(r *markingRecord) {
	if x.markings[r.ID] == nil {
		x.markingOrder = append(x.markingOrder, r.ID)
	}
	x.markings[r.ID] = r
	for len(x.markings) > x.limits.Objects && len(x.markingOrder) > 0 {
		delete(x.markings, x.markingOrder[0])
		x.markingOrder = x.markingOrder[1:]
	}
}

func (x *Index) putRelation(r *relationRecord) {
	if old := x.relations[r.ID]; old != nil {
		x.unlink(old)
	} else {
		x.relationOrder = append(x.relationOrder, r.ID)
	}
	x.relations[r.ID] = r
	for _, end := range []string{r.Source, r.Target} {
		set := x.links[end]
		if set == nil {
			set = map[string]struct{}{}
			x.links[end] = set
		}
		set[r.ID] = struct{}{}
	}
	for len(x.relations) > x.limits.Relationships && len(x.relationOrder) > 0 {
		id := x.relationOrder[0]
		x.relationOrder = x.relationOrder[1:]
		if old := x.relations[id]; old != nil {
			x.unlink(old)
			delete(x.relations, id)
		}
	}
}

func (x *Index) unlink(r *relationRecord) {
	for _, end := range []string{r.Source, r.Target} {
		if set := x.links[end]; set != nil {
			delete(set, r.ID)
			if len(set) == 0 {
				delete(x.links, end)
			}
		}
	}
}

func (x *Index) putIndicator(r *indicatorRecord) {
	if old := x.indicators[r.ID]; old != nil {
		x.removeIndicator(old)
	} else {
		x.indicatorOrder = append(x.indicatorOrder, r.ID)
	}
	x.indicators[r.ID] = r
	x.indicatorBytes += recordBytes(r)
	for _, marking := range r.Markings {
		addToSet(x.markedBy, marking, r.ID)
	}
	for _, ref := range r.Refs {
		addToSet(x.observedBy, ref, r.ID)
	}
	for (len(x.indicators) > x.limits.Indicators || x.indicatorBytes > x.limits.IndicatorBytes) && len(x.indicatorOrder) > 0 {
		id := x.indicatorOrder[0]
		x.indicatorOrder = x.indicatorOrder[1:]
		if old := x.indicators[id]; old != nil {
			x.removeIndicator(old)
			delete(x.indicators, id)
		}
	}
}

func (x *Index) removeIndicator(r *indicatorRecord) {
	x.indicatorBytes -= recordBytes(r)
	for _, marking := range r.Markings {
		removeFromSet(x.markedBy, marking, r.ID)
	}
	for _, ref := range r.Refs {
		removeFromSet(x.observedBy, ref, r.ID)
	}
}

// recordBytes is what an indicator record counts against
// Limits.IndicatorBytes: its JSON text and its source fields.
func recordBytes(r *indicatorRecord) int64 {
	return int64(len(r.Raw) + len(r.Source))
}

func addToSet(sets map[string]map[string]struct{}, key, member string) {
	set := sets[key]
	if set == nil {
		set = map[string]struct{}{}
		sets[key] = set
	}
	set[member] = struct{}{}
}

func removeFromSet(sets map[string]map[string]struct{}, key, member string) {
	if set := sets[key]; set != nil {
		delete(set, member)
		if len(set) == 0 {
			delete(sets, key)
		}
	}
}

// marshalEntry encodes e as json.Marshal does. An indicator entry, written
// for every indicator read, splices the object's JSON text in as it is:
// json.Marshal would scan and compact that text again, which cost about a
// sixth of tibeat's CPU on a feed of indicators. Text that spans lines is
// still compacted, since the journal holds one entry per line.
func marshalEntry(e entry) ([]byte, error) {
	r := e.Indicator
	if r == nil || e.Object != nil || e.Relation != nil || e.Marking != nil || e.Observable != nil || e.Update != nil {
		return json.Marshal(e)
	}
	meta := *r
	meta.Raw = nil
	head, err := json.Marshal(indicatorMeta(meta))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(head) + len(r.Raw) + 32)
	out.WriteString(`{"indicator":`)
	out.Write(head[:len(head)-1])
	out.WriteString(`,"raw":`)
	if bytes.ContainsAny(r.Raw, "\r\n") {
		if err := json.Compact(&out, r.Raw); err != nil {
			return nil, err
		}
	} else {
		out.Write(r.Raw)
	}
	out.WriteString("}}")
	return out.Bytes(), nil
}

// indicatorMeta is indicatorRecord without its JSON text, whose field
// marshalEntry writes itself.
type indicatorMeta struct {
	ID       string          `json:"id"`
	Modified time.Time       `json:"modified"`
	Revoked  bool            `json:"revoked,omitempty"`
	Input    string          `json:"input,omitempty"`
	Markings []string        `json:"markings,omitempty"`
	Refs     []string        `json:"object_refs,omitempty"`
	Digest   string          `json:"context_digest,omitempty"`
	Revision int             `json:"revision,omitempty"`
	Source   json.RawMessage `json:"source,omitempty"`
	Raw      json.RawMessage `json:"-"`
}
