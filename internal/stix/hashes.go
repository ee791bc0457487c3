package stix

import "strings"

// hashAlgorithm is a file hash that ECS has a threat.indicator.file.hash.*
// field for.
type hashAlgorithm int

const (
	hashMD5 hashAlgorithm = iota
	hashSHA1
	hashSHA256
	hashSHA384
	hashSHA512
	hashSSDEEP
	hashTLSH
	hashAlgorithmCount
)

// hashFieldNames are the ECS field names under file.hash, indexed by
// hashAlgorithm.
var hashFieldNames = [hashAlgorithmCount]string{
	"md5", "sha1", "sha256", "sha384", "sha512", "ssdeep", "tlsh",
}

// hexDigestLengths are the digest lengths in hex digits. Zero marks the
// fuzzy hashes, whose text is not a plain hex digest.
var hexDigestLengths = [hashAlgorithmCount]int{32, 40, 64, 96, 128, 0, 0}

// hashAlgorithmOf maps a hashes key to an ECS hash field. Feeds spell the
// keys many ways ('SHA-256', SHA256, sha256, 'MD5', ssdeep), so case,
// hyphens, underscores and spaces are ignored. The STIX 2.0 and 2.1 names
// for the same algorithm (for example "ssdeep" and "SSDEEP") thereby map to
// the same field. Keys ECS has no field for (SHA-224, SHA3-256, IMPHASH and
// others) return false.
func hashAlgorithmOf(key string) (hashAlgorithm, bool) {
	var buf [8]byte
	n := 0
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '-' || c == '_' || c == ' ':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if n == len(buf) {
			return 0, false
		}
		buf[n] = c
		n++
	}
	switch string(buf[:n]) {
	case "md5":
		return hashMD5, true
	case "sha1":
		return hashSHA1, true
	case "sha256":
		return hashSHA256, true
	case "sha384":
		return hashSHA384, true
	case "sha512":
		return hashSHA512, true
	case "ssdeep":
		return hashSSDEEP, true
	case "tlsh":
		return hashTLSH, true
	}
	return 0, false
}

// isHex reports whether s is a non-empty string of hex digits.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// normalizeDigest lower-cases a hex digest so that the same digest written
// in either case is one value. Any other text is returned as written.
func normalizeDigest(s string) string {
	if isHex(s) {
		return strings.ToLower(s)
	}
	return s
}
