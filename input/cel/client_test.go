package cel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/elastic-agent-libs/logp"
)

func testClient(t *testing.T, settings map[string]any) *http.Client {
	t.Helper()
	base := map[string]any{
		"program":      `{"events": [], "want_more": false}`,
		"resource.url": "http://127.0.0.1:1/",
	}
	for k, v := range settings {
		base[k] = v
	}
	cfg, err := unpackConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	client, err := newHTTPClient(context.Background(), cfg, httpClientParts{
		log:     logp.NewNopLogger(),
		metrics: newInputMetrics(nil, logp.NewNopLogger()),
		agent:   "tibeat/test",
		secrets: newScrubber(nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func TestRetryAfterCappedAtWaitMax(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	client := testClient(t, map[string]any{
		"resource.retry.max_attempts": 3,
		"resource.retry.wait_min":     "1ms",
		"resource.retry.wait_max":     "20ms",
	})
	start := time.Now()
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" || calls.Load() != 3 {
		t.Fatalf("got %q after %d requests, expected ok after 3", body, calls.Load())
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("retries took %v: Retry-After was not capped at wait_max", elapsed)
	}
}

func TestRetryGivesUpWithLastResponse(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srv.Close()
	client := testClient(t, map[string]any{
		"resource.retry.max_attempts": 2,
		"resource.retry.wait_min":     "1ms",
		"resource.retry.wait_max":     "1ms",
	})
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || calls.Load() != 2 {
		t.Fatalf("status %d after %d requests, expected 502 after 2", resp.StatusCode, calls.Load())
	}

	// 404 and 501 are final responses, so they are not retried.
	for _, status := range []int{http.StatusNotFound, http.StatusNotImplemented} {
		calls.Store(0)
		srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.WriteHeader(status)
		})
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if calls.Load() != 1 {
			t.Errorf("status %d was sent %d times, expected once", status, calls.Load())
		}
	}
}

func TestRetryResendsBody(t *testing.T) {
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		if len(bodies) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	client := testClient(t, map[string]any{"resource.retry.wait_min": "1ms", "resource.retry.wait_max": "1ms"})
	resp, err := client.Post(srv.URL, "application/json", strings.NewReader(`{"q":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if fmt.Sprint(bodies) != `[{"q":1} {"q":1}]` {
		t.Fatalf("the server received bodies %q, expected the same body twice", bodies)
	}
}

func TestTimeoutPerAttempt(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	client := testClient(t, map[string]any{"resource.timeout": "50ms", "resource.retry.max_attempts": 1})
	_, err := client.Get(srv.URL)
	if err == nil || !strings.Contains(err.Error(), "timed out after 50ms (resource.timeout)") {
		t.Fatalf("error %v, expected a timeout that names resource.timeout", err)
	}
}

func TestBodySizeLimit(t *testing.T) {
	body := strings.Repeat("x", 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("chunked") != "" {
			w.(http.Flusher).Flush() // no Content-Length
		}
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		max   int
		query string
		fails bool
	}{
		{max: 100, fails: false},
		{max: 99, fails: true},
		{max: 100, query: "?chunked=1", fails: false},
		{max: 99, query: "?chunked=1", fails: true},
	} {
		client := testClient(t, map[string]any{"resource.max_body_size": tc.max, "resource.retry.max_attempts": 1})
		resp, err := client.Get(srv.URL + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		var tooBig *bodyTooBigError
		if tc.fails != errors.As(err, &tooBig) {
			t.Errorf("max %d%s: read %d bytes with error %v", tc.max, tc.query, len(got), err)
		}
		if !tc.fails && string(got) != body {
			t.Errorf("max %d%s: read %q", tc.max, tc.query, got)
		}
	}
}

func TestRedirects(t *testing.T) {
	var seen http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
	}))
	defer other.Close()
	var hops int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/loop":
			hops++
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/same":
			http.Redirect(w, r, "/end", http.StatusFound)
		case "/away":
			http.Redirect(w, r, other.URL+"/end", http.StatusFound)
		case "/end":
			seen = r.Header.Clone()
		}
	}))
	defer srv.Close()

	client := testClient(t, map[string]any{"resource.redirect.max_redirects": 2, "resource.retry.max_attempts": 1})
	if _, err := client.Get(srv.URL + "/loop"); err == nil || !strings.Contains(err.Error(), "stopped after 2 redirects") {
		t.Errorf("error %v, expected the redirect limit", err)
	}
	if hops != 3 {
		t.Errorf("%d requests before stopping, expected 3", hops)
	}

	client = testClient(t, map[string]any{
		"resource.redirect.forward_headers":  true,
		"resource.redirect.headers_ban_list": []string{"X-Drop"},
		"resource.retry.max_attempts":        1,
	})
	get := func(path string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("X-Keep", "k")
		req.Header.Set("X-Drop", "d")
		req.Header.Set("Authorization", "Bearer t")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	get("/same")
	if seen.Get("X-Keep") != "k" || seen.Get("X-Drop") != "" || seen.Get("Authorization") != "Bearer t" {
		t.Errorf("same-origin redirect carried %v, expected X-Keep and Authorization without X-Drop", seen)
	}
	get("/away")
	if seen.Get("X-Keep") != "k" || seen.Get("Authorization") != "" {
		t.Errorf("cross-origin redirect carried %v, expected X-Keep without Authorization", seen)
	}
}

func TestUserAgentDefault(t *testing.T) {
	var agents []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		agents = append(agents, r.UserAgent())
	}))
	defer srv.Close()
	client := testClient(t, nil)
	resp, _ := client.Get(srv.URL)
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("User-Agent", "custom")
	resp, _ = client.Do(req)
	resp.Body.Close()
	if fmt.Sprint(agents) != "[tibeat/test custom]" {
		t.Fatalf("User-Agent %v, expected the default then the program's own", agents)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"0":                             0,
		"120":                           2 * time.Minute,
		"Sat, 01 Jun 2024 12:00:30 GMT": 30 * time.Second,
		"Sat, 01 Jun 2024 11:00:00 GMT": 0,
	} {
		got, ok := retryAfter(v, now)
		if !ok || got != want {
			t.Errorf("retryAfter(%q) = %v, %v; expected %v", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "soon", "-5"} {
		if _, ok := retryAfter(v, now); ok {
			t.Errorf("retryAfter(%q) accepted an invalid value", v)
		}
	}
}

func TestTraceFileRotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.ndjson")
	f, err := openRotatingFile(path, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(strings.Repeat("a", 59) + "\n")
	for range 5 {
		if err := f.write(line); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	for _, p := range []string{path, path + ".1", path + ".2"} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if info.Size() > 100 {
			t.Errorf("%s has %d bytes, over maxsize", p, info.Size())
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, expected 0600", p, info.Mode().Perm())
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Errorf("a third backup was kept, expected maxbackups 2")
	}

	removeTraces(path, logp.NewNopLogger())
	if left, _ := filepath.Glob(path + "*"); len(left) != 0 {
		t.Errorf("a disabled tracer left %v", left)
	}
}
