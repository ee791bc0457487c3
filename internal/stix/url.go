package stix

import (
	"errors"
	"net/netip"
	"strings"
)

// urlParts holds the pieces of an absolute URL as written, for the ECS url.*
// fields. Nothing is decoded or re-encoded, so every part is a substring of
// the input.
type urlParts struct {
	scheme    string // lower-cased
	host      string // without the brackets of an IPv6 literal
	hostIsIP  bool
	port      int
	hasPort   bool
	path      string
	query     string // without the "?"
	fragment  string // without the "#"
	extension string // of the last path segment, without the dot
}

var (
	errURLScheme     = errors.New("no valid scheme")
	errURLDefanged   = errors.New("defanged scheme")
	errURLNoHost     = errors.New("no host")
	errURLHost       = errors.New("invalid host")
	errURLPort       = errors.New("invalid port")
	errURLIPv6Syntax = errors.New("unterminated IPv6 literal")
)

// splitURL splits an absolute URL (scheme "://" authority path ?query
// #fragment, RFC 3986 section 3) without net/url, because net/url accepts
// hosts such as "example[.]com" and re-encodes paths, while ECS wants the
// parts as the feed wrote them.
//
// The host must be an IP literal or a registered name made of the
// characters RFC 3986 allows there, plus non-ASCII bytes for
// internationalised names. The path, query and fragment are taken as they
// are, spaces included. Defanged schemes (hxxp, hxxps) are rejected so that
// a defanged URL is never published as if it were live.
func splitURL(s string) (urlParts, error) {
	var u urlParts

	colon := strings.IndexByte(s, ':')
	if colon <= 0 || !isScheme(s[:colon]) {
		return u, errURLScheme
	}
	u.scheme = strings.ToLower(s[:colon])
	if u.scheme == "hxxp" || u.scheme == "hxxps" {
		return u, errURLDefanged
	}
	rest := s[colon+1:]
	if !strings.HasPrefix(rest, "//") {
		return u, errURLNoHost
	}
	rest = rest[2:]

	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	rest = rest[end:]
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		authority = authority[at+1:]
	}
	if err := u.splitHostPort(authority); err != nil {
		return u, err
	}

	if i := strings.IndexByte(rest, '#'); i >= 0 {
		u.fragment = rest[i+1:]
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		u.query = rest[i+1:]
		rest = rest[:i]
	}
	u.path = rest
	u.extension = pathExtension(u.path)
	return u, nil
}

func (u *urlParts) splitHostPort(authority string) error {
	portText := ""
	if strings.HasPrefix(authority, "[") {
		closing := strings.IndexByte(authority, ']')
		if closing < 0 {
			return errURLIPv6Syntax
		}
		u.host = authority[1:closing]
		addr, err := netip.ParseAddr(u.host)
		if err != nil || !addr.Is6() {
			return errURLHost
		}
		u.hostIsIP = true
		after := authority[closing+1:]
		if after != "" {
			if after[0] != ':' {
				return errURLHost
			}
			portText = after[1:]
		}
	} else {
		u.host = authority
		if i := strings.LastIndexByte(authority, ':'); i >= 0 {
			u.host = authority[:i]
			portText = authority[i+1:]
		}
		if !isRegName(u.host) {
			return errURLHost
		}
		_, err := netip.ParseAddr(u.host)
		u.hostIsIP = err == nil
	}
	if u.host == "" {
		return errURLNoHost
	}

	// RFC 3986 allows an empty port after the colon, meaning no port.
	if portText != "" {
		port, ok := digitsValue(portText)
		if !ok || len(portText) > 5 || port > 65535 {
			return errURLPort
		}
		u.port, u.hasPort = port, true
	}
	return nil
}

// isScheme reports whether s is ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// isRegName reports whether s holds only characters of an RFC 3986
// reg-name (unreserved, percent-encoded, sub-delims) or non-ASCII bytes.
func isRegName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~%!$&'()*+,;=", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// pathExtension returns what follows the last dot of the last path segment,
// as ECS url.extension wants it ("gz" for "a.tar.gz"). A segment that only
// starts with a dot, such as ".htaccess", has no extension.
func pathExtension(path string) string {
	segment := path[strings.LastIndexByte(path, '/')+1:]
	dot := strings.LastIndexByte(segment, '.')
	if dot <= 0 {
		return ""
	}
	return segment[dot+1:]
}
