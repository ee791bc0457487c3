package cel

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/tools/txtar"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	"github.com/elastic/beats/v7/libbeat/beat"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/mapstr"
	"github.com/elastic/elastic-agent-libs/monitoring"

	"github.com/tibeat/tibeat/internal/jsonvalue"
	"github.com/tibeat/tibeat/internal/runmode"
	stixproc "github.com/tibeat/tibeat/processors/stix"
)

var update = flag.Bool("update", false, "rewrite the want/ sections of testdata/*.txtar from the actual results")

// goldenClock is the time of now and now() in every golden case.
var goldenClock = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// urlPlaceholder stands for the test server's URL in golden files.
const urlPlaceholder = "{{URL}}"

// A golden case is a txtar archive in testdata. Its sections:
//
//	config.yaml       the input settings; {{URL}} is the test server
//	program.cel       the program, or program.path naming a file in testdata
//	state.json        optional initial state, merged into the settings
//	cursor.json       optional cursor, as if restored from the registry
//	http/NN           one scripted HTTP exchange, in order (format below)
//	want/events.json  the published events' fields
//	want/cursors.json the cursor updates handed to the publisher, in order
//	want/state.json   the result of the last successful evaluation
//	want/log.txt      the warnings and errors logged, "LEVEL message"
//
// An exchange is the expected request line ("GET /path?query"), the
// headers it must carry ("Name: value", or "!Name" for one it must not
// carry), a blank line, the response status, its headers, a blank line and
// the body. Query parameters must match exactly, in any order.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden cases in testdata")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			runGolden(t, file)
		})
	}
}

type goldenCase struct {
	archive   *txtar.Archive
	exchanges []exchange
}

func (g *goldenCase) section(name string) ([]byte, bool) {
	for _, f := range g.archive.Files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

func (g *goldenCase) setSection(name string, data []byte) {
	for i, f := range g.archive.Files {
		if f.Name == name {
			g.archive.Files[i].Data = data
			return
		}
	}
	g.archive.Files = append(g.archive.Files, txtar.File{Name: name, Data: data})
}

type exchange struct {
	name    string
	method  string
	path    string
	query   url.Values
	headers map[string]string // "" value with absent true means must be missing
	absent  []string
	status  int
	respHdr http.Header
	body    string
}

func parseExchange(name string, data []byte) (exchange, error) {
	text := string(data)
	reqPart, respPart, ok := strings.Cut(text, "\n\n")
	if !ok {
		return exchange{}, fmt.Errorf("%s: no blank line after the request", name)
	}
	lines := strings.Split(reqPart, "\n")
	method, target, ok := strings.Cut(lines[0], " ")
	if !ok {
		return exchange{}, fmt.Errorf("%s: request line %q is not METHOD PATH", name, lines[0])
	}
	u, err := url.Parse(target)
	if err != nil {
		return exchange{}, fmt.Errorf("%s: %w", name, err)
	}

	ex := exchange{name: name, method: method, path: u.Path, query: u.Query(), headers: map[string]string{}}
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "!") {
			ex.absent = append(ex.absent, l[1:])
			continue
		}
		k, v, ok := strings.Cut(l, ": ")
		if !ok {
			return exchange{}, fmt.Errorf("%s: header line %q is not Name: value", name, l)
		}
		ex.headers[k] = v
	}

	head, body, _ := strings.Cut(respPart, "\n\n")
	hl := strings.Split(head, "\n")
	ex.status, err = strconv.Atoi(strings.TrimSpace(hl[0]))
	if err != nil {
		return exchange{}, fmt.Errorf("%s: response status %q: %w", name, hl[0], err)
	}
	ex.respHdr = http.Header{}
	for _, l := range hl[1:] {
		k, v, ok := strings.Cut(l, ": ")
		if !ok {
			return exchange{}, fmt.Errorf("%s: response header line %q is not Name: value", name, l)
		}
		ex.respHdr.Add(k, v)
	}
	ex.body = body
	return ex, nil
}

// scriptedServer serves the exchanges in order and records mismatches.
type scriptedServer struct {
	mu        sync.Mutex
	exchanges []exchange
	next      int
	problems  []string
}

func (s *scriptedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next >= len(s.exchanges) {
		s.problems = append(s.problems, fmt.Sprintf("unexpected request %d: %s %s", s.next+1, r.Method, r.URL.RequestURI()))
		http.Error(w, "no scripted exchange left", http.StatusInternalServerError)
		return
	}
	ex := s.exchanges[s.next]
	s.next++

	if r.Method != ex.method || r.URL.Path != ex.path {
		s.problems = append(s.problems, fmt.Sprintf("%s: got %s %s, expected %s %s", ex.name, r.Method, r.URL.Path, ex.method, ex.path))
	}
	if got := r.URL.Query(); !reflect.DeepEqual(normalizeQuery(got), normalizeQuery(ex.query)) {
		s.problems = append(s.problems, fmt.Sprintf("%s: got query %v, expected %v", ex.name, got, ex.query))
	}
	for k, v := range ex.headers {
		if got := r.Header.Get(k); got != v {
			s.problems = append(s.problems, fmt.Sprintf("%s: header %s is %q, expected %q", ex.name, k, got, v))
		}
	}
	for _, k := range ex.absent {
		if _, ok := r.Header[http.CanonicalHeaderKey(k)]; ok {
			s.problems = append(s.problems, fmt.Sprintf("%s: header %s was sent, expected none", ex.name, k))
		}
	}

	for k, v := range ex.respHdr {
		w.Header()[k] = v
	}
	w.WriteHeader(ex.status)
	io.WriteString(w, ex.body)
}

func normalizeQuery(q url.Values) url.Values {
	if len(q) == 0 {
		return url.Values{}
	}
	return q
}

// recordingPublisher stands for input-cursor's publisher: it keeps every
// event and cursor update.
type recordingPublisher struct {
	mu      sync.Mutex
	events  []beat.Event
	cursors []any
	err     error
}

func (p *recordingPublisher) Publish(event beat.Event, c any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, event)
	if c != nil {
		p.cursors = append(p.cursors, c)
	}
	return p.err
}

// newObservedLogger returns a logger at debug level and what it logged.
func newObservedLogger(t testing.TB) (*logp.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	log, err := logp.NewZapLogger(zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	return log, logs
}

func runGolden(t *testing.T, file string) {
	archive, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	g := &goldenCase{archive: archive}
	var names []string
	for _, f := range archive.Files {
		if strings.HasPrefix(f.Name, "http/") {
			names = append(names, f.Name)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		data, _ := g.section(n)
		ex, err := parseExchange(n, data)
		if err != nil {
			t.Fatal(err)
		}
		g.exchanges = append(g.exchanges, ex)
	}

	server := &scriptedServer{exchanges: g.exchanges}
	srv := httptest.NewServer(server)
	defer srv.Close()

	settings := goldenSettings(t, g, srv.URL)
	cfg := defaultConfig()
	if err := settings.Unpack(&cfg); err != nil {
		t.Fatalf("invalid config.yaml: %v", err)
	}

	var stored any
	if data, ok := g.section("cursor.json"); ok {
		if err := json.Unmarshal(data, &stored); err != nil {
			t.Fatalf("cursor.json: %v", err)
		}
	}

	var last map[string]any
	inp := &input{
		config:  cfg,
		clock:   func() time.Time { return goldenClock },
		observe: func(result map[string]any) { last = deepCopy(result).(map[string]any) },
		sleep:   func(ctx context.Context, d time.Duration) error { return ctx.Err() },
	}
	log, logs := newObservedLogger(t)
	pub := &recordingPublisher{}
	runmode.SetOnce(true)
	defer runmode.SetOnce(false)
	err = inp.run(v2.Context{
		ID:              "golden",
		IDWithoutName:   "golden",
		Name:            inputName,
		Cancelation:     context.Background(),
		Logger:          log,
		MetricsRegistry: monitoring.NewRegistry(),
	}, stored, pub)
	if err != nil {
		t.Fatalf("run returned %v", err)
	}

	server.mu.Lock()
	problems := append([]string(nil), server.problems...)
	if server.next != len(server.exchanges) {
		problems = append(problems, fmt.Sprintf("the input made %d requests, the case scripts %d", server.next, len(server.exchanges)))
	}
	server.mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}

	var fields []any
	for i, e := range pub.events {
		checkDecodedAhead(t, i, e)
		fields = append(fields, map[string]any(e.Fields))
	}
	actual := map[string][]byte{
		"want/events.json":  goldenJSON(t, fields, srv.URL),
		"want/cursors.json": goldenJSON(t, pub.cursors, srv.URL),
		"want/state.json":   goldenJSON(t, last, srv.URL),
		"want/log.txt":      goldenLog(logs, srv.URL),
	}

	if *update {
		for _, name := range []string{"want/events.json", "want/cursors.json", "want/state.json", "want/log.txt"} {
			g.setSection(name, actual[name])
		}
		if err := os.WriteFile(file, txtar.Format(g.archive), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, name := range []string{"want/events.json", "want/cursors.json", "want/state.json", "want/log.txt"} {
		want, ok := g.section(name)
		if !ok {
			t.Errorf("%s is missing; run go test -run TestGolden -update and check the result by hand", name)
			continue
		}
		if !sameContent(name, want, actual[name]) {
			t.Errorf("%s differs.\ngot:\n%s\nexpected:\n%s", name, actual[name], want)
		}
	}
}

// goldenSettings builds the input settings from config.yaml, the program
// and state.json.
func goldenSettings(t *testing.T, g *goldenCase, serverURL string) *conf.C {
	t.Helper()
	data, ok := g.section("config.yaml")
	if !ok {
		t.Fatal("config.yaml is missing")
	}
	settings, err := conf.NewConfigWithYAML([]byte(strings.ReplaceAll(string(data), urlPlaceholder, serverURL)), "config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	program, ok := g.section("program.cel")
	if !ok {
		path, ok := g.section("program.path")
		if !ok {
			t.Fatal("program.cel or program.path is missing")
		}
		program, err = os.ReadFile(filepath.Join("testdata", strings.TrimSpace(string(path))))
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := settings.SetString("program", -1, string(program)); err != nil {
		t.Fatal(err)
	}
	if state, ok := g.section("state.json"); ok {
		var m map[string]any
		if err := json.Unmarshal([]byte(strings.ReplaceAll(string(state), urlPlaceholder, serverURL)), &m); err != nil {
			t.Fatalf("state.json: %v", err)
		}
		if err := settings.Merge(map[string]any{"state": m}); err != nil {
			t.Fatal(err)
		}
	}
	return settings
}

func goldenJSON(t *testing.T, v any, serverURL string) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(buf.String(), serverURL, urlPlaceholder))
}

func goldenLog(logs *observer.ObservedLogs, serverURL string) []byte {
	var b strings.Builder
	for _, e := range logs.All() {
		if e.Level < zapcore.WarnLevel {
			continue
		}
		b.WriteString(strings.ToUpper(e.Level.String()) + " " + e.Message)
		for _, f := range e.Context {
			if f.Key == "url.original" || f.Key == "next_run" {
				continue
			}
			switch f.Type {
			case zapcore.StringType:
				b.WriteString(" " + f.Key + "=" + strconv.Quote(f.String))
			case zapcore.Int64Type, zapcore.Int32Type, zapcore.Uint64Type:
				b.WriteString(fmt.Sprintf(" %s=%d", f.Key, f.Integer))
			}
		}
		b.WriteString("\n")
	}
	return []byte(strings.ReplaceAll(b.String(), serverURL, urlPlaceholder))
}

// sameContent compares JSON sections by value, so that key order and
// indentation in a hand-written file do not matter, and text sections
// exactly.
func sameContent(name string, want, got []byte) bool {
	if strings.HasSuffix(name, ".json") {
		var w, g any
		if json.Unmarshal(want, &w) == nil && json.Unmarshal(got, &g) == nil {
			return reflect.DeepEqual(w, g)
		}
	}
	return bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got))
}

// checkDecodedAhead checks that the object the input decoded ahead of
// decode_stix, if any, is its message parsed: the goldens show the fields
// that reach decode_stix, and the metadata only carries that object.
func checkDecodedAhead(t *testing.T, i int, e beat.Event) {
	t.Helper()
	msg, _ := e.Fields["message"].(string)
	want, err := jsonvalue.Object(msg)
	if err != nil {
		want = nil
	}
	event := beat.Event{Fields: mapstr.M{"message": msg}}
	stixproc.AttachDecoded(&event, want)
	if !reflect.DeepEqual(e.Meta, event.Meta) {
		t.Errorf("event %d: metadata %v, expected %v", i, e.Meta, event.Meta)
	}
}
