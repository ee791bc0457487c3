package logfile

import (
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"time"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/mapstr"

	stixproc "github.com/tibeat/tibeat/processors/stix"
)

// checkpointInterval is how many objects are published between two cursor
// updates, counted across files. The events in between carry no cursor, so a
// restart sends at most this many objects again, plus those still in flight.
// Counting across files matters: every update copies the state of every
// known file, and one update per small file made a scan of many small files
// cost the square of their number. Tests lower it.
var checkpointInterval = 1024

// progressEvery is how many objects are read between two looks at the
// clock for the progress log.
const progressEvery = 256

type harvesterConfig struct {
	log           *logp.Logger
	publisher     cursor.Publisher
	cancel        v2.Canceler
	metrics       *inputMetrics
	maxObjectSize int
	once          bool

	// progressInterval is the time between two progress lines of one read.
	progressInterval time.Duration
}

// harvester scans the glob patterns and reads the files of one input, one
// file at a time.
type harvester struct {
	harvesterConfig

	// states holds the state of every known file as of the last event
	// published for it, or as last read for files that produced no event.
	states map[string]fileState

	// held is the newest event, kept back until the next one arrives or the
	// scan ends, because only then is it known whether it must carry a
	// cursor update: the last event of a scan always does.
	held *heldEvent
	// sinceUpdate counts the events published since the last cursor update.
	sinceUpdate int
	// unsaved is set when states changed without an event to carry the
	// change, such as a file of invalid objects only. The end of the scan
	// then stores the cursor on an event without fields, or the next run
	// would read and warn about that file again.
	unsaved bool

	// incomplete holds, in tail mode, the error of a file whose data ended
	// inside a value. It is reported only if the file has not changed by
	// the next scan, since a writer may still be appending to it.
	incomplete map[string]heldError

	// openFailures remembers paths whose open error was logged, so a file
	// that stays unreadable is logged once, not on every scan.
	openFailures map[string]bool
	badPatterns  map[string]bool

	now func() time.Time
}

type heldEvent struct {
	event beat.Event
	key   string
	state fileState // the file's state once this event is acknowledged
}

type heldError struct {
	size int64
	path string
	err  *ReadError
}

func newHarvester(cfg harvesterConfig) *harvester {
	return &harvester{
		harvesterConfig: cfg,
		states:          map[string]fileState{},
		incomplete:      map[string]heldError{},
		openFailures:    map[string]bool{},
		badPatterns:     map[string]bool{},
		now:             time.Now,
	}
}

// loadCursor restores the file states of an earlier run. A cursor that
// cannot be read is logged and ignored, so the files are read again: a
// repeat delivery is harmless, a lost object is not.
func (h *harvester) loadCursor(cur cursor.Cursor) {
	if cur.IsNew() {
		return
	}
	// typeconv (go-structform v0.0.12) panics when it fills a nil map of
	// structs, so the map is allocated first.
	stored := cursorState{Files: map[string]fileState{}}
	if err := cur.Unpack(&stored); err != nil {
		h.log.Errorw("Stored cursor is invalid, reading every file from the start", "error", err)
		return
	}
	maps.Copy(h.states, stored.Files)
	h.log.Debugw("Loaded cursor", "files", len(stored.Files), "version", stored.Version)
}

// scan reads every file the patterns match, in name order per pattern. It
// returns an error only when the input is stopped.
func (h *harvester) scan(patterns []string) error {
	seen := map[string]bool{}
	for _, path := range h.glob(patterns) {
		if err := h.cancel.Err(); err != nil {
			return err
		}
		if err := h.readFile(path, seen); err != nil {
			return err
		}
	}
	h.forget(seen)
	return h.release(true)
}

// glob returns the paths matched by the patterns, each once.
func (h *harvester) glob(patterns []string) []string {
	var paths []string
	found := map[string]bool{}
	for _, pattern := range patterns {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			if !h.badPatterns[pattern] {
				h.badPatterns[pattern] = true
				h.metrics.readErrors.Inc()
				h.log.Errorw("Invalid glob pattern in paths, pattern ignored", "pattern", pattern, "error", err)
			}
			continue
		}
		for _, path := range matches {
			if !found[path] {
				found[path] = true
				paths = append(paths, path)
			}
		}
	}
	return paths
}

// forget drops the state of files that no scan found any more, so the
// cursor does not grow without bound. The next cursor update stores that.
func (h *harvester) forget(seen map[string]bool) {
	for key := range h.states {
		if !seen[key] {
			delete(h.states, key)
			h.unsaved = true
		}
	}
	for key := range h.incomplete {
		if !seen[key] {
			delete(h.incomplete, key)
		}
	}
}

// readFile reads the new content of one file, if it has any. It records
// the file's identity in seen and returns an error only when the input is
// stopped.
func (h *harvester) readFile(path string, seen map[string]bool) error {
	info, err := os.Stat(path)
	if err != nil || !info.Mode().IsRegular() {
		// Gone since the glob, a directory, or a device or pipe that could
		// block the input on open.
		return nil
	}

	f, err := os.Open(path)
	if err != nil {
		seen[fileKey(path, info)] = true
		h.openFailed(path, err)
		return nil
	}
	defer f.Close()
	delete(h.openFailures, path)

	// The open file, not the path, decides the identity: the path may have
	// been replaced since the Stat above.
	info, err = f.Stat()
	if err != nil {
		h.openFailed(path, err)
		return nil
	}
	key := fileKey(path, info)
	if seen[key] {
		return nil // the same file under another path or pattern
	}
	seen[key] = true

	size := info.Size()
	prefix, err := readPrefix(f, size)
	if err != nil {
		h.openFailed(path, err)
		return nil
	}

	prev, known := h.states[key]
	decision, reason := decideRead(prev, known, size, prefix)
	if decision == skipFile {
		h.reportIncompleteIfUnchanged(key, size)
		if prev.Path != path {
			h.log.Debugw("Known file found under a new path", "log.file.path", path, "previous_path", prev.Path)
			prev.Path = path
			h.states[key] = prev
			h.unsaved = true
		}
		return nil
	}
	delete(h.incomplete, key)
	if known && decision == readFromStart {
		h.log.Infow("Reading STIX file again from the start", "log.file.path", path, "reason", reason)
	}

	start := fileState{}
	if decision == readFromOffset {
		start = prev
	}
	start.Path = path
	start.Size = size
	start.EOF = false
	start.Fingerprint = fingerprint(prefix)
	start.FingerprintSize = int64(len(prefix))
	return h.harvest(f, key, start)
}

func (h *harvester) openFailed(path string, err error) {
	if h.openFailures[path] {
		return
	}
	h.openFailures[path] = true
	h.metrics.readErrors.Inc()
	h.log.Warnw("Cannot read file, retrying on the next scan", "log.file.path", path, "error", err)
}

// harvest reads a file from the position in state and publishes its
// objects. Each event is published once the next read has returned, so the
// last event of the file can carry the cursor of the whole read.
func (h *harvester) harvest(f *os.File, key string, state fileState) error {
	path := state.Path
	reader := NewReader(f, ReaderOptions{Resume: state.resumePosition(), MaxObjectSize: h.maxObjectSize})
	h.log.Debugw("Started reading STIX file", "log.file.path", path, "log.offset", state.Offset)

	started := h.now()
	progress := newProgressLog(h.log, path, h.progressInterval, started)
	consumed := state.Offset
	var objects uint64
	for {
		obj, err := reader.Next()
		if offset := reader.Offset(); offset > consumed {
			h.metrics.bytesRead.Add(uint64(offset - consumed))
			consumed = offset
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var readErr *ReadError
			if !errors.As(err, &readErr) {
				// Reader returns only *ReadError; anything else ends the file.
				readErr = &ReadError{Offset: reader.Offset(), Reason: err.Error(), Fatal: true}
			}
			h.handleReadError(key, path, state.Size, readErr)
			if readErr.Fatal {
				break
			}
			continue
		}

		if err := h.hold(newEvent(obj, path, h.now()), key, stateAt(state, reader.Position())); err != nil {
			return err
		}

		objects++
		h.metrics.objectsRead.Inc()
		if objects%progressEvery == 0 {
			progress.update(h.now(), objects, reader.Offset())
		}
	}

	final := stateAt(state, reader.Position())
	final.Compressed = reader.Compressed()
	final.EOF = true
	if !final.Compressed {
		// A file appended to during the read has grown past its size at
		// open; only what was read counts for the skip rule.
		final.Size = max(final.Size, reader.Offset())
	}
	if held, ok := h.incomplete[key]; ok {
		held.size = final.Size
		h.incomplete[key] = held
	}
	h.metrics.filesRead.Inc()
	h.logFinished(path, state.Offset > 0, objects, reader.Format(), final.Offset, h.now().Sub(started))

	if objects == 0 {
		// Nothing to attach a cursor update to: the state reaches the
		// registry with the next update of any file, at the latest at the
		// end of this scan.
		h.states[key] = *final
		h.unsaved = true
		return nil
	}
	// The held event is this file's last one; it now takes the final state.
	h.held.state = *final
	return nil
}

// logFinished logs the end of a read. Reads of data appended to a known
// file log at debug level, because a file that grows steadily is read on
// every scan.
func (h *harvester) logFinished(path string, resumed bool, objects uint64, format Format, offset int64, elapsed time.Duration) {
	logf := h.log.Infow
	if resumed {
		logf = h.log.Debugw
	}
	logf("Finished reading STIX file",
		"log.file.path", path,
		"objects", objects,
		"format", format,
		"log.offset", offset,
		"duration", elapsed,
		"objects_per_second", rate(objects, elapsed))
}

// stateAt returns state moved to a reader position. A position without a
// format is no resume point and leaves the offset at the start.
func stateAt(state fileState, pos Position) *fileState {
	if pos.Format != FormatUnknown {
		state.Offset, state.Line, state.Format = pos.Offset, pos.Line, string(pos.Format)
	}
	return &state
}

// hold publishes the event held so far and keeps event back in its place.
func (h *harvester) hold(event beat.Event, key string, state *fileState) error {
	if err := h.release(false); err != nil {
		return err
	}
	h.held = &heldEvent{event: event, key: key, state: *state}
	return nil
}

// release publishes the held event. When force is set or checkpointInterval
// events have passed, the event carries the whole cursor, which input-cursor
// writes to the registry once this event and every event before it are
// acknowledged.
func (h *harvester) release(force bool) error {
	held := h.held
	if held == nil {
		if !force || !h.unsaved {
			return nil
		}
		// libbeat drops an event without fields before the processors and
		// still acknowledges it in order, so the cursor is stored after
		// every event published before it.
		h.unsaved, h.sinceUpdate = false, 0
		return h.publisher.Publish(beat.Event{Timestamp: h.now()}, h.snapshot())
	}
	h.held = nil
	h.states[held.key] = held.state
	h.sinceUpdate++
	if !force && h.sinceUpdate < checkpointInterval {
		return h.publisher.Publish(held.event, nil)
	}
	h.unsaved, h.sinceUpdate = false, 0
	return h.publisher.Publish(held.event, h.snapshot())
}

// snapshot copies the file states into a new cursor. input-cursor keeps the
// value until the event is acknowledged, so it must not change afterwards.
func (h *harvester) snapshot() cursorState {
	return cursorState{Version: cursorVersion, Files: maps.Clone(h.states)}
}

// handleReadError logs and counts a problem found by the Reader. In tail
// mode, data that ends inside a value is held back instead: see incomplete.
func (h *harvester) handleReadError(key, path string, size int64, err *ReadError) {
	if err.Incomplete && !h.once {
		h.incomplete[key] = heldError{size: size, path: path, err: err}
		h.log.Debugw("STIX file ends inside a value, waiting for more data", "log.file.path", path, "log.offset", err.Offset, "error", err.Reason)
		return
	}
	h.logReadError(path, err)
}

// reportIncompleteIfUnchanged reports a held error once the file has kept
// its size for a whole scan interval.
func (h *harvester) reportIncompleteIfUnchanged(key string, size int64) {
	held, ok := h.incomplete[key]
	if !ok || held.size != size {
		return
	}
	delete(h.incomplete, key)
	h.logReadError(held.path, held.err)
}

func (h *harvester) logReadError(path string, err *ReadError) {
	fields := []any{"log.file.path", path, "log.offset", err.Offset, "error", err.Reason}
	if err.Line > 0 {
		fields = append(fields, "line", err.Line)
	}
	switch {
	case err.Warning:
		h.metrics.readWarnings.Inc()
		h.log.Warnw("Problem in STIX file, no object lost", fields...)
	case err.Fatal:
		h.metrics.readErrors.Inc()
		h.log.Warnw("Invalid STIX file, rest of the file skipped until the file changes", fields...)
	default:
		h.metrics.readErrors.Inc()
		h.log.Warnw("Invalid content in STIX file skipped", fields...)
	}
}

// newEvent builds the event of one STIX object with where it came from.
// The processors convert it; decoding the text here, ahead of them, runs on
// the input's goroutine while the processors work on earlier objects.
func newEvent(obj Object, path string, now time.Time) beat.Event {
	text := string(obj.Raw)
	event := beat.Event{
		Timestamp: now,
		Fields: mapstr.M{
			"message": text,
			"log": mapstr.M{
				"offset": obj.Offset,
				"file": mapstr.M{
					"path": path,
				},
			},
		},
	}
	stixproc.AttachDecoded(&event, stixproc.DecodeAhead(text))
	return event
}
