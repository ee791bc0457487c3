package stix

import (
	"crypto/sha256"
	"encoding/base64"
)

// fingerprint returns the document _id for one version of a STIX object:
// the SHA-256 of the object id and its version instant, in unpadded
// base64url (43 characters).
//
// version is the modified timestamp, or created for objects without one.
// The instant is formatted in UTC with all nine fractional digits, so
// "2024-05-01T00:00:00Z" and "2024-05-01T00:00:00.000Z" give the same _id
// while a new modified gives a new one. When the timestamp is present but
// cannot be parsed, its raw text stands in (rawVersion) so that a changed
// text still yields a new _id. With neither, the id alone is hashed.
func fingerprint(id string, version timestamp, hasVersion bool, rawVersion string) string {
	// Sized for a typical "type--uuid" id and a 30-byte timestamp so that
	// the common case needs no heap buffer.
	var buf [128]byte
	b := append(buf[:0], id...)
	switch {
	case hasVersion:
		b = append(b, '\n')
		b = version.appendTo(b, 9)
	case rawVersion != "":
		// A different separator keeps a raw text from ever colliding with
		// a normalised instant.
		b = append(b, '\r')
		b = append(b, rawVersion...)
	}
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
