package pattern

import (
	"errors"
	"testing"
)

// seedPatterns start the fuzzer and TestParseRoundTrip. The first twelve
// are copied from tests/data/stix and tests/cases. The others cover every
// literal form, comments, escapes and two common errors.
var seedPatterns = []string{
	"[domain-name:value='smser.net']",
	"[file:hashes.'SHA-256' = '1452f4fd72ccdf565c6ae54f68259cebc378dc85bbeb9bc225da8cc3e5fd9442' OR file:hashes.MD5 = 'ffee946d92ae36b451a67945ada840bb']",
	"[domain-name:value = 'b19-one.example.com'] START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'",
	"[file:name = 'dropper.dll'] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'",
	"[ipv4-addr:value = '192.0.2.44'] REPEATS 5 TIMES WITHIN 180 SECONDS",
	"([ipv4-addr:value = '192.0.2.45'] FOLLOWEDBY [url:value = 'http://b19.example.net/c2']) WITHIN 600 SECONDS",
	`[email-message:from_ref.value MATCHES '.+\\banking@g0thamnatl\\.com$']`,
	"[domain-name:value LIKE '%.go0gIe.com']",
	"[email-message:to_refs[*].value = 'dst@email.test']",
	"[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Mozilla Firefox']",
	`[mutex:name = 'Global\\EKANS']`,
	"[windows-registry-key:values[0].data = 'qwertyuiop']",

	"[ ipv4-addr:value = '10.0.0.1' ]",
	"[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value ISSUBSET '203.0.113.0/24' AND network-traffic:dst_port IN (443, 8443)]",
	"[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.5 AND file:size <= 1048576]",
	"[x:y = 'it\\'s'] OR [x:y != -1.5] FOLLOWEDBY [x:y <> h'00ff' AND x:z == b'YQ==']",
	"[x:y NOT IN () OR NOT EXISTS x:z OR x:w NOT ISSUPERSET '198.51.100.0/24']",
	"(([a:x = 1]) WITHIN 5 SECONDS) REPEATS 2 TIMES",
	"[a:x = '“привет”'] /* comment */ AND [a:'quoted key' = true] // tail",
	"[a:x[-1] = +0 AND a:y = .5 AND a:z = false]",
	"[a:x = t'2016-12-31T23:59:60.123Z']",
	"[a:x = 1] and [a:x = 2]",
	"[a:x = 'C:\\temp']",
}

func FuzzParse(f *testing.F) {
	for _, s := range seedPatterns {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, source string) {
		p, err := Parse(source)
		if err != nil {
			var syntaxErr *SyntaxError
			if !errors.As(err, &syntaxErr) {
				t.Fatalf("Parse(%q) error %T is not a *SyntaxError: %v", source, err, err)
			}
			if syntaxErr.Offset < 0 || syntaxErr.Offset > len(source) {
				t.Fatalf("Parse(%q) error offset %d is outside the pattern", source, syntaxErr.Offset)
			}
			return
		}
		checkRoundTrip(t, source, p)
	})
}
