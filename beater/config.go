package beater

import (
	"fmt"
	"os"
	"time"

	"github.com/elastic/beats/v7/libbeat/common/cfgtype"
	conf "github.com/elastic/elastic-agent-libs/config"

	"github.com/tibeat/tibeat/internal/stix/enrich"
)

// Config is the tibeat section of the configuration file.
type Config struct {
	Inputs   []*conf.C      `config:"inputs"`
	STIX     *conf.C        `config:"stix"`
	Registry RegistryConfig `config:"registry"`
	Context  ContextConfig  `config:"context"`
}

// RegistryConfig places libbeat's state store, where input cursors live.
type RegistryConfig struct {
	// Path is resolved against path.data.
	Path        string        `config:"path"`
	Permissions os.FileMode   `config:"file_permissions"`
	CleanupIdle time.Duration `config:"cleanup_interval"`
}

// ContextConfig bounds the STIX context index. Its memory grows with the
// number of entries, chiefly indicators, so a small machine reading large
// feeds trades how far back late context reaches for memory.
type ContextConfig struct {
	MaxObjects         int              `config:"max_objects" validate:"min=1"`
	MaxRelationships   int              `config:"max_relationships" validate:"min=1"`
	MaxIndicators      int              `config:"max_indicators" validate:"min=1"`
	MaxIndicatorBytes  cfgtype.ByteSize `config:"max_indicator_bytes"`
	MaxObservables     int              `config:"max_observables" validate:"min=1"`
	MaxObservableBytes cfgtype.ByteSize `config:"max_observable_bytes"`
}

// Validate checks the byte bounds, which the validate tag does not reach
// because they are parsed from strings such as 128MiB.
func (c *ContextConfig) Validate() error {
	for _, bound := range []struct {
		name  string
		value cfgtype.ByteSize
	}{
		{"max_indicator_bytes", c.MaxIndicatorBytes},
		{"max_observable_bytes", c.MaxObservableBytes},
	} {
		// Sizes of 8EiB and more wrap around to negative values.
		if bound.value <= 0 {
			return fmt.Errorf("%s must be at least 1 byte and less than 8EiB, such as 128MiB", bound.name)
		}
	}
	return nil
}

func (c ContextConfig) limits() enrich.Limits {
	return enrich.Limits{
		Objects:         c.MaxObjects,
		Relationships:   c.MaxRelationships,
		Indicators:      c.MaxIndicators,
		IndicatorBytes:  int64(c.MaxIndicatorBytes),
		Observables:     c.MaxObservables,
		ObservableBytes: int64(c.MaxObservableBytes),
	}
}

func defaultConfig() Config {
	limits := enrich.DefaultLimits
	return Config{
		Registry: RegistryConfig{
			Path:        "registry",
			Permissions: 0o600,
			CleanupIdle: 5 * time.Minute,
		},
		Context: ContextConfig{
			MaxObjects:         limits.Objects,
			MaxRelationships:   limits.Relationships,
			MaxIndicators:      limits.Indicators,
			MaxIndicatorBytes:  cfgtype.ByteSize(limits.IndicatorBytes),
			MaxObservables:     limits.Observables,
			MaxObservableBytes: cfgtype.ByteSize(limits.ObservableBytes),
		},
	}
}

// inputSettings are the keys every input has, whatever its type.
type inputSettings struct {
	Type    string `config:"type"`
	ID      string `config:"id"`
	Enabled *bool  `config:"enabled"`
}

// namedInput is one input with where the user configured it, for messages.
type namedInput struct {
	where  string // tibeat.inputs[N], or the feed preset and its module file
	preset bool
	cfg    *conf.C
}

// namedInputs lists the inputs of the configuration file, then those of
// the feed presets.
func namedInputs(inputs []*conf.C, p *presets) []namedInput {
	var out []namedInput
	for i, c := range inputs {
		out = append(out, namedInput{where: fmt.Sprintf("tibeat.inputs[%d]", i), cfg: c})
	}
	for i, c := range p.inputs {
		f := p.filesets[i]
		out = append(out, namedInput{where: fmt.Sprintf("feed preset %s.%s in %s", f.Module, f.Name, f.File), preset: true, cfg: c})
	}
	return out
}

// enabledInputs returns the inputs that are not disabled, checking that each
// has a type and an id and that no id repeats. Ids name the cursor in the
// registry, so two inputs with one id would overwrite each other's position.
func enabledInputs(inputs []namedInput) ([]namedInput, error) {
	seen := map[string]string{}
	var out []namedInput
	for _, in := range inputs {
		var s inputSettings
		if err := in.cfg.Unpack(&s); err != nil {
			return nil, fmt.Errorf("%s: %w", in.where, err)
		}
		if s.Enabled != nil && !*s.Enabled {
			continue
		}
		if s.Type == "" {
			return nil, fmt.Errorf("%s: missing type: set type to logfile, taxii or cel", in.where)
		}
		if s.ID == "" {
			return nil, fmt.Errorf("%s (type %s): missing id: every input needs a unique id, which keys its cursor in the registry", in.where, s.Type)
		}
		if first, dup := seen[s.ID]; dup {
			return nil, fmt.Errorf("%s: duplicate id %q, already used by %s", in.where, s.ID, first)
		}
		seen[s.ID] = in.where
		out = append(out, in)
	}
	return out, nil
}
