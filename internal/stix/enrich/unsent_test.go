package enrich

import (
	"encoding/json"
	"slices"
	"testing"
)

func reopen(t *testing.T, x *Index, dir string) *Index {
	t.Helper()
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	// Open compacts the journal, so the marks also go through compaction.
	x, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// A copy with new context that the output never acknowledged must be
// listed at the next start, or it would never be sent.
func TestUnsentCopiesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	text := indicatorJSON("2024-01-01T00:00:00.000Z", "")
	feed(t, x, text)
	x.Published(object(t, text), json.RawMessage(`{"log":{"offset":1}}`), "")

	x.MarkUnsent([]string{indicatorID, "indicator--00000000-0000-4000-8000-00000000dead"})
	x = reopen(t, x, dir)
	if got, want := x.Unsent(), []string{indicatorID}; !slices.Equal(got, want) {
		t.Fatalf("after a restart Unsent = %v, expected %v (an id that is not stored is not kept)", got, want)
	}

	x.MarkSent(indicatorID)
	x = reopen(t, x, dir)
	if got := x.Unsent(); len(got) != 0 {
		t.Errorf("after MarkSent and a restart Unsent = %v, expected none", got)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
}
