package enrich

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// journalLines returns the lines of the journal in dir.
func journalLines(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, JournalName))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func storedText(t *testing.T, x *Index, id string) string {
	t.Helper()
	raw, _, _, ok := x.Stored(id)
	if !ok {
		t.Fatalf("indicator %s is not stored", id)
	}
	return string(raw)
}

// An indicator whose document adds its source fields and revision gets
// one journal entry holding all of them, and its text stays readable from
// the journal.
func TestJournalOneEntryPerIndicator(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	text := indicatorJSON("2024-01-01T00:00:00.000Z", "")
	source := json.RawMessage(`{"log":{"file":{"path":"/feeds/a.json"},"offset":42}}`)
	feed(t, x, text)
	if got := x.Published(object(t, text), source, ""); got != 0 {
		t.Errorf("Published = %d, want revision 0 without context", got)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}

	lines := journalLines(t, dir)
	if len(lines) != 1 {
		t.Fatalf("journal has %d lines, want one entry:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	var e entry
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil {
		t.Fatal(err)
	}
	if e.Indicator == nil || string(e.Indicator.Source) != string(source) || string(e.Indicator.Raw) != text {
		t.Errorf("journal entry = %s, want the indicator with its source and text", lines[0])
	}

	reopened, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	raw, input, gotSource, ok := reopened.Stored(indicatorID)
	if !ok || string(raw) != text || input != "input-a" || string(gotSource) != string(source) {
		t.Errorf("Stored after reopening = %s, %q, %s, %v", raw, input, gotSource, ok)
	}
}

// The text of an indicator with a journal lives in the journal only, so
// memory does not grow with it, and Stored reads it back whether its entry
// is pending, buffered or on disk.
func TestJournalKeepsTextOnDisk(t *testing.T) {
	x, err := Open(t.TempDir(), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	text := indicatorJSON("2024-01-01T00:00:00.000Z", "")
	feed(t, x, text)

	if got := storedText(t, x, indicatorID); got != text {
		t.Errorf("text of a pending entry = %s, want %s", got, text)
	}
	r := x.indicators[indicatorID]
	if r.Raw != nil || r.textAt < 0 {
		t.Errorf("record keeps Raw %q at offset %d, want the text in the journal only", r.Raw, r.textAt)
	}
	if got := storedText(t, x, indicatorID); got != text {
		t.Errorf("text read from the journal = %s, want %s", got, text)
	}
}

// Compaction moves every text to the new file and points the records at
// it. Entries still pending are written to the new file afterwards.
func TestJournalCompactionMovesText(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{}
	for i := range 20 {
		id := "indicator--00000000-0000-4000-8000-" + strings.Repeat("0", 10) + strconv.Itoa(10+i)
		text := strings.Replace(indicatorJSON("2024-01-01T00:00:00.000Z", ""), indicatorID, id, 1)
		texts[id] = text
		feed(t, x, text)
		x.SetSource(object(t, text), json.RawMessage(`{"url":{"original":"https://taxii.example/`+strconv.Itoa(i)+`"}}`))
	}
	pendingText := indicatorJSON("2024-01-01T00:00:00.000Z", "")
	texts[indicatorID] = pendingText
	feed(t, x, pendingText)

	x.mu.Lock()
	err = x.compactLocked()
	x.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	for id, text := range texts {
		if got := storedText(t, x, id); got != text {
			t.Errorf("%s after compaction = %s, want %s", id, got, text)
		}
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}

	reopened, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	for id, text := range texts {
		if got := storedText(t, reopened, id); got != text {
			t.Errorf("%s after reopening = %s, want %s", id, got, text)
		}
	}
}

// A journal written by the earlier format, with an update line for the
// source and revision, still loads.
func TestJournalReadsUpdateEntries(t *testing.T) {
	dir := t.TempDir()
	text := indicatorJSON("2024-01-01T00:00:00.000Z", "")
	record := &indicatorRecord{ID: indicatorID, Modified: versionOf(object(t, text)), Input: "input-a", Raw: json.RawMessage(text)}
	update := &recordUpdate{ID: indicatorID, Modified: record.Modified, Digest: "malware", Revision: 1,
		Source: json.RawMessage(`{"log":{"file":{"path":"/feeds/a.json"},"offset":7}}`)}
	var journal bytes.Buffer
	for _, e := range []entry{{Indicator: record}, {Update: update}} {
		line, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		journal.Write(append(line, '\n'))
	}
	if err := os.WriteFile(filepath.Join(dir, JournalName), journal.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	x, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	raw, _, source, ok := x.Stored(indicatorID)
	if !ok || string(raw) != text || string(source) != string(update.Source) {
		t.Errorf("Stored = %s, %s, %v, want the text and the source of the update", raw, source, ok)
	}
	if got := x.Revision(object(t, text), "malware"); got != 1 {
		t.Errorf("Revision = %d, want the revision of the update", got)
	}
}

// An entry whose raw field is not last, which no writer of the journal
// makes but a hand-edited file may hold, keeps its text in memory until
// compaction writes it in the usual form.
func TestJournalReadsRawFieldAnywhere(t *testing.T) {
	dir := t.TempDir()
	text := indicatorJSON("2024-01-01T00:00:00.000Z", "")
	line := `{"indicator":{"raw":` + text + `,"id":"` + indicatorID + `","modified":"2024-01-01T00:00:00Z","input":"input-a"}}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, JournalName), []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}

	x, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if got := storedText(t, x, indicatorID); got != text {
		t.Errorf("Stored = %s, want %s", got, text)
	}
	if r := x.indicators[indicatorID]; r.Raw != nil {
		t.Error("the text stayed in memory after the compaction at opening")
	}
}

// Text spread over several lines is kept in compact form, because the
// journal holds one entry per line.
func TestJournalCompactsPrettyText(t *testing.T) {
	x, err := Open(t.TempDir(), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	compact := indicatorJSON("2024-01-01T00:00:00.000Z", "")
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(compact), "", "  "); err != nil {
		t.Fatal(err)
	}

	x.Observe(object(t, compact), pretty.Bytes(), "input-a")
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}

	if got := storedText(t, x, indicatorID); got != compact {
		t.Errorf("Stored = %s, want the compact text %s", got, compact)
	}
}

// oneLine must give what json.Compact gives for any valid JSON text.
func FuzzOneLine(f *testing.F) {
	for _, seed := range []string{
		"{\n  \"type\": \"indicator\",\n  \"name\": \"a \\\"quoted\\\" \\\\ name\\n\",\n  \"labels\": [ \"x\" , \"y\" ]\r\n}",
		"{\"a\":\"\\u0022 { [ \\t\"}",
		"[1, 2,\t3]",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !json.Valid([]byte(text)) {
			return
		}
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(text)); err != nil {
			t.Fatal(err)
		}
		got, err := oneLine([]byte(text))
		if err != nil {
			t.Fatalf("oneLine(%q): %v", text, err)
		}
		if !bytes.ContainsAny([]byte(text), "\r\n") {
			// Text without line breaks is kept as it is.
			if string(got) != text {
				t.Fatalf("oneLine(%q) = %q, expected the text unchanged", text, got)
			}
			return
		}
		if string(got) != want.String() {
			t.Fatalf("oneLine(%q) = %q, json.Compact gives %q", text, got, want.String())
		}
	})
}

// A damaged line in the middle of the file is skipped and reported, and the
// entries after it are still read. A last line cut short by a crash is
// left out without being counted as damage.
func TestJournalSkipsDamagedLines(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	first := relationshipJSON("relationship--00000000-0000-4000-8000-000000000001", "indicates", indicatorID, "malware--00000000-0000-4000-8000-0000000000aa", "2024-01-01T00:00:00.000Z", "")
	second := relationshipJSON("relationship--00000000-0000-4000-8000-000000000002", "indicates", indicatorID, "malware--00000000-0000-4000-8000-0000000000bb", "2024-01-01T00:00:00.000Z", "")
	feed(t, x, first, second)
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	lines := journalLines(t, dir)
	if len(lines) != 2 {
		t.Fatalf("journal has %d lines, expected 2", len(lines))
	}
	damaged := "\x00\x17garbage written over an entry\n" + lines[1] + "\n" + `{"relation":{"id":"cut sh`
	if err := os.WriteFile(filepath.Join(dir, JournalName), []byte(damaged), 0o600); err != nil {
		t.Fatal(err)
	}

	reopened, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	if got := reopened.Damage(); got != (Damage{Lines: 1, FirstOffset: 0}) {
		t.Errorf("Damage() = %+v, expected one damaged line at offset 0", got)
	}
	if got := reopened.Stats().Relationships; got != 1 {
		t.Errorf("%d relationships after the damaged line, expected the second one", got)
	}
}
