package taxii

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// retryConfig is the retry policy for one request.
type retryConfig struct {
	// MaxAttempts counts every try of a request, the first included.
	MaxAttempts int `config:"max_attempts"`
	// WaitMin and WaitMax bound the exponential backoff. A Retry-After
	// longer than WaitMax ends the run instead of waiting.
	WaitMin time.Duration `config:"wait_min"`
	WaitMax time.Duration `config:"wait_max"`
}

func defaultRetryConfig() retryConfig {
	return retryConfig{MaxAttempts: 5, WaitMin: time.Second, WaitMax: time.Minute}
}

func (r *retryConfig) validate() error {
	if r.MaxAttempts < 1 {
		return fmt.Errorf("retry.max_attempts must be at least 1, got %d", r.MaxAttempts)
	}
	if r.WaitMin <= 0 || r.WaitMax < r.WaitMin {
		return fmt.Errorf("retry.wait_min must be greater than 0 and at most retry.wait_max, got %v and %v", r.WaitMin, r.WaitMax)
	}
	return nil
}

// backoff returns the wait before try attempt+1 after attempt failed tries:
// wait_min doubled per failed try, capped at wait_max, with "equal jitter"
// (half fixed, half random) so that inputs that failed together do not
// retry together.
func (r *retryConfig) backoff(attempt int, random func() float64) time.Duration {
	ceiling := float64(r.WaitMin) * math.Pow(2, float64(attempt-1))
	ceiling = math.Min(ceiling, float64(r.WaitMax))
	wait := time.Duration(ceiling/2 + random()*ceiling/2)
	return max(wait, r.WaitMin)
}

// rateLimitConfig is a client-side request rate limit, shared by every
// collection of the input.
type rateLimitConfig struct {
	// Limit is in requests per second; 0 means no limit.
	Limit float64 `config:"limit"`
	Burst int     `config:"burst"`
}

func (r *rateLimitConfig) validate() error {
	if r.Limit < 0 {
		return fmt.Errorf("rate_limit.limit must not be negative, got %v", r.Limit)
	}
	if r.Burst < 0 {
		return fmt.Errorf("rate_limit.burst must not be negative, got %d", r.Burst)
	}
	return nil
}

func (r *rateLimitConfig) limiter() *rate.Limiter {
	if r.Limit == 0 {
		return rate.NewLimiter(rate.Inf, 0)
	}
	return rate.NewLimiter(rate.Limit(r.Limit), max(r.Burst, 1))
}

// retryAfter reads the Retry-After header of a reply (RFC 9110 section
// 10.2.3): delta-seconds, or an HTTP-date measured against the reply's own
// Date header so that a server clock that differs from ours does not
// matter. ok is false when the header is absent or unreadable.
func retryAfter(h http.Header, now time.Time) (wait time.Duration, ok bool) {
	value := strings.TrimSpace(h.Get("Retry-After"))
	if value == "" {
		return 0, false
	}
	if seconds, err := strconv.ParseInt(value, 10, 64); err == nil {
		if seconds < 0 {
			return 0, false
		}
		return time.Duration(min(seconds, math.MaxInt64/int64(time.Second))) * time.Second, true
	}
	at, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	reference := now
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		reference = date
	}
	return max(at.Sub(reference), 0), true
}

// clock is the time source of the input. Tests replace it so that waits of
// minutes take no time.
type clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx ends, and returns ctx.Err() then.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// jitter is the random source of backoff; tests make it fixed.
var jitter = rand.Float64
