package enrich

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/tibeat/tibeat/internal/stix"
)

// The revision of one version starts at 0 without context, grows by one for
// each different context, and stays for the same context delivered again.
func TestRevisionCountsContextChanges(t *testing.T) {
	x := New(DefaultLimits)
	text := indicatorJSON("2024-01-01T00:00:00.000Z", "")
	feed(t, x, text)
	obj := object(t, text)

	steps := []struct {
		digest string
		want   int
	}{
		{"", 0},
		{"", 0},
		{"malware", 1},
		{"malware", 1},
		{"malware+campaign", 2},
		// Context that goes back to an earlier state is still a change, so
		// its copy must sort after the one it replaces.
		{"malware", 3},
	}
	for i, step := range steps {
		if got := x.Revision(obj, step.digest); got != step.want {
			t.Errorf("step %d: Revision(%q) = %d, want %d", i, step.digest, got, step.want)
		}
	}
}

// Context that arrived before its indicator makes the first document a
// revision after the one without context, so both orders of arrival give
// the enriched document the higher revision.
func TestRevisionContextFirst(t *testing.T) {
	x := New(DefaultLimits)
	text := indicatorJSON("2024-01-01T00:00:00.000Z", "")
	feed(t, x, text)

	if got := x.Revision(object(t, text), "malware"); got != 1 {
		t.Errorf("Revision = %d, want 1", got)
	}
}

func TestRevisionOtherVersions(t *testing.T) {
	x := New(DefaultLimits)
	newer := indicatorJSON("2024-02-01T00:00:00.000Z", "")
	older := indicatorJSON("2024-01-01T00:00:00.000Z", "")
	feed(t, x, newer)
	if got := x.Revision(object(t, newer), "malware"); got != 1 {
		t.Fatalf("newer version: Revision = %d, want 1", got)
	}

	feed(t, x, older)
	if got := x.Revision(object(t, older), "malware+campaign"); got != 0 {
		t.Errorf("older version: Revision = %d, want 0, because the index keeps the newer one", got)
	}
	if got := x.Revision(object(t, newer), "malware"); got != 1 {
		t.Errorf("newer version after the older one: Revision = %d, want 1", got)
	}

	newest := indicatorJSON("2024-03-01T00:00:00.000Z", "")
	feed(t, x, newest)
	if got := x.Revision(object(t, newest), ""); got != 0 {
		t.Errorf("new version without context: Revision = %d, want 0", got)
	}
}

func TestRevisionUnknownIndicator(t *testing.T) {
	x := New(DefaultLimits)
	if got := x.Revision(object(t, indicatorJSON("2024-01-01T00:00:00.000Z", "")), "malware"); got != 0 {
		t.Errorf("Revision = %d, want 0 for an indicator the index does not hold", got)
	}
}

// A repeat delivery after a restart must get the revision the copy already
// published got, or it would be a new document. The same version read
// again must not reset it either.
func TestRevisionAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	first, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	text := indicatorJSON("2024-01-01T00:00:00.000Z", "")
	feed(t, first, text)
	first.Revision(object(t, text), "malware")
	first.SetSource(object(t, text), json.RawMessage(`{"log":{"file":{"path":"/feeds/a.json"},"offset":42}}`))
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	feed(t, second, text)

	if got := second.Revision(object(t, text), "malware"); got != 1 {
		t.Errorf("Revision after the restart = %d, want 1", got)
	}
	_, _, source, ok := second.Stored(indicatorID)
	if !ok {
		t.Fatal("the indicator is not stored after the restart")
	}
	if string(source) != `{"log":{"file":{"path":"/feeds/a.json"},"offset":42}}` {
		t.Errorf("source = %s, want the fields recorded before the restart", source)
	}
}

func TestSetSourceOnlyForStoredVersion(t *testing.T) {
	x := New(DefaultLimits)
	feed(t, x, indicatorJSON("2024-02-01T00:00:00.000Z", ""))

	x.SetSource(object(t, indicatorJSON("2024-01-01T00:00:00.000Z", "")), json.RawMessage(`{"url":{"original":"https://old.example"}}`))

	if _, _, source, _ := x.Stored(indicatorID); source != nil {
		t.Errorf("source = %s, want none: only an older version had it", source)
	}
}

const (
	observedID = "observed-data--cf8eaa41-6f4c-482e-89b9-9cd2d6a83cb1"
	fileID     = "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d"
	// fileJSON and observedJSON are the file and the observed-data that
	// refers to it in the OASIS "Sighting of Observed Data" example.
	fileJSON = `{"type":"file","id":"` + fileID + `","spec_version":"2.1","hashes":{"MD5":"1717b7fff97d37a1e1a0029d83492de1",` +
		`"SHA-1":"c79a326f8411e9488bdc3779753e1e3489aaedea"},"size":83968,"name":"resume.pdf"}`
	observedJSON = `{"type":"observed-data","spec_version":"2.1","id":"` + observedID + `",` +
		`"created":"2017-02-28T19:37:11.213Z","modified":"2017-02-28T19:37:11.213Z","first_observed":"2017-02-27T21:37:11.213Z",` +
		`"last_observed":"2017-02-27T21:37:11.213Z","number_observed":1,"object_refs":["` + fileID + `"]}`
)

func convertObserved(t *testing.T, x *Index) *stix.Document {
	t.Helper()
	doc, err := stix.Convert(object(t, observedJSON), &stix.Options{Context: x, ObservablesAsIndicators: true})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// The values of the file follow STIX 2.1's file object and ECS's
// threat.indicator.file fields: digests keyed by algorithm, name and size.
var observedFileFields = map[string]any{
	"threat.indicator.file.hash.md5":  []string{"1717b7fff97d37a1e1a0029d83492de1"},
	"threat.indicator.file.hash.sha1": []string{"c79a326f8411e9488bdc3779753e1e3489aaedea"},
	"threat.indicator.file.name":      []string{"resume.pdf"},
	"threat.indicator.file.size":      []int64{83968},
}

func TestObservedDataRefsObjectFirst(t *testing.T) {
	x := New(DefaultLimits)
	x.EnableObservables("input-a")

	if affected := feed(t, x, fileJSON, observedJSON); len(affected) != 0 {
		t.Errorf("affected = %v, want nothing: the observed-data resolves its reference when converted", affected)
	}
	doc := convertObserved(t, x)

	if !doc.Indicator {
		t.Fatal("Indicator = false, want an indicator document")
	}
	checkFields(t, doc, observedFileFields)
}

func TestObservedDataRefsObjectAfter(t *testing.T) {
	x := New(DefaultLimits)
	x.EnableObservables("input-a")

	if affected := feed(t, x, observedJSON); len(affected) != 0 {
		t.Errorf("observed-data reported %v, want nothing", affected)
	}
	if doc := convertObserved(t, x); doc.Indicator {
		t.Error("observed-data whose object has not arrived became an indicator document")
	}
	affected := feed(t, x, fileJSON)

	if !slices.Equal(affected, []string{observedID}) {
		t.Fatalf("the file reported %v, want the observed-data that refers to it", affected)
	}
	raw, _, _, ok := x.Stored(observedID)
	if !ok || string(raw) != observedJSON {
		t.Fatalf("stored observed-data = %s, %v, want its JSON text", raw, ok)
	}
	checkFields(t, convertObserved(t, x), observedFileFields)
	if again := feed(t, x, fileJSON); len(again) != 0 {
		t.Errorf("the same file again reported %v, want nothing", again)
	}
}

func TestObservedDataRefsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	first, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	first.EnableObservables("input-a")
	feed(t, first, fileJSON)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.EnableObservables("input-a")

	checkFields(t, convertObserved(t, second), observedFileFields)
}

// Inputs that do not read cyber-observables as indicators must not fill
// the index with them.
func TestObservablesKeptOnlyForEnabledInputs(t *testing.T) {
	x := New(DefaultLimits)
	feed(t, x, fileJSON, observedJSON)

	if _, ok := x.Observable(fileID); ok {
		t.Error("the file was kept for an input without observables_as_indicators")
	}
	if _, _, _, ok := x.Stored(observedID); ok {
		t.Error("the observed-data was kept for an input without observables_as_indicators")
	}
}

func TestObservablesLimit(t *testing.T) {
	x := New(Limits{Objects: 1, Relationships: 1, Indicators: 1, IndicatorBytes: 1 << 20, Observables: 1, ObservableBytes: 1 << 20})
	x.EnableObservables("input-a")
	other := `{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--5d1c7e2a-9b3f-4a6d-8e2c-7f1a0b9c3d41","value":"198.51.100.9"}`

	feed(t, x, fileJSON, other)

	if _, ok := x.Observable(fileID); ok {
		t.Error("the first object stayed past a limit of one")
	}
	if _, ok := x.Observable("ipv4-addr--5d1c7e2a-9b3f-4a6d-8e2c-7f1a0b9c3d41"); !ok {
		t.Error("the newest object was evicted")
	}
}
