// Package preset loads feed presets: configuration-only modules laid out as
// Filebeat's are. Each module lives under path.home/module/<module>, with
// one folder per fileset holding a manifest.yml, an input template and
// optionally an ingest pipeline. A module runs when a file in modules.d
// (tibeat.config.modules.path) names it; `tibeat modules enable` renames
// <module>.yml.disabled to <module>.yml there.
package preset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/elastic/beats/v7/libbeat/common"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/paths"

	"github.com/tibeat/tibeat/internal/configkeys"
	"github.com/tibeat/tibeat/internal/setup"
)

// Extensions of enabled and disabled module files in modules.d.
const (
	enabledExtension  = ".yml"
	disabledExtension = ".disabled"
)

// DefaultModulesGlob is the glob of module files, relative to path.config,
// used when tibeat.config.modules.path is not set.
const DefaultModulesGlob = "modules.d/*" + enabledExtension

// manifest is a fileset's manifest.yml.
type manifest struct {
	Description    string     `config:"description"`
	Vars           []variable `config:"var"`
	Input          string     `config:"input"`
	IngestPipeline string     `config:"ingest_pipeline"`
}

// variable is one entry of a manifest's var list.
type variable struct {
	Name        string `config:"name"`
	Default     any    `config:"default"`
	Required    bool   `config:"required"`
	Description string `config:"description"`
}

// Fileset is one enabled fileset of a module, with its variables resolved.
type Fileset struct {
	Module string
	Name   string
	// File is the module file that enabled the fileset, empty for All.
	File string

	dir      string
	manifest manifest
	vars     map[string]any
	// input holds the user's overrides of the rendered input settings.
	input  *conf.C
	loader *Loader
}

// Loader finds modules and reads module files.
type Loader struct {
	// ModulesDir is path.home/module.
	ModulesDir string
	// Glob matches the enabled module files, such as modules.d/*.yml.
	Glob string
	// Paths are merged into each input so that ${path.*} resolves in it.
	Paths *paths.Path
}

// NewLoader reads tibeat.config.modules.path from the beat's own
// configuration section.
func NewLoader(beatConfig *conf.C, beatPaths *paths.Path) (*Loader, error) {
	var settings struct {
		Path string `config:"config.modules.path"`
	}
	if beatConfig != nil {
		if err := beatConfig.Unpack(&settings); err != nil {
			return nil, fmt.Errorf("tibeat.config.modules.path: %w", err)
		}
	}
	glob := beatPaths.Resolve(paths.Config, DefaultModulesGlob)
	if settings.Path != "" {
		glob = beatPaths.Resolve(paths.Config, settings.Path)
	}
	if !strings.HasSuffix(glob, enabledExtension) {
		return nil, fmt.Errorf("tibeat.config.modules.path must end with *%s, got %q", enabledExtension, glob)
	}
	return &Loader{
		ModulesDir: beatPaths.Resolve(paths.Home, "module"),
		Glob:       glob,
		Paths:      beatPaths,
	}, nil
}

// moduleSettings is one entry of a module file.
type moduleSettings struct {
	Module  string `config:"module"`
	Enabled *bool  `config:"enabled"`
}

// Enabled returns the filesets of every module the module files enable.
func (l *Loader) Enabled() ([]*Fileset, error) {
	files, err := filepath.Glob(l.Glob)
	if err != nil {
		return nil, fmt.Errorf("tibeat.config.modules.path %q: %w", l.Glob, err)
	}
	sort.Strings(files)

	var filesets []*Fileset
	for _, file := range files {
		cfg, err := common.LoadFile(file)
		if err != nil {
			return nil, fmt.Errorf("module file %s: %w", file, err)
		}
		var entries []*conf.C
		if err := cfg.Unpack(&entries); err != nil {
			return nil, fmt.Errorf("module file %s: expected a list of modules: %w", file, err)
		}
		for i, entry := range entries {
			entry, err := l.withPaths(entry)
			if err != nil {
				return nil, fmt.Errorf("module file %s, entry %d: %w", file, i, err)
			}
			found, err := l.moduleFilesets(entry, true)
			if err != nil {
				return nil, fmt.Errorf("module file %s, entry %d: %w", file, i, err)
			}
			for _, f := range found {
				f.File = file
			}
			filesets = append(filesets, found...)
		}
	}
	return filesets, checkUnique(filesets)
}

// All returns every fileset of every module with its default variables,
// for `setup --enable-all-filesets`. Required variables may be missing, so
// the filesets serve for their pipelines but not for their inputs.
func (l *Loader) All() ([]*Fileset, error) {
	dirs, err := os.ReadDir(l.ModulesDir)
	if err != nil {
		return nil, fmt.Errorf("read the modules folder: %w", err)
	}
	var filesets []*Fileset
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		entry := conf.MustNewConfigFrom(map[string]any{"module": d.Name()})
		found, err := l.moduleFilesets(entry, false)
		if err != nil {
			return nil, err
		}
		filesets = append(filesets, found...)
	}
	return filesets, nil
}

// moduleFilesets returns the enabled filesets of one module entry. A
// fileset the entry does not mention is enabled; one it mentions is enabled
// unless it sets enabled: false.
func (l *Loader) moduleFilesets(entry *conf.C, requireVars bool) ([]*Fileset, error) {
	var settings moduleSettings
	if err := entry.Unpack(&settings); err != nil {
		return nil, err
	}
	if settings.Module == "" {
		return nil, errors.New("missing module: name one of the folders under " + l.ModulesDir)
	}
	if !isName(settings.Module) {
		return nil, fmt.Errorf("invalid module name %q: use lowercase letters, digits and underscores", settings.Module)
	}
	if settings.Enabled != nil && !*settings.Enabled {
		return nil, nil
	}
	moduleDir := filepath.Join(l.ModulesDir, settings.Module)
	names, err := filesetNames(moduleDir)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", settings.Module, err)
	}
	for _, key := range entry.GetFields() {
		// path holds the paths withPaths added.
		if key == "module" || key == "enabled" || key == "path" {
			continue
		}
		if !contains(names, key) {
			return nil, fmt.Errorf("module %s has no fileset %q; it has %s", settings.Module, key, strings.Join(names, ", "))
		}
	}

	var filesets []*Fileset
	for _, name := range names {
		fs, err := l.fileset(settings.Module, name, entry, requireVars)
		if err != nil {
			return nil, fmt.Errorf("module %s, fileset %s: %w", settings.Module, name, err)
		}
		if fs != nil {
			filesets = append(filesets, fs)
		}
	}
	return filesets, nil
}

// filesetSettings is a fileset's section of a module entry.
type filesetSettings struct {
	Enabled *bool          `config:"enabled"`
	Vars    map[string]any `config:"var"`
	Input   *conf.C        `config:"input"`
}

func (l *Loader) fileset(module, name string, entry *conf.C, requireVars bool) (*Fileset, error) {
	var settings filesetSettings
	if entry.HasField(name) {
		sub, err := entry.Child(name, -1)
		if err != nil {
			return nil, err
		}
		if err := sub.Unpack(&settings); err != nil {
			return nil, err
		}
	}
	if settings.Enabled != nil && !*settings.Enabled {
		return nil, nil
	}
	if entry.HasField(name) {
		sub, _ := entry.Child(name, -1)
		if unknown := configkeys.Unknown(sub, filesetSettings{}); len(unknown) != 0 {
			return nil, fmt.Errorf("unknown settings %s: a fileset takes enabled, var.<name> and input.<setting>", configkeys.Join(unknown))
		}
	}

	dir := filepath.Join(l.ModulesDir, module, name)
	m, err := l.readManifest(dir)
	if err != nil {
		return nil, err
	}
	vars, err := resolveVars(m.Vars, settings.Vars, requireVars)
	if err != nil {
		return nil, err
	}
	return &Fileset{Module: module, Name: name, dir: dir, manifest: m, vars: vars, input: settings.Input, loader: l}, nil
}

// withPaths returns cfg with path.home, path.config, path.data and
// path.logs added (cfg's own values win), so that ${path.data} and the like
// resolve in manifests, module files and inputs as they do in tibeat.yml.
func (l *Loader) withPaths(cfg *conf.C) (*conf.C, error) {
	merged := conf.MustNewConfigFrom(map[string]any{
		"path": map[string]any{
			"home":   l.Paths.Home,
			"config": l.Paths.Config,
			"data":   l.Paths.Data,
			"logs":   l.Paths.Logs,
		},
	})
	if err := merged.Merge(cfg); err != nil {
		return nil, err
	}
	return merged, nil
}

func (l *Loader) readManifest(dir string) (manifest, error) {
	var m manifest
	cfg, err := common.LoadFile(filepath.Join(dir, "manifest.yml"))
	if err != nil {
		return m, err
	}
	if cfg, err = l.withPaths(cfg); err != nil {
		return m, err
	}
	if err := cfg.Unpack(&m); err != nil {
		return m, fmt.Errorf("manifest.yml: %w", err)
	}
	if m.Input == "" {
		return m, errors.New("manifest.yml: missing input: name the input template")
	}
	return m, nil
}

// resolveVars merges the user's var.* settings over the manifest defaults.
// It rejects variables the manifest does not declare, which are almost
// always typing errors, and required ones left unset.
func resolveVars(declared []variable, user map[string]any, requireVars bool) (map[string]any, error) {
	vars := make(map[string]any, len(declared))
	known := make([]string, 0, len(declared))
	for _, v := range declared {
		vars[v.Name] = v.Default
		known = append(known, v.Name)
	}
	for name, value := range user {
		if !contains(known, name) {
			return nil, fmt.Errorf("unknown variable var.%s: the manifest declares %s", name, strings.Join(known, ", "))
		}
		vars[name] = value
	}
	for _, v := range declared {
		if requireVars && v.Required && isEmpty(vars[v.Name]) {
			return nil, fmt.Errorf("missing var.%s: %s", v.Name, v.Description)
		}
	}
	return vars, nil
}

// InputConfig renders the fileset's input template with its variables,
// applies the user's input overrides, and gives the input an id (if the
// template and overrides set none) and an add_fields processor that sets
// event.module, which selects the preset's ingest pipeline.
func (f *Fileset) InputConfig() (*conf.C, error) {
	text, err := os.ReadFile(filepath.Join(f.dir, f.manifest.Input))
	if err != nil {
		return nil, fmt.Errorf("module %s, fileset %s: %w", f.Module, f.Name, err)
	}
	rendered, err := render(f.manifest.Input, string(text), f.vars)
	if err != nil {
		return nil, fmt.Errorf("module %s, fileset %s: %w", f.Module, f.Name, err)
	}
	cfg, err := conf.NewConfigWithYAML(rendered, f.dir)
	if err != nil {
		return nil, fmt.Errorf("module %s, fileset %s: rendered input is not valid YAML: %w", f.Module, f.Name, err)
	}
	if f.input != nil {
		if err := cfg.Merge(f.input); err != nil {
			return nil, fmt.Errorf("module %s, fileset %s: input overrides: %w", f.Module, f.Name, err)
		}
	}
	if cfg, err = f.loader.withPaths(cfg); err != nil {
		return nil, err
	}
	if !cfg.HasField("id") {
		if err := cfg.SetString("id", -1, f.Module+"-"+f.Name); err != nil {
			return nil, err
		}
	}
	if err := appendModuleProcessor(cfg, f.Module); err != nil {
		return nil, err
	}
	return cfg, nil
}

// appendModuleProcessor adds the event.module processor after the user's
// processors, so that none of them can remove it by accident.
func appendModuleProcessor(cfg *conf.C, module string) error {
	count := 0
	if cfg.HasField("processors") {
		n, err := cfg.CountField("processors")
		if err != nil {
			return fmt.Errorf("processors: %w", err)
		}
		count = n
	}
	processor := conf.MustNewConfigFrom(map[string]any{
		"add_fields": map[string]any{
			"target": "event",
			"fields": map[string]any{"module": module},
		},
	})
	return cfg.SetChild("processors", count, processor)
}

// HasPipeline reports whether the fileset ships an ingest pipeline.
func (f *Fileset) HasPipeline() bool { return f.manifest.IngestPipeline != "" }

// Pipeline reads the fileset's ingest pipeline, in YAML or JSON. Pipelines
// are not templates: they depend on the module only, so that
// `setup --enable-all-filesets` can load them without any variable set.
func (f *Fileset) Pipeline() (map[string]any, error) {
	path := filepath.Join(f.dir, f.manifest.IngestPipeline)
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("module %s, fileset %s: %w", f.Module, f.Name, err)
	}
	// NOTE: the YAML goes through libbeat's configuration parser, which
	// reads dots in keys as nesting and expands ${...}. Neither occurs in
	// the bundled pipelines; values such as field names keep their dots.
	cfg, err := conf.NewConfigWithYAML(text, path)
	if err != nil {
		return nil, fmt.Errorf("module %s, fileset %s: ingest pipeline %s: %w", f.Module, f.Name, path, err)
	}
	var body map[string]any
	if err := cfg.Unpack(&body); err != nil {
		return nil, fmt.Errorf("module %s, fileset %s: ingest pipeline %s: %w", f.Module, f.Name, path, err)
	}
	if _, ok := body["processors"].([]any); !ok {
		return nil, fmt.Errorf("module %s, fileset %s: ingest pipeline %s has no processors list", f.Module, f.Name, path)
	}
	return body, nil
}

// checkUnique rejects a module listed twice and a module with two
// pipelines: the default pipeline calls a preset's pipeline by event.module,
// so a module can have only one.
func checkUnique(filesets []*Fileset) error {
	seen := map[string]bool{}
	pipelines := map[string]string{}
	for _, f := range filesets {
		key := f.Module + "/" + f.Name
		if seen[key] {
			return fmt.Errorf("module %s, fileset %s is enabled twice", f.Module, f.Name)
		}
		seen[key] = true
		if f.HasPipeline() {
			if other, dup := pipelines[f.Module]; dup {
				return fmt.Errorf("module %s: filesets %s and %s both declare an ingest pipeline; a module can have one", f.Module, other, f.Name)
			}
			pipelines[f.Module] = f.Name
		}
	}
	return nil
}

// render executes an input template. Values go in through tojson, whose
// output is valid YAML whatever the value holds.
func render(name, text string, vars map[string]any) ([]byte, error) {
	funcs := template.FuncMap{
		"tojson": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
	}
	tmpl, err := template.New(name).Option("missingkey=error").Funcs(funcs).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("input template %s: %w", name, err)
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, vars); err != nil {
		return nil, fmt.Errorf("input template %s: %w", name, err)
	}
	return out.Bytes(), nil
}

// filesetNames lists the folders of a module that hold a manifest.yml.
func filesetNames(moduleDir string) ([]string, error) {
	entries, err := os.ReadDir(moduleDir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("not found: no folder %s", moduleDir)
		}
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(moduleDir, e.Name(), "manifest.yml")); err == nil {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no fileset in %s: a fileset is a folder with a manifest.yml", moduleDir)
	}
	return names, nil
}

func isName(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == ""
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case []any:
		return len(t) == 0
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Pipelines returns the ingest pipelines of the filesets that have one,
// named for the module so that the default pipeline finds them by
// event.module.
func Pipelines(version string, filesets []*Fileset) ([]setup.Pipeline, error) {
	var out []setup.Pipeline
	for _, f := range filesets {
		if !f.HasPipeline() {
			continue
		}
		body, err := f.Pipeline()
		if err != nil {
			return nil, err
		}
		out = append(out, setup.Pipeline{Name: setup.PresetPipelineName(version, f.Module), Body: body})
	}
	return out, nil
}
