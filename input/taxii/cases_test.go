package taxii

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/logp/logptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tibeat/tibeat/input/internal/inputtest"
)

// Each test below replays one scripted peer from tests/cases. The peer
// checks every request (method, path, query, headers) in the scripted
// order and fails the test on any other request. The tests then check the
// published objects and the positions stored in the registry.

const caseCollection = "1e71b13a-61a5-4214-96e6-7ebf4e2aaf94"

// caseSettings returns the settings of an input reading the case
// collection by its objects URL.
func caseSettings(p *scriptPeer, extra map[string]any) map[string]any {
	settings := map[string]any{
		"id":       "case",
		"url":      p.objectsURL(),
		"interval": "1h",
		"retry":    map[string]any{"wait_min": "1s", "wait_max": "1m"},
	}
	for k, v := range extra {
		settings[k] = v
	}
	return settings
}

func assertIDs(t *testing.T, got []publishedObject, want ...string) {
	t.Helper()
	if ids := idsOf(got); !slices.Equal(ids, want) {
		t.Errorf("published %v, expected %v", ids, want)
	}
}

func assertPosition(t *testing.T, e *beatEnv, key, want string) {
	t.Helper()
	if got := e.storedPositions()[key]; got != want {
		t.Errorf("stored added_after %q, expected %q", got, want)
	}
}

func assertNoRunErrors(t *testing.T, e *beatEnv) {
	t.Helper()
	for i, err := range e.runErrors() {
		if err != nil {
			t.Errorf("run %d failed: %v", i+1, err)
		}
	}
}

// B01: the next request keeps the first request's added_after and limit.
func TestCaseNextKeepsFilters(t *testing.T) {
	clk := newFakeClock(t, "2024-03-31T00:00:00Z") // initial_interval 720h gives 2024-03-01
	peer := newScriptPeer(t, loadExchanges(t, "B01/exchanges.json"), clk)
	env := startBeat(t, t.TempDir(), clk)
	defer env.Stop()

	pipeline := &inputtest.Pipeline{AutoACK: true}
	env.runPolls(caseSettings(peer, map[string]any{"version": "2.1", "limit": 2}), 2, pipeline)

	peer.assertAllServed()
	assertNoRunErrors(t, env)
	objects := objectsOf(t, pipeline.Published())
	assertIDs(t, objects,
		"indicator--ab236a18-12ba-4308-88fd-f0c6bbebc3a8",
		"indicator--5ebdf41a-52a9-4fa4-8a88-6ab910e4c559",
		"indicator--f9ec238e-797c-495f-a988-a5f6e5b44533")
	for _, o := range objects {
		if o.Source != peer.objectsURL() {
			t.Errorf("url.original %q, expected %q", o.Source, peer.objectsURL())
		}
	}
	assertPosition(t, env, peer.caseKey(), "2024-03-02T10:09:00.000000Z")
}

// B02: more without next continues by date; server timestamps go back
// byte for byte, with + sent as %2B.
func TestCaseMoreWithoutNextAndOffsetTimestamps(t *testing.T) {
	clk := newFakeClock(t, "2024-01-31T00:00:00Z")
	peer := newScriptPeer(t, loadExchanges(t, "B02/exchanges.json"), clk)
	env := startBeat(t, t.TempDir(), clk)
	defer env.Stop()

	pipeline := &inputtest.Pipeline{AutoACK: true}
	env.runPolls(caseSettings(peer, map[string]any{"limit": 2}), 2, pipeline)

	peer.assertAllServed()
	assertNoRunErrors(t, env)
	assertIDs(t, objectsOf(t, pipeline.Published()),
		"indicator--aa1a9401-1539-4e19-bef1-c53e5da72699",
		"indicator--9107fa06-49ba-4d26-946e-a91cc90352cf",
		"indicator--0443f25d-b2ad-412e-b058-23ea4667b13c",
		"indicator--9102cec8-c9f5-4d86-875e-a773c684ea6a",
		"indicator--a9a93ac7-57a8-4d8d-a047-dbd4d062b151")
	requests := peer.seen()
	if len(requests) == 4 {
		for _, i := range []int{2, 3} {
			if !strings.Contains(requests[i].rawQuery, "%2B00%3A00") || strings.Contains(requests[i].rawQuery, "+") {
				t.Errorf("request %d raw query %q, expected the offset's + as %%2B", i+1, requests[i].rawQuery)
			}
		}
	}
	assertPosition(t, env, peer.caseKey(), "2024-01-18T09:00:00.000000+00:00")
}

// B05: empty pages in three forms never move or clear the position.
func TestCaseEmptyPagesKeepPosition(t *testing.T) {
	clk := newFakeClock(t, "2024-05-31T00:00:00Z")
	peer := newScriptPeer(t, loadExchanges(t, "B05/exchanges.json"), clk)
	env := startBeat(t, t.TempDir(), clk)
	defer env.Stop()

	pipeline := &inputtest.Pipeline{AutoACK: true}
	env.runPolls(caseSettings(peer, nil), 4, pipeline)

	peer.assertAllServed()
	assertNoRunErrors(t, env)
	assertIDs(t, objectsOf(t, pipeline.Published()), "indicator--c2d82360-3c5a-4a5b-9e5a-1aec7f5218ed")
	assertPosition(t, env, peer.caseKey(), "2024-05-13T09:00:00.000000Z")
}

// B07: TAXII 2.0 Range paging with and without Content-Range.
func TestCaseTAXII20Paging(t *testing.T) {
	tests := []struct {
		file     string
		requests []string // Range headers
		objects  int
	}{
		{"B07/exchanges_a_206.json", []string{"items 0-1", "items 2-3"}, 3},
		{"B07/exchanges_b_200_no_range.json", []string{"items 0-1"}, 3},
		{"B07/exchanges_c_empty_no_range.json", []string{"items 0-1", "items 2-3"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			clk := newFakeClock(t, "2023-07-01T00:00:00Z")
			peer := newScriptPeer(t, loadExchanges(t, tc.file), clk)
			env := startBeat(t, t.TempDir(), clk)
			defer env.Stop()

			pipeline := &inputtest.Pipeline{AutoACK: true}
			if err := env.RunOnce(caseSettings(peer, map[string]any{"version": "2.0", "limit": 2}), pipeline); err != nil {
				t.Fatalf("run failed: %v", err)
			}

			peer.assertAllServed()
			var ranges []string
			for _, r := range peer.seen() {
				ranges = append(ranges, r.header.Get("Range"))
				if r.query.Has("limit") || r.query.Has("next") {
					t.Errorf("TAXII 2.0 request with TAXII 2.1 parameters: %s", r.rawQuery)
				}
			}
			if !slices.Equal(ranges, tc.requests) {
				t.Errorf("Range headers %q, expected %q", ranges, tc.requests)
			}
			if n := len(pipeline.Published()); n != tc.objects {
				t.Errorf("%d objects published, expected %d", n, tc.objects)
			}
		})
	}
}

// B08: a repeat of the same version and a new version of an object are
// both published; the processors give them the right _id.
func TestCaseInclusiveServerAndRevocation(t *testing.T) {
	clk := newFakeClock(t, "2025-05-30T00:00:00Z")
	script := loadExchanges(t, "B08/exchanges.json")
	peer := newScriptPeer(t, script, clk)
	dir := t.TempDir()

	first := startBeat(t, dir, clk)
	pipeline := &inputtest.Pipeline{AutoACK: true}
	first.runPolls(caseSettings(peer, nil), 2, pipeline)
	first.Stop()

	second := startBeat(t, dir, clk)
	second.runPolls(caseSettings(peer, nil), 1, pipeline)
	defer second.Stop()

	peer.assertAllServed()
	objects := objectsOf(t, pipeline.Published())
	if len(objects) != 5 {
		t.Errorf("%d publications, expected 5 (2 + 2 + 1)", len(objects))
	}
	versions := map[string]bool{}
	for _, o := range objects {
		versions[o.ID+"|"+o.Modified] = true
	}
	if len(versions) != 3 {
		t.Errorf("%d distinct object versions, expected 3: %v", len(versions), versions)
	}
	assertPosition(t, second, peer.caseKey(), "2025-05-02T00:00:00.000000Z")
}

// B09: the position survives restarts, and events that were never
// acknowledged before a kill are fetched again.
func TestCasePositionSurvivesKill(t *testing.T) {
	clk := newFakeClock(t, "2021-04-01T00:00:00Z")
	script := loadExchanges(t, "B09/exchanges.json")
	script.Exchanges[0].Request.Query["added_after"] = formatTimestamp(clk.Now().Add(-150 * time.Hour))
	peer := newScriptPeer(t, script, clk)
	dir := t.TempDir()
	settings := caseSettings(peer, map[string]any{"initial_interval": "150h"})

	// Step 1, acknowledged.
	env := startBeat(t, dir, clk)
	acked := &inputtest.Pipeline{AutoACK: true}
	env.runPolls(settings, 1, acked)
	assertPosition(t, env, peer.caseKey(), "2021-03-28T10:00:00.000000Z")
	env.Stop()

	// Step 2, never acknowledged: the output is down and tibeat is killed.
	env = startBeat(t, dir, clk)
	lost := &inputtest.Pipeline{AutoACK: false}
	env.runPolls(settings, 1, lost)
	assertPosition(t, env, peer.caseKey(), "2021-03-28T10:00:00.000000Z")
	env.Stop()

	// Step 3 requests again from the stored position, and step 4 follows.
	for range 2 {
		env = startBeat(t, dir, clk)
		env.runPolls(settings, 1, acked)
		env.Stop()
	}

	peer.assertAllServed()
	assertIDs(t, objectsOf(t, lost.Published()), "indicator--888c6861-842c-4ce2-b173-08bd3a4cf6de")
	assertIDs(t, objectsOf(t, acked.Published()),
		"indicator--b40aa04a-b4a3-47d2-b088-d2755b0eb490",
		"indicator--888c6861-842c-4ce2-b173-08bd3a4cf6de")
	env = startBeat(t, dir, clk)
	defer env.Stop()
	assertPosition(t, env, peer.caseKey(), "2021-03-29T10:00:00.000000Z")
}

// B10: no Content-Type on GET, the exact Accept header, from discovery on.
func TestCaseNoContentTypeOnGet(t *testing.T) {
	clk := newFakeClock(t, "2025-03-03T00:00:00Z")
	peer := newScriptPeer(t, loadExchanges(t, "B10/exchanges.json"), clk)
	env := startBeat(t, t.TempDir(), clk)
	defer env.Stop()

	pipeline := &inputtest.Pipeline{AutoACK: true}
	if err := env.RunOnce(caseSettings(peer, map[string]any{"url": peer.server.URL + "/taxii2/"}), pipeline); err != nil {
		t.Fatalf("run failed: %v", err)
	}

	peer.assertAllServed()
	assertIDs(t, objectsOf(t, pipeline.Published()), "indicator--d1bae62f-4af9-4981-9346-8096f7789b53")
}

// B10: a 415 names the URL, the status, the server's message and the
// setting that controls the headers; the position does not move.
func TestCaseUnsupportedMediaTypeError(t *testing.T) {
	clk := newFakeClock(t, "2025-03-03T00:00:00Z")
	script := loadExchanges(t, "B10/exchanges.json")
	trap := script.trapReply()
	script.Exchanges = []exchange{{Step: 1, Request: expectedReq{Path: "/api1/collections/" + caseCollection + "/objects/"}, Response: trap}}
	peer := newScriptPeer(t, script, clk)
	env := startBeat(t, t.TempDir(), clk)
	defer env.Stop()

	err := env.RunOnce(caseSettings(peer, nil), &inputtest.Pipeline{AutoACK: true})
	if err == nil {
		t.Fatal("run succeeded, expected a 415 error")
	}
	for _, part := range []string{peer.objectsURL(), "HTTP 415", "Unsupported Media Type: Content-Type not allowed on this request", "version setting"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
	if _, ok := env.storedPositions()[peer.caseKey()]; ok {
		t.Error("a position was stored after a failed request")
	}
}

// B11: non-canonical media types are read, with at most one warning per
// URL.
func TestCaseLenientMediaTypes(t *testing.T) {
	clk := newFakeClock(t, "2024-10-01T00:00:00Z")
	peer := newScriptPeer(t, loadExchanges(t, "B11/exchanges.json"), clk)
	env := startBeat(t, t.TempDir(), clk)
	defer env.Stop()

	pipeline := &inputtest.Pipeline{AutoACK: true}
	env.runPolls(caseSettings(peer, map[string]any{"url": peer.server.URL + "/taxii2/"}), 2, pipeline)

	peer.assertAllServed()
	assertNoRunErrors(t, env)
	assertIDs(t, objectsOf(t, pipeline.Published()), "indicator--b797f0a2-2f6f-43df-9eac-0f55ccd55e5a")
	perURL := map[string]int{}
	for _, entry := range env.logs.FilterMessageSnippet("unexpected media type").All() {
		perURL[entry.ContextMap()["url.original"].(string)]++
	}
	for u, n := range perURL {
		if n > 1 {
			t.Errorf("%d media type warnings for %s, expected at most one", n, u)
		}
	}
	if len(perURL) != 2 {
		t.Errorf("media type warnings for %v, expected the collections list and the objects URL", perURL)
	}
}

// B12: HTML replies are errors with an excerpt, 404 is not retried, 502 is.
func TestCaseHTMLReplies(t *testing.T) {
	clk := newFakeClock(t, "2024-07-17T00:00:00Z")
	peer := newScriptPeer(t, loadExchanges(t, "B12/exchanges.json"), clk)
	env := startBeat(t, t.TempDir(), clk)
	defer env.Stop()

	pipeline := &inputtest.Pipeline{AutoACK: true}
	env.runPolls(caseSettings(peer, nil), 3, pipeline)

	peer.assertAllServed()
	errs := env.runErrors()
	if len(errs) != 3 {
		t.Fatalf("%d runs, expected 3", len(errs))
	}
	wantParts := [][]string{
		{peer.objectsURL(), "HTTP 404", `"text/html; charset=utf-8"`, `"<!DOCTYPE html>\n<html><head><title>Page not found`, "check the url setting"},
		{peer.objectsURL(), "HTTP 200", `"text/html; charset=utf-8"`, "<form action=", "not JSON"},
	}
	for i, parts := range wantParts {
		if errs[i] == nil {
			t.Errorf("run %d succeeded, expected an error", i+1)
			continue
		}
		for _, part := range parts {
			if !strings.Contains(errs[i].Error(), part) {
				t.Errorf("run %d error %q does not contain %q", i+1, errs[i], part)
			}
		}
	}
	if errs[2] != nil {
		t.Errorf("run 3 failed: %v", errs[2])
	}
	if slept := clk.slept(); len(slept) != 1 || slept[0] < time.Second {
		t.Errorf("waits %v, expected one backoff of at least retry.wait_min before retrying the 502", slept)
	}
	assertIDs(t, objectsOf(t, pipeline.Published()), "indicator--47516235-ceae-4e09-b156-9e938396097a")
	assertPosition(t, env, peer.caseKey(), "2024-06-17T05:00:00.000000Z")
}

// B13: 429 waits for Retry-After in both forms and repeats the identical
// request.
func TestCaseRetryAfterMidWalk(t *testing.T) {
	clk := newFakeClock(t, "2025-08-30T00:00:00Z")
	peer := newScriptPeer(t, loadExchanges(t, "B13/exchanges.json"), clk)
	env := startBeat(t, t.TempDir(), clk)
	defer env.Stop()

	pipeline := &inputtest.Pipeline{AutoACK: true}
	if err := env.RunOnce(caseSettings(peer, map[string]any{"limit": 1}), pipeline); err != nil {
		t.Fatalf("run failed: %v", err)
	}

	peer.assertAllServed()
	if slept := clk.slept(); !slices.Equal(slept, []time.Duration{30 * time.Second, 15 * time.Second}) {
		t.Errorf("waits %v, expected 30s (delta-seconds) and 15s (HTTP-date against the reply's Date)", slept)
	}
	requests := peer.seen()
	if gap := requests[2].at.Sub(requests[1].at); gap < 30*time.Second {
		t.Errorf("step 3 came %v after step 2, expected at least 30s", gap)
	}
	if gap := requests[4].at.Sub(requests[3].at); gap < 15*time.Second {
		t.Errorf("step 5 came %v after step 4, expected at least 15s", gap)
	}
	assertIDs(t, objectsOf(t, pipeline.Published()),
		"indicator--1e71b13a-0000-4214-96e6-7ebf4e2aaf01",
		"indicator--1e71b13a-0000-4214-96e6-7ebf4e2aaf02",
		"indicator--1e71b13a-0000-4214-96e6-7ebf4e2aaf03")
	// The walk is shorter than checkpointPages, so its position is written
	// once, with the last object of step 5.
	if got := cursorUpdateIndexes(pipeline.Published()); !slices.Equal(got, []int{2}) {
		t.Errorf("cursor updates on events %v, expected one on the third and last event", got)
	}
	assertPosition(t, env, peer.caseKey(), "2025-08-01T00:02:00.000000Z")
}

// B15: API roots with several path segments or a host-relative path.
func TestCaseAPIRootResolution(t *testing.T) {
	peer := newScriptPeer(t, loadExchanges(t, "B15/exchanges.json"), nil)
	cfg := defaultConfig()
	cfg.URL = peer.server.URL + "/taxii2/"
	log, logs := testLogger(t)
	req := newTestRequester(t, &cfg, newFakeClock(t, "2025-01-01T00:00:00Z"), log)
	d := &discoverer{cfg: &cfg, requester: req, log: log}

	found, err := d.discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	peer.assertAllServed()
	if len(found) != 1 {
		t.Fatalf("%d collections chosen, expected the default root's one", len(found))
	}
	c := found[0]
	if want := peer.server.URL + "/feeds/public/"; c.apiRoot != want {
		t.Errorf("API root %q, expected %q", c.apiRoot, want)
	}
	if want := peer.server.URL + "/feeds/public/collections/a6fac6a0-f347-4cdb-90b0-efc732f876fe/objects/"; c.objects.String() != want {
		t.Errorf("objects URL %q, expected %q", c.objects, want)
	}
	roots := map[string]bool{}
	for _, entry := range logs.FilterMessage("Found TAXII collection").All() {
		roots[entry.ContextMap()["taxii.api_root"].(string)+" "+entry.ContextMap()["taxii.collection.title"].(string)] = true
	}
	for _, want := range []string{
		peer.server.URL + "/some/more/segment/7c41d2e9-5b3a-4f60-9d2e-3f1a8b6c0d47/ deep",
		peer.server.URL + "/feeds/public/ public",
	} {
		if !roots[want] {
			t.Errorf("start-up log does not list %q; it lists %v", want, roots)
		}
	}
}

// B27: tibeat's own added_after has six fractional digits, truncated.
func TestCaseOwnTimestampFormat(t *testing.T) {
	clk := newFakeClock(t, "2024-05-02T08:15:30.123456789Z")
	peer := newScriptPeer(t, loadExchanges(t, "B27/exchanges.json"), clk)
	env := startBeat(t, t.TempDir(), clk)
	defer env.Stop()

	if err := env.RunOnce(caseSettings(peer, map[string]any{"initial_interval": "24h"}), &inputtest.Pipeline{AutoACK: true}); err != nil {
		t.Fatalf("run failed: %v", err)
	}
	peer.assertAllServed()
	if _, ok := env.storedPositions()[peer.caseKey()]; ok {
		t.Error("an empty reply stored a position")
	}
}

func testLogger(t *testing.T) (*logp.Logger, *observer.ObservedLogs) {
	t.Helper()
	return logptest.NewTestingLoggerWithObserver(t, "taxii")
}

// newTestRequester builds the requester of an input with cfg's settings.
func newTestRequester(t *testing.T, cfg *config, clk clock, log *logp.Logger) *requester {
	t.Helper()
	inp := &input{config: *cfg, hooks: hooks{clock: clk}.withDefaults()}
	rt, err := inp.newRuntime(context.Background(), log, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rt.walker.requester
}
