package beater

import (
	"fmt"
	"os"
	"time"

	conf "github.com/elastic/elastic-agent-libs/config"
)

// Config is the tibeat section of the configuration file.
type Config struct {
	Inputs   []*conf.C      `config:"inputs"`
	STIX     *conf.C        `config:"stix"`
	Registry RegistryConfig `config:"registry"`
}

// RegistryConfig places libbeat's state store, where input cursors live.
type RegistryConfig struct {
	// Path is resolved against path.data.
	Path        string        `config:"path"`
	Permissions os.FileMode   `config:"file_permissions"`
	CleanupIdle time.Duration `config:"cleanup_interval"`
}

func defaultConfig() Config {
	return Config{
		Registry: RegistryConfig{
			Path:        "registry",
			Permissions: 0o600,
			CleanupIdle: 5 * time.Minute,
		},
	}
}

// inputSettings are the keys every input has, whatever its type.
type inputSettings struct {
	Type    string `config:"type"`
	ID      string `config:"id"`
	Enabled *bool  `config:"enabled"`
}

// enabledInputs returns the inputs that are not disabled, checking that each
// has a type and an id and that no id repeats. Ids name the cursor in the
// registry, so two inputs with one id would overwrite each other's position.
func enabledInputs(inputs []*conf.C) ([]*conf.C, error) {
	seen := map[string]int{}
	var out []*conf.C
	for i, c := range inputs {
		var s inputSettings
		if err := c.Unpack(&s); err != nil {
			return nil, fmt.Errorf("tibeat.inputs[%d]: %w", i, err)
		}
		if s.Enabled != nil && !*s.Enabled {
			continue
		}
		if s.Type == "" {
			return nil, fmt.Errorf("tibeat.inputs[%d]: missing type: set type to logfile, taxii or cel", i)
		}
		if s.ID == "" {
			return nil, fmt.Errorf("tibeat.inputs[%d] (type %s): missing id: every input needs a unique id, which keys its cursor in the registry", i, s.Type)
		}
		if j, dup := seen[s.ID]; dup {
			return nil, fmt.Errorf("tibeat.inputs[%d]: duplicate id %q, already used by tibeat.inputs[%d]", i, s.ID, j)
		}
		seen[s.ID] = i
		out = append(out, c)
	}
	return out, nil
}
