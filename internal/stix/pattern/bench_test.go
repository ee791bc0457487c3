package pattern

import "testing"

// benchmarkPatterns are shaped like the indicators of public feeds: most
// are one comparison on an address, a domain or a file hash.
var benchmarkPatterns = []struct {
	name    string
	pattern string
}{
	{"ipv4", "[ipv4-addr:value = '198.51.100.1']"},
	{"sha256", "[file:hashes.'SHA-256' = '1452f4fd72ccdf565c6ae54f68259cebc378dc85bbeb9bc225da8cc3e5fd9442']"},
	{"url", "[url:value = 'http://b19.example.net/c2/gate.php?id=1']"},
	{"hashes-or", "[file:hashes.'SHA-256' = '1452f4fd72ccdf565c6ae54f68259cebc378dc85bbeb9bc225da8cc3e5fd9442' OR file:hashes.MD5 = 'ffee946d92ae36b451a67945ada840bb']"},
	{"network-traffic", "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value ISSUBSET '203.0.113.0/24' AND network-traffic:dst_port IN (443, 8443)]"},
	{"qualified", "([ipv4-addr:value = '192.0.2.45'] FOLLOWEDBY [url:value = 'http://b19.example.net/c2']) WITHIN 600 SECONDS"},
	{"pe-sections", "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.5 AND file:size <= 1048576]"},
}

func BenchmarkParse(b *testing.B) {
	for _, bench := range benchmarkPatterns {
		b.Run(bench.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bench.pattern)))
			for b.Loop() {
				if _, err := Parse(bench.pattern); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
