package stix

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/tibeat/tibeat/internal/stix/pattern"
)

// ecsObjectKinds are the STIX object types that ECS lists as values of
// threat.indicator.type (ECS threat field set, "expected values"). The ECS
// list also has "port", which is not a STIX object type, so network-traffic
// ports yield it.
var ecsObjectKinds = map[string]bool{
	"autonomous-system":    true,
	"artifact":             true,
	"directory":            true,
	"domain-name":          true,
	"email-addr":           true,
	"file":                 true,
	"ipv4-addr":            true,
	"ipv6-addr":            true,
	"mac-addr":             true,
	"mutex":                true,
	"process":              true,
	"software":             true,
	"url":                  true,
	"user-account":         true,
	"windows-registry-key": true,
	"x509-certificate":     true,
}

// indicatorFields collects the ECS values found in one pattern before they
// are written into nested maps. Every list is kept free of duplicates.
type indicatorFields struct {
	types []string

	// name is the first IP, domain, URL, hash, e-mail address or registry
	// key found. fallbackName is the first other value, used when the
	// pattern has none of those.
	name, fallbackName string

	ip       []string
	port     []int64
	email    []string
	fileName []string
	fileSize []int64
	hash     [hashAlgorithmCount][]string
	asNumber []int64
	asName   []string

	url struct {
		original, full, scheme, domain, path, query, fragment, extension []string
		port                                                             []int64
	}
	registry struct {
		key, path, hive, value, data []string
	}
	x509 struct {
		serialNumber, issuerDN, subjectDN, notBefore, notAfter []string
		signatureAlgorithm, publicKeyAlgorithm, versionNumber  []string
		issuer, subject                                        [dnAttributeCount][]string
	}
	related struct {
		ip, hash, hosts, user []string
	}

	observables []any
	warnings    []Warning
}

// addComparison records one comparison of the pattern. Every comparison
// becomes an entry of stix.observables. Only comparisons that assert a value
// become ECS values: `=` and each member of an `IN` set, because
// `x IN ('a', 'b')` means the same as `x = 'a' OR x = 'b'`. Negated
// comparisons and the other operators (!=, <, LIKE, MATCHES, ISSUBSET, ...)
// describe what a value is not, or a range of values, so they have no ECS
// counterpart.
func (f *indicatorFields) addComparison(c *pattern.Comparison) {
	f.observables = append(f.observables, observableEntry(c))
	if c.Negated {
		return
	}
	switch c.Operator {
	case pattern.OpEqual:
		f.addValue(c.Path, c.Value)
	case pattern.OpIn:
		for _, member := range c.Value.Set {
			f.addValue(c.Path, member)
		}
	}
}

// observableEntry describes a comparison for stix.observables. The path is
// the full object path ("file:hashes.'SHA-256'") rather than the part after
// the colon. Elasticsearch flattens arrays of objects, so a query on type and
// path together could pair the type of one entry with the path of another.
// The full path alone is unambiguous.
func observableEntry(c *pattern.Comparison) map[string]any {
	entry := make(map[string]any, 5)
	entry["type"] = objectTypeValue(c.Path.ObjectType)
	entry["path"] = c.Path.String()
	entry["operator"] = operatorValue(c.Operator)
	entry["negated"] = c.Negated
	switch c.Value.Kind {
	case pattern.KindNone:
		// EXISTS tests presence and has no literal.
	case pattern.KindSet:
		members := make([]string, len(c.Value.Set))
		for i, member := range c.Value.Set {
			members[i] = member.Text
		}
		entry["value"] = members
	default:
		entry["value"] = c.Value.Text
	}
	return entry
}

// objectTypeValues holds the STIX 2.1 cyber-observable object types as
// interfaces created once, so that the observables of common types do not
// allocate a boxed string each.
var objectTypeValues = func() map[string]any {
	values := make(map[string]any)
	for _, t := range []string{
		"artifact", "autonomous-system", "directory", "domain-name", "email-addr",
		"email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
		"network-traffic", "process", "software", "url", "user-account",
		"windows-registry-key", "x509-certificate",
	} {
		values[t] = t
	}
	return values
}()

func objectTypeValue(objectType string) any {
	if v, ok := objectTypeValues[objectType]; ok {
		return v
	}
	return objectType
}

// operatorValue returns the operator as an interface holding a constant,
// which costs no allocation.
func operatorValue(op pattern.Operator) any {
	switch op {
	case pattern.OpEqual:
		return string(pattern.OpEqual)
	case pattern.OpNotEqual:
		return string(pattern.OpNotEqual)
	case pattern.OpIn:
		return string(pattern.OpIn)
	case pattern.OpMatches:
		return string(pattern.OpMatches)
	case pattern.OpLike:
		return string(pattern.OpLike)
	}
	return string(op)
}

// addValue maps one asserted value of a path to ECS fields.
func (f *indicatorFields) addValue(path pattern.ObjectPath, v pattern.Value) {
	steps := path.Steps
	if ecsObjectKinds[path.ObjectType] {
		f.addType(path.ObjectType)
	}

	switch path.ObjectType {
	case "ipv4-addr", "ipv6-addr":
		if isProperty(steps, "value") {
			f.addAddress(path, v.Text)
		}

	case "domain-name":
		if isProperty(steps, "value") {
			f.url.domain = appendUnique(f.url.domain, v.Text)
			f.related.hosts = appendUnique(f.related.hosts, v.Text)
			f.setName(v.Text)
		}

	case "url":
		if isProperty(steps, "value") {
			f.addURL(v.Text)
		}

	case "file":
		f.addFileValue(path, v)

	case "email-addr":
		if isProperty(steps, "value") {
			f.addEmail(v.Text)
		}

	case "email-message":
		if isRefValue(steps, "from_ref") || isRefValue(steps, "sender_ref") ||
			isRefListValue(steps, "to_refs") || isRefListValue(steps, "cc_refs") ||
			isRefListValue(steps, "bcc_refs") {
			f.addType("email-addr")
			f.addEmail(v.Text)
		}

	case "network-traffic":
		switch {
		case isRefValue(steps, "src_ref") || isRefValue(steps, "dst_ref"):
			f.addTrafficAddress(path, v.Text)
		case isProperty(steps, "src_port") || isProperty(steps, "dst_port"):
			f.addPort(path, v)
		}

	case "autonomous-system":
		switch {
		case isProperty(steps, "number"):
			number, ok := integerValue(v)
			if !ok || number < 0 || number > 4294967295 {
				f.warnValue(path, v, "is not an autonomous system number (0 to 4294967295)")
				return
			}
			f.asNumber = appendUnique(f.asNumber, number)
			f.setFallbackName(v.Text)
		case isProperty(steps, "name"):
			f.asName = appendUnique(f.asName, v.Text)
		}

	case "windows-registry-key":
		f.addRegistryValue(path, v)

	case "x509-certificate":
		f.addCertificateValue(path, v)

	case "user-account":
		if isProperty(steps, "user_id") || isProperty(steps, "account_login") {
			f.related.user = appendUnique(f.related.user, v.Text)
			f.setFallbackName(v.Text)
		}
	}
}

// addAddress maps ipv4-addr:value and ipv6-addr:value. STIX allows CIDR
// blocks there, but a block is not one address and ECS ip fields reject it,
// so it stays in stix.observables only. A /32 (or /128) block is one address
// and is kept as that address.
func (f *indicatorFields) addAddress(path pattern.ObjectPath, text string) {
	if !f.addIP(text) {
		if _, err := netip.ParsePrefix(text); err != nil {
			f.warn(path.String(), "\""+text+"\" is not an IP address or CIDR block")
		}
	}
}

// addTrafficAddress maps network-traffic:src_ref.value and dst_ref.value.
// The referenced object may also be a domain-name or mac-addr, but only IP
// addresses are mapped, and the kind comes from the parsed address.
func (f *indicatorFields) addTrafficAddress(path pattern.ObjectPath, text string) {
	if f.addIP(text) {
		return
	}
	if prefix, err := netip.ParsePrefix(text); err == nil {
		f.addType(addressKind(prefix.Addr()))
	}
}

// addIP adds a single IP address (or a one-address CIDR block) to
// threat.indicator.ip and related.ip, and reports whether text was one.
func (f *indicatorFields) addIP(text string) bool {
	addr, err := netip.ParseAddr(text)
	if err != nil {
		prefix, perr := netip.ParsePrefix(text)
		if perr != nil || !prefix.IsSingleIP() {
			return false
		}
		addr = prefix.Addr()
		text = addr.String()
	}
	// Elasticsearch ip fields cannot hold an IPv6 zone such as "%eth0".
	if addr.Zone() != "" {
		return false
	}
	f.addType(addressKind(addr))
	f.ip = appendUnique(f.ip, text)
	f.related.ip = appendUnique(f.related.ip, text)
	f.setName(text)
	return true
}

func addressKind(addr netip.Addr) string {
	if addr.Is4() {
		return "ipv4-addr"
	}
	return "ipv6-addr"
}

// addURL maps url:value. url.original always receives the text as written.
// The split fields (url.full, url.scheme, url.domain, ...) are set only when
// the text is an absolute URL with a valid host. Otherwise a warning gives the
// reason, and the value is still published in url.original.
func (f *indicatorFields) addURL(text string) {
	f.url.original = appendUnique(f.url.original, text)
	f.setName(text)

	parts, err := splitURL(text)
	if err != nil {
		f.warn("url:value", "\""+text+"\" was not split into url.* fields ("+err.Error()+"), so only url.original is set")
		return
	}
	f.url.full = appendUnique(f.url.full, text)
	f.url.scheme = appendUnique(f.url.scheme, parts.scheme)
	// ECS puts the IP address of a URL without a domain name into
	// url.domain as well, with the brackets of an IPv6 literal (RFC 2732).
	// related.ip gets the bare address.
	domain := parts.host
	if parts.hostIsIP && strings.Contains(domain, ":") {
		domain = "[" + domain + "]"
	}
	f.url.domain = appendUnique(f.url.domain, domain)
	if parts.hostIsIP {
		f.related.ip = appendUnique(f.related.ip, parts.host)
	} else {
		f.related.hosts = appendUnique(f.related.hosts, parts.host)
	}
	if parts.hasPort {
		f.url.port = appendUnique(f.url.port, int64(parts.port))
	}
	f.url.path = appendNonEmpty(f.url.path, parts.path)
	f.url.query = appendNonEmpty(f.url.query, parts.query)
	f.url.fragment = appendNonEmpty(f.url.fragment, parts.fragment)
	f.url.extension = appendNonEmpty(f.url.extension, parts.extension)
}

func (f *indicatorFields) addEmail(text string) {
	f.email = appendUnique(f.email, text)
	f.setName(text)
}

// addPort maps network-traffic:src_port and dst_port. Some feeds quote the
// number ('443'), so a decimal string is accepted too.
func (f *indicatorFields) addPort(path pattern.ObjectPath, v pattern.Value) {
	port, ok := integerValue(v)
	if !ok || port < 0 || port > 65535 {
		f.warnValue(path, v, "is not a port number (0 to 65535)")
		return
	}
	f.addType("port")
	f.port = appendUnique(f.port, port)
	f.setFallbackName(v.Text)
}

// addFileValue maps file:hashes.*, file:name and file:size.
func (f *indicatorFields) addFileValue(path pattern.ObjectPath, v pattern.Value) {
	steps := path.Steps
	switch {
	case len(steps) == 2 && isPropertyStep(steps[0], "hashes") && !steps[1].IsIndex:
		f.addHash(path, steps[1].Property, v.Text)
	case isProperty(steps, "name"):
		f.fileName = appendUnique(f.fileName, v.Text)
		f.setFallbackName(v.Text)
	case isProperty(steps, "size"):
		size, ok := integerValue(v)
		if !ok || size < 0 {
			f.warnValue(path, v, "is not a file size in bytes")
			return
		}
		f.fileSize = appendUnique(f.fileSize, size)
	}
}

// addHash maps one file:hashes value. Hex digests are lower-cased, while
// SSDEEP and TLSH values keep their spelling. Digests of algorithms without an ECS
// field still go to related.hash, which holds every hash of the document.
func (f *indicatorFields) addHash(path pattern.ObjectPath, key, text string) {
	hex := isHex(text)
	digest := text
	if hex {
		digest = strings.ToLower(text)
	}
	f.related.hash = appendUnique(f.related.hash, digest)

	algorithm, ok := hashAlgorithmOf(key)
	if !ok {
		return
	}
	if length := hexDigestLengths[algorithm]; length > 0 && (len(digest) != length || !hex) {
		f.warn(path.String(), "\""+text+"\" is not a "+hashFieldNames[algorithm]+
			" digest of "+strconv.Itoa(length)+" hex digits, but it is kept as written")
	}
	f.hash[algorithm] = appendUnique(f.hash[algorithm], digest)
	f.setName(digest)
}

// addRegistryValue maps windows-registry-key:key and the name and data of
// its values[*].
func (f *indicatorFields) addRegistryValue(path pattern.ObjectPath, v pattern.Value) {
	steps := path.Steps
	switch {
	case isProperty(steps, "key"):
		hive, key, ok := splitRegistryKey(v.Text)
		if !ok {
			f.warn(path.String(), "\""+v.Text+"\" does not start with a known hive, so registry.hive is not set")
		} else {
			f.registry.hive = appendUnique(f.registry.hive, hive)
		}
		f.registry.path = appendUnique(f.registry.path, v.Text)
		f.registry.key = appendNonEmpty(f.registry.key, key)
		f.setName(v.Text)
	case isListProperty(steps, "values", "name"):
		f.registry.value = appendUnique(f.registry.value, v.Text)
	case isListProperty(steps, "values", "data"):
		f.registry.data = appendUnique(f.registry.data, v.Text)
	}
}

// addCertificateValue maps the x509-certificate properties that ECS has
// x509.* fields for. Certificate hashes have no ECS x509 field and go to
// related.hash only.
func (f *indicatorFields) addCertificateValue(path pattern.ObjectPath, v pattern.Value) {
	steps := path.Steps
	x := &f.x509
	switch {
	case isProperty(steps, "serial_number"):
		serial := normalizeSerial(v.Text)
		x.serialNumber = appendUnique(x.serialNumber, serial)
		f.setFallbackName(serial)
	case isProperty(steps, "issuer"):
		x.issuerDN = appendUnique(x.issuerDN, v.Text)
		splitDN(v.Text, func(attribute, value string) {
			if a, ok := dnAttributeOf(attribute); ok {
				x.issuer[a] = appendUnique(x.issuer[a], value)
			}
		})
	case isProperty(steps, "subject"):
		x.subjectDN = appendUnique(x.subjectDN, v.Text)
		splitDN(v.Text, func(attribute, value string) {
			if a, ok := dnAttributeOf(attribute); ok {
				x.subject[a] = appendUnique(x.subject[a], value)
			}
		})
	case isProperty(steps, "validity_not_before"):
		x.notBefore = f.appendDate(x.notBefore, path, v)
	case isProperty(steps, "validity_not_after"):
		x.notAfter = f.appendDate(x.notAfter, path, v)
	case isProperty(steps, "signature_algorithm"):
		x.signatureAlgorithm = appendUnique(x.signatureAlgorithm, v.Text)
	case isProperty(steps, "subject_public_key_algorithm"):
		x.publicKeyAlgorithm = appendUnique(x.publicKeyAlgorithm, v.Text)
	case isProperty(steps, "version"):
		x.versionNumber = appendUnique(x.versionNumber, v.Text)
	case len(steps) == 2 && isPropertyStep(steps[0], "hashes"):
		f.related.hash = appendUnique(f.related.hash, normalizeDigest(v.Text))
	}
}

// appendDate adds a timestamp literal (t'...' or a plain string) as an ECS
// date.
func (f *indicatorFields) appendDate(list []string, path pattern.ObjectPath, v pattern.Value) []string {
	ts, _, err := parseTimestamp(v.Text)
	if err != nil {
		f.warnValue(path, v, "is not a timestamp ("+err.Error()+")")
		return list
	}
	return appendUnique(list, ts.String())
}

func (f *indicatorFields) addType(kind string) {
	f.types = appendUnique(f.types, kind)
}

func (f *indicatorFields) setName(value string) {
	if f.name == "" {
		f.name = value
	}
}

func (f *indicatorFields) setFallbackName(value string) {
	if f.fallbackName == "" {
		f.fallbackName = value
	}
}

// warn records a problem with one value of the pattern. The warning names
// the object path, not "pattern", because the pattern itself is valid and
// "pattern" warnings mean a syntax error.
func (f *indicatorFields) warn(path, message string) {
	f.warnings = append(f.warnings, Warning{Field: path, Message: message})
}

func (f *indicatorFields) warnValue(path pattern.ObjectPath, v pattern.Value, problem string) {
	f.warn(path.String(), "\""+v.Text+"\" "+problem)
}

// integerValue reads an integer literal, or a string or float literal that
// holds a whole number, as feeds write ports and AS numbers both ways.
func integerValue(v pattern.Value) (int64, bool) {
	switch v.Kind {
	case pattern.KindInt:
		return v.Int, true
	case pattern.KindFloat:
		n := int64(v.Float)
		return n, float64(n) == v.Float
	case pattern.KindString:
		n, err := strconv.ParseInt(strings.TrimSpace(v.Text), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func isPropertyStep(s pattern.PathStep, name string) bool {
	return !s.IsIndex && s.Property == name
}

// isProperty matches a path of exactly one property, such as ipv4-addr:value.
func isProperty(steps []pattern.PathStep, name string) bool {
	return len(steps) == 1 && isPropertyStep(steps[0], name)
}

// isRefValue matches REF.value, such as email-message:from_ref.value.
func isRefValue(steps []pattern.PathStep, ref string) bool {
	return len(steps) == 2 && isPropertyStep(steps[0], ref) && isPropertyStep(steps[1], "value")
}

// isRefListValue matches LIST[i].value or LIST[*].value, such as
// email-message:to_refs[*].value.
func isRefListValue(steps []pattern.PathStep, list string) bool {
	return isListProperty(steps, list, "value")
}

// isListProperty matches LIST[i].PROPERTY or LIST[*].PROPERTY.
func isListProperty(steps []pattern.PathStep, list, property string) bool {
	return len(steps) == 3 && isPropertyStep(steps[0], list) && steps[1].IsIndex &&
		isPropertyStep(steps[2], property)
}

// appendUnique appends v unless the list already holds it. Lists here hold
// a handful of values, so a linear scan is cheaper than a set.
func appendUnique[T comparable](list []T, v T) []T {
	for _, have := range list {
		if have == v {
			return list
		}
	}
	return append(list, v)
}

func appendNonEmpty(list []string, v string) []string {
	if v == "" {
		return list
	}
	return appendUnique(list, v)
}
