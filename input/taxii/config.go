package taxii

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/tibeat/tibeat/input/internal/httpclient"
)

// config is the configuration of one taxii input.
type config struct {
	// URL is a discovery endpoint, an API root, a collections list, a
	// collection or a collection's objects URL.
	URL string `config:"url"`

	// Version is the TAXII version to speak: auto, 2.1 or 2.0.
	Version string `config:"version"`

	// APIRoots names the API roots to read when URL is a discovery
	// endpoint, as URLs resolved against it. Empty means the discovery's
	// default, or every listed root when there is no default.
	APIRoots []string `config:"api_roots"`

	// Collections names the collections to read by id or title, each an
	// exact value or a path.Match glob. Empty means every collection whose
	// can_read is true.
	Collections []string `config:"collections"`

	// InitialInterval sets the first added_after of a collection that has
	// no cursor yet to now minus this duration; 0 reads the whole
	// collection.
	InitialInterval time.Duration `config:"initial_interval"`

	// Interval is the wait between the end of one run and the start of
	// the next. It is not used with --once.
	Interval time.Duration `config:"interval"`

	// Limit is the page size sent with every objects request (TAXII 2.1
	// limit, TAXII 2.0 Range size).
	Limit int `config:"limit"`

	Match matchConfig `config:"match"`

	// MaxPages ends a walk after this many pages in one run, a guard
	// against servers that never stop paging.
	MaxPages int `config:"max_pages"`

	// MaxConcurrency is how many collections are walked at once.
	MaxConcurrency int `config:"max_concurrency"`

	Retry     retryConfig     `config:"retry"`
	RateLimit rateLimitConfig `config:"rate_limit"`

	// HTTP holds ssl, timeout, proxy_url and auth.
	HTTP httpclient.Config `config:",inline"`
}

// matchConfig holds the TAXII match[...] filters. Each list is sent as one
// comma-separated parameter.
type matchConfig struct {
	Type        []string `config:"type"`
	SpecVersion []string `config:"spec_version"`
	ID          []string `config:"id"`
	Version     []string `config:"version"`
}

// Defaults documented in the README.
const (
	defaultInitialInterval = 720 * time.Hour
	defaultInterval        = 5 * time.Minute
	defaultLimit           = 1000
	defaultMaxPages        = 10000
	defaultMaxConcurrency  = 4
)

func defaultConfig() config {
	return config{
		Version:         versionAuto,
		InitialInterval: defaultInitialInterval,
		Interval:        defaultInterval,
		Limit:           defaultLimit,
		MaxPages:        defaultMaxPages,
		MaxConcurrency:  defaultMaxConcurrency,
		Retry:           defaultRetryConfig(),
		HTTP:            httpclient.DefaultConfig(),
	}
}

// Values of the version setting.
const (
	versionAuto = "auto"
	version21   = "2.1"
	version20   = "2.0"
)

// Validate checks the settings after unpacking.
func (c *config) Validate() error {
	if c.URL == "" {
		return errors.New("url is required: a TAXII discovery endpoint, API root or collection objects URL")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("url %q does not parse: %w", httpclient.Redact(c.URL), err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q must be an absolute http or https URL", httpclient.Redact(c.URL))
	}
	if u.User != nil && c.HTTP.Auth.IsSet() {
		return errors.New("url contains credentials and an auth method is also set: keep only one")
	}

	switch c.Version {
	case versionAuto, version21, version20, "2":
	default:
		return fmt.Errorf("version must be auto, 2.1 or 2.0, got %q", c.Version)
	}

	for _, root := range c.APIRoots {
		if _, err := url.Parse(root); err != nil || root == "" {
			return fmt.Errorf("api_roots: %q is not a URL", httpclient.Redact(root))
		}
	}
	for _, pattern := range c.Collections {
		if pattern == "" {
			return errors.New("collections: a collection id or title must not be empty")
		}
		if _, err := path.Match(pattern, ""); err != nil {
			return fmt.Errorf("collections: invalid glob pattern %q: %w", pattern, err)
		}
	}

	if c.InitialInterval < 0 {
		return fmt.Errorf("initial_interval must not be negative, got %v", c.InitialInterval)
	}
	if c.Interval <= 0 {
		return fmt.Errorf("interval must be greater than 0, got %v", c.Interval)
	}
	if c.Limit < 1 {
		return fmt.Errorf("limit must be at least 1, got %d", c.Limit)
	}
	if c.MaxPages < 1 {
		return fmt.Errorf("max_pages must be at least 1, got %d", c.MaxPages)
	}
	if c.MaxConcurrency < 1 {
		return fmt.Errorf("max_concurrency must be at least 1, got %d", c.MaxConcurrency)
	}
	if err := c.Match.validate(); err != nil {
		return err
	}
	if err := c.Retry.validate(); err != nil {
		return err
	}
	if err := c.RateLimit.validate(); err != nil {
		return err
	}
	return c.HTTP.Validate()
}

// normalize runs after Validate. It turns user information in url into
// auth.basic, so that it is sent only as a header and never logged with the
// URL, and reads the version 2 as 2.0, since YAML reads an unquoted 2.0 as
// the number 2.
func (c *config) normalize() {
	if c.Version == "2" {
		c.Version = version20
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.User == nil {
		return
	}
	password, _ := u.User.Password()
	c.HTTP.Auth.Basic = &httpclient.BasicAuth{User: u.User.Username(), Password: password}
	u.User = nil
	c.URL = u.String()
}

func (m *matchConfig) validate() error {
	for name, values := range map[string][]string{
		"match.type": m.Type, "match.spec_version": m.SpecVersion, "match.id": m.ID, "match.version": m.Version,
	} {
		for _, v := range values {
			if v == "" || strings.Contains(v, ",") {
				return fmt.Errorf("%s: %q must be a single non-empty value without commas; list several values instead", name, v)
			}
		}
	}
	return nil
}

// params returns the match[...] query parameters.
func (m *matchConfig) params() url.Values {
	q := url.Values{}
	add := func(name string, values []string) {
		if len(values) > 0 {
			q.Set("match["+name+"]", strings.Join(values, ","))
		}
	}
	add("type", m.Type)
	add("spec_version", m.SpecVersion)
	add("id", m.ID)
	add("version", m.Version)
	return q
}

// Settings returns the struct the input unpacks its settings into, so that
// keys it does not read can be named.
func Settings() any { return config{} }
