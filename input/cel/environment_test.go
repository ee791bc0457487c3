package cel

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func evaluateSource(t *testing.T, src string, opts programOptions, state map[string]any) (map[string]any, error) {
	t.Helper()
	prg, err := compileProgram(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	return prg.evaluate(context.Background(), state, time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC), 7)
}

func TestEvaluateConvertsToJSONTypes(t *testing.T) {
	out, err := evaluateSource(t, `{
		"int": 3,
		"uint": 4u,
		"double": 1.5,
		"bytes": b"hi",
		"time": timestamp("2024-05-01T10:00:00.5Z"),
		"duration": duration("90s"),
		"null": null,
		"nested": [{"a": [1, "x", true]}],
		"decoded": "{\"n\": 1, \"l\": [2]}".decode_json(),
		"events": [],
	}`, programOptions{}, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"int":      3.0,
		"uint":     4.0,
		"double":   1.5,
		"bytes":    "aGk=",
		"time":     "2024-05-01T10:00:00.5Z",
		"duration": "90s",
		"null":     nil,
		"nested":   []any{map[string]any{"a": []any{1.0, "x", true}}},
		"decoded":  map[string]any{"n": 1.0, "l": []any{2.0}},
		"events":   []any{},
	}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("got %#v\nexpected %#v", out, want)
	}
}

func TestEvaluateRejectsNonMapResult(t *testing.T) {
	_, err := evaluateSource(t, `[1, 2]`, programOptions{}, map[string]any{})
	if err == nil || !strings.Contains(err.Error(), "expected a map holding events") {
		t.Fatalf("error %v, expected a message about the result's type", err)
	}
}

func TestEvaluateGlobals(t *testing.T) {
	clock := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	out, err := evaluateSource(t, `{
		"now_call": now().format(time_layout.RFC3339),
		"now_var": now.format(time_layout.RFC3339),
		"remaining": remaining_executions,
		"agent": useragent,
		"env": env.TIBEAT_TEST_VALUE,
		"ip": "192.0.2.1".re_match("ipv4"),
		"state": state.x,
		"events": [],
	}`, programOptions{
		clock:       func() time.Time { return clock },
		userAgent:   "tibeat/test",
		environment: map[string]string{"TIBEAT_TEST_VALUE": "v"},
		regexps:     map[string]*regexp.Regexp{"ipv4": regexp.MustCompile(`^[0-9.]+$`)},
	}, map[string]any{"x": "y"})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"now_call":  "2030-01-02T03:04:05Z",
		"now_var":   "2024-06-01T12:00:00Z",
		"remaining": 7.0,
		"agent":     "tibeat/test",
		"env":       "v",
		"ip":        true,
		"state":     "y",
	} {
		if out[k] != want {
			t.Errorf("%s is %v, expected %v", k, out[k], want)
		}
	}
}

func TestEvaluateHasNoFileAccess(t *testing.T) {
	_, err := compileProgram(`{"events": [file("/etc/passwd", "text/plain")]}`, programOptions{})
	if err == nil || !strings.Contains(err.Error(), "undeclared reference to 'file'") {
		t.Fatalf("error %v, expected file() to be unknown", err)
	}
}

func TestEvaluateStopsWithContext(t *testing.T) {
	prg, err := compileProgram(`{"events": state.big.map(x, x + 1), "want_more": false}`, programOptions{costLimit: 1 << 62})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]any, 20_000_000)
	for i := range big {
		big[i] = int64(i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = prg.evaluate(ctx, map[string]any{"big": big}, time.Now(), 0)
	if err == nil {
		t.Fatal("a cancelled evaluation returned no error")
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("the evaluation took %v after its context ended at 20ms", elapsed)
	}
}
