package logfile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/elastic-agent-libs/logp/logptest"
	"github.com/elastic/elastic-agent-libs/monitoring"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// recordingPublisher keeps every event and cursor update it is given.
type recordingPublisher struct {
	events  []beat.Event
	cursors []any // nil for events without an update
}

func (p *recordingPublisher) Publish(event beat.Event, cursor any) error {
	p.events = append(p.events, event)
	p.cursors = append(p.cursors, cursor)
	return nil
}

type harvesterTest struct {
	h       *harvester
	pub     *recordingPublisher
	logs    *observer.ObservedLogs
	metrics *monitoring.Registry
}

func newHarvesterTest(t *testing.T, once bool) *harvesterTest {
	log, logs := logptest.NewTestingLoggerWithObserver(t, "logfile")
	reg := monitoring.NewRegistry()
	pub := &recordingPublisher{}
	h := newHarvester(harvesterConfig{
		log:       log,
		publisher: pub,
		cancel:    context.Background(),
		metrics:   newInputMetrics(reg, t.Name()),
		once:      once,

		progressInterval: time.Minute,
	})
	return &harvesterTest{h: h, pub: pub, logs: logs, metrics: reg}
}

func (ht *harvesterTest) metric(t *testing.T, name string) uint64 {
	t.Helper()
	v, ok := ht.metrics.Get(name).(*monitoring.Uint)
	if !ok {
		t.Fatalf("metric %s is missing", name)
	}
	return v.Get()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestHarvesterReportsBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := "{\"type\":\"x\",\"id\":\"x--1\"}\n{\"type\":\"x\",\"id\":\"x--2\"}\n"
	badLine := "{\"type\":\"x\",\"id\":\"x--3\"}\n{oops}\n{\"type\":\"x\",\"id\":\"x--4\"}\n"
	cut := `{"type":"bundle","id":"bundle--1","objects":[{"type":"x","id":"x--5"},{"type":`
	writeFile(t, filepath.Join(dir, "a-good.ndjson"), good)
	writeFile(t, filepath.Join(dir, "b-bad-line.ndjson"), badLine)
	writeFile(t, filepath.Join(dir, "c-binary.json"), "\x00\x01\x02binary")
	writeFile(t, filepath.Join(dir, "d-empty.json"), "")
	writeFile(t, filepath.Join(dir, "e-cut.json"), cut)

	ht := newHarvesterTest(t, true)
	if err := ht.h.scan([]string{filepath.Join(dir, "*")}); err != nil {
		t.Fatal(err)
	}

	if got := len(ht.pub.events); got != 5 {
		t.Errorf("published %d events, expected 5 (2 good, 2 around the bad line, 1 before the cut)", got)
	}
	checks := map[string]uint64{"objects_read": 5, "files_read": 5, "read_errors": 3, "read_warnings": 1}
	for name, want := range checks {
		if got := ht.metric(t, name); got != want {
			t.Errorf("metric %s is %d, expected %d", name, got, want)
		}
	}
	if got := ht.metric(t, "bytes_read"); got < uint64(len(good)+len(badLine)+len(cut)) {
		t.Errorf("metric bytes_read is %d, less than the bytes of the readable files", got)
	}

	warnings := ht.logs.FilterLevelExact(zapcore.WarnLevel).All()
	if len(warnings) != 4 {
		t.Fatalf("logged %d warnings, expected 4: %v", len(warnings), warnings)
	}
	badLineWarning := ht.logs.FilterField(zap.String("log.file.path", filepath.Join(dir, "b-bad-line.ndjson"))).FilterLevelExact(zapcore.WarnLevel).All()
	if len(badLineWarning) != 1 {
		t.Fatalf("logged %d warnings for the bad line, expected 1", len(badLineWarning))
	}
	fields := badLineWarning[0].ContextMap()
	if fields["line"] != int64(2) || fields["log.offset"] != int64(strings.Index(badLine, "oops")) {
		t.Errorf("bad line warning has line %v offset %v, expected line 2 offset %d", fields["line"], fields["log.offset"], strings.Index(badLine, "oops"))
	}

	// A second scan finds nothing new and repeats no warning.
	if err := ht.h.scan([]string{filepath.Join(dir, "*")}); err != nil {
		t.Fatal(err)
	}
	if got := len(ht.pub.events); got != 5 {
		t.Errorf("second scan published %d more events", got-5)
	}
	if got := ht.logs.FilterLevelExact(zapcore.WarnLevel).Len(); got != 4 {
		t.Errorf("second scan logged %d more warnings", got-4)
	}
}

func TestHarvesterWaitsForCutLineToComplete(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "growing.ndjson")
	writeFile(t, path, "{\"type\":\"x\",\"id\":\"x--1\"}\n{\"type\":\"x\",")

	ht := newHarvesterTest(t, false)
	scan := func() {
		t.Helper()
		if err := ht.h.scan([]string{path}); err != nil {
			t.Fatal(err)
		}
	}
	scan()
	if ht.logs.FilterLevelExact(zapcore.WarnLevel).Len() != 0 || ht.metric(t, "read_errors") != 0 {
		t.Fatal("a line cut short was reported before the next scan")
	}

	// The writer completes the line: no error, the object is read.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\"id\":\"x--2\"}\n{\"type\":"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	scan()
	if got := len(ht.pub.events); got != 2 {
		t.Fatalf("published %d events after the line was completed, expected 2", got)
	}
	if got := ht.pub.events[1].Fields["message"]; got != `{"type":"x","id":"x--2"}` {
		t.Fatalf("completed line published as %v", got)
	}

	// The new cut line stays unchanged for a scan: reported once.
	scan()
	scan()
	if got := ht.logs.FilterLevelExact(zapcore.WarnLevel).Len(); got != 1 {
		t.Fatalf("logged %d warnings for a line that stayed cut short, expected 1", got)
	}
	if got := ht.metric(t, "read_errors"); got != 1 {
		t.Fatalf("metric read_errors is %d, expected 1", got)
	}
}

func TestHarvesterCursorUpdates(t *testing.T) {
	defer func(n int) { checkpointInterval = n }(checkpointInterval)
	checkpointInterval = 4

	dir := t.TempDir()
	var lines []string
	for i := range 10 {
		lines = append(lines, `{"type":"x","id":"x--`+string(rune('a'+i))+`"}`)
	}
	content := strings.Join(lines, "\n") + "\n"
	writeFile(t, filepath.Join(dir, "a.ndjson"), content)
	writeFile(t, filepath.Join(dir, "b.ndjson"), lines[0]+"\n")

	ht := newHarvesterTest(t, true)
	if err := ht.h.scan([]string{filepath.Join(dir, "*.ndjson")}); err != nil {
		t.Fatal(err)
	}
	if len(ht.pub.events) != 11 {
		t.Fatalf("published %d events, expected 11", len(ht.pub.events))
	}

	// Updates ride on every fourth event, counted across files, and on the
	// last event of the scan: the only object of b.ndjson. The last object
	// of a.ndjson carries none, so a scan of many small files does not copy
	// the whole cursor once per file.
	var withCursor []int
	for i, c := range ht.pub.cursors {
		if c != nil {
			withCursor = append(withCursor, i)
		}
	}
	if want := []int{3, 7, 10}; !equalInts(withCursor, want) {
		t.Fatalf("cursor updates on events %v, expected %v", withCursor, want)
	}

	at4 := ht.pub.cursors[3].(cursorState)
	if len(at4.Files) != 1 {
		t.Fatalf("first update holds %d files, expected 1", len(at4.Files))
	}
	for _, st := range at4.Files {
		if want := int64(len(strings.Join(lines[:4], "\n"))); st.Offset != want || st.EOF {
			t.Errorf("first update: offset %d eof %v, expected offset %d before the end", st.Offset, st.EOF, want)
		}
	}
	last := ht.pub.cursors[10].(cursorState)
	if len(last.Files) != 2 {
		t.Fatalf("last update holds %d files, expected both", len(last.Files))
	}
	for _, st := range last.Files {
		if !st.EOF || st.Offset != st.Size {
			t.Errorf("last update for %s: offset %d size %d eof %v, expected the end of the file", st.Path, st.Offset, st.Size, st.EOF)
		}
	}

	// Each update is a copy that later reads do not change.
	if len(at4.Files) != 1 {
		t.Fatal("a published cursor changed after it was published")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestHarvesterLogsProgress(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for range 3 * progressEvery {
		b.WriteString(`{"type":"x","id":"x--1"}` + "\n")
	}
	writeFile(t, filepath.Join(dir, "big.ndjson"), b.String())

	ht := newHarvesterTest(t, true)
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ht.h.now = func() time.Time {
		clock = clock.Add(time.Second)
		return clock
	}
	if err := ht.h.scan([]string{filepath.Join(dir, "*")}); err != nil {
		t.Fatal(err)
	}
	progress := ht.logs.FilterMessage("Progress reading STIX file").All()
	if len(progress) == 0 {
		t.Fatal("a read that took minutes logged no progress")
	}
	fields := progress[0].ContextMap()
	for _, key := range []string{"objects", "log.offset", "objects_per_second", "log.file.path"} {
		if _, ok := fields[key]; !ok {
			t.Errorf("progress log has no %s field: %v", key, fields)
		}
	}
}

func TestHarvesterProgressIntervalSetting(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for range 3 * progressEvery {
		b.WriteString(`{"type":"x","id":"x--1"}` + "\n")
	}
	writeFile(t, filepath.Join(dir, "big.ndjson"), b.String())

	ht := newHarvesterTest(t, true)
	ht.h.progressInterval = time.Hour
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ht.h.now = func() time.Time {
		clock = clock.Add(time.Second)
		return clock
	}
	if err := ht.h.scan([]string{filepath.Join(dir, "*")}); err != nil {
		t.Fatal(err)
	}
	// The clock advances one second per call, so the read takes minutes but
	// less than the hour between two progress lines.
	if elapsed := clock.Sub(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)); elapsed < 2*time.Minute || elapsed >= time.Hour {
		t.Fatalf("the simulated read took %v, expected between 2m and 1h", elapsed)
	}
	if n := len(ht.logs.FilterMessage("Progress reading STIX file").All()); n != 0 {
		t.Errorf("read logged %d progress lines with progress_interval 1h, expected none", n)
	}
}

// A file of invalid objects publishes nothing, yet its cursor must reach the
// registry, or every run reads the file again and repeats its warnings.
func TestHarvesterStoresCursorOfFileWithoutObjects(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "invalid.ndjson")
	writeFile(t, path, "{oops}\n[1,2\n")

	first := newHarvesterTest(t, true)
	if err := first.h.scan([]string{path}); err != nil {
		t.Fatal(err)
	}
	if len(first.pub.events) != 1 {
		t.Fatalf("published %d events, expected 1 that carries the cursor", len(first.pub.events))
	}
	if fields := first.pub.events[0].Fields; len(fields) != 0 {
		t.Errorf("the cursor's event has fields %v, expected none, so that no document is written", fields)
	}
	stored, ok := first.pub.cursors[0].(cursorState)
	if !ok || len(stored.Files) != 1 {
		t.Fatalf("cursor update is %#v, expected the state of one file", first.pub.cursors[0])
	}
	for _, st := range stored.Files {
		if !st.EOF || st.Offset != int64(len("{oops}\n[1,2\n")) {
			t.Errorf("stored state: offset %d eof %v, expected the end of the file", st.Offset, st.EOF)
		}
	}
	if got := first.logs.FilterLevelExact(zapcore.WarnLevel).Len(); got != 2 {
		t.Errorf("first run logged %d warnings, expected one per invalid line", got)
	}

	// The next run starts from the stored cursor.
	second := newHarvesterTest(t, true)
	second.h.states = stored.Files
	if err := second.h.scan([]string{path}); err != nil {
		t.Fatal(err)
	}
	if len(second.pub.events) != 0 {
		t.Errorf("second run published %d events, expected none", len(second.pub.events))
	}
	if got := second.logs.FilterLevelExact(zapcore.WarnLevel).Len(); got != 0 {
		t.Errorf("second run logged %d warnings about a file already read", got)
	}
}
