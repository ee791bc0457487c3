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
func validateInputs(log *logp.Logger, inputs []namedInput) error {
	known := map[string]v2.Plugin{}
	for _, p := range plugins(log, nil) {
		known[p.Name] = p
	}
	for _, in := range inputs {
		var s inputSettings
		if err := in.cfg.Unpack(&s); err != nil {
			return fmt.Errorf("%s: %w", in.where, err)
		}
		p, ok := known[s.Type]
		if !ok {
			return fmt.Errorf("%s (id %q): unknown input type %q: use one of %s", in.where, s.ID, s.Type, typeNames(known))
		}
		manager, ok := p.Manager.(*cursor.InputManager)
		if !ok {
			continue
		}
		if _, _, err := manager.Configure(in.cfg, log); err != nil {
			return fmt.Errorf("%s (id %q, type %s): %w", in.where, s.ID, s.Type, err)
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

// warnUnknownSettings logs, for tibeat.stix, tibeat.registry,
// tibeat.context and each enabled input, the keys that neither the input
// nor tibeat reads. libbeat's configuration ignores them, so a misspelt key
// would otherwise fall back to its default unnoticed.
func warnUnknownSettings(log *logp.Logger, raw *conf.C, inputs []namedInput) {
	for _, section := range []struct {
		name  string
		shape any
	}{
		{"stix", stixproc.Config{}},
		{"registry", RegistryConfig{}},
		{"context", ContextConfig{}},
	} {
		cfg, err := raw.Child(section.name, -1)
		if err != nil {
			continue
		}
		if unknown := configkeys.Unknown(cfg, section.shape); len(unknown) != 0 {
			log.Warnw(fmt.Sprintf("tibeat.%s: ignoring unknown settings %s: check their spelling against the documented settings of tibeat.%s",
				section.name, configkeys.Join(unknown), section.name),
				"settings", configkeys.Paths(unknown))
		}
	}
	for _, in := range inputs {
		if in.preset {
			// Users write a preset's input settings under input in the
			// module file, so the keys are named from there.
			warnUnknownInputSettings(log, in.where, "input.", in.cfg, presetPaths{})
		} else {
			warnUnknownInputSettings(log, in.where, "", in.cfg)
		}
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
