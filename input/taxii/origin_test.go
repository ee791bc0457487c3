package taxii

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tibeat/tibeat/input/internal/inputtest"
)

// The tests below run a discovery server (the url setting) and a second
// server on another port of 127.0.0.1, which is another origin. The
// discovery resource lists an API root on each and makes the second one
// its default.

const otherRoot = "/api9/"

// credentialHeaders are the headers through which the auth methods of the
// tests send their secrets.
var credentialHeaders = []string{"Authorization", "X-API-Key"}

// authMethods are the auth methods whose credentials must stay on the
// origin of the url setting.
var authMethods = []string{"basic", "bearer token", "api key", "oauth2 client"}

// authSettings returns the auth settings of a method of authMethods, with
// the OAuth2 token endpoint at tokenURL.
func authSettings(method, tokenURL string) map[string]any {
	switch method {
	case "basic":
		return map[string]any{"basic": map[string]any{"user": "reader", "password": "discovery-password"}}
	case "bearer token":
		return map[string]any{"token": map[string]any{"value": "discovery-token"}}
	case "api key":
		return map[string]any{"token": map[string]any{"header": "X-API-Key", "value": "discovery-key"}}
	}
	return map[string]any{"oauth2": map[string]any{"token_url": tokenURL, "client_id": "tibeat", "client_secret": "client-secret"}}
}

// newOriginPeers starts the discovery server and the other-origin server.
// With private set, the other server replies 401 to a request without an
// Authorization header.
func newOriginPeers(t *testing.T, private bool) (home, other *recordingPeer) {
	other = newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if private && r.Header.Get("Authorization") == "" {
			w.Header().Set("Content-Type", acceptTAXII21)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"title": "Unauthorized"}`))
			return
		}
		switch r.URL.Path {
		case otherRoot + "collections/":
			w.Header().Set("Content-Type", acceptTAXII21)
			fmt.Fprintf(w, `{"collections": [{"id": %q, "title": "elsewhere", "can_read": true}]}`, caseCollection)
		case otherRoot + "collections/" + caseCollection + "/objects/":
			writeEnvelope(w, false, "", "2024-01-10T00:00:00.000000Z", "2024-01-10T00:00:00.000000Z", indicatorID(1))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	home = newRecordingPeer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/token":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token": "discovery-oauth2-token", "token_type": "bearer", "expires_in": 3600}`))
		case "/taxii2/":
			w.Header().Set("Content-Type", acceptTAXII21)
			fmt.Fprintf(w, `{"title": "home", "default": %q, "api_roots": [%q, %q]}`,
				other.server.URL+otherRoot, home.server.URL+"/api1/", other.server.URL+otherRoot)
		case "/api1/collections/":
			w.Header().Set("Content-Type", acceptTAXII21)
			_, _ = w.Write([]byte(`{"collections": []}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	return home, other
}

func requestPaths(requests []*http.Request) []string {
	var paths []string
	for _, r := range requests {
		paths = append(paths, r.URL.Path)
	}
	return paths
}

func TestCredentialsStayOnConfiguredOrigin(t *testing.T) {
	for _, method := range authMethods {
		t.Run(method, func(t *testing.T) {
			home, other := newOriginPeers(t, false)
			auth := authSettings(method, home.server.URL+"/token")
			clk := newFakeClock(t, "2024-02-01T00:00:00Z")
			env := startBeat(t, t.TempDir(), clk)
			defer env.Stop()

			pipeline := &inputtest.Pipeline{AutoACK: true}
			err := env.RunOnce(map[string]any{"url": home.server.URL + "/taxii2/", "auth": auth}, pipeline)
			if err != nil {
				t.Fatalf("run failed: %v", err)
			}

			wantOther := []string{otherRoot + "collections/", otherRoot + "collections/" + caseCollection + "/objects/"}
			if got := requestPaths(other.requests()); !slices.Equal(got, wantOther) {
				t.Errorf("requests to the other origin %v, expected %v", got, wantOther)
			}
			for _, r := range other.requests() {
				for _, h := range credentialHeaders {
					if v := r.Header.Get(h); v != "" {
						t.Errorf("request to the other origin %s carries %s %q", r.URL.Path, h, v)
					}
				}
			}
			authenticated := 0
			for _, r := range home.requests() {
				if r.URL.Path == "/token" {
					continue
				}
				if r.Header.Get("Authorization") == "" && r.Header.Get("X-API-Key") == "" {
					t.Errorf("request to the url's origin %s carries no credentials", r.URL.Path)
				}
				authenticated++
			}
			if authenticated != 2 {
				t.Errorf("%d requests to the url's origin, expected discovery and the listed API root", authenticated)
			}
			if n := len(pipeline.Published()); n != 1 {
				t.Errorf("%d objects published, expected the other origin's 1", n)
			}
			if warned := env.logs.FilterMessageSnippet("another origin than the url setting").Len(); warned != 1 {
				t.Errorf("%d warnings about the other origin, expected 1", warned)
			}
		})
	}
}

// A private API root on another origin fails with an error that names it
// and states how to read it with credentials.
func TestPrivateRootOnOtherOriginNamesFix(t *testing.T) {
	home, other := newOriginPeers(t, true)
	clk := newFakeClock(t, "2024-02-01T00:00:00Z")
	env := startBeat(t, t.TempDir(), clk)
	defer env.Stop()

	err := env.RunOnce(map[string]any{
		"url":  home.server.URL + "/taxii2/",
		"auth": map[string]any{"basic": map[string]any{"user": "reader", "password": "discovery-password"}},
	}, &inputtest.Pipeline{AutoACK: true})

	assertErrorContains(t, err,
		other.server.URL+otherRoot+"collections/",
		"HTTP 401",
		"another origin than the url setting ("+home.server.URL+")",
		"give it an input whose url is its API root")
	if strings.Contains(err.Error(), "discovery-password") {
		t.Errorf("error %q contains the password", err)
	}
	if n := len(other.requests()); n != 1 {
		t.Errorf("%d requests to the other origin, expected 1: a 401 is not retried", n)
	}
}
