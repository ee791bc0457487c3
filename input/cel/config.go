package cel

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/elastic/elastic-agent-libs/transport/httpcommon"
)

// Defaults. interval, max_executions, the retry settings, the redirect limit
// and the timeout are those of Filebeat's CEL input (beats be9871f5dab9).
const (
	defaultInterval      = time.Minute
	defaultMaxExecutions = 1000
	defaultTimeout       = 30 * time.Second
	defaultMaxAttempts   = 5
	defaultWaitMin       = time.Second
	defaultWaitMax       = time.Minute
	defaultMaxRedirects  = 10

	// defaultMaxBodySize bounds one response body. Filebeat has no limit by
	// default; tibeat sets one so that a runaway response fails the
	// evaluation instead of exhausting memory. The decoded JSON of a body
	// takes several times its size.
	defaultMaxBodySize = 100 << 20

	// defaultCostLimit bounds the work of one evaluation in cel-go cost
	// units, roughly one per evaluated expression node. A page of 1000 STIX
	// objects costs about 400 with the TAXII program in testdata, which
	// passes the objects through, and 45,000 with the window program, which
	// maps each through encode_json. A runaway program of nested
	// comprehensions reached this limit after 7 s on a 2-core AMD EPYC test
	// machine.
	defaultCostLimit = 100_000_000
)

// config holds the settings of one cel input. The key names are those of
// Filebeat's CEL input, so that a program and state written for Elastic
// Agent run unchanged.
type config struct {
	// Interval is the time between the starts of two periodic runs.
	Interval time.Duration `config:"interval"`
	// Program is the CEL source evaluated on every execution.
	Program string `config:"program" validate:"required"`
	// MaxExecutions bounds the evaluations of one periodic run that
	// want_more chains together.
	MaxExecutions int `config:"max_executions"`
	// CostLimit bounds the cel-go runtime cost of one evaluation. It is a
	// tibeat setting; Filebeat has none.
	CostLimit uint64 `config:"cost_limit"`
	// Regexps are named regular expressions for the regexp library.
	Regexps map[string]string `config:"regexp"`
	// XSDs are named XML schema definitions that type the XML library's
	// decoding.
	XSDs map[string]string `config:"xsd"`
	// State is the initial state. A cursor stored in the registry replaces
	// its cursor field.
	State map[string]any `config:"state"`
	// Redact lists state fields hidden from logs.
	Redact *redactConfig `config:"redact"`
	// AllowedEnvironment lists the environment variables visible to the
	// program as env.
	AllowedEnvironment []string `config:"allowed_environment"`

	Auth     authConfig     `config:"auth"`
	Resource resourceConfig `config:"resource"`
}

type redactConfig struct {
	// Fields are dotted paths into the state whose values are hidden.
	Fields []string `config:"fields"`
	// Delete removes the fields instead of replacing their values by "*".
	Delete bool `config:"delete"`
}

type resourceConfig struct {
	URL         *urlConfig       `config:"url"`
	Headers     http.Header      `config:"headers"`
	MaxBodySize int64            `config:"max_body_size"`
	Retry       retryConfig      `config:"retry"`
	RateLimit   *rateLimitConfig `config:"rate_limit"`
	Redirect    redirectConfig   `config:"redirect"`
	KeepAlive   keepAliveConfig  `config:"keep_alive"`
	Tracer      *tracerConfig    `config:"tracer"`

	// Transport holds timeout, ssl, proxy_url, proxy_disable,
	// proxy_headers and idle_connection_timeout.
	Transport httpcommon.HTTPTransportSettings `config:",inline"`
}

type retryConfig struct {
	// MaxAttempts counts every attempt of one request, the first included,
	// so 1 disables retries.
	MaxAttempts int           `config:"max_attempts"`
	WaitMin     time.Duration `config:"wait_min"`
	WaitMax     time.Duration `config:"wait_max"`
}

type rateLimitConfig struct {
	// Limit is the sustained request rate in requests per second.
	Limit *float64 `config:"limit"`
	// Burst is the number of requests allowed at once.
	Burst *int `config:"burst"`
}

type redirectConfig struct {
	ForwardHeaders bool     `config:"forward_headers"`
	HeadersBanList []string `config:"headers_ban_list"`
	MaxRedirects   int      `config:"max_redirects"`
}

type keepAliveConfig struct {
	// Disable defaults to true, as in Filebeat: each request opens a new
	// connection unless keep_alive.disable is false.
	Disable             *bool         `config:"disable"`
	MaxIdleConns        int           `config:"max_idle_connections"`
	MaxIdleConnsPerHost int           `config:"max_idle_connections_per_host"`
	IdleConnTimeout     time.Duration `config:"idle_connection_timeout"`
}

func (k keepAliveConfig) settings() httpcommon.WithKeepaliveSettings {
	return httpcommon.WithKeepaliveSettings{
		Disable:             k.Disable == nil || *k.Disable,
		MaxIdleConns:        k.MaxIdleConns,
		MaxIdleConnsPerHost: k.MaxIdleConnsPerHost,
		IdleConnTimeout:     k.IdleConnTimeout,
	}
}

// urlConfig is an absolute http or https URL. Programs cannot read files,
// so file URLs are rejected.
type urlConfig struct{ *url.URL }

func (u *urlConfig) Unpack(s string) error {
	parsed, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %w", redactURLString(s), err)
	}
	if parsed.Scheme != "http" && parsed.Scheme != "https" {
		return fmt.Errorf("URL %q must use http or https: the cel input cannot read files", redactURLString(s))
	}
	if parsed.Host == "" {
		return fmt.Errorf("URL %q has no host", redactURLString(s))
	}
	u.URL = parsed
	return nil
}

func defaultConfig() config {
	transport := httpcommon.DefaultHTTPTransportSettings()
	transport.Timeout = defaultTimeout
	return config{
		Interval:      defaultInterval,
		MaxExecutions: defaultMaxExecutions,
		CostLimit:     defaultCostLimit,
		Resource: resourceConfig{
			MaxBodySize: defaultMaxBodySize,
			Retry: retryConfig{
				MaxAttempts: defaultMaxAttempts,
				WaitMin:     defaultWaitMin,
				WaitMax:     defaultWaitMax,
			},
			Redirect:  redirectConfig{MaxRedirects: defaultMaxRedirects},
			Transport: transport,
		},
	}
}

// Validate checks the settings and compiles the program and the regular
// expressions, so that a mistake fails when the configuration loads.
func (c *config) Validate() error {
	// Checked here rather than with validate:"required", whose message
	// names the setting without its resource prefix.
	if c.Resource.URL == nil {
		return errors.New("missing required setting resource.url")
	}
	if c.Interval <= 0 {
		return fmt.Errorf("interval must be greater than 0, got %v", c.Interval)
	}
	if c.MaxExecutions <= 0 {
		return fmt.Errorf("max_executions must be greater than 0, got %d", c.MaxExecutions)
	}
	if c.CostLimit == 0 {
		return errors.New("cost_limit must be greater than 0")
	}
	if c.Resource.MaxBodySize < 0 {
		return fmt.Errorf("resource.max_body_size must not be negative, got %d; use 0 for no limit", c.Resource.MaxBodySize)
	}
	if c.Resource.Transport.Timeout <= 0 {
		return fmt.Errorf("resource.timeout must be greater than 0, got %v", c.Resource.Transport.Timeout)
	}
	if err := c.Resource.validate(); err != nil {
		return err
	}
	if _, err := compileRegexps(c.Regexps); err != nil {
		return err
	}
	if _, err := compileProgram(c.Program, programOptions{
		regexps: placeholderRegexps(c.Regexps),
		xsds:    c.XSDs,
	}); err != nil {
		return err
	}
	return nil
}

func (r *resourceConfig) validate() error {
	if r.Retry.MaxAttempts <= 0 {
		return fmt.Errorf("resource.retry.max_attempts must be greater than 0, got %d; 1 disables retries", r.Retry.MaxAttempts)
	}
	if r.Retry.WaitMin <= 0 || r.Retry.WaitMax <= 0 {
		return fmt.Errorf("resource.retry.wait_min and wait_max must be greater than 0, got %v and %v", r.Retry.WaitMin, r.Retry.WaitMax)
	}
	if r.Retry.WaitMin > r.Retry.WaitMax {
		return fmt.Errorf("resource.retry.wait_min (%v) must not exceed wait_max (%v)", r.Retry.WaitMin, r.Retry.WaitMax)
	}
	if rl := r.RateLimit; rl != nil {
		if rl.Limit != nil && *rl.Limit <= 0 {
			return fmt.Errorf("resource.rate_limit.limit must be greater than 0, got %v", *rl.Limit)
		}
		if rl.Burst != nil && *rl.Burst <= 0 {
			return fmt.Errorf("resource.rate_limit.burst must be greater than 0, got %d", *rl.Burst)
		}
	}
	if r.Redirect.MaxRedirects < 0 {
		return fmt.Errorf("resource.redirect.max_redirects must not be negative, got %d", r.Redirect.MaxRedirects)
	}
	k := r.KeepAlive
	if k.MaxIdleConns < 0 || k.MaxIdleConnsPerHost < 0 || k.IdleConnTimeout < 0 {
		return errors.New("resource.keep_alive settings must not be negative")
	}
	if r.Tracer != nil {
		if err := r.Tracer.validate(); err != nil {
			return err
		}
	}
	return nil
}

// compileRegexps compiles the regexp setting, naming the pattern that fails.
func compileRegexps(patterns map[string]string) (map[string]*regexp.Regexp, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	compiled := make(map[string]*regexp.Regexp, len(patterns))
	for name, expr := range patterns {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("regexp.%s: invalid regular expression: %w", name, err)
		}
		compiled[name] = re
	}
	return compiled, nil
}

// placeholderRegexps declares the regexp library for a compile check. The
// library only needs to exist for the program to type-check, because
// patterns are looked up by name when the program runs.
func placeholderRegexps(patterns map[string]string) map[string]*regexp.Regexp {
	if len(patterns) == 0 {
		return nil
	}
	return map[string]*regexp.Regexp{".": regexp.MustCompile(".")}
}

// secretKeyWords are the parts of a key name that mark its value as a likely
// secret.
var secretKeyWords = []string{"password", "passwd", "secret", "token", "key", "credential", "private", "auth", "cookie", "signature"}

// isSecretKey reports whether a state key or header name probably holds a
// secret. It errs towards hiding: "monkey" and "author" match too.
func isSecretKey(name string) bool {
	lower := strings.ToLower(name)
	for _, w := range secretKeyWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// likelySecrets returns the dotted paths of state keys that look like
// secrets, for the warning about a missing redact setting.
func likelySecrets(state map[string]any, prefix string) []string {
	var paths []string
	for k, v := range state {
		path := prefix + k
		if isSecretKey(k) {
			paths = append(paths, path)
			continue
		}
		if m, ok := v.(map[string]any); ok {
			paths = append(paths, likelySecrets(m, path+".")...)
		}
	}
	return paths
}

// Settings returns the struct the input unpacks its settings into, so that
// keys it does not read can be named. It also counts the Filebeat settings
// that configure warns about on its own.
func Settings() any {
	return struct {
		Config         config `config:",inline"`
		FailureDump    any    `config:"failure_dump"`
		RecordCoverage any    `config:"record_coverage"`
	}{}
}
