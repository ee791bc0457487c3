package configkeys

import (
	"slices"
	"testing"
	"time"

	"github.com/elastic/beats/v7/libbeat/common/cfgtype"
	conf "github.com/elastic/elastic-agent-libs/config"
)

type auth struct {
	User     string `config:"user"`
	Password string `config:"password"`
}

type transport struct {
	Timeout time.Duration `config:"timeout"`
}

// selfUnpacking reads its own fields in its Unpack method, as libbeat's
// HTTP transport settings do.
type selfUnpacking struct {
	Proxy string `config:"proxy_url"`
}

func (s *selfUnpacking) Unpack(cfg *conf.C) error {
	var tmp struct {
		Proxy string `config:"proxy_url"`
	}
	if err := cfg.Unpack(&tmp); err != nil {
		return err
	}
	s.Proxy = tmp.Proxy
	return nil
}

type shape struct {
	URL       string            `config:"url"`
	Interval  time.Duration     `config:"interval"`
	Size      cfgtype.ByteSize  `config:"size"`
	Auth      *auth             `config:"auth"`
	Headers   map[string]string `config:"headers"`
	Raw       *conf.C           `config:"raw"`
	Tags      []string          `config:"tags"`
	Transport transport         `config:",inline"`
	HTTP      selfUnpacking     `config:",inline"`
	Modules   string            `config:"config.modules.path"`
	Untagged  int
	hidden    int
}

func unknownIn(t *testing.T, yaml string, shapes ...any) []string {
	t.Helper()
	cfg, err := conf.NewConfigWithYAML([]byte(yaml), "test")
	if err != nil {
		t.Fatal(err)
	}
	return Paths(Unknown(cfg, shapes...))
}

func TestUnknownSettings(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "every key read",
			yaml: `
url: http://127.0.0.1
interval: 1m
size: 1MiB
auth: {user: u, password: p}
headers: {X-Any: v}
raw: {anything: {below: 1}}
tags: [a, b]
timeout: 5s
proxy_url: http://127.0.0.1:3128
config.modules.path: x
untagged: 1
`,
		},
		{
			name: "misspelt top-level key",
			yaml: "url: x\nintervall: 1m",
			want: []string{"intervall"},
		},
		{
			name: "misspelt nested key named by its path",
			yaml: "auth: {user: u, pasword: p}",
			want: []string{"auth.pasword"},
		},
		{
			name: "misspelt key beside an inline struct that unpacks itself",
			yaml: "url: x\nproxy_ulr: y",
			want: []string{"proxy_ulr"},
		},
		{
			name: "unknown key under a dotted name",
			yaml: "config.modules.paht: x",
			want: []string{"config.modules.paht"},
		},
		{
			name: "unexported field reads nothing",
			yaml: "hidden: 1",
			want: []string{"hidden"},
		},
		{
			name: "several unknown keys sorted",
			yaml: "zeta: 1\nalpha: 2\nauth.other: 3",
			want: []string{"alpha", "auth.other", "zeta"},
		},
		{
			name: "scalar where a struct is expected left to Unpack",
			yaml: "auth: none",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := unknownIn(t, tc.yaml, shape{})
			if !slices.Equal(got, tc.want) {
				t.Errorf("Unknown = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUnknownSettingsUnionOfShapes(t *testing.T) {
	type common struct {
		ID string `config:"id"`
	}
	got := unknownIn(t, "id: a\nurl: x\nother: y", common{}, &shape{})
	if want := []string{"other"}; !slices.Equal(got, want) {
		t.Errorf("Unknown = %q, want %q", got, want)
	}
}

func TestUnknownSettingsInlineMapReadsAll(t *testing.T) {
	type open struct {
		Rest map[string]any `config:",inline"`
	}
	if got := unknownIn(t, "any: 1\nthing: {x: 2}", open{}); len(got) != 0 {
		t.Errorf("Unknown = %q, want none", got)
	}
}

func TestUnknownSettingsHints(t *testing.T) {
	cfg, err := conf.NewConfigWithYAML([]byte("intervall: 1m\nauth: {pasword: p}\nurls: x\nzzz: 1\nsiez: 1"), "test")
	if err != nil {
		t.Fatal(err)
	}

	got := Join(Unknown(cfg, shape{}))

	// Swapped neighbours count as one edit, so siez is one from size.
	want := "auth.pasword (did you mean auth.password?), intervall (did you mean interval?), siez (did you mean size?), urls (did you mean url?), zzz"
	if got != want {
		t.Errorf("Join(Unknown) = %q, want %q", got, want)
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"url", "", 3},
		{"interval", "interval", 0},
		{"intervall", "interval", 1},
		{"inptu", "input", 1},
		{"timout", "timeout", 1},
		{"ca", "abc", 3},
		{"kitten", "sitting", 3},
	}
	for _, tc := range tests {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
