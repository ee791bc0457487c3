package taxii

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tibeat/tibeat/input/internal/inputtest"
)

// Objects of the manifest tests: two indicators and an observable, which
// has no modified or created and so only one version.
const (
	manifestIndicatorA = `{"type": "indicator", "spec_version": "2.1", "id": "indicator--6b5e1a10-0000-4000-8000-000000000001", "created": "2024-01-30T00:00:00.000Z", "modified": "2024-01-31T10:00:00.000Z", "pattern": "[ipv4-addr:value = '192.0.2.1']", "pattern_type": "stix", "valid_from": "2024-01-30T00:00:00.000Z"}`
	manifestIndicatorB = `{"type": "indicator", "spec_version": "2.1", "id": "indicator--6b5e1a10-0000-4000-8000-000000000002", "created": "2024-01-30T00:00:00.000Z", "modified": "2024-01-31T11:00:00.000Z", "pattern": "[ipv4-addr:value = '192.0.2.2']", "pattern_type": "stix", "valid_from": "2024-01-30T00:00:00.000Z"}`
	manifestObservable = `{"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--6b5e1a10-0000-4000-8000-000000000003", "value": "192.0.2.3"}`
)

var manifestIDs = "indicator--6b5e1a10-0000-4000-8000-000000000001,indicator--6b5e1a10-0000-4000-8000-000000000002,ipv4-addr--6b5e1a10-0000-4000-8000-000000000003"

func taxiiReply(body string) scriptedResp {
	return scriptedResp{Status: 200, Headers: map[string]string{"Content-Type": acceptTAXII21}, Body: json.RawMessage(body)}
}

func objectsRequest(query map[string]string) expectedReq {
	return expectedReq{Method: "GET", Path: "/api1/collections/" + caseCollection + "/objects/", Query: query}
}

func manifestRequest(query map[string]string) expectedReq {
	return expectedReq{Method: "GET", Path: "/api1/collections/" + caseCollection + "/manifest/", Query: query, QueryAbsent: []string{"next"}}
}

// A page without X-TAXII-Date-Added-Last requests the manifest of its objects
// with the walk's filters, and the position becomes the greatest
// date_added of the versions received, as the server wrote it. A newer
// version listed by the manifest is ignored, and a manifest whose dates
// are older than the stored position does not move it back.
func TestManifestGivesPosition(t *testing.T) {
	clk := newFakeClock(t, "2024-02-01T00:00:00Z")
	page := `{"more": false, "objects": [` + manifestIndicatorA + `,` + manifestIndicatorB + `,` + manifestObservable + `]}`
	manifest := `{"more": false, "objects": [
		{"id": "indicator--6b5e1a10-0000-4000-8000-000000000001", "date_added": "2024-01-31T12:00:00.123Z", "version": "2024-01-31T10:00:00.000000Z", "media_type": "application/stix+json;version=2.1"},
		{"id": "indicator--6b5e1a10-0000-4000-8000-000000000002", "date_added": "2024-01-31T12:00:01.5+00:00", "version": "2024-01-31T11:00:00Z", "media_type": "application/stix+json;version=2.1"},
		{"id": "indicator--6b5e1a10-0000-4000-8000-000000000002", "date_added": "2024-01-31T23:00:00Z", "version": "2024-01-31T22:00:00Z", "media_type": "application/stix+json;version=2.1"},
		{"id": "ipv4-addr--6b5e1a10-0000-4000-8000-000000000003", "date_added": "2024-01-31T12:00:01Z", "version": "2024-01-31T12:00:01Z", "media_type": "application/stix+json;version=2.1"}
	]}`
	olderManifest := `{"more": false, "objects": [
		{"id": "indicator--6b5e1a10-0000-4000-8000-000000000001", "date_added": "2024-01-20T00:00:00Z", "version": "2024-01-31T10:00:00.000Z"}
	]}`
	const position = "2024-01-31T12:00:01.5+00:00"
	filters := map[string]string{"limit": "3", "match[type]": "indicator,ipv4-addr"}
	with := func(extra map[string]string) map[string]string {
		q := map[string]string{}
		for k, v := range filters {
			q[k] = v
		}
		for k, v := range extra {
			q[k] = v
		}
		return q
	}
	script := &exchangeFile{Exchanges: []exchange{
		{Step: 1, Request: objectsRequest(with(map[string]string{"added_after": "2024-01-31T00:00:00.000000Z"})), Response: taxiiReply(page)},
		{Step: 2, Request: manifestRequest(with(map[string]string{"added_after": "2024-01-31T00:00:00.000000Z", "match[id]": manifestIDs})), Response: taxiiReply(manifest)},
		{Step: 3, Request: objectsRequest(with(map[string]string{"added_after": position})), Response: taxiiReply(`{"more": false, "objects": [` + manifestIndicatorA + `]}`)},
		{Step: 4, Request: manifestRequest(with(map[string]string{"added_after": position, "match[id]": "indicator--6b5e1a10-0000-4000-8000-000000000001"})), Response: taxiiReply(olderManifest)},
		{Step: 5, Request: objectsRequest(with(map[string]string{"added_after": position})), Response: taxiiReply(`{}`)},
	}}
	peer := newScriptPeer(t, script, clk)
	env := startBeat(t, t.TempDir(), clk)
	defer env.Stop()

	pipeline := &inputtest.Pipeline{AutoACK: true}
	env.runPolls(caseSettings(peer, map[string]any{
		"initial_interval": "24h", "limit": 3, "match": map[string]any{"type": []string{"indicator", "ipv4-addr"}},
	}), 3, pipeline)

	peer.assertAllServed()
	assertNoRunErrors(t, env)
	if n := len(pipeline.Published()); n != 4 {
		t.Errorf("%d objects published, expected 3 in the first run and 1 in the second", n)
	}
	assertPosition(t, env, peer.caseKey(), position)
	if used := env.logs.FilterMessageSnippet("date_added values of the collection's manifest").Len(); used != 1 {
		t.Errorf("%d logs about the manifest fallback, expected 1", used)
	}
}

// A manifest that cannot be read keeps the stored position and does not
// fail the run.
func TestManifestFailureKeepsPosition(t *testing.T) {
	clk := newFakeClock(t, "2024-02-01T00:00:00Z")
	notFound := scriptedResp{Status: 404, Headers: map[string]string{"Content-Type": acceptTAXII21}, Body: json.RawMessage(`{"title": "Not Found"}`)}
	script := &exchangeFile{Exchanges: []exchange{
		{Step: 1, Request: objectsRequest(map[string]string{"added_after": "2024-01-31T00:00:00.000000Z", "limit": "3"}),
			Response: scriptedResp{Status: 200, Headers: map[string]string{
				"Content-Type": acceptTAXII21, "X-TAXII-Date-Added-First": "2024-01-31T09:00:00Z", "X-TAXII-Date-Added-Last": "2024-01-31T09:00:00Z",
			}, Body: json.RawMessage(`{"more": false, "objects": [` + manifestIndicatorA + `]}`)}},
		{Step: 2, Request: objectsRequest(map[string]string{"added_after": "2024-01-31T09:00:00Z", "limit": "3"}),
			Response: taxiiReply(`{"more": false, "objects": [` + manifestIndicatorB + `]}`)},
		{Step: 3, Request: manifestRequest(map[string]string{"added_after": "2024-01-31T09:00:00Z", "limit": "3", "match[id]": "indicator--6b5e1a10-0000-4000-8000-000000000002"}), Response: notFound},
		{Step: 4, Request: objectsRequest(map[string]string{"added_after": "2024-01-31T09:00:00Z", "limit": "3"}), Response: taxiiReply(`{}`)},
	}}
	peer := newScriptPeer(t, script, clk)
	env := startBeat(t, t.TempDir(), clk)
	defer env.Stop()

	pipeline := &inputtest.Pipeline{AutoACK: true}
	env.runPolls(caseSettings(peer, map[string]any{"initial_interval": "24h", "limit": 3}), 3, pipeline)

	peer.assertAllServed()
	assertNoRunErrors(t, env)
	assertPosition(t, env, peer.caseKey(), "2024-01-31T09:00:00Z")
	warnings := env.logs.FilterMessageSnippet("manifest could not be read").All()
	if len(warnings) != 1 {
		t.Fatalf("%d warnings about the manifest, expected 1", len(warnings))
	}
	if msg, _ := warnings[0].ContextMap()["error"].(string); !strings.Contains(msg, "HTTP 404") {
		t.Errorf("warning error %q, expected the manifest's HTTP 404", msg)
	}
	// The manifest was not read, so nothing may claim it lacked date_added.
	if n := env.logs.FilterMessageSnippet("no date_added in the manifest").Len(); n != 0 {
		t.Errorf("%d warnings say the manifest had no date_added, expected none", n)
	}
}

func TestChunkIDsBoundsLength(t *testing.T) {
	ids := []string{"aaaa", "bbbb", "cccc", "dddddddddddd", "ee"}
	got := chunkIDs(ids, 9)
	want := [][]string{{"aaaa", "bbbb"}, {"cccc"}, {"dddddddddddd"}, {"ee"}}
	if len(got) != len(want) {
		t.Fatalf("chunks %q, expected %q", got, want)
	}
	for i := range want {
		if strings.Join(got[i], ",") != strings.Join(want[i], ",") {
			t.Errorf("chunk %d %q, expected %q", i, got[i], want[i])
		}
	}
}
