package taxii

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/elastic/beats/v7/libbeat/beat"

	"github.com/tibeat/tibeat/input/internal/inputtest"
)

// cursorUpdateIndexes returns the indexes of the events that carry a
// cursor update, which input-cursor keeps in Private.
func cursorUpdateIndexes(events []beat.Event) []int {
	var found []int
	for i, e := range events {
		if e.Private != nil {
			found = append(found, i)
		}
	}
	return found
}

// A long walk stores its position every checkpointPages pages and at its
// end, so a crash in the middle resumes from the last checkpoint whose
// events were all acknowledged.
func TestLongWalkCheckpoints(t *testing.T) {
	const pages = 25
	addedOn := func(page int) string { return fmt.Sprintf("2024-01-%02dT00:00:00.000000Z", page) }
	peer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if after := r.URL.Query().Get("added_after"); after != "" {
			writeEnvelope(w, false, "", "", "")
			return
		}
		page := 1
		if next := r.URL.Query().Get("next"); next != "" {
			page, _ = strconv.Atoi(next)
		}
		next := ""
		if page < pages {
			next = strconv.Itoa(page + 1)
		}
		writeEnvelope(w, page < pages, next, addedOn(page), addedOn(page), indicatorID(page))
	})
	clk := newFakeClock(t, "2024-02-01T00:00:00Z")
	settings := map[string]any{"id": "checkpoint", "url": peer.objectsURL(), "limit": 1, "initial_interval": "0s"}
	dir := t.TempDir()

	env := startBeat(t, dir, clk)
	pipeline := &inputtest.Pipeline{}
	if err := env.RunOnce(settings, pipeline); err != nil {
		t.Fatalf("run failed: %v", err)
	}
	events := pipeline.Published()
	if len(events) != pages {
		t.Fatalf("%d objects published, expected %d", len(events), pages)
	}
	if got, want := cursorUpdateIndexes(events), []int{9, 19, 24}; !slices.Equal(got, want) {
		t.Errorf("cursor updates on events %v, expected the last events of pages 10, 20 and 25 (%v)", got, want)
	}
	// The output acknowledges 15 events, then tibeat is killed.
	pipeline.ACK(15)
	assertPosition(t, env, "http://"+peer.server.Listener.Addr().String()+"/api1/collections/"+caseCollection+"/", addedOn(10))
	env.Stop()

	restarted := startBeat(t, dir, clk)
	defer restarted.Stop()
	if err := restarted.RunOnce(settings, &inputtest.Pipeline{AutoACK: true}); err != nil {
		t.Fatalf("run after the restart failed: %v", err)
	}
	requests := peer.requests()
	resumed := requests[len(requests)-1].URL.Query()
	if got := resumed.Get("added_after"); got != addedOn(10) {
		t.Errorf("run after the restart sent added_after %q, expected the checkpoint of page 10, %q", got, addedOn(10))
	}
}
