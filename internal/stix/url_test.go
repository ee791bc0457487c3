package stix

import "testing"

func TestSplitURL(t *testing.T) {
	cases := []struct {
		in   string
		want urlParts
	}{
		{
			"https://b22.example.com:8443/path/file.php?id=1#frag",
			urlParts{scheme: "https", host: "b22.example.com", port: 8443, hasPort: true,
				path: "/path/file.php", query: "id=1", fragment: "frag", extension: "php"},
		},
		{"HTTP://Example.COM", urlParts{scheme: "http", host: "Example.COM"}},
		{"http://example.com:/", urlParts{scheme: "http", host: "example.com", path: "/"}},
		{"http://user:secret@example.com/a", urlParts{scheme: "http", host: "example.com", path: "/a"}},
		{"http://example.com?q=1", urlParts{scheme: "http", host: "example.com", query: "q=1"}},
		{"http://example.com/.htaccess", urlParts{scheme: "http", host: "example.com", path: "/.htaccess"}},
		{"http://example.com/dir.d/file", urlParts{scheme: "http", host: "example.com", path: "/dir.d/file"}},
		{"ftp://192.0.2.1/a.tar.gz", urlParts{scheme: "ftp", host: "192.0.2.1", hostIsIP: true, path: "/a.tar.gz", extension: "gz"}},
		{"http://[2001:db8::1]:8080/", urlParts{scheme: "http", host: "2001:db8::1", hostIsIP: true, port: 8080, hasPort: true, path: "/"}},
		{"http://пример.рф/", urlParts{scheme: "http", host: "пример.рф", path: "/"}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := splitURL(tc.in)
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSplitURLRejects(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{"hxxp://example.com/", errURLDefanged},
		{"HXXPS://example.com/", errURLDefanged},
		{"http://example[.]com/", errURLHost},
		{"http://exa mple.com/", errURLHost},
		{"www.example.com/x", errURLScheme},
		{"1http://example.com/", errURLScheme},
		{"mailto:a@example.com", errURLNoHost},
		{"http:///path", errURLNoHost},
		{"http://example.com:99999/", errURLPort},
		{"http://example.com:80a/", errURLPort},
		{"http://[2001:db8::1/", errURLIPv6Syntax},
		{"http://[192.0.2.1]/", errURLHost},
	}
	for _, tc := range cases {
		if _, err := splitURL(tc.in); err != tc.want {
			t.Errorf("%q: error %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestSplitDN(t *testing.T) {
	var got [][2]string
	splitDN(`CN=Example\, Inc., O="Quoted, Org", OU=Unit+L=Town`, func(attribute, value string) {
		got = append(got, [2]string{attribute, value})
	})
	want := [][2]string{{"CN", "Example, Inc."}, {"O", "Quoted, Org"}, {"OU", "Unit"}, {"L", "Town"}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("attribute %d = %v, want %v", i, got[i], want[i])
		}
	}
}
