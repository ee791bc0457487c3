package beater

import (
	"fmt"
	"sort"
	"strings"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"

	"github.com/tibeat/tibeat/input/cel"
	"github.com/tibeat/tibeat/input/logfile"
	"github.com/tibeat/tibeat/input/taxii"
	"github.com/tibeat/tibeat/internal/configkeys"
	stixproc "github.com/tibeat/tibeat/processors/stix"
)

// validateInputs checks every input's own settings without opening the
// registry, so that `tibeat test config` rejects what `tibeat run` would
// reject, and run rejects it before any input reads data.
func validateInputs(log *logp.Logger, inputs []*conf.C) error {
	known := map[string]v2.Plugin{}
	for _, p := range plugins(log, nil) {
		known[p.Name] = p
	}
	for i, cfg := range inputs {
		var s inputSettings
		if err := cfg.Unpack(&s); err != nil {
			return fmt.Errorf("tibeat.inputs[%d]: %w", i, err)
		}
		p, ok := known[s.Type]
		if !ok {
			return fmt.Errorf("tibeat.inputs[%d] (id %q): unknown input type %q: use one of %s", i, s.ID, s.Type, typeNames(known))
		}
		manager, ok := p.Manager.(*cursor.InputManager)
		if !ok {
			continue
		}
		if _, _, err := manager.Configure(cfg, log); err != nil {
			return fmt.Errorf("tibeat.inputs[%d] (id %q, type %s): %w", i, s.ID, s.Type, err)
		}
	}
	return nil
}

// inputShapes are the structs each input type unpacks its own settings
// into.
var inputShapes = map[string]any{
	"logfile": logfile.Settings(),
	"taxii":   taxii.Settings(),
	"cel":     cel.Settings(),
}

// warnUnknownSettings logs, for tibeat.stix and each enabled input of the
// configuration file and of the feed presets, the keys that neither the
// input nor tibeat reads. libbeat's configuration ignores them, so a misspelt key would
// otherwise fall back to its default unnoticed.
func warnUnknownSettings(log *logp.Logger, c Config, p *presets) {
	if c.STIX != nil {
		if unknown := configkeys.Unknown(c.STIX, stixproc.Config{}); len(unknown) != 0 {
			log.Warnw(fmt.Sprintf("tibeat.stix: ignoring unknown settings %s: check their spelling against the documented STIX settings",
				configkeys.Join(unknown)),
				"settings", configkeys.Paths(unknown))
		}
	}
	for i, cfg := range c.Inputs {
		warnUnknownInputSettings(log, fmt.Sprintf("tibeat.inputs[%d]", i), "", cfg)
	}
	for i, cfg := range p.inputs {
		f := p.filesets[i]
		// Users write a preset's input settings under input in the module
		// file, so the keys are named from there.
		warnUnknownInputSettings(log, fmt.Sprintf("feed preset %s.%s in %s", f.Module, f.Name, f.File), "input.", cfg, presetPaths{})
	}
}

// presetPaths are the keys a feed preset adds to its input so that
// ${path.*} resolves in it.
type presetPaths struct {
	Path struct {
		Home   string `config:"home"`
		Config string `config:"config"`
		Data   string `config:"data"`
		Logs   string `config:"logs"`
	} `config:"path"`
}

// warnUnknownInputSettings logs the unknown keys of one input, each after
// keyPrefix. extra are the shapes of keys that the input's source adds.
func warnUnknownInputSettings(log *logp.Logger, where, keyPrefix string, cfg *conf.C, extra ...any) {
	var s inputSettings
	if err := cfg.Unpack(&s); err != nil || (s.Enabled != nil && !*s.Enabled) {
		// enabledInputs reports the error, and a disabled input is not read.
		return
	}
	shape, ok := inputShapes[s.Type]
	if !ok {
		// validateInputs rejects the type.
		return
	}
	unknown := withPrefix(keyPrefix, configkeys.Unknown(cfg, append(extra, s, inputProcessing{}, shape)...))
	if stix, err := cfg.Child("stix", -1); err == nil {
		unknown = append(unknown, withPrefix(keyPrefix+"stix.", configkeys.Unknown(stix, stixproc.Config{}))...)
	}
	if len(unknown) == 0 {
		return
	}
	sort.Slice(unknown, func(i, j int) bool { return unknown[i].Path < unknown[j].Path })
	log.Warnw(fmt.Sprintf("%s (id %q, type %s): ignoring unknown settings %s: check their spelling against the %s input's documented settings",
		where, s.ID, s.Type, configkeys.Join(unknown), s.Type),
		"input_id", s.ID, "settings", configkeys.Paths(unknown))
}

// withPrefix puts prefix before the path and the hint of each key.
func withPrefix(prefix string, keys []configkeys.Key) []configkeys.Key {
	for i, k := range keys {
		keys[i].Path = prefix + k.Path
		if k.Near != "" {
			keys[i].Near = prefix + k.Near
		}
	}
	return keys
}

func typeNames(plugins map[string]v2.Plugin) string {
	names := make([]string, 0, len(plugins))
	for name := range plugins {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
