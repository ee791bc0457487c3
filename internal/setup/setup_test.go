package setup

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/idxmgmt/lifecycle"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/mapstr"
	"github.com/elastic/elastic-agent-libs/version"
)

const testVersion = "9.3.0"

func testInfo(t *testing.T) beat.Info {
	t.Helper()
	return beat.Info{Beat: "tibeat", IndexPrefix: "tibeat", Version: testVersion, Logger: logp.NewNopLogger()}
}

func rootConfig(t *testing.T, settings map[string]any) *conf.C {
	t.Helper()
	c, err := conf.NewConfigFrom(settings)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestReadConfigDefaults(t *testing.T) {
	cfg, err := ReadConfig(rootConfig(t, map[string]any{"tibeat.inputs": []any{}}))

	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataStream.Namespace != "default" {
		t.Errorf("namespace = %q, want default", cfg.DataStream.Namespace)
	}
	if cfg.DataStream.Retention != "30d" {
		t.Errorf("retention = %q, want 30d", cfg.DataStream.Retention)
	}
	if !cfg.ActiveIndicators.Enabled {
		t.Error("active indicators are off by default, want on")
	}
}

func TestReadConfigRejectsInvalidValues(t *testing.T) {
	tests := []struct {
		settings map[string]any
		wantErr  string
	}{
		{map[string]any{"tibeat.data_stream.namespace": "Prod"}, "must be lowercase"},
		{map[string]any{"tibeat.data_stream.namespace": "team-a"}, "must not contain a hyphen"},
		{map[string]any{"tibeat.data_stream.namespace": "a b"}, "must not contain"},
		{map[string]any{"tibeat.data_stream.namespace": ""}, "must not be empty"},
		{map[string]any{"tibeat.data_stream.namespace": strings.Repeat("a", 101)}, "longer than 100 bytes"},
		{map[string]any{"tibeat.data_stream.retention": "30 days"}, "tibeat.data_stream.retention"},
		{map[string]any{"tibeat.data_stream.retention": "1w"}, "invalid duration"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.settings), func(t *testing.T) {
			_, err := ReadConfig(rootConfig(t, tt.settings))

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestReadConfigAcceptsValidValues(t *testing.T) {
	cfg, err := ReadConfig(rootConfig(t, map[string]any{
		"tibeat.data_stream.namespace": "team_a",
		"tibeat.data_stream.retention": "12h",
	}))

	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataStream.Namespace != "team_a" || cfg.DataStream.Retention != "12h" {
		t.Errorf("data_stream = %+v", cfg.DataStream)
	}
}

func TestNames(t *testing.T) {
	if got := DataStreamName("default"); got != TemplateName {
		t.Errorf("default data stream %q differs from template name %q, which libbeat creates as a data stream", got, TemplateName)
	}
	if !strings.HasPrefix(LatestAlias, "logs-ti_") || !strings.HasPrefix(DataStreamName("x"), "logs-ti_") {
		t.Error("names must match Elastic Security's default threat index pattern logs-ti_*")
	}
	if strings.HasPrefix(LatestIndex, strings.TrimSuffix(DataViewPattern, "*")) {
		t.Errorf("data view %s would also match %s", DataViewPattern, LatestIndex)
	}
	if got := PresetPipelineName(testVersion, "isac"); got != "logs-ti_tibeat.indicator-9.3.0-isac" {
		t.Errorf("preset pipeline = %q", got)
	}
}

func newSupporter(t *testing.T, settings map[string]any) *supporter {
	t.Helper()
	s, err := IndexManagement()(logp.NewNopLogger(), testInfo(t), rootConfig(t, settings))
	if err != nil {
		t.Fatal(err)
	}
	return s.(*supporter)
}

func TestBuildSelectorDefaultsToTheDocumentsDataStream(t *testing.T) {
	s := newSupporter(t, map[string]any{"tibeat.data_stream.namespace": "prod"})
	sel, err := s.BuildSelector(conf.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		fields mapstr.M
		want   string
	}{
		{"namespace of the document", mapstr.M{"data_stream": DataStreamFields("team_a")["data_stream"]}, "logs-ti_tibeat.indicator-team_a"},
		{"fields removed fall back to the settings", mapstr.M{}, "logs-ti_tibeat.indicator-prod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sel.Select(&beat.Event{Timestamp: time.Now(), Fields: tt.fields})

			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("index = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBuildSelectorKeepsTheUsersIndex(t *testing.T) {
	s := newSupporter(t, nil)
	sel, err := s.BuildSelector(conf.MustNewConfigFrom(map[string]any{"index": "custom-%{[agent.name]}"}))
	if err != nil {
		t.Fatal(err)
	}

	got, err := sel.Select(&beat.Event{Timestamp: time.Now(), Fields: mapstr.M{"agent": mapstr.M{"name": "x"}}})

	if err != nil {
		t.Fatal(err)
	}
	if got != "custom-x" {
		t.Errorf("index = %q, want custom-x", got)
	}
}

func TestIndexManagementSetsTheILMRetention(t *testing.T) {
	saved := lifecycle.DefaultILMPolicy
	defer func() { lifecycle.DefaultILMPolicy = saved }()

	newSupporter(t, map[string]any{"tibeat.data_stream.retention": "7d"})

	got, err := lifecycle.DefaultILMPolicy.GetValue("policy.phases.delete.min_age")
	if err != nil {
		t.Fatal(err)
	}
	if got != "7d" {
		t.Errorf("delete min_age = %v, want 7d", got)
	}
}

func TestProcessingAddsDataStreamFieldsWithoutOverwriting(t *testing.T) {
	support, err := Processing()(testInfo(t), logp.NewNopLogger(), rootConfig(t, map[string]any{"tibeat.data_stream.namespace": "prod"}))
	if err != nil {
		t.Fatal(err)
	}
	defer support.Close()
	proc, err := support.Create(beat.ProcessingConfig{}, false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		fields mapstr.M
		want   string
	}{
		{"settings namespace", mapstr.M{"message": "x"}, "prod"},
		{"input's namespace", mapstr.M{"data_stream": mapstr.M{"namespace": "team_a"}}, "team_a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			event, err := proc.Run(&beat.Event{Timestamp: time.Now(), Fields: tt.fields})
			if err != nil {
				t.Fatal(err)
			}

			for field, want := range map[string]string{
				"data_stream.type":      "logs",
				"data_stream.dataset":   "ti_tibeat.indicator",
				"data_stream.namespace": tt.want,
				"event.dataset":         "ti_tibeat.indicator",
				// The STIX mapping follows ECS 9, not libbeat's 8.0.0.
				"ecs.version": "9.0.0",
			} {
				got, _ := event.Fields.GetValue(field)
				if got != want {
					t.Errorf("%s = %v, want %s", field, got, want)
				}
			}
		})
	}
}

func processorNames(items []any) []string {
	var names []string
	for _, item := range items {
		for name := range item.(map[string]any) {
			names = append(names, name)
		}
	}
	return names
}

func TestDefaultPipeline(t *testing.T) {
	p := DefaultPipeline(testVersion)

	if p.Name != "logs-ti_tibeat.indicator-9.3.0" {
		t.Errorf("name = %q", p.Name)
	}
	processors := p.Body["processors"].([]any)
	if got := strings.Join(processorNames(processors), ","); got != "set,pipeline,pipeline" {
		t.Errorf("processors = %s, want set,pipeline,pipeline", got)
	}
	set := processors[0].(map[string]any)["set"].(map[string]any)
	if set["field"] != "event.ingested" {
		t.Errorf("first processor sets %v, want event.ingested", set["field"])
	}
	preset := processors[1].(map[string]any)["pipeline"].(map[string]any)
	if preset["name"] != "logs-ti_tibeat.indicator-9.3.0-{{{event.module}}}" || preset["ignore_missing_pipeline"] != true {
		t.Errorf("preset call = %v", preset)
	}
	custom := processors[2].(map[string]any)["pipeline"].(map[string]any)
	if custom["name"] != CustomPipeline || custom["ignore_missing_pipeline"] != true {
		t.Errorf("custom call = %v", custom)
	}
	if got := strings.Join(processorNames(p.Body["on_failure"].([]any)), ","); got != "append,append" {
		t.Errorf("on_failure = %s, want append,append", got)
	}
}

func TestLatestPipelineExpiresRevokedIndicators(t *testing.T) {
	p := LatestPipeline(testVersion)

	processors := p.Body["processors"].([]any)
	first := processors[0].(map[string]any)["set"].(map[string]any)
	if first["field"] != "stix.ioc_expiration_date" || first["copy_from"] != "threat.indicator.modified_at" {
		t.Errorf("first processor = %v", first)
	}
	if !strings.Contains(first["if"].(string), "ctx.stix?.revoked == true") {
		t.Errorf("condition = %v, want it limited to revoked indicators", first["if"])
	}
}

func TestTransform(t *testing.T) {
	tr := Transform(testVersion)

	latest := tr["latest"].(map[string]any)
	if fmt.Sprint(latest["unique_key"]) != "[stix.id]" {
		t.Errorf("unique_key = %v, want [stix.id]", latest["unique_key"])
	}
	if latest["sort"] != "stix.ioc_revision_date" {
		t.Errorf("sort = %v, want stix.ioc_revision_date, which orders context revisions after versions", latest["sort"])
	}
	retention := tr["retention_policy"].(map[string]any)["time"].(map[string]any)
	if retention["field"] != "stix.ioc_expiration_date" {
		t.Errorf("retention field = %v", retention["field"])
	}
	if maxAge, _ := time.ParseDuration(retention["max_age"].(string)); maxAge < 60*time.Second {
		t.Errorf("max_age = %v, Elasticsearch rejects less than 60s", retention["max_age"])
	}
	dest := tr["dest"].(map[string]any)
	if dest["index"] != LatestIndex || dest["pipeline"] != LatestPipelineName(testVersion) {
		t.Errorf("dest = %v", dest)
	}
	if tr["settings"].(map[string]any)["unattended"] != true {
		t.Error("the transform must be unattended to start before its source exists")
	}
}

// Every indicator document, whatever STIX type it came from, carries the
// ECS event.type indicator, so the source query must select on it rather
// than on stix.type.
func TestTransformSourceQuery(t *testing.T) {
	source := Transform(testVersion)["source"].(map[string]any)
	filters := source["query"].(map[string]any)["bool"].(map[string]any)["filter"].([]any)

	var terms []string
	for _, clause := range filters {
		if term, ok := clause.(map[string]any)["term"]; ok {
			terms = append(terms, fmt.Sprint(term))
		}
	}
	if !slices.Contains(terms, "map[event.type:indicator]") {
		t.Errorf("term filters = %v, want event.type indicator", terms)
	}
	for _, term := range terms {
		if strings.Contains(term, "stix.type") {
			t.Errorf("term filter %s drops observables published as indicators", term)
		}
	}
	for _, clause := range filters {
		if exists, ok := clause.(map[string]any)["exists"]; ok && fmt.Sprint(exists) == "map[field:threat.indicator.modified_at]" {
			t.Error("an exists filter on threat.indicator.modified_at drops cyber-observables, which have no modified")
		}
	}
}

func TestLatestTemplate(t *testing.T) {
	fields := []byte(`
- key: test
  title: test
  fields:
    - name: stix.id
      type: keyword
`)
	body, err := LatestTemplate(testInfo(t), *version.MustNew("9.3.0"), false, fields)
	if err != nil {
		t.Fatal(err)
	}

	if _, ok := body["data_stream"]; ok {
		t.Error("the destination index template must not create a data stream")
	}
	if fmt.Sprint(body["index_patterns"]) != "["+LatestTemplatePattern+"]" {
		t.Errorf("index_patterns = %v", body["index_patterns"])
	}
	if body["priority"] != LatestTemplatePriority {
		t.Errorf("priority = %v", body["priority"])
	}
	if got, _ := body.GetValue("template.mappings.properties.stix.properties.id.type"); got != "keyword" {
		t.Errorf("stix.id mapping = %v", got)
	}
}

// fakeES records requests and returns, for each "METHOD path", the status
// from a table (200 when the table has none).
type fakeES struct {
	status   map[string]int
	requests []string
}

func (f *fakeES) Request(method, path, _ string, params map[string]string, _ any) (int, []byte, error) {
	key := method + " " + path
	f.requests = append(f.requests, key)
	status, ok := f.status[key]
	if !ok {
		status = http.StatusOK
	}
	if status >= 300 {
		return status, nil, fmt.Errorf("%d", status)
	}
	return status, nil, nil
}

func (f *fakeES) writes() []string {
	var out []string
	for _, r := range f.requests {
		if !strings.HasPrefix(r, "GET ") && !strings.HasPrefix(r, "HEAD ") {
			out = append(out, r)
		}
	}
	return out
}

func testAssets() ActiveIndicatorAssets {
	return ActiveIndicatorAssets{Pipeline: LatestPipeline(testVersion), Template: mapstr.M{}, Transform: Transform(testVersion)}
}

func TestInstallActiveIndicatorsOnAnEmptyCluster(t *testing.T) {
	es := &fakeES{status: map[string]int{
		"GET /_ingest/pipeline/" + LatestPipelineName(testVersion): 404,
		"HEAD /_index_template/" + LatestTemplateName:              404,
		"HEAD /" + LatestIndex:                                     404,
		"GET /_transform/" + TransformID:                           404,
	}}

	err := InstallActiveIndicators(es, testAssets(), false, logp.NewNopLogger())

	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"PUT /_ingest/pipeline/" + LatestPipelineName(testVersion),
		"PUT /_index_template/" + LatestTemplateName,
		"PUT /" + LatestIndex,
		"PUT /_transform/" + TransformID,
		"POST /_transform/" + TransformID + "/_start",
	}
	if got := strings.Join(es.writes(), "\n"); got != strings.Join(want, "\n") {
		t.Errorf("writes:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestInstallActiveIndicatorsKeepsExistingWithoutOverwrite(t *testing.T) {
	es := &fakeES{}

	err := InstallActiveIndicators(es, testAssets(), false, logp.NewNopLogger())

	if err != nil {
		t.Fatal(err)
	}
	// Only the alias is put again, which is idempotent.
	want := "PUT /" + LatestIndex + "/_alias/" + LatestAlias
	if got := strings.Join(es.writes(), "\n"); got != want {
		t.Errorf("writes = %q, want %q", got, want)
	}
}

func TestInstallActiveIndicatorsReplacesTheTransformOnOverwrite(t *testing.T) {
	es := &fakeES{status: map[string]int{
		// A transform someone else started already.
		"POST /_transform/" + TransformID + "/_start": 409,
	}}

	err := InstallActiveIndicators(es, testAssets(), true, logp.NewNopLogger())

	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(es.writes(), "\n")
	for _, want := range []string{
		"POST /_transform/" + TransformID + "/_stop\nDELETE /_transform/" + TransformID + "\nPUT /_transform/" + TransformID,
		"PUT /_ingest/pipeline/" + LatestPipelineName(testVersion),
		"PUT /_index_template/" + LatestTemplateName,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("writes:\n%s\nwant them to contain:\n%s", got, want)
		}
	}
}

func TestInstallActiveIndicatorsReportsTheFailingStep(t *testing.T) {
	es := &fakeES{status: map[string]int{
		"GET /_transform/" + TransformID: 404,
		"PUT /_transform/" + TransformID: 403,
	}}

	err := InstallActiveIndicators(es, testAssets(), false, logp.NewNopLogger())

	if err == nil || !strings.Contains(err.Error(), "create transform "+TransformID) {
		t.Fatalf("error = %v, want one naming the transform", err)
	}
}

func TestLoadPipelinesSkipsExistingUnlessOverwrite(t *testing.T) {
	pipelines := []Pipeline{DefaultPipeline(testVersion)}
	path := "/_ingest/pipeline/" + pipelines[0].Name

	existing := &fakeES{}
	if err := LoadPipelines(existing, pipelines, false, logp.NewNopLogger()); err != nil {
		t.Fatal(err)
	}
	overwrite := &fakeES{}
	if err := LoadPipelines(overwrite, pipelines, true, logp.NewNopLogger()); err != nil {
		t.Fatal(err)
	}

	if got := existing.writes(); len(got) != 0 {
		t.Errorf("without overwrite, writes = %v, want none", got)
	}
	if got := strings.Join(overwrite.writes(), ","); got != "PUT "+path {
		t.Errorf("with overwrite, writes = %v", got)
	}
}
