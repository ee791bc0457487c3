package cel

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/mito/lib"
)

// authConfig holds at most one authentication method, with the key names of
// Filebeat's CEL input. tibeat does not implement Filebeat's digest and aws
// methods. They are unpacked only to reject them with a clear message,
// because go-ucfg ignores unknown keys.
type authConfig struct {
	Basic  *basicAuthConfig  `config:"basic"`
	Token  *tokenAuthConfig  `config:"token"`
	OAuth2 *oauth2AuthConfig `config:"oauth2"`
	Digest *conf.C           `config:"digest"`
	AWS    *conf.C           `config:"aws"`
}

func (a authConfig) Validate() error {
	for name, c := range map[string]*conf.C{"auth.digest": a.Digest, "auth.aws": a.AWS} {
		if c != nil && enabledSection(c) {
			return fmt.Errorf("%s is not supported by tibeat's cel input: use auth.basic, auth.token or auth.oauth2, or build the header in the program", name)
		}
	}
	var set []string
	if a.Basic.enabled() {
		set = append(set, "auth.basic")
	}
	if a.Token.enabled() {
		set = append(set, "auth.token")
	}
	if a.OAuth2.enabled() {
		set = append(set, "auth.oauth2")
	}
	if len(set) > 1 {
		return fmt.Errorf("only one authentication method may be enabled, found %s", strings.Join(set, " and "))
	}
	return nil
}

// enabledSection reports whether a section is present without enabled: false.
func enabledSection(c *conf.C) bool {
	enabled, err := c.Bool("enabled", -1)
	return err != nil || enabled
}

// basicAuthConfig is HTTP basic authentication. As in Filebeat, mito adds
// it to the requests of get, head and post only. A request built with
// request() and sent with do_request carries only the headers the program
// sets.
type basicAuthConfig struct {
	Enabled  *bool  `config:"enabled"`
	User     string `config:"user"`
	Password string `config:"password"`
}

func (b *basicAuthConfig) enabled() bool {
	return b != nil && (b.Enabled == nil || *b.Enabled)
}

func (b *basicAuthConfig) Validate() error {
	if b.enabled() && (b.User == "" || b.Password == "") {
		return errors.New("auth.basic needs both user and password")
	}
	return nil
}

// tokenAuthConfig sends "Authorization: <type> <value>" with the requests
// of get, head and post, like basic. An API key sent in another header
// belongs in resource.headers, which applies to every request.
type tokenAuthConfig struct {
	Enabled *bool  `config:"enabled"`
	Type    string `config:"type"`
	Value   string `config:"value"`
}

func (t *tokenAuthConfig) enabled() bool {
	return t != nil && (t.Enabled == nil || *t.Enabled)
}

func (t *tokenAuthConfig) Validate() error {
	if !t.enabled() {
		return nil
	}
	if t.Value == "" {
		return errors.New("auth.token.value is required")
	}
	if strings.ContainsAny(t.Type, " \r\n") {
		return fmt.Errorf("auth.token.type %q must be a single word such as Bearer", t.Type)
	}
	return nil
}

// tokenType is the Authorization scheme. Filebeat requires auth.token.type;
// tibeat defaults it to Bearer.
func (t *tokenAuthConfig) tokenType() string {
	if t.Type == "" {
		return "Bearer"
	}
	return t.Type
}

// oauth2AuthConfig is the OAuth 2.0 client credentials grant (RFC 6749
// section 4.4). The token is sent with every request to the origin of
// resource.url, whichever library function makes it.
type oauth2AuthConfig struct {
	Enabled        *bool               `config:"enabled"`
	ClientID       string              `config:"client.id"`
	ClientSecret   string              `config:"client.secret"`
	TokenURL       string              `config:"token_url"`
	Scopes         []string            `config:"scopes"`
	EndpointParams map[string][]string `config:"endpoint_params"`
	Provider       string              `config:"provider"`
	User           string              `config:"user"`
	Password       string              `config:"password"`
}

func (o *oauth2AuthConfig) enabled() bool {
	return o != nil && (o.Enabled == nil || *o.Enabled)
}

func (o *oauth2AuthConfig) Validate() error {
	if !o.enabled() {
		return nil
	}
	if o.Provider != "" {
		return fmt.Errorf("auth.oauth2.provider %q is not supported by tibeat: remove it and set token_url, client.id and client.secret", o.Provider)
	}
	if o.User != "" || o.Password != "" {
		return errors.New("auth.oauth2.user and password (the password grant) are not supported by tibeat: use the client credentials grant")
	}
	if o.TokenURL == "" || o.ClientID == "" || o.ClientSecret == "" {
		return errors.New("auth.oauth2 needs token_url, client.id and client.secret")
	}
	u, err := url.Parse(o.TokenURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("auth.oauth2.token_url %q must be an http or https URL", redactURLString(o.TokenURL))
	}
	return nil
}

// libAuth returns the credentials that mito adds to get, head and post.
func (a authConfig) libAuth() (*lib.BasicAuth, *lib.TokenAuth) {
	switch {
	case a.Basic.enabled():
		return &lib.BasicAuth{Username: a.Basic.User, Password: a.Basic.Password}, nil
	case a.Token.enabled():
		return nil, &lib.TokenAuth{Type: a.Token.tokenType(), Value: a.Token.Value}
	}
	return nil, nil
}

// secrets returns the configured secret values, for scrubbing text.
func (a authConfig) secrets() []string {
	var s []string
	if a.Basic.enabled() {
		// Servers may echo the Authorization header, which carries the
		// password in base64.
		s = append(s, a.Basic.Password,
			base64.StdEncoding.EncodeToString([]byte(a.Basic.User+":"+a.Basic.Password)))
	}
	if a.Token.enabled() {
		s = append(s, a.Token.Value)
	}
	if a.OAuth2.enabled() {
		s = append(s, a.OAuth2.ClientSecret)
	}
	return s
}

// oauth2Transport adds a client credentials token to requests for one
// origin. Other origins get no token, so that a URL the program builds from
// a server's reply cannot carry it elsewhere.
type oauth2Transport struct {
	next     http.RoundTripper
	source   oauth2.TokenSource
	origin   string
	tokenURL string // without credentials, for errors
}

// newOAuth2Transport wraps next. tokenClient sends the token requests; it
// should not itself carry the token.
func newOAuth2Transport(ctx context.Context, cfg *oauth2AuthConfig, resource *url.URL, tokenClient *http.Client, next http.RoundTripper) *oauth2Transport {
	creds := clientcredentials.Config{
		ClientID:       cfg.ClientID,
		ClientSecret:   cfg.ClientSecret,
		TokenURL:       cfg.TokenURL,
		Scopes:         cfg.Scopes,
		EndpointParams: url.Values(cfg.EndpointParams),
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, tokenClient)
	return &oauth2Transport{
		next:     next,
		source:   creds.TokenSource(ctx),
		origin:   originOf(resource),
		tokenURL: redactURLString(cfg.TokenURL),
	}
}

func (t *oauth2Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if originOf(req.URL) != t.origin || req.Header.Get("Authorization") != "" {
		return t.next.RoundTrip(req)
	}
	token, err := t.source.Token()
	if err != nil {
		return nil, tokenError(t.tokenURL, err)
	}
	authed := req.Clone(req.Context())
	token.SetAuthHeader(authed)
	return t.next.RoundTrip(authed)
}

// tokenError shortens a failed token request to its status and OAuth2 error
// code: the oauth2 package quotes the whole response body, which may echo
// credentials.
func tokenError(tokenURL string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		msg := fmt.Sprintf("OAuth2 token request to %s failed with HTTP %d", tokenURL, re.Response.StatusCode)
		if re.ErrorCode != "" {
			msg += " (" + re.ErrorCode + ")"
		}
		return errors.New(msg + ": check auth.oauth2.client.id, client.secret and scopes")
	}
	return fmt.Errorf("OAuth2 token request to %s failed: %w", tokenURL, err)
}

// originOf returns the scheme, lower-case host and port of u, with the
// scheme's default port filled in.
func originOf(u *url.URL) string {
	if u == nil {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}
