// Package httpclient builds the HTTP clients of tibeat's network inputs from
// the settings Filebeat's HTTP inputs use: ssl, timeout, proxy_url and one
// auth method (basic, token or OAuth2 client credentials).
//
// Credentials are attached by a round tripper, never stored in request
// headers, and only for origins (scheme, host and port) the input trusts.
// A redirect therefore never carries them to another origin. Go's client
// copies the headers of the first request, which contain no credentials.
// The round tripper adds them again only when the redirect stays on the
// origin of the first request.
package httpclient

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/elastic/elastic-agent-libs/transport/httpcommon"
)

// DefaultTimeout bounds one HTTP exchange, connection included.
const DefaultTimeout = 30 * time.Second

// Config holds the transport and authentication settings of one input.
type Config struct {
	// Transport holds ssl, timeout, proxy_url, proxy_headers,
	// proxy_disable and idle_connection_timeout.
	Transport httpcommon.HTTPTransportSettings `config:",inline"`
	Auth      AuthConfig                       `config:"auth"`
}

// DefaultConfig returns the settings used when none are given.
func DefaultConfig() Config {
	transport := httpcommon.DefaultHTTPTransportSettings()
	transport.Timeout = DefaultTimeout
	return Config{Transport: transport}
}

// Validate checks the settings after unpacking.
func (c *Config) Validate() error {
	if c.Transport.Timeout <= 0 {
		return fmt.Errorf("timeout must be greater than 0, got %v", c.Transport.Timeout)
	}
	return c.Auth.Validate()
}

// AuthConfig holds at most one authentication method.
type AuthConfig struct {
	Basic  *BasicAuth  `config:"basic"`
	Token  *TokenAuth  `config:"token"`
	OAuth2 *OAuth2Auth `config:"oauth2"`
}

// Validate rejects more than one method and incomplete methods.
func (a *AuthConfig) Validate() error {
	var set []string
	if a.Basic != nil {
		set = append(set, "auth.basic")
	}
	if a.Token != nil {
		set = append(set, "auth.token")
	}
	if a.OAuth2 != nil {
		set = append(set, "auth.oauth2")
	}
	if len(set) > 1 {
		return fmt.Errorf("only one authentication method may be set, got %s", strings.Join(set, " and "))
	}
	return nil
}

// IsSet reports whether an authentication method is configured.
func (a *AuthConfig) IsSet() bool {
	return a.Basic != nil || a.Token != nil || a.OAuth2 != nil
}

// BasicAuth is HTTP basic authentication (RFC 7617).
type BasicAuth struct {
	User     string `config:"user"`
	Password string `config:"password"`
}

// Validate requires a user name. An empty password is allowed, as some
// servers use the user name alone as an API key.
func (b *BasicAuth) Validate() error {
	if b.User == "" {
		return errors.New("auth.basic.user is required")
	}
	return nil
}

// TokenAuth sends a static token, either as "Authorization: <type> <value>"
// or, when Header is set, as "<header>: <value>" for API keys.
type TokenAuth struct {
	Type   string `config:"type"`
	Header string `config:"header"`
	Value  string `config:"value"`
}

// DefaultTokenType is the Authorization scheme used when auth.token.type is
// not set.
const DefaultTokenType = "Bearer"

// Validate requires a value and rejects type and header together.
func (t *TokenAuth) Validate() error {
	if t.Value == "" {
		return errors.New("auth.token.value is required")
	}
	if t.Type != "" && t.Header != "" {
		return errors.New("auth.token: set either type (for the Authorization header) or header (for an API key header), not both")
	}
	if t.Header != "" && strings.ContainsAny(t.Header, " :\r\n") {
		return fmt.Errorf("auth.token.header %q is not a valid header name", t.Header)
	}
	if strings.ContainsAny(t.Type, " \r\n") {
		return fmt.Errorf("auth.token.type %q must be a single word such as Bearer", t.Type)
	}
	return nil
}

// OAuth2Auth is the OAuth 2.0 client credentials grant (RFC 6749 section 4.4).
type OAuth2Auth struct {
	TokenURL     string   `config:"token_url"`
	ClientID     string   `config:"client_id"`
	ClientSecret string   `config:"client_secret"`
	Scopes       []string `config:"scopes"`
}

// Validate requires the token URL and the client credentials.
func (o *OAuth2Auth) Validate() error {
	if o.TokenURL == "" {
		return errors.New("auth.oauth2.token_url is required")
	}
	u, err := url.Parse(o.TokenURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("auth.oauth2.token_url %q must be an http or https URL", Redact(o.TokenURL))
	}
	if o.ClientID == "" || o.ClientSecret == "" {
		return errors.New("auth.oauth2.client_id and auth.oauth2.client_secret are required")
	}
	return nil
}

// Redact returns rawURL without its user information, for logs and errors.
// A string that does not parse is returned with everything up to the last
// '@' before the host replaced, so that a password never leaks through it.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		if i := strings.LastIndex(rawURL, "@"); i >= 0 {
			if j := strings.Index(rawURL, "://"); j >= 0 && j < i {
				return rawURL[:j+3] + "REDACTED@" + rawURL[i+1:]
			}
			return "REDACTED@" + rawURL[i+1:]
		}
		return rawURL
	}
	return RedactURL(u)
}

// RedactURL returns u as a string without its user information.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	if u.User == nil {
		return u.String()
	}
	c := *u
	c.User = nil
	return c.String()
}

// minSecretLength is the shortest secret Scrub replaces. Replacing every
// occurrence of a one- or two-character password would mangle messages
// while hiding nothing a reader could not guess.
const minSecretLength = 4

// Secrets returns the secret values of the auth settings, and the base64
// form basic authentication sends, for Scrub.
func (a AuthConfig) Secrets() []string {
	var out []string
	add := func(v string) {
		if len(v) >= minSecretLength {
			out = append(out, v)
		}
	}
	if b := a.Basic; b != nil {
		add(b.Password)
		if b.Password != "" {
			add(base64.StdEncoding.EncodeToString([]byte(b.User + ":" + b.Password)))
		}
	}
	if t := a.Token; t != nil {
		add(t.Value)
	}
	if o := a.OAuth2; o != nil {
		add(o.ClientSecret)
	}
	return out
}

// Scrub replaces every secret in text with asterisks.
func Scrub(text string, secrets []string) string {
	for _, secret := range secrets {
		if secret != "" && strings.Contains(text, secret) {
			text = strings.ReplaceAll(text, secret, "*****")
		}
	}
	return text
}
