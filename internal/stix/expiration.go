package stix

import "time"

// DefaultExpiration is the lifetime given to an indicator that has neither
// valid_until nor revoked set, counted from modified (or valid_from).
const DefaultExpiration = 90 * 24 * time.Hour

// Expiration reasons stored in stix.ioc_expiration_reason, one per rule.
const (
	ExpirationValidUntil = "valid_until"
	ExpirationRevoked    = "revoked"
	ExpirationDefault    = "default"
)

// expiration is the date after which an indicator should no longer match,
// and the rule that set it (one of the Expiration* constants).
type expiration struct {
	date   timestamp
	reason string
}

// reasonValue returns the reason as an interface holding the constant, which
// unlike a boxed string variable costs no allocation.
func (e expiration) reasonValue() any {
	switch e.reason {
	case ExpirationValidUntil:
		return ExpirationValidUntil
	case ExpirationRevoked:
		return ExpirationRevoked
	}
	return ExpirationDefault
}

// indicatorExpiration applies the rules in order: valid_until when the
// indicator has one, else modified when it is revoked, else modified (or
// valid_from when modified is absent) plus lifetime. A revoked object
// without a usable modified expires at created, or else at valid_from,
// because a revoked indicator must never look active. It returns false when
// none of these timestamps is usable.
func indicatorExpiration(t *objectTimes, revoked bool, lifetime time.Duration) (expiration, bool) {
	if t.hasValidUntil {
		return expiration{t.validUntil, ExpirationValidUntil}, true
	}
	if revoked {
		switch {
		case t.hasModified:
			return expiration{t.modified, ExpirationRevoked}, true
		case t.hasCreated:
			return expiration{t.created, ExpirationRevoked}, true
		case t.hasValidFrom:
			return expiration{t.validFrom, ExpirationRevoked}, true
		}
		return expiration{}, false
	}
	base, ok := t.modified, t.hasModified
	if !ok {
		base, ok = t.validFrom, t.hasValidFrom
	}
	if !ok {
		return expiration{}, false
	}
	date := base.time.Add(lifetime)
	if date.After(latestTimestamp) {
		// RFC 3339, and so STIX and Elasticsearch's date format, has
		// four-digit years only.
		date = latestTimestamp
	}
	return expiration{timestamp{date, base.digits}, ExpirationDefault}, true
}

// latestTimestamp is the last instant a four-digit year can write.
var latestTimestamp = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
