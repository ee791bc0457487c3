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
			e := entry{Indicator: &indicatorRecord{
				ID: "indicator--1", Modified: modified, Revoked: true, Input: "feed",
				Markings: []string{"marking-definition--x"}, Raw: json.RawMessage(raw),
			}}

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
		})
	}
}
