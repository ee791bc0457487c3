package enrich

import (
	"encoding/json"
	"testing"
	"time"
)

func TestMarshalEntryMatchesEncodingJSON(t *testing.T) {
	modified := time.Date(2024, 5, 1, 12, 0, 0, 500, time.UTC)
	for name, raw := range map[string]string{
		"one line": `{"type":"indicator","id":"indicator--1","pattern":"[ipv4-addr:value = '198.51.100.1']"}`,
		"pretty":   "{\n  \"type\": \"indicator\",\r\n  \"id\": \"indicator--1\"\n}",
		"unicode":  `{"type":"indicator","name":"Кириллица \u2019"}`,
	} {
		t.Run(name, func(t *testing.T) {
			for _, r := range []*indicatorRecord{
				{
					ID: "indicator--1", Modified: modified, Revoked: true, Input: "feed",
					Markings: []string{"marking-definition--x"}, Raw: json.RawMessage(raw),
				},
				{
					ID: "observed-data--1", Modified: modified, Input: "a <b> & \"c\" \u2028",
					Refs: []string{"file--1", "ipv4-addr--2"}, Digest: "dGVzdA", Revision: 12,
					Source: json.RawMessage(`{"log":{"file":{"path":"/feeds/a b.json"},"offset":42}}`), Raw: json.RawMessage(raw),
				},
				{
					ID: "indicator--2", Modified: modified, Source: json.RawMessage(`{"url":{"original":"https://x.example/?a=1&b=<2>"}}`),
					Raw: json.RawMessage(raw),
				},
			} {
				e := entry{Indicator: r}
				got, err := marshalEntry(e)
				if err != nil {
					t.Fatal(err)
				}
				want, err := json.Marshal(e)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) {
					t.Errorf("marshalEntry = %s\nwant         %s", got, want)
				}
			}
		})
	}
}

func TestRepeatedContextReportsNoIndicator(t *testing.T) {
	x := New(DefaultLimits)
	indicator := map[string]any{
		"type": "indicator", "id": "indicator--a", "modified": "2024-01-01T00:00:00Z",
		"pattern": "[ipv4-addr:value = '198.51.100.1']",
	}
	malware := map[string]any{
		"type": "malware", "id": "malware--m", "modified": "2024-01-01T00:00:00Z", "name": "x",
	}
	relation := map[string]any{
		"type": "relationship", "id": "relationship--r", "modified": "2024-01-01T00:00:00Z",
		"relationship_type": "indicates", "source_ref": "indicator--a", "target_ref": "malware--m",
	}
	x.Observe(indicator, []byte(`{"type":"indicator","id":"indicator--a"}`), "feed")
	x.Observe(malware, nil, "feed")
	if got := x.Observe(relation, nil, "feed"); len(got) != 1 {
		t.Fatalf("first relationship reported %v, want the indicator", got)
	}

	if got := x.Observe(malware, nil, "feed"); len(got) != 0 {
		t.Errorf("the same malware version again reported %v, want nothing", got)
	}
	if got := x.Observe(relation, nil, "feed"); len(got) != 0 {
		t.Errorf("the same relationship version again reported %v, want nothing", got)
	}
}
