package cel

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/monitoring"

	"github.com/tibeat/tibeat/internal/runmode"
)

// runForTest unpacks settings and runs the input once with a debug logger.
// It returns what was published and logged.
func runForTest(t *testing.T, settings map[string]any, stored any) (*recordingPublisher, *observer.ObservedLogs) {
	t.Helper()
	cfg := defaultConfig()
	if err := conf.MustNewConfigFrom(settings).Unpack(&cfg); err != nil {
		t.Fatal(err)
	}
	inp := &input{config: cfg, sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
	log, logs := newObservedLogger(t)
	pub := &recordingPublisher{}
	runmode.SetOnce(true)
	defer runmode.SetOnce(false)
	err := inp.run(v2.Context{
		ID:              "redact-test",
		IDWithoutName:   "redact-test",
		Name:            inputName,
		Cancelation:     context.Background(),
		Logger:          log,
		MetricsRegistry: monitoring.NewRegistry(),
	}, stored, pub)
	if err != nil {
		t.Fatalf("run returned %v", err)
	}
	return pub, logs
}

// logText renders every entry with all its fields, as an output would.
func logText(logs *observer.ObservedLogs) string {
	var b strings.Builder
	for _, e := range logs.All() {
		enc := zapcore.NewMapObjectEncoder()
		for _, f := range e.Context {
			f.AddTo(enc)
		}
		fields, _ := json.Marshal(enc.Fields)
		fmt.Fprintf(&b, "%s %s %s %s\n", e.Level, e.LoggerName, e.Message, fields)
	}
	return b.String()
}

func publishedText(t *testing.T, pub *recordingPublisher) string {
	t.Helper()
	var b strings.Builder
	for _, e := range pub.events {
		text, err := json.Marshal(e.Fields)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(text)
		b.WriteByte('\n')
	}
	return b.String()
}

// leakyProgram sends the state's API key in a header and in the query, and
// the state's password in a Basic header it builds. Its get() call carries
// the configured auth.basic password. The server echoes the key, which the
// program puts into an error event.
const leakyProgram = `
get(state.url + "/direct").as(direct,
  request("GET", state.url + "/built?" + {"api_key": [state.api_key], "q": ["x"]}.format_query()).with({
    "Header": {
      "X-Api-Key": [state.api_key],
      "Authorization": ["Basic " + (state.user + ":" + state.password).base64()],
    },
  }).as(req, debug("request", req)).do_request().as(resp, {
    "events": {"error": {"message": "request failed with " + string(resp.StatusCode) + ": " + string(resp.Body) + " after " + string(direct.StatusCode)}},
    "want_more": false,
  })
)
`

func TestSecretsRedactedEverywhere(t *testing.T) {
	const (
		configPassword = "cfg-basic-pw-41c2"
		statePassword  = "state-pw-77aa"
		apiKey         = "key-9f8e7d6c5b"
		urlPassword    = "url-pw-3e1d"
	)
	secrets := []string{configPassword, statePassword, apiKey, urlPassword}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "rejected key %s for query %s", r.Header.Get("X-Api-Key"), r.URL.RawQuery)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("svc", urlPassword)

	for _, tc := range []struct {
		name   string
		redact any
	}{
		{name: "redact fields", redact: map[string]any{"fields": []string{"api_key", "password"}}},
		{name: "no redact setting", redact: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trace := filepath.Join(t.TempDir(), "trace-*.ndjson")
			settings := map[string]any{
				"program":                     leakyProgram,
				"resource.url":                u.String(),
				"resource.retry.max_attempts": 2,
				"resource.retry.wait_min":     "1ms",
				"resource.retry.wait_max":     "1ms",
				"resource.tracer.filename":    trace,
				"auth.basic.user":             "svc",
				"auth.basic.password":         configPassword,
				"state": map[string]any{
					"user":     "analyst",
					"password": statePassword,
					"api_key":  apiKey,
				},
			}
			if tc.redact != nil {
				settings["redact"] = tc.redact
			}
			pub, logs := runForTest(t, settings, nil)

			traceText, err := os.ReadFile(strings.ReplaceAll(trace, "*", "redact-test"))
			if err != nil {
				t.Fatalf("no trace file: %v", err)
			}
			if !strings.Contains(string(traceText), "/built?") {
				t.Fatalf("the trace does not record the request: %s", traceText)
			}
			logged := logText(logs)

			if !strings.Contains(logged, "CEL debug") {
				t.Fatalf("the debug log does not record the debug() call:\n%s", logged)
			}
			errorDocs := publishedText(t, pub)
			if !strings.Contains(errorDocs, "pipeline_error") {
				t.Fatalf("no error document was published: %s", errorDocs)
			}
			for _, secret := range secrets {
				if strings.Contains(string(traceText), secret) {
					t.Errorf("the trace holds %q:\n%s", secret, traceText)
				}
				if strings.Contains(logged, secret) {
					t.Errorf("the log holds %q:\n%s", secret, logged)
				}
				if strings.Contains(errorDocs, secret) {
					t.Errorf("an error document holds %q: %s", secret, errorDocs)
				}
			}
		})
	}
}

func TestOAuth2ClientCredentials(t *testing.T) {
	const (
		clientSecret = "client-secret-5b7d"
		accessToken  = "at-0a1b2c3d4e5f"
	)
	var (
		mu          sync.Mutex
		tokenCalls  int
		apiAuth     []string
		otherAuth   []string
		tokenParams url.Values
	)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/token" {
			tokenCalls++
			r.ParseForm()
			tokenParams = r.PostForm
			id, secret, _ := r.BasicAuth()
			if id != "tibeat" || secret != clientSecret {
				http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, accessToken)
			return
		}
		apiAuth = append(apiAuth, r.Header.Get("Authorization"))
		fmt.Fprint(w, `{"objects":[]}`)
	}))
	defer api.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		otherAuth = append(otherAuth, r.Header.Get("Authorization"))
		fmt.Fprint(w, `{"objects":[]}`)
	}))
	defer other.Close()

	trace := filepath.Join(t.TempDir(), "oauth2.ndjson")
	program := `
get(state.url).as(first, get(state.url).as(second, get(state.other).as(third, {
  "events": [],
  "statuses": [first.StatusCode, second.StatusCode, third.StatusCode],
  "want_more": false,
})))
`
	runForTest(t, map[string]any{
		"program":                         program,
		"resource.url":                    api.URL + "/feed",
		"resource.retry.max_attempts":     1,
		"resource.tracer.filename":        trace,
		"auth.oauth2.client.id":           "tibeat",
		"auth.oauth2.client.secret":       clientSecret,
		"auth.oauth2.token_url":           api.URL + "/token",
		"auth.oauth2.scopes":              []string{"feeds.read"},
		"auth.oauth2.endpoint_params.aud": []string{"feeds"},
		"redact.fields":                   []string{},
		"state":                           map[string]any{"other": other.URL + "/feed"},
	}, nil)

	mu.Lock()
	defer mu.Unlock()
	if tokenCalls != 1 {
		t.Errorf("the token endpoint was called %d times, expected once for two requests", tokenCalls)
	}
	if got := tokenParams.Get("grant_type"); got != "client_credentials" {
		t.Errorf("grant_type %q, expected client_credentials", got)
	}
	if got := tokenParams.Get("scope"); got != "feeds.read" {
		t.Errorf("scope %q, expected feeds.read", got)
	}
	if got := tokenParams.Get("aud"); got != "feeds" {
		t.Errorf("endpoint parameter aud %q, expected feeds", got)
	}
	if len(apiAuth) != 2 || apiAuth[0] != "Bearer "+accessToken || apiAuth[1] != "Bearer "+accessToken {
		t.Errorf("the API saw Authorization %q, expected the token on both requests", apiAuth)
	}
	if len(otherAuth) != 1 || otherAuth[0] != "" {
		t.Errorf("another origin saw Authorization %q, expected none", otherAuth)
	}
	traceText, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(traceText), "/token") {
		t.Fatalf("the trace does not record the token request: %s", traceText)
	}
	for _, secret := range []string{clientSecret, accessToken} {
		if strings.Contains(string(traceText), secret) {
			t.Errorf("the trace holds %q:\n%s", secret, traceText)
		}
	}
}

func TestOAuth2TokenFailureReported(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"secret client-secret-bad was wrong"}`)
			return
		}
		t.Errorf("the API was called without a token: %s", r.URL)
	}))
	defer srv.Close()
	pub, _ := runForTest(t, map[string]any{
		"program":                     `get(state.url).as(r, {"events": [], "status": r.StatusCode, "want_more": false})`,
		"resource.url":                srv.URL + "/feed",
		"resource.retry.max_attempts": 1,
		"auth.oauth2.client.id":       "tibeat",
		"auth.oauth2.client.secret":   "client-secret-bad",
		"auth.oauth2.token_url":       srv.URL + "/token",
		"redact.fields":               []string{},
	}, nil)
	docs := publishedText(t, pub)
	if !strings.Contains(docs, "OAuth2 token request to "+srv.URL+"/token failed with HTTP 401 (invalid_client)") {
		t.Errorf("the error document does not name the token failure: %s", docs)
	}
	if strings.Contains(docs, "client-secret-bad") {
		t.Errorf("the error document holds the client secret: %s", docs)
	}
}

func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://user:pw@example.com/path?q=1":           "https://example.com/path?q=1",
		"https://example.com/feed?api_key=abc&limit=5":   "https://example.com/feed?api_key=REDACTED&limit=5",
		"https://example.com/feed?access_token=abc#frag": "https://example.com/feed?access_token=REDACTED#frag",
		"http://example.com:8080/collections/1/objects/": "http://example.com:8080/collections/1/objects/",
	} {
		if got := redactURLString(raw); got != want {
			t.Errorf("redactURLString(%q) = %q, expected %q", raw, got, want)
		}
	}
}

func TestStateRedactor(t *testing.T) {
	state := map[string]any{
		"url":    "https://example.com",
		"auth":   map[string]any{"client": "c", "pass": "p-1234"},
		"nested": []any{map[string]any{"pass": "p-5678"}},
		"token":  "t-9999",
	}
	configured := stateRedactor{cfg: &redactConfig{Fields: []string{"auth.pass", "nested.pass"}}}
	got := configured.redact(state)
	if got["auth"].(map[string]any)["pass"] != "*" || got["nested"].([]any)[0].(map[string]any)["pass"] != "*" {
		t.Errorf("redact.fields did not hide the fields: %v", got)
	}
	if got["token"] != "t-9999" {
		t.Errorf("redact.fields hid a field it does not name: %v", got)
	}
	if state["auth"].(map[string]any)["pass"] != "p-1234" {
		t.Errorf("redaction changed the state itself: %v", state)
	}
	deleting := stateRedactor{cfg: &redactConfig{Fields: []string{"token"}, Delete: true}}
	if _, ok := deleting.redact(state)["token"]; ok {
		t.Errorf("redact.delete kept the field")
	}
	heuristic := stateRedactor{}.redact(state)
	if heuristic["token"] != "*" || heuristic["auth"] != "*" {
		t.Errorf("without redact, secret-looking keys stay visible: %v", heuristic)
	}
	values := stateRedactor{}.secretValues(state)
	if strings.Join(values, ",") == "" {
		t.Errorf("no secret values collected from %v", state)
	}
}
