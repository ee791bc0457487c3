package beater

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/paths"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	conf "github.com/elastic/elastic-agent-libs/config"

	"github.com/tibeat/tibeat/internal/preset"
)

func observedLogger(t *testing.T) (*logp.Logger, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	log, err := logp.NewZapLogger(zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	return log, logs
}

func TestUnknownSettingsWarning(t *testing.T) {
	log, logs := observedLogger(t)
	yaml := `
stix:
  preserve_original: true
registry.file_permission: 0600
context.max_indicator: 1000
inputs:
  - type: logfile
    id: feed
    paths: [/tmp/none/*.json]
    scan_frecuency: 1m
    fields: {data_stream.namespace: soc}
    fields_under_root: true
    stix:
      feed.name: Feed
      ioc_expiraton_duration: 30d
  - type: taxii
    id: off
    enabled: false
    intervall: 1h
  - type: taxii
    id: spelt-right
    url: http://127.0.0.1:9/taxii2/
    interval: 1h
    timeout: 30s
    ssl.verification_mode: none
    proxy_url: http://127.0.0.1:3128
  - type: taxii
    id: spelt-wrong
    url: http://127.0.0.1:9/taxii2/
    intervall: 1h
    ssl.verification_mod: none
    retry.max_attemps: 3
  - type: cel
    id: api
    program: state
    resource:
      url: http://127.0.0.1:9/
      timout: 30s
      proxy_url: http://127.0.0.1:3128
`
	cfg := config(t, yaml)

	warnUnknownSettings(log, rawConfig(t, yaml), namedInputs(cfg.Inputs, &presets{}))

	all := logs.FilterLevelExact(zapcore.WarnLevel).All()
	if len(all) != 6 {
		t.Fatalf("warnings = %d, want 6: %v", len(all), all)
	}
	sections := []string{
		"tibeat.stix: ignoring unknown settings preserve_original:",
		"tibeat.registry: ignoring unknown settings file_permission (did you mean file_permissions?):",
		"tibeat.context: ignoring unknown settings max_indicator (did you mean max_indicators?):",
	}
	for i, want := range sections {
		if msg := all[i].Message; !strings.HasPrefix(msg, want) {
			t.Errorf("warning %q does not start with %q", msg, want)
		}
	}
	warnings := all[len(sections):]
	if msg := warnings[0].Message; !strings.HasPrefix(msg, `tibeat.inputs[0] (id "feed", type logfile): ignoring unknown settings scan_frecuency (did you mean scan_frequency?), stix.ioc_expiraton_duration (did you mean stix.ioc_expiration_duration?):`) {
		t.Errorf("warning %q does not name the logfile input and its two keys", msg)
	}
	if msg := warnings[1].Message; !strings.HasPrefix(msg, `tibeat.inputs[3] (id "spelt-wrong", type taxii): ignoring unknown settings intervall (did you mean interval?), retry.max_attemps (did you mean retry.max_attempts?), ssl.verification_mod (did you mean ssl.verification_mode?):`) {
		t.Errorf("warning %q does not name the taxii input and its three keys", msg)
	}
	if msg := warnings[2].Message; !strings.HasPrefix(msg, `tibeat.inputs[4] (id "api", type cel): ignoring unknown settings resource.timout (did you mean resource.timeout?):`) {
		t.Errorf("warning %q does not name the cel input and its key", msg)
	}
}

// TestBundledInputsHaveNoUnknownSettings keeps the shapes behind the
// unknown-settings warning in step with the settings that tibeat.yml and
// the bundled feed presets use, every one of which some input reads.
func TestBundledInputsHaveNoUnknownSettings(t *testing.T) {
	repo := repoRoot(t)
	raw, err := os.ReadFile(filepath.Join(repo, "tibeat.yml"))
	if err != nil {
		t.Fatal(err)
	}
	file, err := conf.NewConfigWithYAML(raw, "tibeat.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := file.SetString("path.home", -1, repo); err != nil {
		t.Fatal(err)
	}
	section := struct {
		Tibeat Config `config:"tibeat"`
	}{Tibeat: defaultConfig()}
	if err := file.Unpack(&section); err != nil {
		t.Fatal(err)
	}
	if len(section.Tibeat.Inputs) == 0 {
		t.Fatal("tibeat.yml has no inputs")
	}

	p := loadPresets(t, `
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
`)
	if len(p.inputs) != 4 {
		t.Fatalf("preset inputs = %d, want 4", len(p.inputs))
	}

	log, logs := observedLogger(t)
	tibeatSection, err := file.Child("tibeat", -1)
	if err != nil {
		t.Fatal(err)
	}
	warnUnknownSettings(log, tibeatSection, namedInputs(section.Tibeat.Inputs, p))

	for _, w := range logs.FilterLevelExact(zapcore.WarnLevel).All() {
		t.Errorf("unexpected warning: %s", w.Message)
	}
}

func TestUnknownSettingsWarningNamesPreset(t *testing.T) {
	p := loadPresets(t, `
- module: folder
  drop:
    input:
      scan_frequncy: 1m
`)
	log, logs := observedLogger(t)

	warnUnknownSettings(log, conf.NewConfig(), namedInputs(nil, p))

	warnings := logs.FilterLevelExact(zapcore.WarnLevel).All()
	if len(warnings) != 1 {
		t.Fatalf("warnings = %d, want 1: %v", len(warnings), warnings)
	}
	msg := warnings[0].Message
	file := p.filesets[0].File
	if !strings.HasPrefix(msg, "feed preset folder.drop in "+file+` (id "folder-drop", type logfile)`) {
		t.Errorf("warning %q does not name the preset and its module file", msg)
	}
	if !strings.Contains(msg, "ignoring unknown settings input.scan_frequncy (did you mean input.scan_frequency?):") {
		t.Errorf("warning %q does not name input.scan_frequncy alone", msg)
	}
	if !strings.HasSuffix(file, filepath.Join("modules.d", "test.yml")) {
		t.Errorf("fileset file = %q, want the module file loadPresets wrote", file)
	}
}

// repoRoot returns the repository's folder, which holds tibeat.yml and
// the bundled modules.
func repoRoot(t *testing.T) string {
	t.Helper()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// loadPresets renders the enabled presets of the modules file text, with
// the repository's modules.
func loadPresets(t *testing.T, modules string) *presets {
	t.Helper()
	repo := repoRoot(t)
	config := t.TempDir()
	if err := os.MkdirAll(filepath.Join(config, "modules.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(config, "modules.d", "test.yml"), []byte(modules), 0o644); err != nil {
		t.Fatal(err)
	}
	loader, err := preset.NewLoader(nil, &paths.Path{Home: repo, Config: config, Data: t.TempDir(), Logs: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	filesets, err := loader.Enabled()
	if err != nil {
		t.Fatal(err)
	}
	p := &presets{loader: loader, filesets: filesets}
	for _, f := range filesets {
		cfg, err := f.InputConfig()
		if err != nil {
			t.Fatal(err)
		}
		p.inputs = append(p.inputs, cfg)
	}
	return p
}

func TestPresetInputErrorsNamePreset(t *testing.T) {
	p := loadPresets(t, `
- module: folder
  drop:
    input:
      scan_frequency: often
`)
	where := "feed preset folder.drop in " + p.filesets[0].File

	err := validateInputs(logp.NewNopLogger(), namedInputs(nil, p))

	if err == nil || !strings.HasPrefix(err.Error(), where+` (id "folder-drop", type logfile): `) {
		t.Errorf("error = %v, want it to start with %q", err, where)
	}
}

func TestDuplicateIDAcrossFileAndPreset(t *testing.T) {
	p := loadPresets(t, "- module: folder\n")
	file := inputs(t, "inputs: [{type: logfile, id: folder-drop, paths: [/tmp/none/*]}]")

	_, err := enabledInputs(namedInputs(file, p))

	want := `feed preset folder.drop in ` + p.filesets[0].File + `: duplicate id "folder-drop", already used by tibeat.inputs[0]`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
