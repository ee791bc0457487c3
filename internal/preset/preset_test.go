package preset

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/paths"
)

// writeFiles creates files under root from a map of relative path to
// content.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const testManifest = `
var:
  - name: url
    required: true
    description: set it to the feed's URL
  - name: interval
    default: 5m
  - name: tags
    default: []
input: config/input.yml
ingest_pipeline: ingest/pipeline.yml
`

const testInput = `type: taxii
url: {{ tojson .url }}
interval: {{ tojson .interval }}
{{- if .tags }}
tags: {{ tojson .tags }}
{{- end }}
`

const testPipeline = `
description: test
processors:
  - set:
      field: threat.indicator.provider
      copy_from: threat.feed.name
`

func newTestLoader(t *testing.T, modulesFile string) *Loader {
	t.Helper()
	home := t.TempDir()
	writeFiles(t, home, map[string]string{
		"module/feed/collection/manifest.yml":        testManifest,
		"module/feed/collection/config/input.yml":    testInput,
		"module/feed/collection/ingest/pipeline.yml": testPipeline,
		"module/other/drop/manifest.yml":             "input: config/input.yml\n",
		"module/other/drop/config/input.yml":         "type: logfile\npaths: [\"${path.data}/drop/*\"]\n",
		"modules.d/feed.yml":                         modulesFile,
		"modules.d/other.yml.disabled":               "- module: other\n",
	})
	p := &paths.Path{Home: home, Config: home, Data: filepath.Join(home, "data"), Logs: filepath.Join(home, "logs")}
	l, err := NewLoader(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestEnabledRendersTheInput(t *testing.T) {
	l := newTestLoader(t, `
- module: feed
  collection:
    var.url: http://127.0.0.1:9/taxii2/
    var.tags: [a, "b: c"]
`)

	filesets, err := l.Enabled()
	if err != nil {
		t.Fatal(err)
	}
	if len(filesets) != 1 || filesets[0].Module != "feed" || filesets[0].Name != "collection" {
		t.Fatalf("filesets = %+v, want feed/collection only", filesets)
	}
	cfg, err := filesets[0].InputConfig()
	if err != nil {
		t.Fatal(err)
	}

	var input struct {
		Type       string           `config:"type"`
		ID         string           `config:"id"`
		URL        string           `config:"url"`
		Interval   string           `config:"interval"`
		Tags       []string         `config:"tags"`
		Processors []map[string]any `config:"processors"`
	}
	if err := cfg.Unpack(&input); err != nil {
		t.Fatal(err)
	}
	if input.Type != "taxii" || input.URL != "http://127.0.0.1:9/taxii2/" || input.Interval != "5m" {
		t.Errorf("input = %+v", input)
	}
	if input.ID != "feed-collection" {
		t.Errorf("id = %q, want feed-collection", input.ID)
	}
	if strings.Join(input.Tags, "|") != "a|b: c" {
		t.Errorf("tags = %q: a value with a colon must survive the template", input.Tags)
	}
	last := input.Processors[len(input.Processors)-1]["add_fields"].(map[string]any)
	if last["target"] != "event" || last["fields"].(map[string]any)["module"] != "feed" {
		t.Errorf("last processor = %v, want add_fields event.module: feed", last)
	}
}

func TestInputOverridesAndUserProcessors(t *testing.T) {
	l := newTestLoader(t, `
- module: feed
  collection:
    var.url: http://127.0.0.1:9/
    input:
      id: my-feed
      interval: 1h
      processors:
        - drop_fields: {fields: [message]}
`)
	filesets, err := l.Enabled()
	if err != nil {
		t.Fatal(err)
	}

	cfg, err := filesets[0].InputConfig()
	if err != nil {
		t.Fatal(err)
	}

	var input struct {
		ID         string           `config:"id"`
		Interval   string           `config:"interval"`
		Processors []map[string]any `config:"processors"`
	}
	if err := cfg.Unpack(&input); err != nil {
		t.Fatal(err)
	}
	if input.ID != "my-feed" || input.Interval != "1h" {
		t.Errorf("input = %+v, want the overrides", input)
	}
	if len(input.Processors) != 2 {
		t.Fatalf("processors = %v, want the user's then add_fields", input.Processors)
	}
	if _, ok := input.Processors[0]["drop_fields"]; !ok {
		t.Errorf("first processor = %v, want the user's", input.Processors[0])
	}
}

func TestEnabledRejectsBadModuleFiles(t *testing.T) {
	tests := []struct {
		name, file, wantErr string
	}{
		{"missing required variable", "- module: feed\n", "missing var.url: set it to the feed's URL"},
		{"unknown variable", "- module: feed\n  collection:\n    var.url: x\n    var.urls: y\n", "unknown variable var.urls"},
		{"unknown fileset", "- module: feed\n  collections: {}\n", `has no fileset "collections"`},
		{
			"input setting outside input",
			"- module: feed\n  collection:\n    var.url: x\n    interval: 1h\n    inptu: {tags: [a]}\n",
			"module feed, fileset collection: unknown settings inptu (did you mean input?), interval: a fileset takes enabled, var.<name> and input.<setting>",
		},
		{"unknown module", "- module: nothing\n", "not found"},
		{"invalid module name", "- module: ../feed\n", "invalid module name"},
		{"no module", "- enabled: true\n", "missing module"},
		{"listed twice", "- module: feed\n  collection.var.url: x\n- module: feed\n  collection.var.url: y\n", "enabled twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLoader(t, tt.file)

			_, err := l.Enabled()

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestDisabledModulesAndFilesetsAreSkipped(t *testing.T) {
	tests := []struct{ name, file string }{
		{"module disabled", "- module: feed\n  enabled: false\n"},
		{"fileset disabled", "- module: feed\n  collection:\n    enabled: false\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLoader(t, tt.file)

			filesets, err := l.Enabled()

			if err != nil {
				t.Fatal(err)
			}
			if len(filesets) != 0 {
				t.Errorf("filesets = %v, want none", filesets)
			}
		})
	}
}

func TestPathVariablesResolve(t *testing.T) {
	l := newTestLoader(t, "- module: other\n")
	filesets, err := l.Enabled()
	if err != nil {
		t.Fatal(err)
	}

	cfg, err := filesets[0].InputConfig()
	if err != nil {
		t.Fatal(err)
	}

	var input struct {
		Paths []string `config:"paths"`
	}
	if err := cfg.Unpack(&input); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(l.Paths.Data, "drop") + "/*"
	if len(input.Paths) != 1 || input.Paths[0] != want {
		t.Errorf("paths = %v, want [%s]", input.Paths, want)
	}
}

func TestPipelinesAreNamedForTheModule(t *testing.T) {
	l := newTestLoader(t, "- module: feed\n  collection.var.url: x\n")
	filesets, err := l.Enabled()
	if err != nil {
		t.Fatal(err)
	}

	pipelines, err := Pipelines("9.3.0", filesets)

	if err != nil {
		t.Fatal(err)
	}
	if len(pipelines) != 1 || pipelines[0].Name != "logs-ti_tibeat.indicator-9.3.0-feed" {
		t.Fatalf("pipelines = %v", pipelines)
	}
	set := pipelines[0].Body["processors"].([]any)[0].(map[string]any)["set"].(map[string]any)
	if set["field"] != "threat.indicator.provider" {
		t.Errorf("set field = %v, want the dotted field name kept as a value", set["field"])
	}
}

func TestAllIgnoresRequiredVariables(t *testing.T) {
	l := newTestLoader(t, "[]\n")

	filesets, err := l.All()

	if err != nil {
		t.Fatal(err)
	}
	if len(filesets) != 2 {
		t.Errorf("filesets = %d, want both modules", len(filesets))
	}
}

func TestModulesPathSetting(t *testing.T) {
	p := &paths.Path{Home: "/home", Config: "/etc/tibeat", Data: "/data", Logs: "/logs"}
	tests := []struct {
		settings map[string]any
		want     string
		wantErr  string
	}{
		{nil, "/etc/tibeat/modules.d/*.yml", ""},
		{map[string]any{"config.modules.path": "presets/*.yml"}, "/etc/tibeat/presets/*.yml", ""},
		{map[string]any{"config.modules.path": "/opt/presets/*.yml"}, "/opt/presets/*.yml", ""},
		{map[string]any{"config.modules.path": "/opt/presets/*"}, "", "must end with *.yml"},
	}
	for _, tt := range tests {
		var cfg *conf.C
		if tt.settings != nil {
			cfg = conf.MustNewConfigFrom(tt.settings)
		}

		l, err := NewLoader(cfg, p)

		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: error = %v, want %q", tt.settings, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if l.Glob != tt.want {
			t.Errorf("%v: glob = %q, want %q", tt.settings, l.Glob, tt.want)
		}
	}
}

// TestBundledPresetsRender loads the repository's own modules with their
// required variables set and checks each renders an input of a known type
// and, where it has one, a pipeline.
func TestBundledPresetsRender(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	repo := filepath.Join(filepath.Dir(file), "..", "..")
	config := t.TempDir()
	writeFiles(t, config, map[string]string{"modules.d/all.yml": `
- module: taxii
  collection.var.url: http://127.0.0.1:9/taxii2/
- module: mitre_attack
  attack.var.url: http://127.0.0.1:9/taxii2/
- module: isac
  indicators:
    var.url: http://127.0.0.1:9/taxii2/
    var.feed_name: Example ISAC
    var.username: reader
    var.password: secret
- module: folder
`})
	l, err := NewLoader(nil, &paths.Path{Home: repo, Config: config, Data: t.TempDir(), Logs: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}

	filesets, err := l.Enabled()
	if err != nil {
		t.Fatal(err)
	}

	types := map[string]string{}
	for _, f := range filesets {
		cfg, err := f.InputConfig()
		if err != nil {
			t.Fatal(err)
		}
		typ, err := cfg.String("type", -1)
		if err != nil {
			t.Fatal(err)
		}
		types[f.Module] = typ
	}
	want := map[string]string{"taxii": "taxii", "mitre_attack": "taxii", "isac": "taxii", "folder": "logfile"}
	for module, typ := range want {
		if types[module] != typ {
			t.Errorf("module %s: input type %q, want %q", module, types[module], typ)
		}
	}
	pipelines, err := Pipelines("9.3.0", filesets)
	if err != nil {
		t.Fatal(err)
	}
	if len(pipelines) != 2 {
		t.Errorf("pipelines = %d, want mitre_attack's and isac's", len(pipelines))
	}
}
