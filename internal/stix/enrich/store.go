package enrich

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"time"
)

// JournalName is the file under the index folder. Each line is one entry;
// a later entry for an id replaces an earlier one.
const JournalName = "context.ndjson"

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
	Unsent *unsentMark   `json:"unsent,omitempty"`
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
// twice what is live, Index.append rewrites it from memory and from the
// indicators' text it already holds.
type journal struct {
	path    string
	file    *os.File // opened for reading too, to read indicators' text back
	writer  *bufio.Writer
	written int64  // bytes in the file, buffered ones included
	line    []byte // the indicator entry being written, reused
}

func openJournal(path string) (*journal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the context index: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open the context index: %w", err)
	}
	return newJournal(path, f, info.Size()), nil
}

func newJournal(path string, f *os.File, size int64) *journal {
	return &journal{path: path, file: f, writer: bufio.NewWriterSize(f, flushSize), written: size}
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

// writeIndicator writes the entry of r with text, which must be on one
// line, and returns the offset of text in the file.
func (j *journal) writeIndicator(r *indicatorRecord, text []byte) (int64, error) {
	line, textStart, err := appendIndicatorEntry(j.line[:0], r, text)
	if err != nil {
		return 0, err
	}
	line = append(line, '\n')
	j.line = line
	if _, err := j.writer.Write(line); err != nil {
		return 0, err
	}
	at := j.written + int64(textStart)
	j.written += int64(len(line))
	return at, nil
}

// readText returns the n bytes at offset at, writing the buffer out first
// when they are still in it.
func (j *journal) readText(at int64, n int) ([]byte, error) {
	if at+int64(n) > j.written-int64(j.writer.Buffered()) {
		if err := j.writer.Flush(); err != nil {
			return nil, err
		}
	}
	text := make([]byte, n)
	if _, err := j.file.ReadAt(text, at); err != nil {
		return nil, fmt.Errorf("read an indicator from the context index: %w", err)
	}
	return text, nil
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
	x.compactWhenLarge()
}

func (x *Index) compactWhenLarge() {
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

// maxPending bounds the indicators whose entry waits for the source fields
// of their document. Each input converts one object at a time, so a few
// slots serve several inputs at once.
const maxPending = 8

// pendingIndicator is an indicator whose journal entry is not written yet,
// with a copy of its text.
type pendingIndicator struct {
	record *indicatorRecord
	text   []byte
}

// keepText stores the text of r, which putIndicator just stored. An index
// without a journal keeps it in memory. Otherwise the entry of r waits
// until the stix_context_revision processor adds the document's source
// fields and revision (see Published), so that one entry holds all of
// them. Any later journal write that needs the entry writes it first.
func (x *Index) keepText(r *indicatorRecord, text []byte) {
	if x.log == nil {
		r.Raw = append(make([]byte, 0, len(text)), text...)
		return
	}
	if len(x.pending) == maxPending {
		x.writePending(0)
	}
	var buffer []byte
	if n := len(x.spareTexts); n > 0 {
		buffer, x.spareTexts = x.spareTexts[n-1], x.spareTexts[:n-1]
	}
	x.pending = append(x.pending, pendingIndicator{record: r, text: append(buffer[:0], text...)})
}

func (x *Index) pendingIndex(r *indicatorRecord) int {
	for i := range x.pending {
		if x.pending[i].record == r {
			return i
		}
	}
	return -1
}

// writePending writes the entry of x.pending[i] and removes it from the
// list. A record that a newer version replaced, or that the limits
// evicted, is dropped instead.
func (x *Index) writePending(i int) {
	p := x.pending[i]
	x.pending = slices.Delete(x.pending, i, i+1)
	if !p.record.removed {
		x.writeIndicator(p.record, p.text)
	}
	x.spareTexts = append(x.spareTexts, p.text)
}

func (x *Index) writeAllPending() {
	for len(x.pending) > 0 {
		x.writePending(0)
	}
}

// writeIndicator appends the entry of r to the journal. When that fails,
// r keeps its text in memory, so that it can still be published again.
func (x *Index) writeIndicator(r *indicatorRecord, text []byte) {
	at, err := x.log.writeIndicator(r, text)
	if err != nil {
		x.failed = err
		r.Raw = bytes.Clone(text)
		return
	}
	r.textAt, r.Raw = at, nil
	x.compactWhenLarge()
}

// textOf returns the JSON text of an indicator record, from memory, from a
// pending entry or from the journal.
func (x *Index) textOf(r *indicatorRecord) ([]byte, error) {
	if r.Raw != nil {
		return r.Raw, nil
	}
	if i := x.pendingIndex(r); i >= 0 {
		text := bytes.Clone(x.pending[i].text)
		x.writePending(i)
		return text, nil
	}
	if x.log == nil || r.textAt < 0 {
		return nil, errors.New("the context index is closed or lost the indicator's text")
	}
	return x.log.readText(r.textAt, r.textLen)
}

// textReader reads indicators' text from a journal in about the order it
// was written, through one buffer instead of one read call per text.
type textReader struct {
	file   *os.File
	buffer *bufio.Reader
	at     int64 // file offset of the buffer's next byte
}

// read returns the n bytes at offset at, in a slice that the next read
// reuses.
func (t *textReader) read(at int64, n int, scratch []byte) ([]byte, error) {
	const maxSkip = 1 << 20
	if t.buffer == nil || at < t.at || at-t.at > maxSkip {
		section := io.NewSectionReader(t.file, at, math.MaxInt64-at)
		if t.buffer == nil {
			t.buffer = bufio.NewReaderSize(section, 1<<20)
		} else {
			t.buffer.Reset(section)
		}
		t.at = at
	}
	if _, err := t.buffer.Discard(int(at - t.at)); err != nil {
		return nil, err
	}
	text := slices.Grow(scratch[:0], n)[:n]
	if _, err := io.ReadFull(t.buffer, text); err != nil {
		return nil, err
	}
	t.at = at + int64(n)
	return text, nil
}

// compactLocked rewrites the journal with the live entries only, through a
// temporary file renamed over the old one. Indicators whose entry is still
// pending are left for their own write.
func (x *Index) compactLocked() error {
	if err := x.log.flush(); err != nil {
		return fmt.Errorf("compact the context index: %w", err)
	}
	temporary := x.log.path + ".tmp"
	f, err := os.OpenFile(temporary, os.O_CREATE|os.O_RDWR|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("compact the context index: %w", err)
	}
	fresh := newJournal(x.log.path, f, 0)
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
	moved, err := x.compactIndicators(fresh, err)
	x.compactUnsent(write)
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
	// The renamed file is the new journal; appending goes on at its end.
	x.log.close()
	x.log = fresh
	for _, m := range moved {
		m.record.textAt, m.record.Raw = m.at, nil
	}
	x.compactOrders()
	return nil
}

// movedText is the new place of an indicator record's text after
// compaction.
type movedText struct {
	record *indicatorRecord
	at     int64
}

// compactIndicators writes the live indicators that have an entry or a
// text in memory to fresh, unless err is set, and returns where each text
// went. The caller points the records there once the file is in place.
func (x *Index) compactIndicators(fresh *journal, err error) ([]movedText, error) {
	if err != nil {
		return nil, err
	}
	reader := &textReader{file: x.log.file}
	var scratch []byte
	moved := make([]movedText, 0, len(x.indicators))
	for _, id := range x.indicatorOrder {
		r := x.indicators[id]
		if r == nil || (r.Raw == nil && r.textAt < 0) {
			continue
		}
		text := []byte(r.Raw)
		if text == nil {
			if scratch, err = reader.read(r.textAt, r.textLen, scratch); err != nil {
				return nil, err
			}
			text = scratch
		}
		at, err := fresh.writeIndicator(r, text)
		if err != nil {
			return nil, err
		}
		moved = append(moved, movedText{record: r, at: at})
	}
	return moved, nil
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
	r.removed = true
	x.indicatorBytes -= recordBytes(r)
	for _, marking := range r.Markings {
		removeFromSet(x.markedBy, marking, r.ID)
	}
	for _, ref := range r.Refs {
		removeFromSet(x.observedBy, ref, r.ID)
	}
}

// recordBytes returns what an indicator record counts against
// Limits.IndicatorBytes: its JSON text and its source fields.
func recordBytes(r *indicatorRecord) int64 {
	return int64(r.textLen + len(r.Source))
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
// for every indicator read, goes through appendIndicatorEntry instead.
func marshalEntry(e entry) ([]byte, error) {
	r := e.Indicator
	if r == nil || e.Object != nil || e.Relation != nil || e.Marking != nil || e.Observable != nil || e.Update != nil || e.Unsent != nil {
		return json.Marshal(e)
	}
	text, err := oneLine(r.Raw)
	if err != nil {
		return nil, err
	}
	line, _, err := appendIndicatorEntry(nil, r, text)
	return line, err
}
