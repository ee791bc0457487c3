package taxii

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"

	"github.com/tibeat/tibeat/input/internal/inputtest"
)

func TestRetryAfterForms(t *testing.T) {
	now := time.Date(2025, 8, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		wait   time.Duration
		ok     bool
	}{
		{"delta seconds", http.Header{"Retry-After": {"30"}}, 30 * time.Second, true},
		{"date against the reply's Date", http.Header{"Retry-After": {"Fri, 01 Aug 2025 12:00:45 GMT"}, "Date": {"Fri, 01 Aug 2025 12:00:30 GMT"}}, 15 * time.Second, true},
		{"date against our clock without Date", http.Header{"Retry-After": {"Fri, 01 Aug 2025 12:01:00 GMT"}}, time.Minute, true},
		{"date in the past", http.Header{"Retry-After": {"Fri, 01 Aug 2025 11:00:00 GMT"}}, 0, true},
		{"absent", http.Header{}, 0, false},
		{"not a number or date", http.Header{"Retry-After": {"soon"}}, 0, false},
		{"negative", http.Header{"Retry-After": {"-5"}}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wait, ok := retryAfter(tc.header, now)
			if wait != tc.wait || ok != tc.ok {
				t.Errorf("retryAfter = %v, %v; expected %v, %v", wait, ok, tc.wait, tc.ok)
			}
		})
	}
}

func TestBackoffStaysWithinBounds(t *testing.T) {
	r := retryConfig{MaxAttempts: 10, WaitMin: time.Second, WaitMax: 8 * time.Second}
	for attempt := 1; attempt <= 8; attempt++ {
		ceiling := min(time.Second<<(attempt-1), 8*time.Second)
		low, high := r.backoff(attempt, func() float64 { return 0 }), r.backoff(attempt, func() float64 { return 1 })
		if low != max(ceiling/2, time.Second) || high != ceiling {
			t.Errorf("attempt %d waits between %v and %v, expected %v and %v", attempt, low, high, max(ceiling/2, time.Second), ceiling)
		}
	}
}

func TestFormatTimestampTruncatesToMicroseconds(t *testing.T) {
	at := time.Date(2024, 5, 2, 10, 15, 30, 123456789, time.FixedZone("CEST", 2*3600))
	if got := formatTimestamp(at); got != "2024-05-02T08:15:30.123456Z" {
		t.Errorf("formatTimestamp = %q, expected 2024-05-02T08:15:30.123456Z", got)
	}
	if got := formatTimestamp(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)); got != "2024-01-01T00:00:00.000000Z" {
		t.Errorf("formatTimestamp = %q, expected six zero digits", got)
	}
}

func TestParseTimestampForms(t *testing.T) {
	for _, s := range []string{"2024-01-17T16:11:20.183201+00:00", "2024-03-01T00:00:00Z", "2024-03-01T00:00:00.123Z", "2024-05-01t12:00:00z"} {
		if _, ok := parseTimestamp(s); !ok {
			t.Errorf("parseTimestamp(%q) failed", s)
		}
	}
	for _, s := range []string{"", "undefined", "2024-05-01 12:00:00", "1714550400"} {
		if _, ok := parseTimestamp(s); ok {
			t.Errorf("parseTimestamp(%q) succeeded, expected a failure", s)
		}
	}
}

func TestMediaTypeMatches(t *testing.T) {
	tests := []struct {
		got, expected string
		match         bool
	}{
		{"application/taxii+json;version=2.1", acceptTAXII21, true},
		{"application/taxii+json; version=2.1; charset=utf-8", acceptTAXII21, true},
		{"Application/TAXII+JSON;Version=2.1", acceptTAXII21, true},
		{"application/taxii+json;version=2.0", acceptTAXII21, false},
		{"application/json; charset=utf-8", acceptTAXII21, false},
		{"application/vnd.oasis.stix+json; version=2.0", acceptSTIX20, true},
		{"", acceptTAXII21, false},
	}
	for _, tc := range tests {
		if got := mediaTypeMatches(tc.got, tc.expected); got != tc.match {
			t.Errorf("mediaTypeMatches(%q, %q) = %v, expected %v", tc.got, tc.expected, got, tc.match)
		}
	}
}

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		header string
		want   contentRange
		ok     bool
	}{
		{"items 0-1/3", contentRange{0, 1, 3}, true},
		{"items 2-2/*", contentRange{2, 2, -1}, true},
		{"bytes 0-1/3", contentRange{}, false},
		{"items 5-1/9", contentRange{}, false},
		{"", contentRange{}, false},
	}
	for _, tc := range tests {
		got, ok := parseContentRange(tc.header)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseContentRange(%q) = %+v, %v; expected %+v, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}

func TestExcerptEscapesAndTruncates(t *testing.T) {
	body := []byte("<html>\r\n<body>" + strings.Repeat("x", 300) + "</body></html>")
	got := excerpt(body)
	if !strings.HasPrefix(got, `"<html>\r\n<body>`) || !strings.HasSuffix(got, `"...`) {
		t.Errorf("excerpt = %q, expected the quoted start with escaped line breaks and an ellipsis", got)
	}
	if len(got) > excerptSize+20 {
		t.Errorf("excerpt is %d bytes, expected about %d", len(got), excerptSize)
	}
}

// A page's position is stored only when the next page starts later, the
// walk is complete, or the walk continues by date.
func TestSafePositionWaitsForTies(t *testing.T) {
	keeper := newCursorKeeper(cursorState{}, nil)
	w := &walker{keeper: keeper}
	c := &collectionRun{collection: &collection{key: "k", objects: &url.URL{}}, log: logp.NewNopLogger()}
	page1 := &page{objects: []rawObject{[]byte(`{}`)}, first: "2024-01-01T00:00:00Z", last: "2024-01-01T00:00:10Z"}
	tie := &page{first: "2024-01-01T00:00:10Z"}
	later := &page{first: "2024-01-01T00:00:11Z"}

	if pos := w.safePosition(c, page1, tie, false); pos != nil {
		t.Errorf("position %v stored although the next page starts at the same date_added", pos)
	}
	if pos := w.safePosition(c, page1, later, false); pos == nil || pos.AddedAfter != page1.last {
		t.Errorf("position %v, expected %s when the next page starts later", pos, page1.last)
	}
	if pos := w.safePosition(c, page1, nil, true); pos == nil {
		t.Error("no position at the end of a complete walk")
	}
	if pos := w.safePosition(c, page1, nil, false); pos != nil {
		t.Errorf("position %v stored for the last page of a walk that failed", pos)
	}
	byDate := *page1
	byDate.continuesByDate = true
	if pos := w.safePosition(c, &byDate, nil, false); pos == nil {
		t.Error("no position for a page the walk continues from by date")
	}

	keeper.state.Collections["k"] = collectionCursor{AddedAfter: "2024-02-01T00:00:00.000000Z"}
	if pos := w.safePosition(c, page1, nil, true); pos != nil {
		t.Errorf("position moved backwards to %v", pos)
	}
	undefined := &page{objects: page1.objects, last: "undefined"}
	if pos := w.safePosition(c, undefined, nil, true); pos != nil {
		t.Errorf("position %v taken from a header that is not a timestamp", pos)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		err      string
	}{
		{"valid", map[string]any{"url": "https://taxii.example.com/taxii2/"}, ""},
		{"url missing", map[string]any{}, "url is required"},
		{"url relative", map[string]any{"url": "/taxii2/"}, "absolute http or https URL"},
		{"version unknown", map[string]any{"url": "https://h/", "version": "3.0"}, "version must be auto, 2.1 or 2.0"},
		{"two auth methods", map[string]any{"url": "https://h/", "auth": map[string]any{"basic": map[string]any{"user": "u"}, "token": map[string]any{"value": "v"}}}, "only one authentication method"},
		{"credentials in url and auth", map[string]any{"url": "https://u:p@h/", "auth": map[string]any{"token": map[string]any{"value": "v"}}}, "url contains credentials"},
		{"token type and header", map[string]any{"url": "https://h/", "auth": map[string]any{"token": map[string]any{"type": "Bearer", "header": "X-Key", "value": "v"}}}, "either type"},
		{"oauth2 incomplete", map[string]any{"url": "https://h/", "auth": map[string]any{"oauth2": map[string]any{"token_url": "https://h/token"}}}, "client_id"},
		{"limit zero", map[string]any{"url": "https://h/", "limit": 0}, "limit must be at least 1"},
		{"bad glob", map[string]any{"url": "https://h/", "collections": []string{"[a"}}, "invalid glob pattern"},
		{"match with comma", map[string]any{"url": "https://h/", "match": map[string]any{"type": []string{"indicator,malware"}}}, "without commas"},
		{"wait_max below wait_min", map[string]any{"url": "https://h/", "retry": map[string]any{"wait_min": "10s", "wait_max": "1s"}}, "retry.wait_min"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := configure(conf.MustNewConfigFrom(tc.settings), hooks{})
			inputtest.ExpectError(t, err, tc.err)
		})
	}
}

func TestConfigMovesURLCredentialsToBasicAuth(t *testing.T) {
	_, inp, err := configure(conf.MustNewConfigFrom(map[string]any{"url": "https://reader:pw@taxii.example.com/taxii2/", "version": 2.0}), hooks{})
	if err != nil {
		t.Fatal(err)
	}
	c := inp.(*input).config
	if c.URL != "https://taxii.example.com/taxii2/" || c.HTTP.Auth.Basic == nil || c.HTTP.Auth.Basic.Password != "pw" {
		t.Errorf("url %q and auth %+v, expected the credentials moved to auth.basic", c.URL, c.HTTP.Auth.Basic)
	}
	if c.Version != version20 {
		t.Errorf("version %q, expected the number 2.0 read as 2.0", c.Version)
	}
}

func TestMatchParameters(t *testing.T) {
	m := matchConfig{Type: []string{"indicator", "malware"}, SpecVersion: []string{"2.1"}}
	q := m.params()
	if q.Get("match[type]") != "indicator,malware" || q.Get("match[spec_version]") != "2.1" || q.Has("match[id]") {
		t.Errorf("match parameters %v", q)
	}
}
