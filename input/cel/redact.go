package cel

import (
	"net/url"
	"sort"
	"strings"
	"sync"
)

// redacted replaces a hidden value in logs, traces and error documents.
const redacted = "REDACTED"

// minSecretLength is the shortest value that the scrubber replaces in free
// text. Shorter values would match ordinary words and numbers, so they are
// hidden only where their key or header name marks them.
const minSecretLength = 4

// redactURL returns u without user information and with the values of
// query parameters whose names look secret (api_key, token, ...) replaced.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err == nil {
			changed := false
			for k := range q {
				if isSecretKey(k) {
					q[k] = []string{redacted}
					changed = true
				}
			}
			if changed {
				c.RawQuery = q.Encode()
			}
		}
	}
	return c.String()
}

// redactURLString is redactURL for text. Text that does not parse loses
// everything up to its last '@', where a password would be.
func redactURLString(s string) string {
	u, err := url.Parse(s)
	if err == nil {
		return redactURL(u)
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		return redacted + "@" + s[i+1:]
	}
	return s
}

// scrubber replaces known secret values in text. The set changes as the
// state changes, so it is safe for concurrent use.
type scrubber struct {
	mu       sync.RWMutex
	fixed    []string // from the configuration, never change
	replacer *strings.Replacer
}

func newScrubber(fixed []string) *scrubber {
	s := &scrubber{fixed: fixed}
	s.update(nil)
	return s
}

// update sets the secrets taken from the current state, in addition to the
// configured ones.
func (s *scrubber) update(fromState []string) {
	all := append(append([]string(nil), s.fixed...), fromState...)
	seen := map[string]bool{}
	var values []string
	for _, v := range all {
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
			if len(form) >= minSecretLength && !seen[form] {
				seen[form] = true
				values = append(values, form)
			}
		}
	}
	// Sort by length, longest first, so that a secret containing another is
	// replaced whole.
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	pairs := make([]string, 0, 2*len(values))
	for _, v := range values {
		pairs = append(pairs, v, redacted)
	}
	r := strings.NewReplacer(pairs...)
	s.mu.Lock()
	s.replacer = r
	s.mu.Unlock()
}

// scrub returns text with every known secret replaced.
func (s *scrubber) scrub(text string) string {
	if s == nil {
		return text
	}
	s.mu.RLock()
	r := s.replacer
	s.mu.RUnlock()
	return r.Replace(text)
}

// stateRedactor hides secret fields of the state. With a redact setting it
// hides exactly redact.fields. Without one it hides every key that looks
// secret, as the warning at start-up states.
type stateRedactor struct {
	cfg *redactConfig
}

// secretValues returns the string values of the hidden fields of state, for
// the scrubber.
func (r stateRedactor) secretValues(state map[string]any) []string {
	var out []string
	collect := func(v any) { out = appendStrings(out, v) }
	if r.cfg != nil {
		for _, path := range r.cfg.Fields {
			walkPath(state, path, func(parent map[string]any, key string) { collect(parent[key]) })
		}
		return out
	}
	walkSecretKeys(state, func(parent map[string]any, key string) { collect(parent[key]) })
	return out
}

// redact returns a copy of state with the hidden fields replaced by "*", or
// removed when redact.delete is set. state itself is never changed.
func (r stateRedactor) redact(state map[string]any) map[string]any {
	c := deepCopy(state).(map[string]any)
	if r.cfg != nil {
		for _, path := range r.cfg.Fields {
			walkPath(c, path, func(parent map[string]any, key string) {
				if r.cfg.Delete {
					delete(parent, key)
				} else {
					parent[key] = "*"
				}
			})
		}
		return c
	}
	walkSecretKeys(c, func(parent map[string]any, key string) { parent[key] = "*" })
	return c
}

// redactValue hides every value under a key that looks secret, such as the
// Authorization entry of a request's Header map. It is used for values
// that the program passes to debug.
func redactValue(v any) any {
	c := deepCopy(v)
	if m, ok := c.(map[string]any); ok {
		walkSecretKeys(m, func(parent map[string]any, key string) { parent[key] = "*" })
	}
	if l, ok := c.([]any); ok {
		for _, e := range l {
			if m, ok := e.(map[string]any); ok {
				walkSecretKeys(m, func(parent map[string]any, key string) { parent[key] = "*" })
			}
		}
	}
	return c
}

// walkPath calls fn for every end of the dotted path in m, descending into
// maps and lists of maps.
func walkPath(m map[string]any, path string, fn func(parent map[string]any, key string)) {
	key, rest, more := strings.Cut(path, ".")
	v, ok := m[key]
	if !ok {
		return
	}
	if !more {
		fn(m, key)
		return
	}
	switch v := v.(type) {
	case map[string]any:
		walkPath(v, rest, fn)
	case []any:
		for _, e := range v {
			if em, ok := e.(map[string]any); ok {
				walkPath(em, rest, fn)
			}
		}
	}
}

// walkSecretKeys calls fn for every key in m, at any depth, whose name looks
// secret.
func walkSecretKeys(m map[string]any, fn func(parent map[string]any, key string)) {
	for k, v := range m {
		if isSecretKey(k) {
			fn(m, k)
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			walkSecretKeys(v, fn)
		case []any:
			for _, e := range v {
				if em, ok := e.(map[string]any); ok {
					walkSecretKeys(em, fn)
				}
			}
		}
	}
}

// appendStrings appends every string in v, at any depth.
func appendStrings(out []string, v any) []string {
	switch v := v.(type) {
	case string:
		out = append(out, v)
	case []string:
		out = append(out, v...)
	case map[string]any:
		for _, e := range v {
			out = appendStrings(out, e)
		}
	case []any:
		for _, e := range v {
			out = appendStrings(out, e)
		}
	}
	return out
}

// deepCopy copies the maps and lists of a JSON-like value; other values are
// shared.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, e := range v {
			c[k] = deepCopy(e)
		}
		return c
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = deepCopy(e)
		}
		return c
	case map[string][]string:
		c := make(map[string]any, len(v))
		for k, e := range v {
			c[k] = append([]string(nil), e...)
		}
		return c
	default:
		return v
	}
}
