package cel

import (
	"strings"
	"testing"
	"time"

	conf "github.com/elastic/elastic-agent-libs/config"
)

func unpackConfig(settings map[string]any) (config, error) {
	cfg := defaultConfig()
	err := conf.MustNewConfigFrom(settings).Unpack(&cfg)
	return cfg, err
}

func minimalSettings() map[string]any {
	return map[string]any{
		"program":      `{"events": [], "want_more": false}`,
		"resource.url": "https://127.0.0.1:9443/api/",
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := unpackConfig(minimalSettings())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Interval != time.Minute {
		t.Errorf("interval %v, expected 1m", cfg.Interval)
	}
	if cfg.MaxExecutions != 1000 {
		t.Errorf("max_executions %d, expected 1000", cfg.MaxExecutions)
	}
	r := cfg.Resource
	if r.Transport.Timeout != 30*time.Second {
		t.Errorf("resource.timeout %v, expected 30s", r.Transport.Timeout)
	}
	if r.Retry.MaxAttempts != 5 || r.Retry.WaitMin != time.Second || r.Retry.WaitMax != time.Minute {
		t.Errorf("resource.retry %+v, expected 5 attempts between 1s and 1m", r.Retry)
	}
	if r.Redirect.MaxRedirects != 10 || r.Redirect.ForwardHeaders {
		t.Errorf("resource.redirect %+v, expected 10 redirects without forwarded headers", r.Redirect)
	}
	if !r.KeepAlive.settings().Disable {
		t.Errorf("keep-alive is on by default, expected off as in Filebeat")
	}
	if r.MaxBodySize != defaultMaxBodySize {
		t.Errorf("resource.max_body_size %d, expected %d", r.MaxBodySize, defaultMaxBodySize)
	}
}

func TestConfigRejects(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		message  string
	}{
		{
			name:     "program that does not compile",
			settings: map[string]any{"program": "{\n  \"events\": state.url.no_such_function(),\n}"},
			message:  "ERROR: <input>:2:39: undeclared reference to 'no_such_function'",
		},
		{
			name:     "program that does not parse",
			settings: map[string]any{"program": `{"events": [}`},
			message:  "ERROR: <input>:1:13: Syntax error",
		},
		{
			name:     "missing program",
			settings: map[string]any{"program": nil},
			message:  "program",
		},
		{
			name:     "file URL",
			settings: map[string]any{"resource.url": "file:///var/lib/feed.json"},
			message:  "must use http or https",
		},
		{
			name:     "missing URL",
			settings: map[string]any{"resource.url": nil},
			message:  "url",
		},
		{
			name:     "two auth methods",
			settings: map[string]any{"auth.basic.user": "u", "auth.basic.password": "p", "auth.token.value": "t"},
			message:  "only one authentication method may be enabled, found auth.basic and auth.token",
		},
		{
			name:     "digest auth",
			settings: map[string]any{"auth.digest.user": "u", "auth.digest.password": "p"},
			message:  "auth.digest is not supported",
		},
		{
			name:     "oauth2 without secret",
			settings: map[string]any{"auth.oauth2.client.id": "id", "auth.oauth2.token_url": "https://127.0.0.1/token"},
			message:  "auth.oauth2 needs token_url, client.id and client.secret",
		},
		{
			name:     "oauth2 provider",
			settings: map[string]any{"auth.oauth2.provider": "google", "auth.oauth2.client.id": "id", "auth.oauth2.client.secret": "s", "auth.oauth2.token_url": "https://127.0.0.1/token"},
			message:  `auth.oauth2.provider "google" is not supported`,
		},
		{
			name:     "bad regular expression",
			settings: map[string]any{"regexp.ipv4": "([0-9"},
			message:  "regexp.ipv4: invalid regular expression",
		},
		{
			name:     "zero max_executions",
			settings: map[string]any{"max_executions": 0},
			message:  "max_executions must be greater than 0",
		},
		{
			name:     "zero interval",
			settings: map[string]any{"interval": "0s"},
			message:  "interval must be greater than 0",
		},
		{
			name:     "wait_min above wait_max",
			settings: map[string]any{"resource.retry.wait_min": "2m", "resource.retry.wait_max": "1m"},
			message:  "must not exceed wait_max",
		},
		{
			name:     "tracer without filename",
			settings: map[string]any{"resource.tracer.maxsize": 5},
			message:  "resource.tracer.filename is required",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			settings := minimalSettings()
			for k, v := range tc.settings {
				if v == nil {
					delete(settings, k)
					continue
				}
				settings[k] = v
			}
			_, err := unpackConfig(settings)
			if err == nil {
				t.Fatalf("accepted, expected an error containing %q", tc.message)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("error %q does not contain %q", err, tc.message)
			}
		})
	}
}

func TestConfigAccepts(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
	}{
		{name: "named regular expression", settings: map[string]any{
			"regexp.ipv4": `^[0-9.]+$`,
			"program":     `{"events": [], "ok": "192.0.2.1".re_match("ipv4"), "want_more": false}`,
		}},
		{name: "disabled second auth method", settings: map[string]any{
			"auth.basic.user": "u", "auth.basic.password": "p",
			"auth.token.enabled": false, "auth.token.value": "t",
		}},
		{name: "token without type", settings: map[string]any{"auth.token.value": "t"}},
		{name: "optional types and two-variable comprehensions", settings: map[string]any{
			"program": `{"events": [], "n": state.?missing.orValue(1), "all": {"a": 1}.all(k, v, v > 0), "want_more": false}`,
		}},
		{name: "filebeat settings tibeat ignores", settings: map[string]any{"failure_dump.enabled": true, "record_coverage": true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			settings := minimalSettings()
			for k, v := range tc.settings {
				settings[k] = v
			}
			if _, err := unpackConfig(settings); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRedactWarningForSecretState(t *testing.T) {
	settings := minimalSettings()
	settings["state"] = map[string]any{"api_token": "x", "nested": map[string]any{"password": "y"}, "limit": 10}
	log, logs := newObservedLogger(t)
	if _, _, err := configure(conf.MustNewConfigFrom(settings), log); err != nil {
		t.Fatal(err)
	}
	warnings := logs.FilterMessageSnippet("redact setting is missing").All()
	if len(warnings) != 1 {
		t.Fatalf("%d warnings about redact, expected 1: %v", len(warnings), logs.All())
	}
	fields := warnings[0].ContextMap()["fields"]
	if got := strings.Join(toStrings(fields), ","); got != "state.api_token,state.nested.password" {
		t.Errorf("the warning names %q, expected state.api_token,state.nested.password", got)
	}

	settings["redact"] = map[string]any{"fields": []string{"api_token", "nested.password"}}
	log, logs = newObservedLogger(t)
	if _, _, err := configure(conf.MustNewConfigFrom(settings), log); err != nil {
		t.Fatal(err)
	}
	if n := logs.FilterMessageSnippet("redact setting is missing").Len(); n != 0 {
		t.Errorf("%d warnings with a redact setting, expected none", n)
	}
}

func toStrings(v any) []string {
	switch v := v.(type) {
	case []string:
		return v
	case []any:
		var out []string
		for _, e := range v {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

func TestSourceNameHasNoCredentials(t *testing.T) {
	settings := minimalSettings()
	settings["resource.url"] = "https://user:pw-secret@127.0.0.1:9443/api/?apikey=k-secret"
	srcs, _, err := configure(conf.MustNewConfigFrom(settings), nil)
	if err == nil && len(srcs) == 1 {
		name := srcs[0].Name()
		if strings.Contains(name, "pw-secret") || strings.Contains(name, "k-secret") {
			t.Fatalf("source name %q, the registry key, holds a credential", name)
		}
		return
	}
	t.Fatalf("configure returned %v, %v", srcs, err)
}
