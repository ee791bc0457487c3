// Package stix converts one decoded STIX 2.0 or 2.1 object into the fields
// of one ECS document (ECS 9 field names).
//
// Convert promises:
//
//   - The object's own properties are published unchanged under stix.*,
//     because the decoded map itself becomes Fields["stix"].
//   - Only a missing or non-string "type" or "id" is an error. Every other
//     problem (a pattern syntax error, an invalid timestamp, a URL that
//     cannot be split) is a Warning, and the document keeps every other
//     field.
//   - For an indicator whose pattern is STIX patterning, every comparison is
//     listed in stix.observables. Every asserted value (`=`, or a member of
//     an `IN` set, not negated) on a path with an ECS counterpart is copied
//     to threat.indicator.*, with its kind in threat.indicator.type. Its
//     addresses, hashes, host names and user names also go to related.*.
//     Patterns in other languages (sigma, yara, snort, ...) are not read.
//   - Indicators get stix.ioc_expiration_date and stix.ioc_expiration_reason
//     (valid_until, revoked or default). Other objects get no
//     threat.indicator fields, except cyber-observable objects and
//     observed-data with Options.ObservablesAsIndicators: they get the
//     threat.indicator fields that a pattern comparing each of their
//     properties with = gives.
//   - With Options.Context, an indicator also gets threat.software,
//     threat.group, threat.technique, threat.tactic and stix.campaign from
//     the objects that relationships link it to, the TLP level of marking
//     definitions the feed sent, and the revocation of a newer version.
//   - Multi-valued ECS fields (threat.indicator.type, ip, url.*, file.hash.*,
//     related.*, ...) are always lists, even with a single value.
//   - ECS dates are RFC 3339 strings in UTC that keep the fractional digits
//     of the source, with at least milliseconds.
//   - Document.ID is the same for the same object id and modified instant,
//     however the instant is written, and changes when modified changes.
//
// The package uses only the standard library and the sibling pattern
// package, so it can be tested and benchmarked without libbeat.
package stix
