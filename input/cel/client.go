package cel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/transport/httpcommon"
)

// httpClientParts are the collaborators of the HTTP client that the input
// owns.
type httpClientParts struct {
	log     *logp.Logger
	metrics *inputMetrics
	tracer  *tracer // nil unless resource.tracer is enabled
	agent   string  // User-Agent for requests that set none
	secrets *scrubber
}

// newHTTPClient builds the client that the program's HTTP functions use.
// From the program inwards a request passes: the User-Agent default, the
// OAuth2 token, retries with a timeout per attempt, the metrics, the body
// size limit, the tracer and the transport with TLS, proxy and keep-alive
// settings.
func newHTTPClient(ctx context.Context, cfg config, parts httpClientParts) (*http.Client, error) {
	res := cfg.Resource
	base, err := res.Transport.RoundTripper(
		httpcommon.WithLogger(parts.log),
		res.KeepAlive.settings(),
	)
	if err != nil {
		return nil, fmt.Errorf("configure the HTTP transport: %w", err)
	}

	var rt http.RoundTripper = base
	if parts.tracer != nil {
		rt = parts.tracer.wrap(rt)
	}
	rt = &bodyLimitTransport{next: rt, max: res.MaxBodySize}
	rt = &metricsTransport{next: rt, metrics: parts.metrics}
	rt = &retryTransport{
		next:        rt,
		maxAttempts: res.Retry.MaxAttempts,
		waitMin:     res.Retry.WaitMin,
		waitMax:     res.Retry.WaitMax,
		timeout:     res.Transport.Timeout,
		log:         parts.log,
		secrets:     parts.secrets,
	}
	if cfg.Auth.OAuth2.enabled() {
		tokenClient := &http.Client{Transport: rt, CheckRedirect: sameOriginRedirect}
		rt = newOAuth2Transport(ctx, cfg.Auth.OAuth2, res.URL.URL, tokenClient, rt)
	}
	rt = userAgentTransport{next: rt, agent: parts.agent}

	return &http.Client{
		Transport:     rt,
		CheckRedirect: checkRedirect(res.Redirect),
	}, nil
}

// checkRedirect follows up to max_redirects redirects. With forward_headers
// the headers of the previous request are sent again, less the ban list.
// Credentials never follow a redirect to another origin, whatever the
// settings, as Go's client does for its own copy of the headers.
func checkRedirect(cfg redirectConfig) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > cfg.MaxRedirects {
			return fmt.Errorf("stopped after %d redirects (resource.redirect.max_redirects) at %s", cfg.MaxRedirects, redactURL(req.URL))
		}
		if !cfg.ForwardHeaders || len(via) == 0 {
			return nil
		}
		prev := via[len(via)-1]
		req.Header = prev.Header.Clone()
		for _, k := range cfg.HeadersBanList {
			req.Header.Del(k)
		}
		if originOf(req.URL) != originOf(via[0].URL) {
			for _, k := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
				req.Header.Del(k)
			}
		}
		return nil
	}
}

// sameOriginRedirect keeps OAuth2 token requests, which carry the client
// secret, on the token endpoint's origin.
func sameOriginRedirect(req *http.Request, via []*http.Request) error {
	if originOf(req.URL) != originOf(via[0].URL) {
		return fmt.Errorf("the OAuth2 token endpoint redirected to another origin, %s", originOf(req.URL))
	}
	if len(via) >= defaultMaxRedirects {
		return fmt.Errorf("stopped after %d redirects", defaultMaxRedirects)
	}
	return nil
}

type userAgentTransport struct {
	next  http.RoundTripper
	agent string
}

func (t userAgentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.agent == "" || req.Header.Get("User-Agent") != "" {
		return t.next.RoundTrip(req)
	}
	c := req.Clone(req.Context())
	c.Header.Set("User-Agent", t.agent)
	return t.next.RoundTrip(c)
}

// retryTransport sends a request up to maxAttempts times while the server
// responds with 429 or a 5xx status other than 501, or the connection fails.
// Each attempt has its own timeout, which also covers reading the body.
// When every attempt failed with a status, the last response is returned so
// that the program can read it.
type retryTransport struct {
	next             http.RoundTripper
	maxAttempts      int
	waitMin, waitMax time.Duration
	timeout          time.Duration
	log              *logp.Logger
	secrets          *scrubber
	// sleep waits between attempts; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := replayableBody(req)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		resp, err := t.attempt(req, body)
		if !retryable(req.Context(), resp, err) {
			return resp, err
		}
		if attempt >= t.maxAttempts {
			if t.maxAttempts > 1 {
				t.log.Warnw("HTTP request failed on every attempt; giving up",
					"url.original", redactURL(req.URL), "http.request.method", req.Method,
					"attempts", attempt, "http.response.status_code", statusOf(resp), "error", t.secrets.scrub(errText(err)))
			}
			return resp, err
		}
		wait := t.backoff(attempt, resp)
		t.log.Infow("HTTP request failed; retrying",
			"url.original", redactURL(req.URL), "http.request.method", req.Method,
			"attempt", attempt, "max_attempts", t.maxAttempts, "wait", wait.String(),
			"http.response.status_code", statusOf(resp), "error", t.secrets.scrub(errText(err)))
		if resp != nil {
			drainAndClose(resp.Body)
		}
		if err := t.wait(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

func (t *retryTransport) attempt(req *http.Request, body []byte) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	r := req.Clone(ctx)
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && req.Context().Err() == nil {
			err = fmt.Errorf("%s %s timed out after %v (resource.timeout): %w", req.Method, redactURL(req.URL), t.timeout, err)
		}
		return nil, err
	}
	// The attempt's context must live until the body is read.
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

func (t *retryTransport) wait(ctx context.Context, d time.Duration) error {
	return sleepFor(ctx, d, t.sleep)
}

// sleepFor waits d or until ctx is done. sleep, when not nil, replaces the
// real wait, so that tests need not wait real seconds.
func sleepFor(ctx context.Context, d time.Duration, sleep func(context.Context, time.Duration) error) error {
	if sleep != nil {
		return sleep(ctx, d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// backoff doubles wait_min with every attempt up to wait_max. A Retry-After
// header takes precedence, but is also capped at wait_max so that a server
// cannot stall the input.
func (t *retryTransport) backoff(attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, t.waitMax)
		}
	}
	d := t.waitMin
	for i := 1; i < attempt && d < t.waitMax; i++ {
		d *= 2
	}
	return min(d, t.waitMax)
}

// retryAfter parses a Retry-After value: seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

func retryable(ctx context.Context, resp *http.Response, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		var tooBig *bodyTooBigError
		return !errors.As(err, &tooBig)
	}
	return resp.StatusCode == http.StatusTooManyRequests ||
		(resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented)
}

// replayableBody reads the request body once so that every attempt can send
// it. Request bodies built by a program are held in memory already.
func replayableBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, fmt.Errorf("read the request body: %w", err)
	}
	return b, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// bodyLimitTransport fails the reading of a response body that is larger
// than max bytes. 0 means no limit.
type bodyLimitTransport struct {
	next http.RoundTripper
	max  int64
}

func (t *bodyLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || t.max <= 0 {
		return resp, err
	}
	tooBig := &bodyTooBigError{url: redactURL(req.URL), max: t.max}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		resp.Body = io.NopCloser(errReader{tooBig})
		return resp, nil
	}
	resp.Body = &limitedBody{rc: resp.Body, remaining: t.max, err: tooBig}
	return resp, nil
}

type bodyTooBigError struct {
	url string
	max int64
}

func (e *bodyTooBigError) Error() string {
	return fmt.Sprintf("the response body from %s is larger than resource.max_body_size (%d bytes)", e.url, e.max)
}

// limitedBody passes up to remaining bytes, then fails only if the body has
// more: a body of exactly the limit is accepted.
type limitedBody struct {
	rc        io.ReadCloser
	remaining int64
	err       error
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.remaining <= 0 {
		var probe [1]byte
		n, err := l.rc.Read(probe[:])
		if n > 0 {
			return 0, l.err
		}
		return 0, err
	}
	if int64(len(p)) > l.remaining {
		p = p[:l.remaining]
	}
	n, err := l.rc.Read(p)
	l.remaining -= int64(n)
	return n, err
}

func (l *limitedBody) Close() error { return l.rc.Close() }

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// metricsTransport counts requests and responses.
type metricsTransport struct {
	next    http.RoundTripper
	metrics *inputMetrics
}

func (t *metricsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.metrics.httpRequests.Inc()
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.metrics.httpRequestErrors.Inc()
		return nil, err
	}
	t.metrics.countResponse(resp.StatusCode)
	return resp, nil
}

func drainAndClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	body.Close()
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
