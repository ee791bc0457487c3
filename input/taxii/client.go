package taxii

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/elastic/elastic-agent-libs/logp"
	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/tibeat/tibeat/input/internal/httpclient"
)

// Media types of TAXII requests, exactly as the specifications write them.
const (
	acceptTAXII21 = "application/taxii+json;version=2.1"
	acceptTAXII20 = "application/vnd.oasis.taxii+json; version=2.0"
	acceptSTIX20  = "application/vnd.oasis.stix+json; version=2.0"
)

// maxBodySize bounds one reply in memory. A TAXII page of 1000 objects is
// usually a few MiB.
// NOTE: a guess with headroom, not a limit from the specifications; a
// larger page fails with an error that names limit as the fix.
const maxBodySize = 256 << 20

// excerptSize is the most body bytes quoted in an error.
const excerptSize = 200

// request is one GET to a TAXII server.
type request struct {
	url    *url.URL
	accept string
	// rangeItems is the TAXII 2.0 Range header value, empty for none.
	rangeItems string
}

// reply is a TAXII reply whose body is JSON.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// requester sends TAXII requests with retries, the client-side rate limit
// and the media type checks.
type requester struct {
	client  *httpclient.Client
	clock   clock
	retry   retryConfig
	limiter *rate.Limiter
	log     *logp.Logger
	authSet bool
	// origin is the origin of the url setting, the only one that gets
	// credentials.
	origin string

	// mediaWarned holds the URLs, without query, whose unexpected media
	// type was already logged.
	mediaWarned sync.Map
}

// get sends req until it succeeds, fails for good or runs out of
// attempts. 416 (Range Not Satisfiable) is returned as a reply, since it
// ends a TAXII 2.0 walk.
func (r *requester) get(ctx context.Context, req request, m *collectionMetrics) (*reply, error) {
	target := httpclient.RedactURL(req.url)
	for attempt := 1; ; attempt++ {
		if err := r.limiter.Wait(ctx); err != nil {
			return nil, ctxErr(ctx, err)
		}
		m.requests.Inc()
		resp, err := r.send(ctx, req)
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}

		var wait time.Duration
		switch {
		case err != nil:
			m.errors.Inc()
			err = &networkError{URL: target, Err: err}
			if rejectedToken(err) {
				return nil, err
			}
			wait = r.retry.backoff(attempt, jitter)
		case resp.status == http.StatusTooManyRequests || resp.status == http.StatusServiceUnavailable:
			m.errors.Inc()
			err = r.statusError(target, req, resp)
			if after, ok := retryAfter(resp.header, r.clock.Now()); ok {
				if after > r.retry.WaitMax {
					return nil, fmt.Errorf("%w; the server asks to wait %v (Retry-After %q), more than retry.wait_max %v, so this run ends", err, after, resp.header.Get("Retry-After"), r.retry.WaitMax)
				}
				wait = after
			} else {
				wait = r.retry.backoff(attempt, jitter)
			}
		case resp.status >= 500:
			m.errors.Inc()
			err = r.statusError(target, req, resp)
			wait = r.retry.backoff(attempt, jitter)
		case resp.status == http.StatusRequestedRangeNotSatisfiable && req.rangeItems != "":
			return resp, nil
		case resp.status >= 300:
			m.errors.Inc()
			return nil, r.statusError(target, req, resp)
		default:
			if err := r.checkJSON(target, req, resp); err != nil {
				m.errors.Inc()
				return nil, err
			}
			m.bytes.Add(uint64(len(resp.body)))
			return resp, nil
		}

		if attempt >= r.retry.MaxAttempts {
			return nil, fmt.Errorf("%w; gave up after %d attempts (retry.max_attempts)", err, attempt)
		}
		m.retries.Inc()
		r.log.Infow("TAXII request failed, waiting before the next attempt",
			"url.original", target, "error", err.Error(), "wait", wait.String(), "attempt", attempt)
		if err := r.clock.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// rejectedToken reports whether the OAuth2 token endpoint rejected the
// client with a 4xx status, which another attempt does not change.
func rejectedToken(err error) bool {
	var tokenErr *httpclient.TokenError
	var retrieveErr *oauth2.RetrieveError
	return errors.As(err, &tokenErr) && errors.As(tokenErr.Err, &retrieveErr) &&
		retrieveErr.Response != nil && retrieveErr.Response.StatusCode < 500
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// send makes one exchange and reads the whole body.
func (r *requester) send(ctx context.Context, req request) (*reply, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, req.url.String(), nil)
	if err != nil {
		return nil, err
	}
	// A GET has no body, so it carries no Content-Type, which strict
	// servers reject with 415.
	hreq.Header.Set("Accept", req.accept)
	if req.rangeItems != "" {
		hreq.Header.Set("Range", req.rangeItems)
	}

	resp, err := r.client.HTTP.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodySize+1))
	if err != nil {
		return nil, fmt.Errorf("read the reply body: %w", err)
	}
	if len(body) > maxBodySize {
		return nil, fmt.Errorf("reply body larger than %d MiB; lower the limit setting", maxBodySize>>20)
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// checkJSON rejects a 2xx reply whose body is not a JSON object, whatever
// its Content-Type, and warns once per URL about a media type other
// than the one the specification names.
func (r *requester) checkJSON(target string, req request, resp *reply) error {
	contentType := resp.header.Get("Content-Type")
	if !looksLikeJSONObject(resp.body) {
		return &statusError{
			URL: target, Status: resp.status, ContentType: contentType, Excerpt: excerpt([]byte(r.client.Scrub(string(resp.body)))),
			Hint: "the reply is not JSON, so it is not a TAXII reply (a proxy or login page?); check the url and proxy settings",
		}
	}
	if mediaTypeMatches(contentType, req.accept) {
		return nil
	}
	key := *req.url
	key.RawQuery = ""
	if _, warned := r.mediaWarned.LoadOrStore(key.String(), true); !warned {
		r.log.Warnw("TAXII reply has an unexpected media type; reading it as JSON",
			"url.original", target, "http.response.mime_type", contentType, "expected", req.accept)
	}
	return nil
}

// looksLikeJSONObject reports whether body starts, after white space and a
// byte order mark, with '{'. Every TAXII resource is a JSON object.
func looksLikeJSONObject(body []byte) bool {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	body = bytes.TrimLeft(body, " \t\r\n")
	return len(body) > 0 && body[0] == '{'
}

// mediaTypeMatches compares media types as RFC 9110 section 8.3.1 allows:
// type and parameter names without regard to case, parameters in any order
// and with any spacing. charset is ignored; version must match when the
// expected type has one.
func mediaTypeMatches(got, expected string) bool {
	gotType, gotParams, err := mime.ParseMediaType(got)
	if err != nil {
		return false
	}
	wantType, wantParams, _ := mime.ParseMediaType(expected)
	if gotType != wantType {
		return false
	}
	return wantParams["version"] == "" || gotParams["version"] == wantParams["version"]
}

// isTAXII20MediaType reports whether a Content-Type is one of the TAXII 2.0
// media types, which only 2.0 servers send.
func isTAXII20MediaType(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	return err == nil && strings.HasPrefix(mediaType, "application/vnd.oasis.")
}

// statusError is a reply that ends the request: a status other than 2xx,
// or a 2xx reply that is not JSON.
type statusError struct {
	URL         string
	Status      int
	ContentType string
	// Message is the TAXII error's title and description, when the body is
	// one; Excerpt is the start of the body otherwise.
	Message string
	Excerpt string
	Hint    string
}

func (e *statusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s: HTTP %d", e.URL, e.Status)
	if text := http.StatusText(e.Status); text != "" {
		b.WriteString(" " + text)
	}
	if e.ContentType != "" {
		fmt.Fprintf(&b, ", Content-Type %q", e.ContentType)
	}
	switch {
	case e.Message != "":
		fmt.Fprintf(&b, ", server message %q", e.Message)
	case e.Excerpt != "":
		fmt.Fprintf(&b, ", body %s", e.Excerpt)
	}
	if e.Hint != "" {
		b.WriteString(": " + e.Hint)
	}
	return b.String()
}

func (r *requester) statusError(target string, req request, resp *reply) *statusError {
	e := &statusError{URL: target, Status: resp.status, ContentType: resp.header.Get("Content-Type")}
	if msg := taxiiErrorMessage(resp.body); msg != "" {
		e.Message = r.client.Scrub(msg)
	} else {
		e.Excerpt = excerpt([]byte(r.client.Scrub(string(resp.body))))
	}
	e.Hint = r.hint(resp.status, req)
	return e
}

// hint returns what the user should check after a status that ends the
// request.
func (r *requester) hint(status int, req request) string {
	denied := status == http.StatusUnauthorized || status == http.StatusForbidden
	if denied && r.authSet && !r.client.SendsCredentials(req.url) {
		return fmt.Sprintf("this URL is on %s, another origin than the url setting (%s), and credentials go only to the origin of url, so the request carried none; to read it with credentials, give it an input whose url is its API root",
			httpclient.Origin(req.url), r.origin)
	}
	switch status {
	case http.StatusUnauthorized:
		if !r.authSet {
			return "the server requires authentication; set auth.basic, auth.token or auth.oauth2"
		}
		return "the server rejected the credentials; check the auth settings"
	case http.StatusForbidden:
		return "the credentials have no access to this resource; check the account's permissions on this API root and collection"
	case http.StatusNotFound:
		return "no TAXII resource at this URL; check the url setting (a discovery endpoint, an API root or a collection's objects URL) and the collections setting"
	case http.StatusNotAcceptable:
		return fmt.Sprintf("the server does not accept Accept %q; the version setting (auto, 2.1 or 2.0) controls that header", req.accept)
	case http.StatusUnsupportedMediaType:
		return fmt.Sprintf("the server rejected the request's media type; tibeat sends no Content-Type on GET and sends Accept %q, which the version setting controls", req.accept)
	case http.StatusBadRequest:
		return "the server rejected the query; check initial_interval, limit and the match settings"
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return "the server is rate limiting or unavailable; rate_limit slows tibeat down"
	}
	if status >= 500 {
		return "server error"
	}
	return "unexpected status"
}

// taxiiErrorMessage returns the title and description of a TAXII error
// message (or an RFC 9457 problem detail), or "" when the body is not one.
func taxiiErrorMessage(body []byte) string {
	if !looksLikeJSONObject(body) {
		return ""
	}
	var e struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		Detail      string `json:"detail"`
	}
	if json.Unmarshal(body, &e) != nil || e.Title == "" {
		return ""
	}
	parts := []string{e.Title}
	for _, s := range []string{e.Description, e.Detail} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return truncate(strings.Join(parts, ": "), excerptSize)
}

// excerpt quotes the first excerptSize bytes of body with control
// characters escaped, so that an HTML page fits on one log line.
// malformed describes a reply whose body is JSON but not the expected
// document, with the page's own URL (filters and next included), the status
// and the start of the body, credentials removed.
func (r *requester) malformed(u *url.URL, what string, resp *reply, err error) error {
	return fmt.Errorf("GET %s: HTTP %d reply is not %s: %w; body starts %s",
		httpclient.RedactURL(u), resp.status, what, err, excerpt([]byte(r.client.Scrub(string(resp.body)))))
}

func excerpt(body []byte) string {
	if len(body) == 0 {
		return `""`
	}
	text := truncate(string(body), excerptSize)
	quoted := strconv.Quote(text)
	if len(text) < len(body) {
		quoted += "..."
	}
	return quoted
}

// truncate cuts s to at most n bytes on a UTF-8 boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// networkError is a request that got no reply.
type networkError struct {
	URL string
	Err error
}

func (e *networkError) Error() string {
	// url.Error repeats the URL, which may hold a query; print its cause.
	err := e.Err
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Sprintf("GET %s: no reply in time; the timeout setting bounds each request", e.URL)
		}
		err = ue.Err
	}
	return fmt.Sprintf("GET %s: %v", e.URL, err)
}

func (e *networkError) Unwrap() error { return e.Err }
