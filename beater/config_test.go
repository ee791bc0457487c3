package beater

import (
	"strings"
	"testing"

	conf "github.com/elastic/elastic-agent-libs/config"
)

func inputs(t *testing.T, yaml string) []*conf.C {
	t.Helper()
	return config(t, yaml).Inputs
}

// rawConfig parses yaml as the tibeat section.
func rawConfig(t *testing.T, yaml string) *conf.C {
	t.Helper()
	c, err := conf.NewConfigWithYAML([]byte(yaml), "test")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// config unpacks yaml as the tibeat section over the defaults.
func config(t *testing.T, yaml string) Config {
	t.Helper()
	cfg := defaultConfig()
	if err := rawConfig(t, yaml).Unpack(&cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestEnabledInputs(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		ids     []string
		wantErr string
	}{
		{
			name: "disabled inputs are left out",
			yaml: "inputs: [{type: logfile, id: a}, {type: logfile, id: b, enabled: false}]",
			ids:  []string{"a"},
		},
		{
			name:    "an input without id is rejected with its position",
			yaml:    "inputs: [{type: logfile, id: a}, {type: logfile}]",
			wantErr: "tibeat.inputs[1] (type logfile): missing id",
		},
		{
			name:    "a repeated id names both inputs",
			yaml:    "inputs: [{type: logfile, id: a}, {type: logfile, id: a}]",
			wantErr: `tibeat.inputs[1]: duplicate id "a", already used by tibeat.inputs[0]`,
		},
		{
			name:    "an input without type is rejected",
			yaml:    "inputs: [{id: a}]",
			wantErr: "tibeat.inputs[0]: missing type",
		},
		{
			name: "a disabled input may repeat an id",
			yaml: "inputs: [{type: logfile, id: a}, {type: logfile, id: a, enabled: false}]",
			ids:  []string{"a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := enabledInputs(namedInputs(inputs(t, tt.yaml), &presets{}))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, in := range got {
				id, _ := in.cfg.String("id", -1)
				ids = append(ids, id)
			}
			if strings.Join(ids, ",") != strings.Join(tt.ids, ",") {
				t.Errorf("ids = %v, want %v", ids, tt.ids)
			}
		})
	}
}

func TestSTIXConfigInputOverridesDefaults(t *testing.T) {
	defaults := conf.MustNewConfigFrom(map[string]any{
		"feed.name":               "global feed",
		"ioc_expiration_duration": "30d",
	})
	input := conf.MustNewConfigFrom(map[string]any{
		"feed.name":              "input feed",
		"restrict_to_indicators": true,
	})

	got, err := stixConfig(defaults, input)

	if err != nil {
		t.Fatal(err)
	}
	if got.Feed.Name != "input feed" {
		t.Errorf("feed.name = %q, want the input's", got.Feed.Name)
	}
	if got.IOCExpirationDuration != "30d" {
		t.Errorf("ioc_expiration_duration = %q, want the global 30d", got.IOCExpirationDuration)
	}
	if !got.RestrictToIndicators {
		t.Error("restrict_to_indicators = false, want the input's true")
	}
}

func TestSTIXConfigRejectsBadDuration(t *testing.T) {
	input := conf.MustNewConfigFrom(map[string]any{"ioc_expiration_duration": "90 days"})

	_, err := stixConfig(nil, input)

	if err == nil || !strings.Contains(err.Error(), "ioc_expiration_duration") {
		t.Fatalf("error = %v, want one naming ioc_expiration_duration", err)
	}
}

func TestContextConfigSetsIndexLimits(t *testing.T) {
	c, err := conf.NewConfigWithYAML([]byte("context: {max_indicators: 50000, max_indicator_bytes: 16MiB}"), "test")
	if err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	if err := c.Unpack(&cfg); err != nil {
		t.Fatal(err)
	}
	limits := cfg.Context.limits()
	if limits.Indicators != 50000 || limits.IndicatorBytes != 16<<20 {
		t.Errorf("limits hold %d indicators and %d bytes, expected 50000 and 16 MiB", limits.Indicators, limits.IndicatorBytes)
	}
	// Settings left out keep the defaults.
	if limits.Relationships != 500_000 || limits.Objects != 100_000 {
		t.Errorf("unset bounds are %d relationships and %d objects, expected the defaults 500000 and 100000", limits.Relationships, limits.Objects)
	}

	for _, tc := range []struct {
		yaml    string
		setting string
	}{
		{"context: {max_indicators: 0}", "max_indicators"},
		{"context: {max_indicator_bytes: 0}", "max_indicator_bytes"},
		{"context: {max_observable_bytes: 0}", "max_observable_bytes"},
		// Past the largest int64 the index's byte count would wrap around.
		{"context: {max_indicator_bytes: 8EiB}", "max_indicator_bytes"},
	} {
		bad, err := conf.NewConfigWithYAML([]byte(tc.yaml), "test")
		if err != nil {
			t.Fatal(err)
		}
		cfg = defaultConfig()
		err = bad.Unpack(&cfg)
		if err == nil || !strings.Contains(err.Error(), tc.setting) {
			t.Errorf("%s gave error %v, expected one naming %s", tc.yaml, err, tc.setting)
		}
	}
}
