package cel

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"golang.org/x/tools/txtar"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	"github.com/elastic/elastic-agent-libs/monitoring"
)

// b05Host is the placeholder host of the TAXII server in tests/cases/B05.
const b05Host = "https://taxii.example.com"

func readJSONFile(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(data), b05Host, urlPlaceholder)), &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// The golden case taxii21_empty_undefined copies the states of the B05 case;
// this keeps the copies equal to the case.
func TestB05GoldenMatchesCase(t *testing.T) {
	archive, err := txtar.ParseFile("testdata/taxii21_empty_undefined.txtar")
	if err != nil {
		t.Fatal(err)
	}
	g := &goldenCase{archive: archive}
	for section, path := range map[string]string{
		"state.json":      "../../tests/cases/B05/cel_state_before.json",
		"want/state.json": "../../tests/cases/B05/cel_state_after_expected.json",
	} {
		data, ok := g.section(section)
		if !ok {
			t.Fatalf("%s is missing", section)
		}
		var got any
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		if want := readJSONFile(t, path); !reflect.DeepEqual(got, want) {
			t.Errorf("%s is %v, but %s holds %v", section, got, path, want)
		}
	}
}

// b05Exchange is one step of tests/cases/B05/exchanges.json.
type b05Exchange struct {
	Request struct {
		Path    string            `json:"path"`
		Query   map[string]string `json:"query"`
		Headers map[string]string `json:"headers"`
	} `json:"request"`
	Response struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"response"`
}

// TestTAXIIEmptyPagesKeepCursor runs the TAXII program through every step
// of the B05 case, one periodic run per step. The first page moves the
// cursor. The three empty pages that follow keep it without an error: date
// headers containing "undefined", no headers with an empty body, and an
// empty objects list.
func TestTAXIIEmptyPagesKeepCursor(t *testing.T) {
	var script struct {
		Exchanges []b05Exchange `json:"exchanges"`
	}
	data, err := os.ReadFile("../../tests/cases/B05/exchanges.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &script); err != nil {
		t.Fatal(err)
	}
	if len(script.Exchanges) != 4 {
		t.Fatalf("B05 has %d steps, the test expects 4", len(script.Exchanges))
	}

	step := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if step >= len(script.Exchanges) {
			t.Errorf("unexpected request %s", r.URL)
			http.Error(w, "no step left", http.StatusInternalServerError)
			return
		}
		ex := script.Exchanges[step]
		step++
		if r.URL.Path != ex.Request.Path {
			t.Errorf("step %d: path %s, expected %s", step, r.URL.Path, ex.Request.Path)
		}
		for k, v := range ex.Request.Query {
			if got := r.URL.Query().Get(k); got != v {
				t.Errorf("step %d: query %s=%q, expected %q", step, k, got, v)
			}
		}
		for k, v := range ex.Request.Headers {
			if got := r.Header.Get(k); got != v {
				t.Errorf("step %d: header %s=%q, expected %q", step, k, got, v)
			}
		}
		for k, v := range ex.Response.Headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(ex.Response.Status)
		w.Write(ex.Response.Body)
	}))
	defer srv.Close()

	program, err := os.ReadFile("testdata/programs/taxii21.cel")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := unpackConfig(map[string]any{
		"program":                     string(program),
		"resource.url":                srv.URL + "/api1/collections/1e71b13a-61a5-4214-96e6-7ebf4e2aaf94/objects/",
		"resource.retry.max_attempts": 1,
		"redact.fields":               []string{},
		// The first step requests objects added after 2024-05-01, 720h
		// before this clock.
		"state": map[string]any{"initial_interval": "720h"},
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2024, 5, 31, 0, 0, 0, 0, time.UTC)
	inp := &input{config: cfg, clock: func() time.Time { return clock }}
	log, logs := newObservedLogger(t)
	pub := &recordingPublisher{}
	ctx := context.Background()
	r, err := inp.newRunner(ctx, v2.Context{Logger: log, MetricsRegistry: monitoring.NewRegistry()}, log, nil, pub)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()

	want := map[string]any{"last_timestamp": "2024-05-13T09:00:00.000000Z"}
	for i := range script.Exchanges {
		if err := r.period(ctx, clock); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if !reflect.DeepEqual(r.cursor, want) {
			t.Fatalf("after run %d the cursor is %v, expected %v", i+1, r.cursor, want)
		}
	}
	if step != 4 {
		t.Fatalf("the program made %d requests, expected 4", step)
	}
	if len(pub.events) != 1 {
		t.Fatalf("published %d events, expected the one indicator of step 1", len(pub.events))
	}
	if n := logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 0 {
		t.Fatalf("%d errors logged, expected none: %v", n, logs.All())
	}
	if len(pub.cursors) != 1 {
		t.Fatalf("%d cursor updates, expected only the one of step 1: %v", len(pub.cursors), pub.cursors)
	}
}
