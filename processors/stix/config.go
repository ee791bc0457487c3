package stix

import (
	"fmt"
	"strconv"
	"time"
)

// Config holds the settings of both STIX processors. tibeat reads it from
// tibeat.stix and lets each input override it under its own stix key.
type Config struct {
	// Field is the event field that holds the STIX object's JSON text.
	Field string `config:"field"`
	// Feed names the source of the intelligence in threat.feed.*.
	Feed struct {
		Name      string `config:"name"`
		Reference string `config:"reference"`
	} `config:"feed"`
	// IOCExpirationDuration is how long an indicator stays active after its
	// last modification when it has no valid_until, written as a number and
	// a unit of d, h or m ("90d").
	IOCExpirationDuration string `config:"ioc_expiration_duration"`
	// RestrictToIndicators drops every STIX object that is not an indicator.
	RestrictToIndicators bool `config:"restrict_to_indicators"`
	// PreserveOriginalEvent keeps the object's JSON text in event.original.
	PreserveOriginalEvent bool `config:"preserve_original_event"`
	// ObservablesAsIndicators publishes cyber-observable objects and
	// observed-data as indicator documents (stix.Options).
	ObservablesAsIndicators bool `config:"observables_as_indicators"`

	expiration time.Duration
	// context and input are set by WithContext, not by the configuration.
	context *Context
	input   string
}

// DefaultConfig returns the settings used where none are given.
func DefaultConfig() Config {
	return Config{
		Field:                 "message",
		IOCExpirationDuration: "90d",
		expiration:            90 * 24 * time.Hour,
	}
}

// Validate checks the settings and parses the expiration duration.
func (c *Config) Validate() error {
	if c.Field == "" {
		return fmt.Errorf("field must not be empty")
	}
	d, err := ParseExpirationDuration(c.IOCExpirationDuration)
	if err != nil {
		return fmt.Errorf("ioc_expiration_duration: %w", err)
	}
	c.expiration = d
	return nil
}

// ParseExpirationDuration reads durations such as "90d", "12h" or "30m".
// Days are not a unit of time.ParseDuration, and the Custom Threat
// Intelligence integration that users migrate from writes them this way.
func ParseExpirationDuration(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("invalid duration %q: want a positive number followed by d, h or m", s)
	}
	n, err := strconv.ParseUint(s[:len(s)-1], 10, 32)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("invalid duration %q: want a positive number followed by d, h or m", s)
	}
	switch s[len(s)-1] {
	case 'd':
		return time.Duration(n) * 24 * time.Hour, nil
	case 'h':
		return time.Duration(n) * time.Hour, nil
	case 'm':
		return time.Duration(n) * time.Minute, nil
	}
	return 0, fmt.Errorf("invalid duration %q: the unit must be d, h or m", s)
}
