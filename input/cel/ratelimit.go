package cel

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/elastic/elastic-agent-libs/logp"
)

// newLimiter returns the limiter shared by the program's HTTP functions:
// unlimited unless resource.rate_limit is set.
func newLimiter(cfg *rateLimitConfig) *rate.Limiter {
	limit, burst := rate.Inf, 1
	if cfg != nil {
		if cfg.Limit != nil {
			limit = rate.Limit(*cfg.Limit)
		}
		if cfg.Burst != nil {
			burst = *cfg.Burst
		}
	}
	return rate.NewLimiter(limit, burst)
}

// applyRateLimit applies a rate_limit map, as mito's rate_limit() returns
// it or as the program leaves it in the state, to limiter. The map holds
// rate (requests per second, or "inf"), burst, and for an exhausted quota
// reset (when it refills) and next (the rate from then on). It returns the
// time before which no request should be sent, or the zero time.
func applyRateLimit(log *logp.Logger, m map[string]any, limiter *rate.Limiter) time.Time {
	if e, ok := m["error"]; ok {
		log.Warnw("The rate_limit result contains an error, so the rate limit is unchanged", "error", e)
		return time.Time{}
	}
	limit, ok := rateValue(m["rate"])
	if !ok {
		log.Warnw("The rate_limit result has no valid rate, so the rate limit is unchanged", "rate_limit", m)
		return time.Time{}
	}
	burst := 1
	if b, ok := numberValue(m["burst"]); ok && b >= 1 {
		burst = int(b)
	}
	if limit > 0 {
		limiter.SetLimit(limit)
		limiter.SetBurst(burst)
		return time.Time{}
	}
	reset, ok := timeValue(m["reset"])
	if !ok {
		return time.Time{}
	}
	if next, ok := rateValue(m["next"]); ok {
		limiter.SetLimitAt(reset, next)
		limiter.SetBurstAt(reset, burst)
	}
	return reset
}

func rateValue(v any) (rate.Limit, bool) {
	switch v := v.(type) {
	case rate.Limit:
		return v, true
	case string:
		s := strings.ToLower(strings.TrimPrefix(v, "+"))
		if s == "inf" || s == "infinity" {
			return rate.Inf, true
		}
		return 0, false
	}
	n, ok := numberValue(v)
	return rate.Limit(n), ok
}

func numberValue(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	}
	return 0, false
}

func timeValue(v any) (time.Time, bool) {
	switch v := v.(type) {
	case time.Time:
		return v, true
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		return t, err == nil
	}
	return time.Time{}, false
}

// headerValue converts the header field of a state, a map of lists of
// strings after conversion, to an http.Header.
func headerValue(v any) http.Header {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	h := make(http.Header, len(m))
	for k, vals := range m {
		list, _ := vals.([]any)
		for _, e := range list {
			if s, ok := e.(string); ok {
				h.Add(k, s)
			}
		}
	}
	return h
}

// statusCodeValue reads the status_code field of a state.
func statusCodeValue(v any) (int, bool) {
	n, ok := numberValue(v)
	if !ok {
		if s, isString := v.(string); isString {
			i, err := strconv.Atoi(s)
			return i, err == nil
		}
	}
	return int(n), ok
}
