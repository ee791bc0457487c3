package beater

import (
	"fmt"
	"sort"
	"strings"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
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

func typeNames(plugins map[string]v2.Plugin) string {
	names := make([]string, 0, len(plugins))
	for name := range plugins {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
