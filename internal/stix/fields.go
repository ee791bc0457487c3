package stix

// fieldCount returns the number of keys writeTo adds to threat.indicator.
func (f *indicatorFields) fieldCount() int {
	n := 0
	for _, set := range [...]bool{
		len(f.types) > 0, f.name != "" || f.fallbackName != "", len(f.ip) > 0, len(f.port) > 0,
		len(f.email) > 0, f.hasFileFields(), len(f.asNumber)+len(f.asName) > 0,
		len(f.url.original)+len(f.url.domain) > 0, f.hasRegistryFields(), f.hasX509Fields(),
	} {
		if set {
			n++
		}
	}
	return n
}

func (f *indicatorFields) hasFileFields() bool {
	if len(f.fileName)+len(f.fileSize) > 0 {
		return true
	}
	for _, digests := range f.hash {
		if len(digests) > 0 {
			return true
		}
	}
	return false
}

func (f *indicatorFields) hasRegistryFields() bool {
	r := &f.registry
	return len(r.path)+len(r.value)+len(r.data) > 0
}

func (f *indicatorFields) hasX509Fields() bool {
	x := &f.x509
	return len(x.serialNumber)+len(x.notBefore)+len(x.notAfter)+len(x.signatureAlgorithm)+
		len(x.publicKeyAlgorithm)+len(x.versionNumber)+len(x.issuerDN)+len(x.subjectDN) > 0
}

// writeTo stores the collected values under threat.indicator. Fields without
// values are left out, and nested maps are created only when one of their
// fields is set. Multi-valued ECS fields are always lists, even with one
// value.
func (f *indicatorFields) writeTo(indicator map[string]any) {
	setList(indicator, "type", f.types)
	switch {
	case f.name != "":
		indicator["name"] = f.name
	case f.fallbackName != "":
		indicator["name"] = f.fallbackName
	}
	setList(indicator, "ip", f.ip)
	setList(indicator, "port", f.port)
	if len(f.email) > 0 {
		indicator["email"] = map[string]any{"address": f.email}
	}

	var file, hash map[string]any
	for algorithm, digests := range f.hash {
		if len(digests) == 0 {
			continue
		}
		file = ensureMap(file, indicator, "file")
		hash = ensureMap(hash, file, "hash")
		hash[hashFieldNames[algorithm]] = digests
	}
	if len(f.fileName) > 0 {
		file = ensureMap(file, indicator, "file")
		file["name"] = f.fileName
	}
	if len(f.fileSize) > 0 {
		file = ensureMap(file, indicator, "file")
		file["size"] = f.fileSize
	}

	if len(f.asNumber) > 0 || len(f.asName) > 0 {
		as := make(map[string]any, 2)
		setList(as, "number", f.asNumber)
		if len(f.asName) > 0 {
			as["organization"] = map[string]any{"name": f.asName}
		}
		indicator["as"] = as
	}

	f.writeURL(indicator)
	f.writeRegistry(indicator)
	f.writeX509(indicator)
}

// writeRelated stores the related.* lists in fields, when there are any.
func (f *indicatorFields) writeRelated(fields map[string]any) {
	r := &f.related
	if len(r.ip)+len(r.hash)+len(r.hosts)+len(r.user) == 0 {
		return
	}
	related := make(map[string]any, 4)
	setList(related, "ip", r.ip)
	setList(related, "hash", r.hash)
	setList(related, "hosts", r.hosts)
	setList(related, "user", r.user)
	fields["related"] = related
}

func (f *indicatorFields) writeURL(indicator map[string]any) {
	u := &f.url
	if len(u.original) == 0 && len(u.domain) == 0 {
		return
	}
	// A size hint above 8 makes Go allocate a full table up front, so the
	// map is sized for the fields actually present.
	size := countNonEmpty(u.original, u.full, u.scheme, u.domain, u.path, u.query, u.fragment, u.extension)
	if len(u.port) > 0 {
		size++
	}
	m := make(map[string]any, size)
	setList(m, "original", u.original)
	setList(m, "full", u.full)
	setList(m, "scheme", u.scheme)
	setList(m, "domain", u.domain)
	setList(m, "port", u.port)
	setList(m, "path", u.path)
	setList(m, "query", u.query)
	setList(m, "fragment", u.fragment)
	setList(m, "extension", u.extension)
	indicator["url"] = m
}

func (f *indicatorFields) writeRegistry(indicator map[string]any) {
	if !f.hasRegistryFields() {
		return
	}
	r := &f.registry
	m := make(map[string]any, 5)
	setList(m, "path", r.path)
	setList(m, "hive", r.hive)
	setList(m, "key", r.key)
	setList(m, "value", r.value)
	if len(r.data) > 0 {
		m["data"] = map[string]any{"strings": r.data}
	}
	indicator["registry"] = m
}

func (f *indicatorFields) writeX509(indicator map[string]any) {
	if !f.hasX509Fields() {
		return
	}
	x := &f.x509
	m := make(map[string]any, countNonEmpty(x.serialNumber, x.notBefore, x.notAfter,
		x.signatureAlgorithm, x.publicKeyAlgorithm, x.versionNumber, x.issuerDN, x.subjectDN))
	setList(m, "serial_number", x.serialNumber)
	setList(m, "not_before", x.notBefore)
	setList(m, "not_after", x.notAfter)
	setList(m, "signature_algorithm", x.signatureAlgorithm)
	setList(m, "public_key_algorithm", x.publicKeyAlgorithm)
	setList(m, "version_number", x.versionNumber)
	writeDN(m, "issuer", x.issuerDN, &x.issuer)
	writeDN(m, "subject", x.subjectDN, &x.subject)
	indicator["x509"] = m
}

func writeDN(x509 map[string]any, name string, dn []string, parts *[dnAttributeCount][]string) {
	if len(dn) == 0 {
		return
	}
	m := make(map[string]any, 1+countNonEmpty(parts[:]...))
	m["distinguished_name"] = dn
	for attribute, values := range parts {
		setList(m, dnFieldNames[attribute], values)
	}
	x509[name] = m
}

// ensureMap returns m, or when m is nil, a new map stored in parent[key].
func ensureMap(m, parent map[string]any, key string) map[string]any {
	if m == nil {
		m = make(map[string]any, 4)
		parent[key] = m
	}
	return m
}

func countNonEmpty(lists ...[]string) int {
	n := 0
	for _, list := range lists {
		if len(list) > 0 {
			n++
		}
	}
	return n
}

func setList[T any](m map[string]any, key string, values []T) {
	if len(values) > 0 {
		m[key] = values
	}
}
