package httpclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/transport/httpcommon"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// maxRedirects matches the limit of Go's default client.
const maxRedirects = 10

// Options holds the parts of a client that callers and tests replace.
type Options struct {
	Logger *logp.Logger
	// Now is the clock used for OAuth2 token expiry; time.Now when nil.
	Now func() time.Time
}

// Client sends requests with the configured transport and credentials.
type Client struct {
	// HTTP sends the requests. Its transport adds the credentials.
	HTTP *http.Client

	auth    *authRoundTripper
	secrets []string
}

// New builds a client from cfg. No request is sent: an OAuth2 token is
// fetched with the first request that needs one.
func New(cfg Config, opts Options) (*Client, error) {
	log := opts.Logger
	if log == nil {
		log = logp.NewNopLogger()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}

	base, err := cfg.Transport.RoundTripper(httpcommon.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("configure the HTTP transport: %w", err)
	}

	auth := &authRoundTripper{next: base, trusted: map[string]bool{}}
	switch {
	case cfg.Auth.Basic != nil:
		user, password := cfg.Auth.Basic.User, cfg.Auth.Basic.Password
		auth.apply = func(req *http.Request) error {
			req.SetBasicAuth(user, password)
			return nil
		}
	case cfg.Auth.Token != nil:
		auth.apply = tokenApplier(*cfg.Auth.Token)
	case cfg.Auth.OAuth2 != nil:
		source := newOAuth2Source(*cfg.Auth.OAuth2, base, cfg.Transport.Timeout, now)
		auth.oauth2 = source
		auth.apply = source.apply
	}

	client := &http.Client{
		Transport:     auth,
		Timeout:       cfg.Transport.Timeout,
		CheckRedirect: checkRedirect,
	}
	return &Client{HTTP: client, auth: auth, secrets: cfg.Auth.Secrets()}, nil
}

// Scrub replaces every configured secret in text with asterisks. Servers
// sometimes echo the credentials they rejected, and their messages go into
// logs and errors.
func (c *Client) Scrub(text string) string {
	return Scrub(text, c.secrets)
}

// Trust allows credentials to be sent to the origin of u: its scheme, host
// and port. Inputs trust only the origin of their configured URL, never a
// URL taken from a server's reply.
func (c *Client) Trust(u *url.URL) {
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	c.auth.trusted[Origin(u)] = true
}

// SendsCredentials reports whether a request to u carries the configured
// credentials: an auth method is set and u is on a trusted origin.
func (c *Client) SendsCredentials(u *url.URL) bool {
	if c.auth.apply == nil {
		return false
	}
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	return c.auth.trusted[Origin(u)]
}

// HasAuth reports whether the client sends credentials.
func (c *Client) HasAuth() bool { return c.auth.apply != nil }

// Origin returns the scheme, lower-case host and port of u, with the
// scheme's default port filled in.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// checkRedirect follows up to maxRedirects redirects. Go's client already
// changes the method as RFC 9110 section 15.4 requires, and the round
// tripper decides about credentials.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects at %s", maxRedirects, RedactURL(req.URL))
	}
	return nil
}

// authRoundTripper adds the credentials to requests for trusted origins.
type authRoundTripper struct {
	next   http.RoundTripper
	apply  func(*http.Request) error // nil without credentials
	oauth2 *oauth2Source             // set for auth.oauth2

	mu      sync.Mutex
	trusted map[string]bool
}

func (a *authRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if a.apply == nil || !a.mayAuthenticate(req) {
		return a.next.RoundTrip(req)
	}

	authed := req.Clone(req.Context())
	if err := a.apply(authed); err != nil {
		return nil, err
	}
	resp, err := a.next.RoundTrip(authed)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || a.oauth2 == nil || req.Body != nil {
		return resp, err
	}

	// The token was revoked or expired early: fetch a new one and try once
	// more before the caller sees the 401.
	a.oauth2.invalidate()
	drain(resp)
	authed = req.Clone(req.Context())
	if err := a.apply(authed); err != nil {
		return nil, err
	}
	return a.next.RoundTrip(authed)
}

// mayAuthenticate allows credentials for a trusted origin, and for a
// redirect only while it stays on the origin of the first request.
func (a *authRoundTripper) mayAuthenticate(req *http.Request) bool {
	target := Origin(req.URL)
	if req.Response != nil {
		first := req
		for first.Response != nil && first.Response.Request != nil {
			first = first.Response.Request
		}
		if Origin(first.URL) != target {
			return false
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.trusted[target]
}

func tokenApplier(t TokenAuth) func(*http.Request) error {
	if t.Header != "" {
		return func(req *http.Request) error {
			req.Header.Set(t.Header, t.Value)
			return nil
		}
	}
	scheme := t.Type
	if scheme == "" {
		scheme = DefaultTokenType
	}
	return func(req *http.Request) error {
		req.Header.Set("Authorization", scheme+" "+t.Value)
		return nil
	}
}

// oauth2Source caches a client credentials token until shortly before it
// expires, by the replaceable clock.
type oauth2Source struct {
	config  clientcredentials.Config
	client  *http.Client
	now     func() time.Time
	tokenTo string // token URL without credentials, for errors

	mu    sync.Mutex
	token *oauth2.Token
}

// tokenExpiryMargin renews a token this long before it expires, so that it
// does not expire on the way to the server.
const tokenExpiryMargin = 30 * time.Second

func newOAuth2Source(cfg OAuth2Auth, base http.RoundTripper, timeout time.Duration, now func() time.Time) *oauth2Source {
	return &oauth2Source{
		config: clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     cfg.TokenURL,
			Scopes:       cfg.Scopes,
		},
		client: &http.Client{
			Transport: base,
			Timeout:   timeout,
			// The token request carries the client secret: never let a
			// redirect take it to another origin.
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if Origin(req.URL) != Origin(via[0].URL) {
					return fmt.Errorf("token endpoint redirected to another origin, %s", Origin(req.URL))
				}
				return checkRedirect(req, via)
			},
		},
		now:     now,
		tokenTo: Redact(cfg.TokenURL),
	}
}

func (s *oauth2Source) apply(req *http.Request) error {
	token, err := s.current(req.Context())
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", token.Type()+" "+token.AccessToken)
	return nil
}

func (s *oauth2Source) current(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != nil && (s.token.Expiry.IsZero() || s.now().Add(tokenExpiryMargin).Before(s.token.Expiry)) {
		return s.token, nil
	}

	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.client)
	token, err := s.config.Token(ctx)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = Redact(ue.URL)
		}
		return nil, &TokenError{URL: s.tokenTo, Err: err}
	}
	// The oauth2 package sets Expiry from its own clock; recompute it from
	// expires_in with ours so that tests can move time.
	if expiresIn, ok := token.Extra("expires_in").(float64); ok && expiresIn > 0 {
		token.Expiry = s.now().Add(time.Duration(expiresIn * float64(time.Second)))
	}
	s.token = token
	return token, nil
}

func (s *oauth2Source) invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = nil
}

// TokenError is a failed OAuth2 token request.
type TokenError struct {
	URL string
	Err error
}

func (e *TokenError) Error() string {
	var re *oauth2.RetrieveError
	if errors.As(e.Err, &re) && re.Response != nil {
		// RetrieveError prints the whole body; keep the status and the
		// OAuth2 error code, which name the problem without the body.
		msg := fmt.Sprintf("OAuth2 token request to %s failed with HTTP %d", e.URL, re.Response.StatusCode)
		if re.ErrorCode != "" {
			msg += ": " + re.ErrorCode
		}
		return msg + "; check auth.oauth2.client_id, client_secret and scopes"
	}
	return fmt.Sprintf("OAuth2 token request to %s failed: %v", e.URL, e.Err)
}

func (e *TokenError) Unwrap() error { return e.Err }

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
