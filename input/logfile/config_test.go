package logfile

import (
	"testing"
	"time"

	conf "github.com/elastic/elastic-agent-libs/config"

	"github.com/tibeat/tibeat/input/internal/inputtest"
)

func TestConfigDefaults(t *testing.T) {
	c := defaultConfig()
	if err := conf.MustNewConfigFrom(map[string]any{"paths": []string{"/data/*.json"}}).Unpack(&c); err != nil {
		t.Fatal(err)
	}
	if c.ScanFrequency != 10*time.Second {
		t.Errorf("scan_frequency defaults to %v, expected 10s", c.ScanFrequency)
	}
	if c.MaxObjectSize != DefaultMaxObjectSize {
		t.Errorf("max_object_size defaults to %d, expected %d", c.MaxObjectSize, DefaultMaxObjectSize)
	}
	if c.ProgressInterval != time.Minute {
		t.Errorf("progress_interval defaults to %v, expected 1m", c.ProgressInterval)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		err      string // part of the expected error, empty when valid
	}{
		{"valid", map[string]any{"paths": []string{"/data/*.json", "/feeds/**/x.ndjson"}, "scan_frequency": "1m", "max_object_size": "10MiB", "progress_interval": "5s"}, ""},
		{"paths missing", map[string]any{}, "paths: at least one glob pattern is required"},
		{"paths empty list", map[string]any{"paths": []string{}}, "paths: at least one glob pattern is required"},
		{"empty pattern", map[string]any{"paths": []string{""}}, "paths: a glob pattern must not be empty"},
		{"unclosed bracket", map[string]any{"paths": []string{"/data/[a-"}}, `paths: invalid glob pattern "/data/[a-"`},
		{"unclosed bracket after a star", map[string]any{"paths": []string{"/data/*.json["}}, `paths: invalid glob pattern "/data/*.json["`},
		{"scan_frequency zero", map[string]any{"paths": []string{"/x"}, "scan_frequency": "0s"}, "scan_frequency must be greater than 0"},
		{"scan_frequency negative", map[string]any{"paths": []string{"/x"}, "scan_frequency": "-5s"}, "scan_frequency must be greater than 0"},
		{"progress_interval zero", map[string]any{"paths": []string{"/x"}, "progress_interval": "0s"}, "progress_interval must be greater than 0"},
		{"max_object_size zero", map[string]any{"paths": []string{"/x"}, "max_object_size": 0}, "max_object_size must be between 1 byte and 1 GiB"},
		{"max_object_size too large", map[string]any{"paths": []string{"/x"}, "max_object_size": "2GiB"}, "max_object_size must be between 1 byte and 1 GiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := configure(conf.MustNewConfigFrom(tc.settings), nil)
			inputtest.ExpectError(t, err, tc.err)
		})
	}
}

func TestSourceName(t *testing.T) {
	withID := newSource("feeds", []string{"/a/*.json"})
	sameID := newSource("feeds", []string{"/b/*.json"})
	if withID.Name() != sameID.Name() {
		t.Errorf("with an input id, editing paths changes the source name from %q to %q", withID.Name(), sameID.Name())
	}
	first := newSource("", []string{"/a/*.json"})
	second := newSource("", []string{"/b/*.json"})
	if first.Name() == second.Name() {
		t.Errorf("without an input id, inputs with different paths share the source name %q", first.Name())
	}
}
