package setup

import (
	"fmt"
	"regexp"
	"strings"

	conf "github.com/elastic/elastic-agent-libs/config"
)

// Config holds tibeat's own settings that shape index management, read from
// the tibeat section of the configuration.
type Config struct {
	DataStream       DataStreamConfig       `config:"data_stream"`
	ActiveIndicators ActiveIndicatorsConfig `config:"active_indicators"`
}

// DataStreamConfig places documents and sets how long they are kept.
type DataStreamConfig struct {
	// Namespace is the data_stream.namespace of every document unless an
	// input sets its own through fields.
	Namespace string `config:"namespace"`
	// Retention is how long the ILM policy keeps a backing index after it
	// rolled over, in Elasticsearch time units such as 30d or 12h.
	Retention string `config:"retention"`
}

// ActiveIndicatorsConfig controls the latest transform and its index.
type ActiveIndicatorsConfig struct {
	Enabled bool `config:"enabled"`
}

// DefaultConfig returns the settings used when the configuration sets none.
func DefaultConfig() Config {
	return Config{
		DataStream: DataStreamConfig{
			Namespace: DefaultNamespace,
			Retention: "30d",
		},
		ActiveIndicators: ActiveIndicatorsConfig{Enabled: true},
	}
}

// ReadConfig reads tibeat.data_stream and tibeat.active_indicators from the
// root configuration and checks them.
func ReadConfig(root *conf.C) (Config, error) {
	cfg := DefaultConfig()
	if root == nil {
		return cfg, nil
	}
	var wrapper struct {
		Tibeat *conf.C `config:"tibeat"`
	}
	if err := root.Unpack(&wrapper); err != nil {
		return cfg, err
	}
	if wrapper.Tibeat == nil {
		return cfg, nil
	}
	if err := wrapper.Tibeat.Unpack(&cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// esDuration matches Elasticsearch time units as ILM accepts them.
var esDuration = regexp.MustCompile(`^[0-9]+(d|h|m|s|ms|micros|nanos)$`)

// Validate checks the namespace against Elastic's data stream naming rules
// and the retention against Elasticsearch's time unit syntax.
func (c *Config) Validate() error {
	if err := ValidateNamespace(c.DataStream.Namespace); err != nil {
		return fmt.Errorf("tibeat.data_stream.namespace: %w", err)
	}
	if !esDuration.MatchString(c.DataStream.Retention) {
		return fmt.Errorf("tibeat.data_stream.retention: invalid duration %q: use a number and an Elasticsearch time unit, such as 30d or 12h", c.DataStream.Retention)
	}
	return nil
}

// ValidateNamespace applies the rules Fleet applies to data stream
// namespaces: lowercase, no hyphen (it separates the name's parts), none of
// the characters Elasticsearch rejects in index names, at most 100 bytes.
func ValidateNamespace(namespace string) error {
	switch {
	case namespace == "":
		return fmt.Errorf("must not be empty")
	case len(namespace) > 100:
		return fmt.Errorf("%q is longer than 100 bytes", namespace)
	case strings.ToLower(namespace) != namespace:
		return fmt.Errorf("%q must be lowercase", namespace)
	case strings.ContainsAny(namespace, `-\/*?"<>|,# :`):
		return fmt.Errorf(`%q must not contain a hyphen, a space or any of \/*?"<>|,#:`, namespace)
	}
	return nil
}
