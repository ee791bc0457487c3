package cel

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/feature"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/monitoring"

	"github.com/tibeat/tibeat/input/internal/inputtest"
	"github.com/tibeat/tibeat/internal/runmode"
)

// beatEnv is one start of the Beat with the cel plugin.
type beatEnv struct {
	*inputtest.Beat
	t *testing.T
}

func startBeat(t *testing.T, registryDir string) *beatEnv {
	t.Helper()
	return &beatEnv{Beat: inputtest.StartBeat(t, registryDir, logp.NewNopLogger(), Plugin), t: t}
}

// runOnce creates the input from settings and runs it with --once.
func (e *beatEnv) runOnce(settings map[string]any, pipeline beat.PipelineConnector) {
	e.t.Helper()
	if err := e.RunOnce(settings, pipeline); err != nil {
		e.t.Fatal(err)
	}
}

// pagedAPI serves /pages?page=N: one object per page, more until last.
// last may change between runs; an empty page has no objects.
type pagedAPI struct {
	mu        sync.Mutex
	last      int
	emptyFrom int // pages at or after this one are empty; 0 for none
	requested []int
}

func (a *pagedAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	page, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil {
		http.Error(w, "page is required", http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	a.requested = append(a.requested, page)
	last, emptyFrom := a.last, a.emptyFrom
	a.mu.Unlock()
	objects := []any{map[string]any{
		"type": "indicator", "spec_version": "2.1",
		"id":      fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", page),
		"pattern": fmt.Sprintf("[ipv4-addr:value = '192.0.2.%d']", page), "pattern_type": "stix",
	}}
	if emptyFrom != 0 && page >= emptyFrom {
		objects = []any{}
	}
	json.NewEncoder(w).Encode(map[string]any{"objects": objects, "more": page < last})
}

func (a *pagedAPI) requests() []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.requested
	a.requested = nil
	return out
}

// pagedProgram requests the page after the one in the cursor, and wants more
// while the API reports more.
const pagedProgram = `
int(state.?cursor.?page.orValue(0)).as(done,
  get(state.url + "?page=" + string(done + 1)).as(resp,
    bytes(resp.Body).decode_json().as(body, {
      "events": body.objects,
      "cursor": {"page": done + 1},
      "want_more": body.more,
    })
  )
)
`

func pagedSettings(url string) map[string]any {
	return map[string]any{
		"id":                          "paged",
		"program":                     pagedProgram,
		"resource.url":                url + "/pages",
		"resource.retry.max_attempts": 1,
		"redact.fields":               []string{},
	}
}

func TestPlugin(t *testing.T) {
	p := Plugin(logp.NewNopLogger(), nil)
	if p.Name != "cel" || p.Stability != feature.Beta {
		t.Fatalf("plugin %q with stability %v, expected cel and beta", p.Name, p.Stability)
	}
	m, ok := p.Manager.(*cursor.InputManager)
	if !ok || m.Type != "cel" {
		t.Fatalf("manager %T, expected a cursor.InputManager of type cel", p.Manager)
	}
}

func TestCursorSurvivesRestart(t *testing.T) {
	api := &pagedAPI{last: 2}
	srv := httptest.NewServer(api)
	defer srv.Close()
	registryDir := t.TempDir()

	env := startBeat(t, registryDir)
	first := &inputtest.Pipeline{AutoACK: true}
	env.runOnce(pagedSettings(srv.URL), first)
	env.Stop()
	if got := api.requests(); fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("first run requested pages %v, expected [1 2]", got)
	}
	if n := len(first.Published()); n != 2 {
		t.Fatalf("first run published %d events, expected 2", n)
	}

	api.mu.Lock()
	api.last = 3
	api.mu.Unlock()
	env = startBeat(t, registryDir)
	defer env.Stop()
	if c := env.StoredCursor(); c["page"] != 2.0 {
		t.Fatalf("registry holds cursor %v after the first run, expected page 2", c)
	}
	second := &inputtest.Pipeline{AutoACK: true}
	env.runOnce(pagedSettings(srv.URL), second)
	if got := api.requests(); fmt.Sprint(got) != "[3]" {
		t.Fatalf("second run requested pages %v, expected [3] from the stored cursor", got)
	}
	events := second.Published()
	if len(events) != 1 {
		t.Fatalf("second run published %d events, expected 1", len(events))
	}
	if msg := events[0].Fields["message"].(string); !containsID(msg, 3) {
		t.Fatalf("second run published %s, expected the object of page 3", msg)
	}
}

func TestUnacknowledgedEventsComeAgain(t *testing.T) {
	api := &pagedAPI{last: 3}
	srv := httptest.NewServer(api)
	defer srv.Close()
	registryDir := t.TempDir()

	// Nothing acknowledged: a restart requests everything again and
	// publishes the same content.
	env := startBeat(t, registryDir)
	unacked := &inputtest.Pipeline{}
	env.runOnce(pagedSettings(srv.URL), unacked)
	env.Stop()
	api.requests()

	env = startBeat(t, registryDir)
	again := &inputtest.Pipeline{}
	env.runOnce(pagedSettings(srv.URL), again)
	if got := api.requests(); fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("restart after no acknowledgement requested pages %v, expected [1 2 3]", got)
	}
	before, after := unacked.Published(), again.Published()
	if len(before) != 3 || len(after) != 3 {
		t.Fatalf("runs published %d and %d events, expected 3 each", len(before), len(after))
	}
	for i := range before {
		if before[i].Fields["message"] != after[i].Fields["message"] {
			t.Fatalf("event %d differs after the restart: %v, then %v", i, before[i].Fields["message"], after[i].Fields["message"])
		}
	}

	// One of three acknowledged: its cursor (page 1) is stored, and the
	// other two pages come again.
	again.ACK(1)
	env.Stop()
	api.requests()
	env = startBeat(t, registryDir)
	defer env.Stop()
	if c := env.StoredCursor(); c["page"] != 1.0 {
		t.Fatalf("registry holds cursor %v, expected page 1 of the acknowledged event", c)
	}
	third := &inputtest.Pipeline{AutoACK: true}
	env.runOnce(pagedSettings(srv.URL), third)
	if got := api.requests(); fmt.Sprint(got) != "[2 3]" {
		t.Fatalf("restart after one acknowledged event requested pages %v, expected [2 3]", got)
	}
	events := third.Published()
	if len(events) != 2 || events[0].Fields["message"] != after[1].Fields["message"] {
		t.Fatalf("restart published %v, expected pages 2 and 3 as before", events)
	}
}

func TestEmptyEvaluationStoresCursor(t *testing.T) {
	api := &pagedAPI{last: 2, emptyFrom: 2}
	srv := httptest.NewServer(api)
	defer srv.Close()
	registryDir := t.TempDir()

	env := startBeat(t, registryDir)
	pipeline := &inputtest.Pipeline{AutoACK: true}
	env.runOnce(pagedSettings(srv.URL), pipeline)
	env.Stop()
	if n := len(pipeline.Published()); n != 1 {
		t.Fatalf("published %d events, expected 1: page 2 is empty", n)
	}

	env = startBeat(t, registryDir)
	defer env.Stop()
	if c := env.StoredCursor(); c["page"] != 2.0 {
		t.Fatalf("registry holds cursor %v, expected page 2 from the empty evaluation", c)
	}
}

func containsID(message string, page int) bool {
	var obj map[string]any
	if err := json.Unmarshal([]byte(message), &obj); err != nil {
		return false
	}
	return obj["id"] == fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", page)
}

func TestRunPollsUntilStopped(t *testing.T) {
	api := &pagedAPI{last: 1}
	srv := httptest.NewServer(api)
	defer srv.Close()
	cfg, err := unpackConfig(map[string]any{
		"program":                     `get(state.url + "?page=1").as(r, {"events": [], "n": r.StatusCode, "want_more": false})`,
		"resource.url":                srv.URL + "/pages",
		"resource.retry.max_attempts": 1,
		"interval":                    "10ms",
		"redact.fields":               []string{},
	})
	if err != nil {
		t.Fatal(err)
	}

	inp := &input{config: cfg}
	ctx, cancel := context.WithCancel(context.Background())
	reg := monitoring.NewRegistry()
	done := make(chan error, 1)
	go func() {
		done <- inp.run(v2.Context{Cancelation: ctx, Logger: logp.NewNopLogger(), MetricsRegistry: reg}, nil, &recordingPublisher{})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		api.mu.Lock()
		n := len(api.requested)
		api.mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests after 10s, expected one per 10ms interval", n)
		}
		time.Sleep(5 * time.Millisecond)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after a stop, expected nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after the stop")
	}

	snapshot := monitoring.CollectFlatSnapshot(reg, monitoring.Full, false)
	if got := snapshot.Ints["cel_executions"]; got < 3 {
		t.Errorf("cel_executions %d, expected at least 3", got)
	}
	if got := snapshot.Ints["http_request_total"]; got < 3 {
		t.Errorf("http_request_total %d, expected at least 3", got)
	}
	if got := snapshot.Strings["resource"]; got != srv.URL+"/pages" {
		t.Errorf("resource %q, expected %s/pages", got, srv.URL)
	}
}

func TestMetricsCountEventsAndErrors(t *testing.T) {
	cfg, err := unpackConfig(map[string]any{
		"program":       `{"events": [{"type": "indicator", "id": "indicator--1"}, {"error": {"message": "bad"}}], "want_more": false}`,
		"resource.url":  "http://127.0.0.1:1/unused",
		"redact.fields": []string{},
	})
	if err != nil {
		t.Fatal(err)
	}
	reg := monitoring.NewRegistry()
	runmode.SetOnce(true)
	defer runmode.SetOnce(false)
	inp := &input{config: cfg}
	if err := inp.run(v2.Context{Cancelation: context.Background(), Logger: logp.NewNopLogger(), MetricsRegistry: reg}, nil, &recordingPublisher{}); err != nil {
		t.Fatal(err)
	}
	snapshot := monitoring.CollectFlatSnapshot(reg, monitoring.Full, false)
	for name, want := range map[string]int64{
		"cel_executions":         1,
		"events_received_total":  2,
		"events_published_total": 2,
		"error_events_total":     1,
		"cel_errors_total":       0,
	} {
		if got := snapshot.Ints[name]; got != want {
			t.Errorf("%s is %d, expected %d", name, got, want)
		}
	}
}
