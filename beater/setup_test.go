package beater

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/elastic/beats/v7/libbeat/beat"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/paths"
)

// presetBeat returns a Beat whose home holds one module with a pipeline,
// enabled in modules.d.
func presetBeat(t *testing.T) *beat.Beat {
	t.Helper()
	home := t.TempDir()
	files := map[string]string{
		"module/feed/drop/manifest.yml":        "input: config/input.yml\ningest_pipeline: ingest/pipeline.yml\n",
		"module/feed/drop/config/input.yml":    "type: logfile\npaths: [\"/nonexistent/*\"]\n",
		"module/feed/drop/ingest/pipeline.yml": "processors:\n  - set: {field: a, value: b}\n",
		"modules.d/feed.yml":                   "- module: feed\n",
	}
	for name, content := range files {
		path := filepath.Join(home, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &beat.Beat{
		Info:       beat.Info{Beat: "tibeat", Version: "9.3.0", Logger: logp.NewNopLogger()},
		BeatConfig: conf.NewConfig(),
		Paths:      &paths.Path{Home: home, Config: home, Data: filepath.Join(home, "data"), Logs: filepath.Join(home, "logs")},
		InSetupCmd: true,
	}
}

func TestEnabledPresetsRenderInputs(t *testing.T) {
	b := presetBeat(t)

	p, err := enabledPresets(b)

	if err != nil {
		t.Fatal(err)
	}
	if len(p.inputs) != 1 {
		t.Fatalf("inputs = %d, want 1", len(p.inputs))
	}
	id, _ := p.inputs[0].String("id", -1)
	if id != "feed-drop" {
		t.Errorf("input id = %q, want feed-drop", id)
	}
	list, err := p.pipelines(b.Info.Version, false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, pl := range list {
		names = append(names, pl.Name)
	}
	if strings.Join(names, ",") != "logs-ti_tibeat.indicator-9.3.0,logs-ti_tibeat.indicator-9.3.0-feed" {
		t.Errorf("pipelines = %v", names)
	}
}

func TestSetupPipelinesCallbackLoadsAndOverwrites(t *testing.T) {
	var (
		mu   sync.Mutex
		puts []string
	)
	es := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/" {
			w.Write([]byte(`{"version":{"number":"9.3.0"}}`))
			return
		}
		mu.Lock()
		puts = append(puts, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.Write([]byte(`{"acknowledged":true}`))
	}))
	defer es.Close()
	b := presetBeat(t)
	p, err := enabledPresets(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := registerPipelineLoading(b, p, logp.NewNopLogger()); err != nil {
		t.Fatal(err)
	}

	err = b.OverwritePipelinesCallback(conf.MustNewConfigFrom(map[string]any{"hosts": []string{es.URL}}))

	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(puts)
	want := "PUT /_ingest/pipeline/logs-ti_tibeat.indicator-9.3.0,PUT /_ingest/pipeline/logs-ti_tibeat.indicator-9.3.0-feed"
	if got := strings.Join(puts, ","); got != want {
		t.Errorf("requests = %s, want %s (overwrite, so no existence check)", got, want)
	}
}
