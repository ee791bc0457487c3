package cmd

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	conf "github.com/elastic/elastic-agent-libs/config"

	"github.com/tibeat/tibeat/internal/setup"
)

func TestSettingsInstallTibeatsAssets(t *testing.T) {
	s := Settings()

	if !s.HasDashboards {
		t.Error("HasDashboards = false: setup would skip the dashboards")
	}
	if s.IndexManagement == nil || s.Processing == nil {
		t.Error("IndexManagement and Processing must be tibeat's")
	}
}

func TestSetupDefaultsYieldToTheUser(t *testing.T) {
	defaults := setupDefaults("9.3.0")
	user := conf.MustNewConfigFrom(map[string]any{"setup.template.name": "mine"})

	// libbeat merges override configurations first and the user's files
	// over them.
	merged, err := conf.MergeConfigs(defaults.Config, user)
	if err != nil {
		t.Fatal(err)
	}

	var got struct {
		Name       string `config:"setup.template.name"`
		Pattern    string `config:"setup.template.pattern"`
		Pipeline   string `config:"setup.template.settings.index.default_pipeline"`
		Policy     string `config:"setup.ilm.policy_name"`
		Dashboards bool   `config:"setup.dashboards.enabled"`
		DataView   string `config:"setup.dashboards.index"`
	}
	got.Dashboards = true
	if err := merged.Unpack(&got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "mine" {
		t.Errorf("template name = %q, want the user's", got.Name)
	}
	if got.Pattern != setup.TemplatePattern || got.Policy != setup.PolicyName || got.DataView != setup.DataViewPattern {
		t.Errorf("defaults = %+v", got)
	}
	if got.Pipeline != "logs-ti_tibeat.indicator-9.3.0" {
		t.Errorf("default_pipeline = %q", got.Pipeline)
	}
	if got.Dashboards {
		t.Error("setup.dashboards.enabled defaults to true: every run would load the dashboards")
	}
}

func TestPrintPipelinesInDevToolsSyntax(t *testing.T) {
	var out bytes.Buffer
	pipelines := []setup.Pipeline{setup.DefaultPipeline("9.3.0"), setup.LatestPipeline("9.3.0")}

	if err := printPipelines(&out, pipelines); err != nil {
		t.Fatal(err)
	}

	text := out.String()
	if strings.Contains(text, `\u0026`) {
		t.Error("painless && was escaped as \\u0026")
	}
	requests := strings.Split(text, "PUT _ingest/pipeline/")
	if requests[0] != "" || len(requests) != len(pipelines)+1 {
		t.Fatalf("output does not consist of %d requests:\n%s", len(pipelines), text)
	}
	for i, p := range pipelines {
		name, body, _ := strings.Cut(requests[i+1], "\n")
		if name != p.Name {
			t.Errorf("request %d names %q, want %q", i, name, p.Name)
		}
		var decoded map[string]any
		if err := json.Unmarshal([]byte(body), &decoded); err != nil {
			t.Errorf("body of %s: %v", p.Name, err)
		}
	}
}
