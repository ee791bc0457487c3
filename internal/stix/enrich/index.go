// Package enrich keeps a bounded, persistent index of the STIX objects that
// give an indicator its context. It holds malware, tool, threat-actor,
// intrusion-set, campaign and attack-pattern objects and the relationships
// (indicates, based-on, related-to) that link them to indicators. It also
// holds marking definitions with a TLP level and the newest version of
// every indicator. For the inputs that read cyber-observables as
// indicators, it also holds those objects and the STIX 2.1 observed-data
// that refers to them through object_refs.
//
// The index serves stix.Convert as its stix.ContextSource and
// stix.ObservableSource. Observe reports which indicators already published
// gained context, so that the caller can publish them again. Revision counts
// how often the context of one indicator version changed, so that each
// enriched copy gets its own _id and sorts after the copies before it.
package enrich

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/tibeat/tibeat/internal/stix"
)

// Limits bound the index. When a kind is full, the entry stored first is
// evicted.
type Limits struct {
	Objects       int // context objects and marking definitions
	Relationships int
	Indicators    int
	// IndicatorBytes bounds the JSON text kept of indicators.
	IndicatorBytes int64
	// Observables and ObservableBytes bound the cyber-observable objects
	// kept for observed-data object_refs, and their JSON text.
	Observables     int
	ObservableBytes int64
}

// DefaultLimits bound the index to an estimated 300 MiB of memory at most.
// The indicators' text takes up to 128 MiB, in the journal for an index
// made by Open and in memory otherwise, and the cyber-observables' text up
// to 32 MiB of memory. At the sizes of the Unit 42 playbooks' objects, the
// relationships take about 60 MiB and the other entries about 30 MiB.
// TestContextIndexSize measures the index.
var DefaultLimits = Limits{
	Objects:         100_000,
	Relationships:   500_000,
	Indicators:      200_000,
	IndicatorBytes:  128 << 20,
	Observables:     200_000,
	ObservableBytes: 32 << 20,
}

// Index is safe for concurrent use.
type Index struct {
	mu     sync.Mutex
	limits Limits
	damage Damage

	objects    map[string]*objectRecord
	attackIDs  map[string]string // ATT&CK id -> object id
	relations  map[string]*relationRecord
	links      map[string]map[string]struct{} // object or indicator id -> relationship ids
	indicators map[string]*indicatorRecord
	markings   map[string]*markingRecord
	markedBy   map[string]map[string]struct{} // marking id -> indicator ids

	observables map[string]*observableRecord
	observedBy  map[string]map[string]struct{} // cyber-observable id -> observed-data ids
	// observableInputs are the ids of the inputs that read cyber-observables
	// as indicators; objects other inputs read are not kept for them.
	observableInputs map[string]bool
	// unsent are the indicators whose copies with new context await the
	// output's acknowledgement (see MarkUnsent).
	unsent map[string]bool

	// Insertion order per kind, for eviction. Ids of entries already
	// removed are skipped when they come up.
	objectOrder, markingOrder, relationOrder, indicatorOrder, observableOrder []string
	indicatorBytes, observableBytes                                           int64

	log *journal
	// pending are the indicators whose journal entry waits for the source
	// fields of their document (see keepText), and spareTexts the buffers
	// of those already written, for reuse.
	pending    []pendingIndicator
	spareTexts [][]byte
	// lastSource is the source fields SetSource stored last, which the
	// next record with the same fields shares.
	lastSource json.RawMessage
	// failed is the first error writing the journal, returned by the next
	// Flush or Close.
	failed error
}

// New returns an empty index that is not saved to disk.
func New(limits Limits) *Index {
	return &Index{
		limits:     limits,
		objects:    map[string]*objectRecord{},
		attackIDs:  map[string]string{},
		relations:  map[string]*relationRecord{},
		links:      map[string]map[string]struct{}{},
		indicators: map[string]*indicatorRecord{},
		markings:   map[string]*markingRecord{},
		markedBy:   map[string]map[string]struct{}{},

		observables:      map[string]*observableRecord{},
		observedBy:       map[string]map[string]struct{}{},
		observableInputs: map[string]bool{},
		unsent:           map[string]bool{},
	}
}

// Open loads the index saved in dir, creating dir when needed, and saves
// every later change there.
func Open(dir string, limits Limits) (*Index, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create the context index folder: %w", err)
	}
	idx := New(limits)
	log, err := openJournal(filepath.Join(dir, JournalName))
	if err != nil {
		return nil, err
	}
	idx.log = log
	if err := idx.load(); err != nil {
		log.close()
		return nil, err
	}
	// Compacting at start drops what the limits evicted and the replaced
	// versions that the last run appended.
	if err := idx.compactLocked(); err != nil {
		log.close()
		return nil, err
	}
	return idx, nil
}

// Observe records one STIX object and returns the ids of stored indicators
// whose context it changed. obj is the decoded object; raw is its JSON
// text, which is kept for indicators (in the journal of an index made by
// Open); input names the input that read it.
func (x *Index) Observe(obj map[string]any, raw []byte, input string) []string {
	objectType := stringOf(obj, "type")
	id := stringOf(obj, "id")
	if id == "" {
		return nil
	}
	switch {
	case objectType == "indicator":
		x.observeIndicator(obj, id, raw, input, nil)
		return nil
	case objectType == "observed-data":
		x.observeObserved(obj, id, raw, input)
		return nil
	case stix.IsObservableIndicatorType(objectType):
		return x.observeObservable(obj, id, raw, input)
	case objectType == "relationship":
		return x.observeRelationship(obj, id)
	case objectType == "marking-definition":
		return x.observeMarking(obj, id)
	case contextTypes[objectType]:
		return x.observeObject(obj, objectType, id)
	}
	return nil
}

// textSeed seeds the hashes of indicators' text. They are computed again
// when the journal is loaded, so they need not be the same across runs.
var textSeed = maphash.MakeSeed()

func (x *Index) observeIndicator(obj map[string]any, id string, raw []byte, input string, refs []string) {
	text, err := oneLine(raw)
	if err != nil {
		x.mu.Lock()
		x.failed = fmt.Errorf("keep indicator %s in the context index: %w", id, err)
		x.mu.Unlock()
		return
	}
	r := &indicatorRecord{
		ID: id, Modified: versionOf(obj), Input: input, Refs: refs, Markings: feedMarkings(obj),
		textAt: -1, textLen: len(text), textSum: maphash.Bytes(textSeed, text),
	}
	r.Revoked, _ = obj["revoked"].(bool)

	x.mu.Lock()
	defer x.mu.Unlock()
	old := x.indicators[id]
	if old != nil && old.Modified.After(r.Modified) {
		return
	}
	if old != nil && old.Modified.Equal(r.Modified) {
		// The same version read again keeps the revision its copies got,
		// so that converting it again gives the _id already published.
		// A 64-bit hash stands for the text, which may be on disk only.
		if old.Input == r.Input && old.textLen == r.textLen && old.textSum == r.textSum {
			return
		}
		r.Digest, r.Revision, r.Source = old.Digest, old.Revision, old.Source
	}
	x.putIndicator(r)
	x.keepText(r, text)
}

// feedMarkings returns the ids of the marking definitions that obj refers
// to in object_marking_refs other than the predefined TLP ones.
func feedMarkings(obj map[string]any) []string {
	refs, _ := obj["object_marking_refs"].([]any)
	var out []string
	for _, v := range refs {
		ref, ok := v.(string)
		if !ok || ref == "" || contains(out, ref) {
			continue
		}
		if _, predefined := stix.PredefinedTLP(ref); !predefined {
			out = append(out, ref)
		}
	}
	return out
}

func (x *Index) observeRelationship(obj map[string]any, id string) []string {
	r := &relationRecord{
		ID:       id,
		Type:     stringOf(obj, "relationship_type"),
		Source:   stringOf(obj, "source_ref"),
		Target:   stringOf(obj, "target_ref"),
		Modified: versionOf(obj),
	}
	r.Revoked, _ = obj["revoked"].(bool)
	if !linkTypes[r.Type] {
		return nil
	}

	x.mu.Lock()
	defer x.mu.Unlock()
	// A version already stored, or an older one, changes nothing: feeds
	// send the same objects again on every poll.
	old := x.relations[id]
	if old != nil && !r.Modified.After(old.Modified) {
		return nil
	}
	x.putRelation(r)
	x.append(entry{Relation: r})

	// The indicator gains or loses context only when the other end is a
	// context object already indexed; otherwise that object's arrival
	// reports the indicator.
	var affected []string
	for _, pair := range [][2]string{{r.Source, r.Target}, {r.Target, r.Source}} {
		indicator, other := pair[0], pair[1]
		if x.indicators[indicator] != nil && x.objects[other] != nil {
			affected = append(affected, indicator)
		}
	}
	return affected
}

func (x *Index) observeObject(obj map[string]any, objectType, id string) []string {
	r := newObjectRecord(obj, objectType, id)

	x.mu.Lock()
	defer x.mu.Unlock()
	if old := x.objects[id]; old != nil && !r.Modified.After(old.Modified) {
		return nil
	}
	x.putObject(r)
	x.append(entry{Object: r})
	return x.linkedIndicators(id)
}

func (x *Index) observeMarking(obj map[string]any, id string) []string {
	tlp, ok := stix.MarkingDefinitionTLP(obj)
	if !ok {
		return nil
	}
	r := &markingRecord{ID: id, Modified: versionOf(obj), Level: tlp.Level, Version: tlp.Version}

	x.mu.Lock()
	defer x.mu.Unlock()
	if old := x.markings[id]; old != nil && !r.Modified.After(old.Modified) {
		return nil
	}
	x.putMarking(r)
	x.append(entry{Marking: r})
	var affected []string
	for indicator := range x.markedBy[id] {
		affected = append(affected, indicator)
	}
	slices.Sort(affected)
	return affected
}

// linkedIndicators returns the stored indicators that a relationship links
// to the object id, sorted.
func (x *Index) linkedIndicators(id string) []string {
	var affected []string
	for relationID := range x.links[id] {
		r := x.relations[relationID]
		other := r.Source
		if other == id {
			other = r.Target
		}
		if x.indicators[other] != nil && !slices.Contains(affected, other) {
			affected = append(affected, other)
		}
	}
	slices.Sort(affected)
	return affected
}

// Stored returns the JSON text of the newest version of an indicator, the
// input that read it, and the source fields that input set on its first
// document (see SetSource). The text is on one line. An index made by Open
// reads it from its journal, so it returns nothing once closed, and a read
// error is returned by the next Flush or Close.
func (x *Index) Stored(id string) (raw []byte, input string, source json.RawMessage, ok bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	r := x.indicators[id]
	if r == nil {
		return nil, "", nil, false
	}
	raw, err := x.textOf(r)
	if err != nil {
		if x.failed == nil {
			x.failed = err
		}
		return nil, "", nil, false
	}
	return raw, r.Input, r.Source, true
}

// MarkingTLP implements stix.ContextSource.
func (x *Index) MarkingTLP(id string) (stix.TLP, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	r := x.markings[id]
	if r == nil {
		return stix.TLP{}, false
	}
	return stix.TLP{Level: r.Level, Version: r.Version}, true
}

// IndicatorContext implements stix.ContextSource. The lists are sorted by
// the STIX id of the object they come from, so the same index always gives
// the same document. Revoked objects and relationships give nothing.
func (x *Index) IndicatorContext(id string) *stix.IndicatorContext {
	x.mu.Lock()
	defer x.mu.Unlock()

	var ctx stix.IndicatorContext
	found := false
	if r := x.indicators[id]; r != nil && r.Revoked {
		ctx.Revoked, ctx.HasRevoked, found = r.Modified, true, true
	}
	var related []*objectRecord
	for relationID := range x.links[id] {
		rel := x.relations[relationID]
		if rel.Revoked {
			continue
		}
		other := rel.Source
		if other == id {
			other = rel.Target
		}
		if o := x.objects[other]; o != nil && !o.Revoked && !slices.Contains(related, o) {
			related = append(related, o)
		}
	}
	slices.SortFunc(related, func(a, b *objectRecord) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	for _, o := range related {
		found = true
		switch o.Type {
		case "malware", "tool":
			ctx.Software = append(ctx.Software, stix.Software{
				ID: o.AttackID, Name: o.Name, Type: softwareType(o.Type), Aliases: o.Aliases, Platforms: o.Platforms,
			})
		case "intrusion-set", "threat-actor":
			ctx.Groups = append(ctx.Groups, stix.Group{ID: o.AttackID, Name: o.Name, Aliases: o.Aliases})
		case "campaign":
			ctx.Campaigns = append(ctx.Campaigns, stix.Campaign{ID: o.ID, Name: o.Name})
		case "attack-pattern":
			ctx.Techniques = append(ctx.Techniques, x.technique(o))
		}
	}
	if !found {
		return nil
	}
	return &ctx
}

func (x *Index) technique(o *objectRecord) stix.Technique {
	t := stix.Technique{ID: o.AttackID, Name: o.Name, Reference: o.Reference}
	if parentID, ok := isSubtechnique(o.AttackID); ok {
		if parent := x.objects[x.attackIDs[parentID]]; parent != nil {
			t.ParentName, t.ParentReference = parent.Name, parent.Reference
		}
	}
	for _, phase := range o.Phases {
		t.Tactics = append(t.Tactics, tacticOf(phase))
	}
	return t
}

// Stats counts the entries of each kind.
type Stats struct {
	Objects, Relationships, Indicators, Markings int
	IndicatorBytes                               int64
}

// Damage describes the complete lines of the file that Open could not read.
type Damage struct {
	Lines       int
	FirstOffset int64 // byte offset of the first such line
}

// Damage returns what Open skipped of the file; zero Lines when nothing.
func (x *Index) Damage() Damage {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.damage
}

// Stats returns the current entry counts.
func (x *Index) Stats() Stats {
	x.mu.Lock()
	defer x.mu.Unlock()
	return Stats{len(x.objects), len(x.relations), len(x.indicators), len(x.markings), x.indicatorBytes}
}

// Flush writes buffered changes to disk.
func (x *Index) Flush() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.log == nil {
		return nil
	}
	x.writeAllPending()
	if err := x.takeFailure(); err != nil {
		return err
	}
	return x.log.flush()
}

func (x *Index) takeFailure() error {
	err := x.failed
	x.failed = nil
	return err
}

// Close flushes and closes the file of an index made by Open.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.log == nil {
		return nil
	}
	x.writeAllPending()
	err := x.log.close()
	x.log = nil
	if failed := x.takeFailure(); failed != nil {
		return failed
	}
	return err
}

// load replays the journal into the index. A last line cut short by a
// crash is left out without a word, because the acknowledgements that
// moved a cursor came after everything before it was written. A complete
// line that is not an entry is damage: it is skipped and counted (see
// Damage), and the lines after it still count.
func (x *Index) load() error {
	reader := bufio.NewReaderSize(io.NewSectionReader(x.log.file, 0, x.log.written), 1<<20)
	var at int64 // offset of line in the file
	for {
		line, err := reader.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			var e entry
			if json.Unmarshal(line, &e) != nil {
				if x.damage.Lines == 0 {
					x.damage.FirstOffset = at
				}
				x.damage.Lines++
				at += int64(len(line))
				continue
			}
			if e.Indicator != nil {
				locateText(e.Indicator, line, at)
			}
			x.apply(e)
		}
		at += int64(len(line))
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the context index: %w", err)
		}
	}
}

// locateText points a record read from the journal line at offset at to
// its text in the file. Every writer of the journal ends an indicator entry
// with its raw field, so the text is the end of the line before "}}". A
// record whose line does not end that way keeps its text in memory until
// the next compaction writes it in that form.
func locateText(r *indicatorRecord, line []byte, at int64) {
	text := r.Raw
	r.textLen, r.textSum = len(text), maphash.Bytes(textSeed, text)
	end := len(line) - len("}}\n")
	start := end - len(text)
	if start >= 0 && string(line[end:]) == "}}\n" && bytes.Equal(line[start:end], text) {
		r.textAt, r.Raw = at+int64(start), nil
		return
	}
	r.textAt = -1
}

func (x *Index) apply(e entry) {
	switch {
	case e.Object != nil:
		x.putObject(e.Object)
	case e.Relation != nil:
		x.putRelation(e.Relation)
	case e.Indicator != nil:
		x.putIndicator(e.Indicator)
	case e.Marking != nil:
		x.putMarking(e.Marking)
	case e.Observable != nil:
		x.putObservable(e.Observable)
	case e.Update != nil:
		x.applyUpdate(e.Update)
	case e.Unsent != nil:
		x.applyUnsent(e.Unsent)
	}
}
