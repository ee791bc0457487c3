package stix

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testIndicatorID = "indicator--0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"

// testIndicator returns a minimal STIX 2.1 indicator with the given pattern.
func testIndicator(pattern string) map[string]any {
	return map[string]any{
		"type":         "indicator",
		"spec_version": "2.1",
		"id":           testIndicatorID,
		"created":      "2024-05-01T00:00:00.000Z",
		"modified":     "2024-05-01T00:00:00.000Z",
		"pattern":      pattern,
		"pattern_type": "stix",
		"valid_from":   "2024-05-01T00:00:00.000Z",
	}
}

type mappingCase struct {
	name    string
	pattern string
	want    map[string]any
	absent  []string
	// warning, when set, is text that a warning on a value must contain.
	// Otherwise the conversion must produce no warning.
	warning string
}

func runMappingCases(t *testing.T, cases []mappingCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := mustConvert(t, testIndicator(tc.pattern))
			for field, want := range tc.want {
				checkField(t, doc, field, want)
			}
			for _, field := range tc.absent {
				checkAbsent(t, doc, field)
			}
			switch {
			case tc.warning != "" && !hasWarningText(doc, tc.warning):
				t.Errorf("warnings %v, want one containing %q", doc.Warnings, tc.warning)
			case tc.warning == "" && len(doc.Warnings) > 0:
				t.Errorf("unexpected warnings %v", doc.Warnings)
			}
			// "pattern" warnings mean a syntax error, which none of these
			// patterns has.
			if hasWarning(doc, "pattern", "") {
				t.Errorf("warnings %v, want none on the pattern itself", doc.Warnings)
			}
		})
	}
}

func TestConvertAddresses(t *testing.T) {
	runMappingCases(t, []mappingCase{
		{
			name:    "ipv4 address",
			pattern: "[ipv4-addr:value = '198.51.100.1']",
			want: map[string]any{
				"threat.indicator.type": list("ipv4-addr"),
				"threat.indicator.ip":   list("198.51.100.1"),
				"threat.indicator.name": "198.51.100.1",
				"related.ip":            list("198.51.100.1"),
			},
		},
		{
			name:    "ipv6 address",
			pattern: "[ipv6-addr:value = '2001:db8::1']",
			want: map[string]any{
				"threat.indicator.type": list("ipv6-addr"),
				"threat.indicator.ip":   list("2001:db8::1"),
				"related.ip":            list("2001:db8::1"),
			},
		},
		{
			name:    "CIDR block stays in observables",
			pattern: "[ipv4-addr:value = '223.166.0.0/15']",
			want: map[string]any{
				"threat.indicator.type":    list("ipv4-addr"),
				"stix.observables.value":   "223.166.0.0/15",
				"stix.observables.path":    "ipv4-addr:value",
				"stix.observables.negated": false,
			},
			absent: []string{"threat.indicator.ip", "related.ip", "threat.indicator.name"},
		},
		{
			name:    "one-address block is an address",
			pattern: "[ipv4-addr:value = '198.51.100.9/32']",
			want:    map[string]any{"threat.indicator.ip": list("198.51.100.9")},
		},
		{
			name:    "invalid address",
			pattern: "[ipv4-addr:value = '198.51.100.300']",
			want:    map[string]any{"threat.indicator.type": list("ipv4-addr")},
			absent:  []string{"threat.indicator.ip"},
			warning: "is not an IP address",
		},
		{
			name: "network traffic addresses and ports",
			pattern: "[network-traffic:src_ref.value = '198.51.100.2' AND network-traffic:dst_ref.value = '2001:db8::2'" +
				" AND network-traffic:dst_port = 443 AND network-traffic:src_port = '8080']",
			want: map[string]any{
				"threat.indicator.type": list("ipv4-addr", "ipv6-addr", "port"),
				"threat.indicator.ip":   list("198.51.100.2", "2001:db8::2"),
				"threat.indicator.port": list(443, 8080),
				"related.ip":            list("198.51.100.2", "2001:db8::2"),
			},
		},
		{
			name:    "network traffic domain reference is not an ip",
			pattern: "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'b22.example.com']",
			absent:  []string{"threat.indicator.ip", "threat.indicator.type", "threat.indicator.url.domain"},
		},
		{
			name:    "port out of range",
			pattern: "[network-traffic:dst_port = 70000]",
			absent:  []string{"threat.indicator.port", "threat.indicator.type"},
			warning: "is not a port number",
		},
	})
}

func TestConvertDomainsAndURLs(t *testing.T) {
	runMappingCases(t, []mappingCase{
		{
			name:    "domain name",
			pattern: "[domain-name:value = 'c2.example.org']",
			want: map[string]any{
				"threat.indicator.type":       list("domain-name"),
				"threat.indicator.url.domain": list("c2.example.org"),
				"threat.indicator.name":       "c2.example.org",
				"related.hosts":               list("c2.example.org"),
			},
			absent: []string{"threat.indicator.url.original", "threat.indicator.url.full"},
		},
		{
			name:    "defanged domain kept as written",
			pattern: "[domain-name:value = 'b22[.]example[.]net']",
			want:    map[string]any{"threat.indicator.url.domain": list("b22[.]example[.]net")},
		},
		{
			name:    "url split into parts",
			pattern: "[url:value = 'https://b22.example.com:8443/path/file.php?id=1#frag']",
			want: map[string]any{
				"threat.indicator.type":          list("url"),
				"threat.indicator.name":          "https://b22.example.com:8443/path/file.php?id=1#frag",
				"threat.indicator.url.original":  list("https://b22.example.com:8443/path/file.php?id=1#frag"),
				"threat.indicator.url.full":      list("https://b22.example.com:8443/path/file.php?id=1#frag"),
				"threat.indicator.url.scheme":    list("https"),
				"threat.indicator.url.domain":    list("b22.example.com"),
				"threat.indicator.url.port":      list(8443),
				"threat.indicator.url.path":      list("/path/file.php"),
				"threat.indicator.url.query":     list("id=1"),
				"threat.indicator.url.fragment":  list("frag"),
				"threat.indicator.url.extension": list("php"),
				"related.hosts":                  list("b22.example.com"),
			},
		},
		{
			name:    "url with an IP host",
			pattern: "[url:value = 'http://198.51.100.7:8080/a b|c']",
			want: map[string]any{
				"threat.indicator.url.original": list("http://198.51.100.7:8080/a b|c"),
				"threat.indicator.url.domain":   list("198.51.100.7"),
				"threat.indicator.url.port":     list(8080),
				"threat.indicator.url.path":     list("/a b|c"),
				"related.ip":                    list("198.51.100.7"),
			},
			absent: []string{"related.hosts", "threat.indicator.url.query", "threat.indicator.url.extension"},
		},
		{
			// ECS url.domain keeps the brackets of an RFC 2732 literal.
			name:    "url with an IPv6 host",
			pattern: "[url:value = 'http://[2001:db8::7]/x.tar.gz']",
			want: map[string]any{
				"threat.indicator.url.domain":    list("[2001:db8::7]"),
				"threat.indicator.url.extension": list("gz"),
				"related.ip":                     list("2001:db8::7"),
			},
			absent: []string{"threat.indicator.url.port"},
		},
		{
			name:    "defanged url keeps only the original",
			pattern: "[url:value = 'hxxp://b22.example[.]com/payload.bin']",
			want: map[string]any{
				"threat.indicator.type":         list("url"),
				"threat.indicator.url.original": list("hxxp://b22.example[.]com/payload.bin"),
			},
			absent: []string{
				"threat.indicator.url.full", "threat.indicator.url.scheme",
				"threat.indicator.url.domain", "threat.indicator.url.path",
			},
			warning: "defanged scheme",
		},
		{
			name:    "bracketed host is invalid",
			pattern: "[url:value = 'http://b22.example[.]com/payload.bin']",
			want:    map[string]any{"threat.indicator.url.original": list("http://b22.example[.]com/payload.bin")},
			absent:  []string{"threat.indicator.url.full", "threat.indicator.url.domain"},
			warning: "invalid host",
		},
		{
			name:    "url without scheme",
			pattern: "[url:value = 'www.example.com/index.html']",
			want:    map[string]any{"threat.indicator.url.original": list("www.example.com/index.html")},
			absent:  []string{"threat.indicator.url.full"},
			warning: "no valid scheme",
		},
	})
}

func TestConvertFiles(t *testing.T) {
	md5 := "31bc03374a4f72f3666e8224a6d374e0"
	sha1 := "06109648f7eab50124d1db45ec6818c9c7dcaadd"
	sha256 := "1452f4fd72ccdf565c6ae54f68259cebc378dc85bbeb9bc225da8cc3e5fd9442"
	sha384 := strings.Repeat("ab", 48)
	sha512 := strings.Repeat("cd", 64)
	ssdeep := "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C"
	tlsh := "T1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4"
	runMappingCases(t, []mappingCase{
		{name: "MD5 quoted", pattern: "[file:hashes.'MD5' = '" + md5 + "']",
			want: map[string]any{"threat.indicator.file.hash.md5": list(md5), "threat.indicator.type": list("file")}},
		{name: "SHA-1 quoted with hyphen", pattern: "[file:hashes.'SHA-1' = '" + sha1 + "']",
			want: map[string]any{"threat.indicator.file.hash.sha1": list(sha1)}},
		{name: "SHA256 unquoted", pattern: "[file:hashes.SHA256 = '" + sha256 + "']",
			want: map[string]any{"threat.indicator.file.hash.sha256": list(sha256)}},
		{name: "SHA-384", pattern: "[file:hashes.'SHA-384' = '" + sha384 + "']",
			want: map[string]any{"threat.indicator.file.hash.sha384": list(sha384)}},
		{name: "sha512 lower case", pattern: "[file:hashes.sha512 = '" + sha512 + "']",
			want: map[string]any{"threat.indicator.file.hash.sha512": list(sha512)}},
		{name: "SSDEEP as written", pattern: "[file:hashes.SSDEEP = '" + ssdeep + "']",
			want: map[string]any{"threat.indicator.file.hash.ssdeep": list(ssdeep)}},
		{name: "STIX 2.0 ssdeep", pattern: "[file:hashes.ssdeep = '" + ssdeep + "']",
			want: map[string]any{"threat.indicator.file.hash.ssdeep": list(ssdeep)}},
		{name: "TLSH keeps its case", pattern: "[file:hashes.TLSH = '" + tlsh + "']",
			want: map[string]any{"threat.indicator.file.hash.tlsh": list(tlsh)}},
		{
			name:    "upper-case digest lower-cased",
			pattern: "[file:hashes.MD5 = 'A918A93C79E1083A0A0F229A6940F246']",
			want: map[string]any{
				"threat.indicator.file.hash.md5": list("a918a93c79e1083a0a0f229a6940f246"),
				"threat.indicator.name":          "a918a93c79e1083a0a0f229a6940f246",
				"related.hash":                   list("a918a93c79e1083a0a0f229a6940f246"),
				"stix.observables.value":         "A918A93C79E1083A0A0F229A6940F246",
			},
		},
		{
			name:    "SHA-224 has no ECS field",
			pattern: "[file:hashes.'SHA-224' = 'd14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f']",
			want: map[string]any{
				"threat.indicator.type": list("file"),
				"related.hash":          list("d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f"),
			},
			absent: []string{"threat.indicator.file.hash", "threat.indicator.name"},
		},
		{
			name:    "IMPHASH has no ECS field",
			pattern: "[file:hashes.IMPHASH = 'f34d5f2d4577ed6d9ceec516c1f5a744']",
			absent:  []string{"threat.indicator.file"},
		},
		{
			name:    "digest of the wrong length",
			pattern: "[file:hashes.'SHA-256' = '" + md5 + "']",
			want:    map[string]any{"threat.indicator.file.hash.sha256": list(md5)},
			warning: "is not a sha256 digest",
		},
		{
			name:    "two hashes",
			pattern: "[file:hashes.'SHA-256' = '" + sha256 + "' OR file:hashes.MD5 = '" + md5 + "']",
			want: map[string]any{
				"threat.indicator.file.hash.sha256": list(sha256),
				"threat.indicator.file.hash.md5":    list(md5),
				"threat.indicator.name":             sha256,
				"related.hash":                      list(sha256, md5),
			},
		},
		{
			name:    "file name and size",
			pattern: "[file:name = 'dropper.dll' AND file:size = 25536]",
			want: map[string]any{
				"threat.indicator.type":      list("file"),
				"threat.indicator.file.name": list("dropper.dll"),
				"threat.indicator.file.size": list(25536),
				"threat.indicator.name":      "dropper.dll",
			},
		},
	})
}

func TestConvertEmailAndAccounts(t *testing.T) {
	runMappingCases(t, []mappingCase{
		{
			name:    "email address",
			pattern: "[email-addr:value = 'phish@example.com']",
			want: map[string]any{
				"threat.indicator.type":          list("email-addr"),
				"threat.indicator.email.address": list("phish@example.com"),
				"threat.indicator.name":          "phish@example.com",
			},
		},
		{
			name: "email message references",
			pattern: "[email-message:from_ref.value = 'from@example.com' AND email-message:sender_ref.value = 'sender@example.com'" +
				" AND email-message:to_refs[*].value = 'to@example.com' AND email-message:cc_refs[0].value = 'cc@example.com'" +
				" AND email-message:bcc_refs[1].value = 'bcc@example.com' AND email-message:subject = 'Invoice']",
			want: map[string]any{
				"threat.indicator.type": list("email-addr"),
				"threat.indicator.email.address": list("from@example.com", "sender@example.com", "to@example.com",
					"cc@example.com", "bcc@example.com"),
			},
		},
		{
			name:    "autonomous system",
			pattern: "[autonomous-system:number = 64496 AND autonomous-system:name = 'Example Transit']",
			want: map[string]any{
				"threat.indicator.type":                 list("autonomous-system"),
				"threat.indicator.as.number":            list(64496),
				"threat.indicator.as.organization.name": list("Example Transit"),
			},
		},
		{
			name:    "autonomous system number as a string",
			pattern: "[autonomous-system:number = '64497']",
			want:    map[string]any{"threat.indicator.as.number": list(64497)},
		},
		{
			name:    "user account",
			pattern: "[user-account:user_id = '1001' AND user-account:account_login = 'jdoe']",
			want: map[string]any{
				"threat.indicator.type": list("user-account"),
				"related.user":          list("1001", "jdoe"),
			},
		},
	})
}

func TestConvertRegistryAndCertificates(t *testing.T) {
	runMappingCases(t, []mappingCase{
		{
			name:    "registry key with long hive name",
			pattern: `[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run']`,
			want: map[string]any{
				"threat.indicator.type":          list("windows-registry-key"),
				"threat.indicator.registry.hive": list("HKLM"),
				"threat.indicator.registry.key":  list(`Software\Microsoft\Windows\CurrentVersion\Run`),
				"threat.indicator.registry.path": list(`HKEY_LOCAL_MACHINE\Software\Microsoft\Windows\CurrentVersion\Run`),
				"threat.indicator.name":          `HKEY_LOCAL_MACHINE\Software\Microsoft\Windows\CurrentVersion\Run`,
			},
		},
		{
			name: "registry values",
			pattern: `[windows-registry-key:key = 'hkcu\\Software\\Example' AND windows-registry-key:values[*].name = 'updater'` +
				` AND windows-registry-key:values[*].data = 'C:\\Users\\Public\\u.exe']`,
			want: map[string]any{
				"threat.indicator.registry.hive":         list("HKCU"),
				"threat.indicator.registry.key":          list(`Software\Example`),
				"threat.indicator.registry.value":        list("updater"),
				"threat.indicator.registry.data.strings": list(`C:\Users\Public\u.exe`),
			},
		},
		{
			name:    "registry key without a known hive",
			pattern: `[windows-registry-key:key = 'KCU\\Software\\Example']`,
			want: map[string]any{
				"threat.indicator.registry.path": list(`KCU\Software\Example`),
				"threat.indicator.registry.key":  list(`KCU\Software\Example`),
			},
			absent:  []string{"threat.indicator.registry.hive"},
			warning: "does not start with a known hive",
		},
		{
			name: "x509 certificate",
			pattern: "[x509-certificate:serial_number = '36:f7:d4:32:f4:ab:70:ea' AND " +
				"x509-certificate:issuer = 'C=ZA, ST=Western Cape, L=Cape Town, O=Thawte Consulting cc, OU=Certification Services Division, CN=Thawte Server CA' AND " +
				"x509-certificate:subject = 'C=US, O=Example Corp, CN=www.example.com' AND " +
				"x509-certificate:validity_not_before = t'2016-03-12T12:00:00Z' AND " +
				"x509-certificate:validity_not_after = '2016-08-21T12:00:00.5Z' AND " +
				"x509-certificate:signature_algorithm = 'md5WithRSAEncryption' AND " +
				"x509-certificate:subject_public_key_algorithm = 'rsaEncryption' AND " +
				"x509-certificate:version = '3' AND " +
				"x509-certificate:hashes.'SHA-256' = 'AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899']",
			want: map[string]any{
				"threat.indicator.type":                            list("x509-certificate"),
				"threat.indicator.x509.serial_number":              list("36F7D432F4AB70EA"),
				"threat.indicator.x509.issuer.distinguished_name":  list("C=ZA, ST=Western Cape, L=Cape Town, O=Thawte Consulting cc, OU=Certification Services Division, CN=Thawte Server CA"),
				"threat.indicator.x509.issuer.common_name":         list("Thawte Server CA"),
				"threat.indicator.x509.issuer.organization":        list("Thawte Consulting cc"),
				"threat.indicator.x509.issuer.organizational_unit": list("Certification Services Division"),
				"threat.indicator.x509.issuer.country":             list("ZA"),
				"threat.indicator.x509.issuer.state_or_province":   list("Western Cape"),
				"threat.indicator.x509.issuer.locality":            list("Cape Town"),
				"threat.indicator.x509.subject.distinguished_name": list("C=US, O=Example Corp, CN=www.example.com"),
				"threat.indicator.x509.subject.common_name":        list("www.example.com"),
				"threat.indicator.x509.subject.organization":       list("Example Corp"),
				"threat.indicator.x509.subject.country":            list("US"),
				"threat.indicator.x509.not_before":                 list("2016-03-12T12:00:00.000Z"),
				"threat.indicator.x509.not_after":                  list("2016-08-21T12:00:00.500Z"),
				"threat.indicator.x509.signature_algorithm":        list("md5WithRSAEncryption"),
				"threat.indicator.x509.public_key_algorithm":       list("rsaEncryption"),
				"threat.indicator.x509.version_number":             list("3"),
				"related.hash":                                     list("aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899"),
			},
			absent: []string{"threat.indicator.x509.subject.locality", "threat.indicator.file"},
		},
		{
			name:    "DN in OpenSSL form",
			pattern: "[x509-certificate:subject = '/C=DE/O=Example GmbH/CN=mail.example.de']",
			want: map[string]any{
				"threat.indicator.x509.subject.country":      list("DE"),
				"threat.indicator.x509.subject.organization": list("Example GmbH"),
				"threat.indicator.x509.subject.common_name":  list("mail.example.de"),
			},
		},
	})
}

func TestConvertOtherObjects(t *testing.T) {
	runMappingCases(t, []mappingCase{
		{
			name:    "mac address has only a type",
			pattern: "[mac-addr:value = '00:00:5e:00:53:01']",
			want: map[string]any{
				"threat.indicator.type":  list("mac-addr"),
				"stix.observables.value": "00:00:5e:00:53:01",
			},
			absent: []string{"threat.indicator.ip", "threat.indicator.name"},
		},
		{
			name:    "process mutex software directory",
			pattern: "[process:name = 'evil.exe' AND mutex:name = 'Global\\\\m' AND software:name = 'x' AND directory:path = 'C:\\\\tmp']",
			want:    map[string]any{"threat.indicator.type": list("process", "mutex", "software", "directory")},
		},
		{
			name:    "unknown object type",
			pattern: "[app:id = 'com.example.app']",
			want: map[string]any{
				"stix.observables.type":  "app",
				"stix.observables.path":  "app:id",
				"stix.observables.value": "com.example.app",
			},
			absent: []string{"threat.indicator.type", "threat.indicator.name", "related"},
		},
		{
			name:    "several kinds in one pattern",
			pattern: "([ipv4-addr:value = '192.0.2.45'] FOLLOWEDBY [url:value = 'http://b19.example.net/c2']) WITHIN 600 SECONDS",
			want: map[string]any{
				"threat.indicator.type":     list("ipv4-addr", "url"),
				"threat.indicator.ip":       list("192.0.2.45"),
				"threat.indicator.url.full": list("http://b19.example.net/c2"),
				"threat.indicator.name":     "192.0.2.45",
			},
		},
	})
}

func TestConvertOperators(t *testing.T) {
	runMappingCases(t, []mappingCase{
		{
			name:    "negated equality is not a value",
			pattern: "[ipv4-addr:value NOT = '198.51.100.3']",
			want: map[string]any{
				"stix.observables.negated":  true,
				"stix.observables.operator": "=",
				"stix.observables.value":    "198.51.100.3",
			},
			absent: []string{"threat.indicator.ip", "threat.indicator.type", "related"},
		},
		{
			name:    "every member of an IN set",
			pattern: "[ipv4-addr:value IN ('198.51.100.4', '198.51.100.5')]",
			want: map[string]any{
				"threat.indicator.ip":       list("198.51.100.4", "198.51.100.5"),
				"stix.observables.operator": "IN",
				"stix.observables.value":    list("198.51.100.4", "198.51.100.5"),
			},
		},
		{
			name:    "negated IN set",
			pattern: "[ipv4-addr:value NOT IN ('198.51.100.4', '198.51.100.5')]",
			absent:  []string{"threat.indicator.ip"},
		},
		{
			name:    "MATCHES is not a value",
			pattern: "[email-message:from_ref.value MATCHES '.+@example\\\\.com$']",
			want:    map[string]any{"stix.observables.operator": "MATCHES"},
			absent:  []string{"threat.indicator.email", "threat.indicator.type"},
		},
		{
			name:    "not-equal is not a value",
			pattern: "[domain-name:value != 'example.com']",
			want:    map[string]any{"stix.observables.operator": "!="},
			absent:  []string{"threat.indicator.url"},
		},
		{
			name:    "EXISTS has no value",
			pattern: "[EXISTS windows-registry-key:values]",
			want:    map[string]any{"stix.observables.operator": "EXISTS"},
			absent:  []string{"stix.observables.value", "threat.indicator.registry"},
		},
	})
}

func TestConvertObservableEntries(t *testing.T) {
	doc := mustConvert(t, testIndicator("[file:hashes.'SHA-256' = 'aa' OR file:size = 10]"))
	got, ok := lookupField(doc, "stix.observables")
	if !ok {
		t.Fatal("stix.observables is absent")
	}
	entries, _ := got.([]any)
	want := []map[string]any{
		{"type": "file", "path": "file:hashes.'SHA-256'", "operator": "=", "value": "aa", "negated": false},
		{"type": "file", "path": "file:size", "operator": "=", "value": "10", "negated": false},
	}
	if len(entries) != len(want) {
		t.Fatalf("stix.observables has %d entries, want %d: %v", len(entries), len(want), entries)
	}
	for i, w := range want {
		entry, _ := entries[i].(map[string]any)
		for key, value := range w {
			if entry[key] != value {
				t.Errorf("entry %d: %s = %v, want %v", i, key, entry[key], value)
			}
		}
		if len(entry) != len(w) {
			t.Errorf("entry %d has keys %v, want exactly %v", i, entry, w)
		}
	}
}

func TestConvertPatternSyntaxError(t *testing.T) {
	obj := testIndicator("[ipv4-addr:value = '198.51.100.1'")
	obj["description"] = "kept despite the bad pattern"
	doc := mustConvert(t, obj)

	if !hasWarning(doc, "pattern", "pattern: at offset") {
		t.Errorf("warnings %v, want the syntax error as a pattern warning", doc.Warnings)
	}
	checkField(t, doc, "threat.indicator.description", "kept despite the bad pattern")
	checkField(t, doc, "threat.indicator.id", list(testIndicatorID))
	checkField(t, doc, "stix.pattern", "[ipv4-addr:value = '198.51.100.1'")
	checkField(t, doc, "stix.ioc_expiration_reason", "default")
	checkAbsent(t, doc, "threat.indicator.ip")
	checkAbsent(t, doc, "stix.observables")
}

func TestConvertNonSTIXPatternTypes(t *testing.T) {
	// The rule texts name addresses and domains that are not indicators by
	// themselves, so none of them may reach threat.indicator.*.
	rules := map[string]string{
		"sigma":    "title: example\ndetection:\n  selection:\n    DestinationIp: '198.51.100.1'\n  condition: selection\n",
		"yara":     `rule example { strings: $a = "198.51.100.1" condition: $a }`,
		"snort":    `alert tcp any any -> 198.51.100.1 80 (msg:"example"; sid:1000001; rev:1;)`,
		"suricata": `alert http any any -> 198.51.100.1 any (msg:"example"; http.host; content:"c2.example.org"; sid:2;)`,
		"pcre":     `/c2\.example\.org\/gate\.php/i`,
		"x-custom": "[ipv4-addr:value = '198.51.100.1']",
		"SIGMA":    "[ipv4-addr:value = '198.51.100.1']",
	}
	for patternType, rule := range rules {
		t.Run(patternType, func(t *testing.T) {
			obj := testIndicator(rule)
			obj["pattern_type"] = patternType
			doc := mustConvert(t, obj)

			checkField(t, doc, "stix.pattern", rule)
			checkField(t, doc, "stix.pattern_type", patternType)
			checkField(t, doc, "event.type", list("indicator"))
			checkField(t, doc, "threat.indicator.id", list(testIndicatorID))
			checkField(t, doc, "threat.indicator.first_seen", "2024-05-01T00:00:00.000Z")
			checkField(t, doc, "stix.ioc_expiration_reason", "default")
			for _, field := range []string{"threat.indicator.ip", "threat.indicator.type", "threat.indicator.name",
				"threat.indicator.url", "related", "stix.observables", "error"} {
				checkAbsent(t, doc, field)
			}
			if len(doc.Warnings) > 0 {
				t.Errorf("unexpected warnings %v", doc.Warnings)
			}
		})
	}
}

func TestConvertIndicatorProperties(t *testing.T) {
	obj := testIndicator("[domain-name:value = 'c2.example.org']")
	obj["name"] = "C2 domain"
	obj["description"] = "Command and control domain."
	obj["labels"] = []any{"botnet", "c2"}
	obj["valid_from"] = "2024-04-30T08:00:00.250Z"
	obj["modified"] = "2024-05-02T10:30:00Z"
	obj["external_references"] = []any{
		map[string]any{"source_name": "internal", "external_id": "X-1"},
		map[string]any{"source_name": "report", "url": "https://intel.example.org/r/1"},
		map[string]any{"source_name": "later", "url": "https://intel.example.org/r/2"},
	}
	doc, err := Convert(obj, &Options{FeedName: "Example feed", FeedReference: "https://feed.example.org"})
	if err != nil {
		t.Fatal(err)
	}

	want := map[string]any{
		"event.kind":                   "enrichment",
		"event.category":               list("threat"),
		"event.type":                   list("indicator"),
		"threat.indicator.id":          list(testIndicatorID),
		"threat.indicator.name":        "c2.example.org",
		"threat.indicator.description": "Command and control domain.",
		"threat.indicator.reference":   "https://intel.example.org/r/1",
		"threat.indicator.first_seen":  "2024-04-30T08:00:00.250Z",
		"threat.indicator.last_seen":   "2024-05-02T10:30:00.000Z",
		"threat.indicator.modified_at": "2024-05-02T10:30:00.000Z",
		"threat.feed.name":             "Example feed",
		"threat.feed.reference":        "https://feed.example.org",
		"tags":                         list("botnet", "c2"),
		"stix.name":                    "C2 domain",
		"@timestamp":                   "2024-05-01T00:00:00Z",
	}
	for field, value := range want {
		checkField(t, doc, field, value)
	}
	if !doc.Indicator {
		t.Error("Indicator = false, want true")
	}
	if len(doc.Types) != 1 || doc.Types[0] != "domain-name" {
		t.Errorf("Types = %v, want [domain-name]", doc.Types)
	}
	checkAbsent(t, doc, "threat.indicator.confidence")
	checkAbsent(t, doc, "threat.indicator.marking")
}

func TestConvertConfidence(t *testing.T) {
	cases := []struct {
		confidence float64
		want       string
	}{
		{0, "None"}, {1, "Low"}, {29, "Low"}, {30, "Medium"}, {69, "Medium"}, {70, "High"}, {100, "High"},
	}
	for _, tc := range cases {
		t.Run(tc.want+"_"+strconv.FormatFloat(tc.confidence, 'f', -1, 64), func(t *testing.T) {
			obj := testIndicator("[ipv4-addr:value = '198.51.100.1']")
			obj["confidence"] = tc.confidence
			doc := mustConvert(t, obj)
			checkField(t, doc, "threat.indicator.confidence", tc.want)
			checkField(t, doc, "stix.confidence", tc.confidence)
		})
	}
	for _, bad := range []any{101.0, -1.0, 50.5, "high"} {
		obj := testIndicator("[ipv4-addr:value = '198.51.100.1']")
		obj["confidence"] = bad
		doc := mustConvert(t, obj)
		checkAbsent(t, doc, "threat.indicator.confidence")
		if !hasWarning(doc, "confidence", "") {
			t.Errorf("confidence %v: warnings %v, want a confidence warning", bad, doc.Warnings)
		}
	}
}

func TestConvertTLPMarkings(t *testing.T) {
	cases := []struct {
		name, ref, level, version string
	}{
		{"TLP 1.0 WHITE", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "WHITE", "1.0"},
		{"TLP 1.0 GREEN", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "GREEN", "1.0"},
		{"TLP 1.0 AMBER", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "AMBER", "1.0"},
		{"TLP 1.0 RED", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "RED", "1.0"},
		{"TLP 2.0 CLEAR", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "CLEAR", "2.0"},
		{"TLP 2.0 GREEN", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "GREEN", "2.0"},
		{"TLP 2.0 AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "AMBER", "2.0"},
		{"TLP 2.0 AMBER+STRICT", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "AMBER+STRICT", "2.0"},
		{"TLP 2.0 RED", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "RED", "2.0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := testIndicator("[ipv4-addr:value = '198.51.100.1']")
			obj["object_marking_refs"] = []any{tc.ref}
			doc := mustConvert(t, obj)
			checkField(t, doc, "threat.indicator.marking.tlp", tc.level)
			checkField(t, doc, "threat.indicator.marking.tlp_version", tc.version)
		})
	}

	t.Run("strictest of several", func(t *testing.T) {
		obj := testIndicator("[ipv4-addr:value = '198.51.100.1']")
		obj["object_marking_refs"] = []any{
			"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
			"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
			"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
		}
		doc := mustConvert(t, obj)
		checkField(t, doc, "threat.indicator.marking.tlp", "AMBER+STRICT")
		checkField(t, doc, "threat.indicator.marking.tlp_version", "2.0")
	})
	t.Run("granular marking", func(t *testing.T) {
		obj := testIndicator("[ipv4-addr:value = '198.51.100.1']")
		obj["granular_markings"] = []any{map[string]any{
			"marking_ref": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
			"selectors":   []any{"description"},
		}}
		doc := mustConvert(t, obj)
		checkField(t, doc, "threat.indicator.marking.tlp", "RED")
	})
	t.Run("statement marking is not TLP", func(t *testing.T) {
		obj := testIndicator("[ipv4-addr:value = '198.51.100.1']")
		// One character off the TLP 1.0 RED id.
		obj["object_marking_refs"] = []any{"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ec"}
		doc := mustConvert(t, obj)
		checkAbsent(t, doc, "threat.indicator.marking")
	})
}

func TestConvertExpiration(t *testing.T) {
	cases := []struct {
		name       string
		properties map[string]any
		opts       *Options
		date       string
		reason     string
	}{
		{
			name:       "valid_until wins",
			properties: map[string]any{"valid_until": "2024-06-01T00:00:00Z", "revoked": true},
			date:       "2024-06-01T00:00:00.000Z", reason: "valid_until",
		},
		{
			name:       "revoked expires at modified",
			properties: map[string]any{"modified": "2024-05-20T00:00:00.000Z", "revoked": true},
			date:       "2024-05-20T00:00:00.000Z", reason: "revoked",
		},
		{
			name:       "default is modified plus 90 days",
			properties: map[string]any{"modified": "2024-05-01T00:00:00.000Z"},
			date:       "2024-07-30T00:00:00.000Z", reason: "default",
		},
		{
			name:       "default keeps the precision of modified",
			properties: map[string]any{"modified": "2024-05-01T00:00:00.123456Z"},
			date:       "2024-07-30T00:00:00.123456Z", reason: "default",
		},
		{
			name:       "default from valid_from without modified",
			properties: map[string]any{"modified": nil, "valid_from": "2019-06-01T00:00:00Z"},
			date:       "2019-08-30T00:00:00.000Z", reason: "default",
		},
		{
			name:       "configured lifetime",
			properties: map[string]any{"modified": "2024-05-01T00:00:00.000Z"},
			opts:       &Options{ExpirationDuration: 7 * 24 * time.Hour},
			date:       "2024-05-08T00:00:00.000Z", reason: "default",
		},
		{
			name:       "default stops at the last four-digit year",
			properties: map[string]any{"modified": "9999-12-01T00:00:00.000Z"},
			date:       "9999-12-31T23:59:59.999Z", reason: "default",
		},
		{
			name:       "revoked false is not revoked",
			properties: map[string]any{"modified": "2024-05-01T00:00:00.000Z", "revoked": false},
			date:       "2024-07-30T00:00:00.000Z", reason: "default",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := testIndicator("[ipv4-addr:value = '198.51.100.1']")
			for key, value := range tc.properties {
				if value == nil {
					delete(obj, key)
					continue
				}
				obj[key] = value
			}
			doc, err := Convert(obj, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkField(t, doc, "stix.ioc_expiration_date", tc.date)
			checkField(t, doc, "stix.ioc_expiration_reason", tc.reason)
		})
	}

	t.Run("valid_until before valid_from", func(t *testing.T) {
		obj := testIndicator("[ipv4-addr:value = '198.51.100.1']")
		obj["valid_until"] = "2024-04-01T00:00:00Z"
		doc := mustConvert(t, obj)
		checkField(t, doc, "stix.ioc_expiration_date", "2024-04-01T00:00:00.000Z")
		checkField(t, doc, "stix.ioc_expiration_reason", "valid_until")
		if !hasWarning(doc, "valid_until", "not later than valid_from") {
			t.Errorf("warnings %v, want a valid_until warning", doc.Warnings)
		}
	})
}

func TestConvertTimestamps(t *testing.T) {
	obj := testIndicator("[ipv4-addr:value = '198.51.100.1']")
	obj["created"] = "2024-05-01T14:00:00.123+02:00"
	obj["modified"] = "yesterday"
	obj["valid_from"] = 1714564800.0
	doc := mustConvert(t, obj)

	checkField(t, doc, "@timestamp", "2024-05-01T12:00:00.123Z")
	checkAbsent(t, doc, "threat.indicator.last_seen")
	checkAbsent(t, doc, "threat.indicator.modified_at")
	checkAbsent(t, doc, "threat.indicator.first_seen")
	checkField(t, doc, "stix.modified", "yesterday")
	if !hasWarning(doc, "modified", `invalid timestamp "yesterday"`) {
		t.Errorf("warnings %v, want one for modified", doc.Warnings)
	}
	if !hasWarning(doc, "valid_from", "is a number") {
		t.Errorf("warnings %v, want one for valid_from", doc.Warnings)
	}
	// Neither modified nor valid_from is usable, so no default expiration.
	checkAbsent(t, doc, "stix.ioc_expiration_date")
}

func TestConvertErrors(t *testing.T) {
	cases := []struct {
		name string
		obj  map[string]any
		want error
	}{
		{"type absent", map[string]any{"id": "indicator--x"}, ErrMissingType},
		{"type a number", map[string]any{"type": 7.0, "id": "indicator--x"}, ErrMissingType},
		{"type empty", map[string]any{"type": "", "id": "indicator--x"}, ErrMissingType},
		{"id absent", map[string]any{"type": "indicator"}, ErrMissingID},
		{"id an object", map[string]any{"type": "indicator", "id": map[string]any{}}, ErrMissingID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Convert(tc.obj, nil)
			if !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want one wrapping %v", err, tc.want)
			}
			if doc != nil {
				t.Errorf("document = %v, want nil", doc)
			}
		})
	}
}

func TestConvertMalware(t *testing.T) {
	obj := map[string]any{
		"type":         "malware",
		"spec_version": "2.1",
		"id":           "malware--2e9d534b-2e11-4758-bdc5-9c3e1c100d4d",
		"created":      "2024-01-26T21:28:21.013109Z",
		"modified":     "2024-01-26T21:28:21.013109Z",
		"name":         "Pegasus",
		"is_family":    false,
		"labels":       []any{"spyware"},
	}
	doc := mustConvert(t, obj)

	if doc.Indicator {
		t.Error("Indicator = true, want false")
	}
	checkField(t, doc, "event.kind", "enrichment")
	checkField(t, doc, "stix.name", "Pegasus")
	checkField(t, doc, "tags", list("spyware"))
	checkField(t, doc, "@timestamp", "2024-01-26T21:28:21.013109Z")
	for _, field := range []string{"threat", "event.type", "event.category", "related", "stix.ioc_expiration_date", "stix.observables"} {
		checkAbsent(t, doc, field)
	}
	if len(doc.Types) > 0 || len(doc.Warnings) > 0 {
		t.Errorf("Types %v, Warnings %v, want neither", doc.Types, doc.Warnings)
	}
}

func TestDocumentID(t *testing.T) {
	idOf := func(properties map[string]any) string {
		obj := map[string]any{"type": "indicator", "id": testIndicatorID, "pattern": "[ipv4-addr:value = '198.51.100.1']"}
		for key, value := range properties {
			obj[key] = value
		}
		return mustConvert(t, obj).ID
	}

	plain := idOf(map[string]any{"modified": "2024-05-01T00:00:00Z"})
	if got := idOf(map[string]any{"modified": "2024-05-01T00:00:00.000Z"}); got != plain {
		t.Errorf("same instant with milliseconds: _id %s, want %s", got, plain)
	}
	if got := idOf(map[string]any{"modified": "2024-05-01T02:00:00+02:00"}); got != plain {
		t.Errorf("same instant with an offset: _id %s, want %s", got, plain)
	}
	if got := idOf(map[string]any{"modified": "2024-05-01T00:00:00.001Z"}); got == plain {
		t.Error("new modified: same _id, want a new one")
	}
	if got := idOf(map[string]any{"modified": "2024-05-01T00:00:00Z", "created": "2023-01-01T00:00:00Z"}); got != plain {
		t.Errorf("created must not change the _id when modified is set: %s, want %s", got, plain)
	}
	if got := idOf(map[string]any{"created": "2024-05-01T00:00:00Z"}); got != plain {
		t.Errorf("without modified, created is the version: _id %s, want %s", got, plain)
	}
	if idOf(nil) == plain {
		t.Error("without timestamps: same _id as a versioned object, want the id alone")
	}
	if a, b := idOf(map[string]any{"modified": "garbage-1"}), idOf(map[string]any{"modified": "garbage-2"}); a == b {
		t.Error("unparsable modified: two texts gave the same _id")
	}
	if len(plain) != 43 || strings.ContainsAny(plain, "+/=") {
		t.Errorf("_id %q, want 43 characters of unpadded base64url", plain)
	}
}
