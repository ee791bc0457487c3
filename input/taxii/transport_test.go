package taxii

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tibeat/tibeat/input/internal/inputtest"
)

// recordingPeer is a TAXII peer written as a handler, recording every
// request.
type recordingPeer struct {
	server *httptest.Server
	mu     sync.Mutex
	seen   []*http.Request
}

func newRecordingPeer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, n int)) *recordingPeer {
	p := &recordingPeer{}
	p.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, r.Clone(r.Context()))
		n := len(p.seen)
		p.mu.Unlock()
		handler(w, r, n)
	}))
	t.Cleanup(p.server.Close)
	return p
}

func (p *recordingPeer) requests() []*http.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*http.Request(nil), p.seen...)
}

func (p *recordingPeer) objectsURL() string {
	return p.server.URL + "/api1/collections/" + caseCollection + "/objects/"
}

// writeEnvelope writes a TAXII 2.1 envelope of indicators with the given
// ids and, when addedFirst is set, the date headers.
func writeEnvelope(w http.ResponseWriter, more bool, next, addedFirst, addedLast string, ids ...string) {
	objects := make([]map[string]any, len(ids))
	for i, id := range ids {
		objects[i] = map[string]any{
			"type": "indicator", "spec_version": "2.1", "id": id,
			"created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
			"pattern": "[ipv4-addr:value = '192.0.2.1']", "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00.000Z",
		}
	}
	body := map[string]any{"more": more, "objects": objects}
	if next != "" {
		body["next"] = next
	}
	w.Header().Set("Content-Type", acceptTAXII21)
	if addedFirst != "" {
		w.Header().Set("X-TAXII-Date-Added-First", addedFirst)
		w.Header().Set("X-TAXII-Date-Added-Last", addedLast)
	}
	_ = json.NewEncoder(w).Encode(body)
}

func indicatorID(n int) string {
	return fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", n)
}

// runFault runs the input once against peer and returns its error.
func runFault(t *testing.T, peer *recordingPeer, extra map[string]any) (error, *inputtest.Pipeline, *fakeClock) {
	t.Helper()
	clk := newFakeClock(t, "2024-02-01T00:00:00Z")
	env := startBeat(t, t.TempDir(), clk)
	defer env.Stop()
	settings := map[string]any{"id": "fault", "url": peer.objectsURL()}
	for k, v := range extra {
		settings[k] = v
	}
	pipeline := &inputtest.Pipeline{AutoACK: true}
	err := env.RunOnce(settings, pipeline)
	return err, pipeline, clk
}

func assertErrorContains(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("run succeeded, expected an error containing %q", parts)
	}
	for _, part := range parts {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
}

func TestStatusEndsRunAtOnce(t *testing.T) {
	tests := []struct {
		status int
		auth   map[string]any
		parts  []string
	}{
		{http.StatusUnauthorized, nil, []string{"HTTP 401", "set auth.basic, auth.token or auth.oauth2"}},
		{http.StatusUnauthorized, map[string]any{"basic": map[string]any{"user": "reader", "password": "s3cret-password"}}, []string{"HTTP 401", "rejected the credentials"}},
		{http.StatusForbidden, nil, []string{"HTTP 403", "permissions"}},
		{http.StatusNotFound, nil, []string{"HTTP 404", "check the url setting"}},
		{http.StatusNotAcceptable, nil, []string{"HTTP 406", "version setting"}},
		{http.StatusBadRequest, nil, []string{"HTTP 400", `server message "Bad request: added_after is not a timestamp"`}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d auth=%v", tc.status, tc.auth != nil), func(t *testing.T) {
			peer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				w.Header().Set("Content-Type", acceptTAXII21)
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(`{"title": "Bad request", "description": "added_after is not a timestamp"}`))
			})
			extra := map[string]any{"version": "2.1"}
			if tc.auth != nil {
				extra["auth"] = tc.auth
			}
			err, _, clk := runFault(t, peer, extra)

			parts := append([]string{peer.objectsURL()}, tc.parts...)
			if tc.status == http.StatusBadRequest {
				assertErrorContains(t, err, parts...)
			} else {
				assertErrorContains(t, err, parts[:2]...)
				assertErrorContains(t, err, parts[2:]...)
			}
			if n := len(peer.requests()); n != 1 {
				t.Errorf("%d requests, expected 1: HTTP %d is not retried", n, tc.status)
			}
			if len(clk.slept()) != 0 {
				t.Errorf("waited %v, expected no wait", clk.slept())
			}
			if strings.Contains(err.Error(), "s3cret-password") {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

func TestServerErrorThenSuccess(t *testing.T) {
	peer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		writeEnvelope(w, false, "", "2024-01-10T00:00:00.000000Z", "2024-01-10T00:00:00.000000Z", indicatorID(1))
	})
	err, pipeline, clk := runFault(t, peer, nil)
	if err != nil {
		t.Fatal(err)
	}

	requests := peer.requests()
	if len(requests) != 2 || requests[0].URL.RawQuery != requests[1].URL.RawQuery {
		t.Errorf("requests %d, expected the same request twice", len(requests))
	}
	if slept := clk.slept(); len(slept) != 1 || slept[0] < time.Second || slept[0] > 2*time.Second {
		t.Errorf("waits %v, expected one backoff between retry.wait_min and twice it", slept)
	}
	if n := len(pipeline.Published()); n != 1 {
		t.Errorf("%d objects published, expected 1", n)
	}
}

func TestServerErrorGivesUp(t *testing.T) {
	peer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.WriteHeader(http.StatusBadGateway)
	})
	err, _, clk := runFault(t, peer, map[string]any{"retry": map[string]any{"max_attempts": 4, "wait_min": "1s", "wait_max": "5s"}})
	assertErrorContains(t, err, peer.objectsURL(), "HTTP 502", "gave up after 4 attempts")

	if n := len(peer.requests()); n != 4 {
		t.Errorf("%d requests, expected retry.max_attempts 4", n)
	}
	slept := clk.slept()
	if len(slept) != 3 {
		t.Fatalf("waits %v, expected 3", slept)
	}
	for i, d := range slept {
		ceiling := min(time.Second<<i, 5*time.Second)
		if d < ceiling/2 || d > ceiling {
			t.Errorf("wait %d is %v, expected between %v and %v", i+1, d, ceiling/2, ceiling)
		}
	}
}

func TestServiceUnavailableRetryAfter(t *testing.T) {
	peer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		writeEnvelope(w, false, "", "", "", indicatorID(1))
	})
	err, _, clk := runFault(t, peer, nil)
	if err != nil {
		t.Fatal(err)
	}
	if slept := clk.slept(); len(slept) != 1 || slept[0] != 7*time.Second {
		t.Errorf("waits %v, expected the 7s of Retry-After", slept)
	}
}

func TestRetryAfterLongerThanWaitMax(t *testing.T) {
	peer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	err, _, clk := runFault(t, peer, nil)
	assertErrorContains(t, err, peer.objectsURL(), "HTTP 429", "wait 1h0m0s", "retry.wait_max 1m0s")
	if len(clk.slept()) != 0 || len(peer.requests()) != 1 {
		t.Errorf("%d requests and waits %v, expected one request and no wait", len(peer.requests()), clk.slept())
	}
}

func TestConnectionRefused(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := listener.Addr().String()
	listener.Close()

	clk := newFakeClock(t, "2024-02-01T00:00:00Z")
	env := startBeat(t, t.TempDir(), clk)
	defer env.Stop()
	objects := "http://" + addr + "/api1/collections/" + caseCollection + "/objects/"
	err = env.RunOnce(map[string]any{"url": objects, "retry": map[string]any{"max_attempts": 3}}, &inputtest.Pipeline{AutoACK: true})

	assertErrorContains(t, err, objects, "connection refused", "gave up after 3 attempts")
	if n := len(clk.slept()); n != 2 {
		t.Errorf("%d waits, expected 2 backoffs between 3 attempts", n)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	peer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	err, _, _ := runFault(t, peer, map[string]any{"timeout": "200ms", "retry": map[string]any{"max_attempts": 2}})
	assertErrorContains(t, err, peer.objectsURL(), "no reply in time; the timeout setting", "gave up after 2 attempts")
}

func TestRedirectToOtherHostDropsCredentials(t *testing.T) {
	other := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeEnvelope(w, false, "", "", "", indicatorID(1))
	})
	peer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Redirect(w, r, other.objectsURL()+"?"+r.URL.RawQuery, http.StatusFound)
	})
	err, pipeline, _ := runFault(t, peer, map[string]any{"auth": map[string]any{"basic": map[string]any{"user": "reader", "password": "secret"}}})
	if err != nil {
		t.Fatal(err)
	}

	if got := peer.requests()[0].Header.Get("Authorization"); !strings.HasPrefix(got, "Basic ") {
		t.Errorf("first request Authorization %q, expected basic credentials", got)
	}
	if got := other.requests()[0].Header.Get("Authorization"); got != "" {
		t.Errorf("redirected request to another port carries Authorization %q", got)
	}
	if n := len(pipeline.Published()); n != 1 {
		t.Errorf("%d objects published, expected 1", n)
	}
}

func TestRedirectOnSameOriginKeepsCredentials(t *testing.T) {
	var peer *recordingPeer
	peer = newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			http.Redirect(w, r, peer.server.URL+"/moved"+r.URL.Path+"?"+r.URL.RawQuery, http.StatusMovedPermanently)
			return
		}
		writeEnvelope(w, false, "", "", "", indicatorID(1))
	})
	err, _, _ := runFault(t, peer, map[string]any{"auth": map[string]any{"token": map[string]any{"header": "X-API-Key", "value": "k1"}}})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range peer.requests() {
		if got := r.Header.Get("X-API-Key"); got != "k1" {
			t.Errorf("request %d X-API-Key %q, expected k1", i+1, got)
		}
	}
}

func TestTokenAuthHeader(t *testing.T) {
	peer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeEnvelope(w, false, "", "", "")
	})
	if err, _, _ := runFault(t, peer, map[string]any{"auth": map[string]any{"token": map[string]any{"value": "abc"}}}); err != nil {
		t.Fatal(err)
	}
	if got := peer.requests()[0].Header.Get("Authorization"); got != "Bearer abc" {
		t.Errorf("Authorization %q, expected Bearer abc", got)
	}
}

func TestOAuth2TokenFetchedAndRefreshed(t *testing.T) {
	var tokens []string
	var tokenMu sync.Mutex
	tokenServer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "client_credentials" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		user, password, _ := r.BasicAuth()
		if (user != "tibeat" || password != "client-secret") && (r.Form.Get("client_id") != "tibeat" || r.Form.Get("client_secret") != "client-secret") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		token := fmt.Sprintf("token-%d", n)
		tokenMu.Lock()
		tokens = append(tokens, token)
		tokenMu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token": %q, "token_type": "bearer", "expires_in": 60}`, token)
	})
	current := func() string {
		tokenMu.Lock()
		defer tokenMu.Unlock()
		return "Bearer " + tokens[len(tokens)-1]
	}
	clk := newFakeClock(t, "2024-02-01T00:00:00Z")
	taxii := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Header.Get("Authorization") != current() {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch n {
		case 1:
			writeEnvelope(w, true, "p2", "2024-01-10T00:00:00.000000Z", "2024-01-10T00:00:00.000000Z", indicatorID(1))
		case 2:
			// The token expires between these pages.
			clk.mu.Lock()
			clk.now = clk.now.Add(2 * time.Minute)
			clk.mu.Unlock()
			writeEnvelope(w, true, "p3", "2024-01-11T00:00:00.000000Z", "2024-01-11T00:00:00.000000Z", indicatorID(2))
		default:
			writeEnvelope(w, false, "", "2024-01-12T00:00:00.000000Z", "2024-01-12T00:00:00.000000Z", indicatorID(3))
		}
	})

	env := startBeat(t, t.TempDir(), clk)
	defer env.Stop()
	pipeline := &inputtest.Pipeline{AutoACK: true}
	err := env.RunOnce(map[string]any{
		"url": taxii.objectsURL(),
		"auth": map[string]any{"oauth2": map[string]any{
			"token_url": tokenServer.server.URL + "/token", "client_id": "tibeat", "client_secret": "client-secret", "scopes": []string{"read"},
		}},
	}, pipeline)
	if err != nil {
		t.Fatal(err)
	}

	var sent []string
	for _, r := range taxii.requests() {
		sent = append(sent, r.Header.Get("Authorization"))
	}
	tokenRequests := len(tokenServer.requests())
	if tokenRequests != 2 {
		t.Errorf("%d token requests, expected 2: one at the start and one after expiry", tokenRequests)
	}
	want := []string{"Bearer token-1", "Bearer token-1", "Bearer token-2"}
	if strings.Join(sent, ",") != strings.Join(want, ",") {
		t.Errorf("Authorization headers %q, expected %q", sent, want)
	}
	if n := len(pipeline.Published()); n != 3 {
		t.Errorf("%d objects published, expected 3", n)
	}
}

func TestOAuth2RejectedClient(t *testing.T) {
	tokenServer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error": "invalid_client"}`))
	})
	taxii := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeEnvelope(w, false, "", "", "")
	})
	err, _, clk := runFault(t, taxii, map[string]any{"auth": map[string]any{"oauth2": map[string]any{
		"token_url": tokenServer.server.URL + "/token", "client_id": "tibeat", "client_secret": "wrong-secret",
	}}})
	assertErrorContains(t, err, tokenServer.server.URL+"/token", "HTTP 401", "invalid_client", "client_secret")
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("error %q contains the client secret", err)
	}
	// The oauth2 package tries the credentials in the header, then in the
	// form, before it gives up.
	if n := len(tokenServer.requests()); n > 2 || len(clk.slept()) != 0 {
		t.Errorf("%d token requests and waits %v, expected at most 2 and no retry", n, clk.slept())
	}
	if n := len(taxii.requests()); n != 0 {
		t.Errorf("%d TAXII requests without a token, expected none", n)
	}
}

func TestClientRateLimit(t *testing.T) {
	peer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		// Pages carry their dates, so that no manifest request is made.
		added := fmt.Sprintf("2024-01-%02dT00:00:00.000000Z", n)
		if n < 5 {
			writeEnvelope(w, true, fmt.Sprint(n+1), added, added, indicatorID(n))
			return
		}
		writeEnvelope(w, false, "", added, added, indicatorID(n))
	})
	started := time.Now()
	err, _, _ := runFault(t, peer, map[string]any{"rate_limit": map[string]any{"limit": 20, "burst": 1}})
	if err != nil {
		t.Fatal(err)
	}
	// Five requests at 20 per second with a burst of one need 4 × 50ms.
	if elapsed := time.Since(started); elapsed < 190*time.Millisecond {
		t.Errorf("5 requests took %v, expected at least 200ms at 20 requests per second", elapsed)
	}
	if n := len(peer.requests()); n != 5 {
		t.Errorf("%d requests, expected 5", n)
	}
}

func TestNextThatNeverAdvances(t *testing.T) {
	peer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeEnvelope(w, true, "same", "2024-01-10T00:00:00.000000Z", "2024-01-10T00:00:00.000000Z", indicatorID(1), indicatorID(2))
	})
	err, pipeline, _ := runFault(t, peer, nil)
	if err != nil {
		t.Fatal(err)
	}
	requests := peer.requests()
	if len(requests) != 2 {
		t.Errorf("%d requests, expected 2: the second page brings nothing new", len(requests))
	}
	if n := len(pipeline.Published()); n != 2 {
		t.Errorf("%d objects published, expected the first page's 2 once", n)
	}
}

func TestMaxPages(t *testing.T) {
	peer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		added := fmt.Sprintf("2024-01-%02dT00:00:00.000000Z", n)
		writeEnvelope(w, true, fmt.Sprint(n+1), added, added, indicatorID(n))
	})
	err, pipeline, _ := runFault(t, peer, map[string]any{"max_pages": 3})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(peer.requests()); n != 3 {
		t.Errorf("%d requests, expected max_pages 3", n)
	}
	if n := len(pipeline.Published()); n != 3 {
		t.Errorf("%d objects published, expected 3", n)
	}
}

// With version auto, a server that rejects the TAXII 2.1 Accept header is
// walked as TAXII 2.0.
func TestAutoVersionFallsBackToTAXII20(t *testing.T) {
	peer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Header.Get("Accept") == acceptTAXII21 {
			w.WriteHeader(http.StatusNotAcceptable)
			return
		}
		w.Header().Set("Content-Type", acceptSTIX20)
		w.WriteHeader(http.StatusPartialContent)
		w.Header().Set("Content-Range", "items 0-0/1")
		_, _ = fmt.Fprintf(w, `{"type": "bundle", "id": "bundle--1", "objects": [{"type": "indicator", "id": %q}]}`, indicatorID(1))
	})
	err, pipeline, _ := runFault(t, peer, nil)
	if err != nil {
		t.Fatal(err)
	}
	requests := peer.requests()
	if len(requests) != 2 || requests[1].Header.Get("Range") != "items 0-999" || requests[1].Header.Get("Accept") != acceptSTIX20 {
		t.Errorf("requests %d, expected a TAXII 2.1 request then a TAXII 2.0 one with Range items 0-999", len(requests))
	}
	if n := len(pipeline.Published()); n != 1 {
		t.Errorf("%d objects published, expected 1", n)
	}
}

// A collection named in the settings that the server does not have is an
// error that lists the collections it has.
func TestUnknownCollectionListsAvailable(t *testing.T) {
	peer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", acceptTAXII21)
		switch r.URL.Path {
		case "/api1/":
			_, _ = w.Write([]byte(`{"title": "root", "versions": ["application/taxii+json;version=2.1"], "max_content_length": 1000}`))
		case "/api1/collections/":
			_, _ = w.Write([]byte(`{"collections": [{"id": "c1", "title": "Alpha", "can_read": true}, {"id": "c2", "title": "Beta", "can_read": false}]}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	clk := newFakeClock(t, "2024-02-01T00:00:00Z")
	env := startBeat(t, t.TempDir(), clk)
	defer env.Stop()
	err := env.RunOnce(map[string]any{"url": peer.server.URL + "/api1/", "collections": []string{"Gamma"}}, &inputtest.Pipeline{AutoACK: true})
	assertErrorContains(t, err, `no collection has the id or title "Gamma"`, `c1 ("Alpha")`, `c2 ("Beta")`)
}

// An object that is not valid JSON inside is published as its text, for
// decode_stix to report, and the rest of the page and the next page follow.
func TestInvalidObjectDoesNotStopTheWalk(t *testing.T) {
	bad := `{"type": "indicator", "id": "indicator--bad", "confidence": 1e400, "name": "a\qb"}`
	peer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		added := fmt.Sprintf("2024-01-%02dT00:00:00.000000Z", n)
		w.Header().Set("Content-Type", acceptTAXII21)
		w.Header().Set("X-TAXII-Date-Added-First", added)
		w.Header().Set("X-TAXII-Date-Added-Last", added)
		if n == 1 {
			_, _ = fmt.Fprintf(w, `{"more": true, "next": "2", "objects": [{"type": "indicator", "id": %q}, %s]}`, indicatorID(1), bad)
			return
		}
		_, _ = fmt.Fprintf(w, `{"more": false, "objects": [{"type": "indicator", "id": %q}]}`, indicatorID(2))
	})
	err, pipeline, _ := runFault(t, peer, nil)
	if err != nil {
		t.Fatal(err)
	}
	var messages []string
	for _, e := range pipeline.Published() {
		msg, _ := e.Fields["message"].(string)
		messages = append(messages, msg)
	}
	if len(messages) != 3 {
		t.Fatalf("published %d events, expected 3: %q", len(messages), messages)
	}
	if messages[1] != bad {
		t.Errorf("second message = %q, expected the invalid object's text %q", messages[1], bad)
	}
}

// A reply that is JSON but no envelope names the page's own URL, with its
// next token, the status and the start of the body.
func TestMalformedEnvelopeNamesThePage(t *testing.T) {
	peer := newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			writeEnvelope(w, true, "tok-2", "2024-01-01T00:00:00.000000Z", "2024-01-01T00:00:00.000000Z", indicatorID(1))
			return
		}
		w.Header().Set("Content-Type", acceptTAXII21)
		_, _ = fmt.Fprint(w, `{"more": false, "objects": [{"id": "x--1"]}`)
	})
	err, _, _ := runFault(t, peer, nil)
	if err == nil {
		t.Fatal("the walk ended without an error")
	}
	for _, want := range []string{"next=tok-2", "HTTP 200", "is not a TAXII envelope", "unexpected ']' at offset", `body starts "{\"more\": false`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}
