package taxii

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/statestore"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/logp/logptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tibeat/tibeat/input/internal/inputtest"
)

// casesDir holds the scripted TAXII peers of the public bug reports.
const casesDir = "../../tests/cases"

// exchangeFile is an exchanges*.json file: the requests tibeat is expected
// to make, in order, and the replies of the peer.
type exchangeFile struct {
	Exchanges []exchange      `json:"exchanges"`
	Trap      json.RawMessage `json:"trap"`
}

type exchange struct {
	Step     int          `json:"step"`
	Poll     int          `json:"poll"`
	Restart  bool         `json:"restart"`
	Request  expectedReq  `json:"request"`
	Response scriptedResp `json:"response"`
}

type expectedReq struct {
	Method        string            `json:"method"`
	Path          string            `json:"path"`
	Query         map[string]string `json:"query"`
	QueryAbsent   []string          `json:"query_absent"`
	Headers       map[string]string `json:"headers"`
	HeadersAbsent []string          `json:"headers_absent"`
}

type scriptedResp struct {
	Status   int               `json:"status"`
	Headers  map[string]string `json:"headers"`
	Body     json.RawMessage   `json:"body"`
	BodyText *string           `json:"body_text"`
}

func loadExchanges(t *testing.T, name string) *exchangeFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(casesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var f exchangeFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &f
}

// trapReply returns the reply a trap describes, or a 500 when the trap has
// none.
func (f *exchangeFile) trapReply() scriptedResp {
	var trap struct {
		Response json.RawMessage `json:"response"`
	}
	var resp scriptedResp
	if json.Unmarshal(f.Trap, &trap) == nil && json.Unmarshal(trap.Response, &resp) == nil && resp.Status != 0 {
		return resp
	}
	text := "unexpected request"
	return scriptedResp{Status: 500, BodyText: &text}
}

// seenRequest is a request the peer received.
type seenRequest struct {
	method   string
	path     string
	rawQuery string
	query    url.Values
	header   http.Header
	at       time.Time // by the test clock
}

// scriptPeer serves the exchanges of a file in order and checks every
// request against its expectation. A request past the script, or one that
// differs from it, fails the test and gets the trap's reply.
type scriptPeer struct {
	t      *testing.T
	script *exchangeFile
	clock  *fakeClock
	server *httptest.Server

	mu       sync.Mutex
	next     int
	requests []seenRequest
}

// placeholderOrigin is the host the case files use; replies name the peer
// instead.
const placeholderOrigin = "https://taxii.example.com"

func newScriptPeer(t *testing.T, script *exchangeFile, clk *fakeClock) *scriptPeer {
	p := &scriptPeer{t: t, script: script, clock: clk}
	p.server = httptest.NewServer(p)
	t.Cleanup(p.server.Close)
	return p
}

func (p *scriptPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := seenRequest{method: r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery, query: r.URL.Query(), header: r.Header.Clone()}
	if p.clock != nil {
		seen.at = p.clock.Now()
	}
	p.requests = append(p.requests, seen)

	if p.next >= len(p.script.Exchanges) {
		p.t.Errorf("unexpected request %d after the %d scripted exchanges: %s %s?%s", len(p.requests), len(p.script.Exchanges), r.Method, r.URL.Path, r.URL.RawQuery)
		p.write(w, p.script.trapReply())
		return
	}
	ex := p.script.Exchanges[p.next]
	p.next++
	if problems := ex.Request.check(r); len(problems) > 0 {
		for _, problem := range problems {
			p.t.Errorf("step %d: %s", ex.Step, problem)
		}
		p.write(w, p.script.trapReply())
		return
	}
	p.write(w, ex.Response)
}

func (p *scriptPeer) write(w http.ResponseWriter, resp scriptedResp) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	var body []byte
	switch {
	case resp.BodyText != nil:
		body = []byte(*resp.BodyText)
	case len(resp.Body) > 0:
		body = bytes.ReplaceAll(resp.Body, []byte(placeholderOrigin), []byte(p.server.URL))
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(body)
}

// check lists how a request differs from its expectation.
func (e expectedReq) check(r *http.Request) []string {
	var problems []string
	if e.Method != "" && r.Method != e.Method {
		problems = append(problems, "method "+r.Method+", expected "+e.Method)
	}
	if r.URL.Path != e.Path {
		problems = append(problems, "path "+r.URL.Path+", expected "+e.Path)
	}
	query := r.URL.Query()
	for k, v := range e.Query {
		if got, ok := query[k]; !ok || len(got) != 1 || got[0] != v {
			problems = append(problems, "query "+k+"="+strings.Join(got, ",")+", expected "+v+" (raw query "+r.URL.RawQuery+")")
		}
	}
	for _, k := range e.QueryAbsent {
		if query.Has(k) {
			problems = append(problems, "query has "+k+"="+query.Get(k)+", expected none")
		}
	}
	for k, v := range e.Headers {
		if got := r.Header.Values(k); len(got) != 1 || got[0] != v {
			problems = append(problems, "header "+k+": "+strings.Join(got, ",")+", expected "+v)
		}
	}
	for _, k := range e.HeadersAbsent {
		if r.Header.Get(k) != "" {
			problems = append(problems, "header "+k+": "+r.Header.Get(k)+", expected none")
		}
	}
	return problems
}

// served returns how many scripted exchanges were used.
func (p *scriptPeer) served() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next
}

func (p *scriptPeer) seen() []seenRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]seenRequest(nil), p.requests...)
}

// assertAllServed fails unless every scripted exchange was requested.
func (p *scriptPeer) assertAllServed() {
	p.t.Helper()
	if n := p.served(); n != len(p.script.Exchanges) {
		p.t.Errorf("%d of %d scripted exchanges were requested", n, len(p.script.Exchanges))
	}
}

// fakeClock is a clock whose Sleep returns at once and moves the time on.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock(t *testing.T, rfc3339 string) *fakeClock {
	t.Helper()
	now, err := time.Parse(time.RFC3339Nano, rfc3339)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeClock{now: now}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// beatEnv is one start of the Beat with the taxii plugin. The test sets its
// clock and its wait between runs, and collects the result of every run.
type beatEnv struct {
	*inputtest.Beat
	t    *testing.T
	logs *observer.ObservedLogs

	mu       sync.Mutex
	runErr   []error
	waitNext func(ctx context.Context) error
}

func startBeat(t *testing.T, registryDir string, clk *fakeClock) *beatEnv {
	t.Helper()
	log, logs := logptest.NewTestingLoggerWithObserver(t, "taxii")
	e := &beatEnv{t: t, logs: logs}
	e.Beat = inputtest.StartBeat(t, registryDir, log, func(log *logp.Logger, states statestore.States) v2.Plugin {
		return newPlugin(log, states, hooks{
			clock: clk,
			waitNext: func(ctx context.Context, _ time.Duration) error {
				e.mu.Lock()
				wait := e.waitNext
				e.mu.Unlock()
				return wait(ctx)
			},
			afterRun: func(err error) {
				e.mu.Lock()
				defer e.mu.Unlock()
				e.runErr = append(e.runErr, err)
			},
		})
	})
	return e
}

// runErrors returns the result of every run so far.
func (e *beatEnv) runErrors() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.runErr...)
}

// runPolls runs the input from settings for polls runs, one right after
// the other, then stops it.
func (e *beatEnv) runPolls(settings map[string]any, polls int, pipeline *inputtest.Pipeline) {
	e.t.Helper()
	done := make(chan struct{})
	count := 0
	e.mu.Lock()
	e.waitNext = func(ctx context.Context) error {
		count++
		if count < polls {
			return nil
		}
		close(done)
		<-ctx.Done()
		return ctx.Err()
	}
	e.mu.Unlock()
	inp := e.Create(settings)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	result := make(chan error, 1)
	go func() { result <- inp.Run(e.InputContext(ctx), pipeline) }()

	select {
	case <-done:
	case err := <-result:
		e.t.Fatalf("input stopped before its %d runs: %v", polls, err)
	case <-time.After(30 * time.Second):
		e.t.Fatalf("input did not finish %d runs in 30s", polls)
	}
	cancel()
	if err := <-result; err != nil {
		e.t.Fatalf("input returned %v", err)
	}
}

// storedPositions reads every collection's stored added_after from the
// registry on disk, keyed by collection key.
func (e *beatEnv) storedPositions() map[string]string {
	e.t.Helper()
	found := map[string]string{}
	for _, cur := range e.StoredCursors() {
		collections, _ := cur["collections"].(map[string]any)
		for k, c := range collections {
			position, _ := c.(map[string]any)
			found[k], _ = position["added_after"].(string)
		}
	}
	return found
}

// publishedObject is the STIX id and modified of a published event, with
// its url.original.
type publishedObject struct {
	ID, Modified, Source string
}

func objectsOf(t *testing.T, events []beat.Event) []publishedObject {
	t.Helper()
	var out []publishedObject
	for _, ev := range events {
		msg, _ := ev.Fields.GetValue("message")
		var obj struct {
			ID       string `json:"id"`
			Modified string `json:"modified"`
		}
		if err := json.Unmarshal([]byte(msg.(string)), &obj); err != nil {
			t.Fatalf("message is not a STIX object: %v", err)
		}
		source, _ := ev.Fields.GetValue("url.original")
		s, _ := source.(string)
		out = append(out, publishedObject{ID: obj.ID, Modified: obj.Modified, Source: s})
	}
	return out
}

func idsOf(objects []publishedObject) []string {
	ids := make([]string, len(objects))
	for i, o := range objects {
		ids[i] = o.ID
	}
	return ids
}

// objectsURL is the objects URL of the collection the cases use.
func (p *scriptPeer) objectsURL() string {
	return p.server.URL + "/api1/collections/1e71b13a-61a5-4214-96e6-7ebf4e2aaf94/objects/"
}

// caseKey is the cursor key of that collection.
func (p *scriptPeer) caseKey() string {
	return p.server.URL + "/api1/collections/1e71b13a-61a5-4214-96e6-7ebf4e2aaf94/"
}
