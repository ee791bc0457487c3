package taxii

import (
	"strings"
	"testing"
)

func TestDecodeEnvelopeKeepsObjectTexts(t *testing.T) {
	objects := []string{
		`{"type":"indicator","id":"indicator--1","modified":"2024-01-01T00:00:00.000Z"}`,
		`{ "type" : "ipv4-addr", "id" : "ipv4-addr--2", "value" : "198.51.100.1" }`,
		`{"type":"x","id":"x--3","nested":{"list":[1,"two",null,true]}}`,
	}
	body := `{"more": true, "next": "abc", "objects": [` + strings.Join(objects, ",\n  ") + `], "extra": {"ignored": [1]}}`

	env, err := decodeEnvelope([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if !env.More {
		t.Error("more = false, expected true")
	}
	if got := env.nextToken(); got != "abc" {
		t.Errorf("next = %q, expected abc", got)
	}
	if len(env.Objects) != len(objects) {
		t.Fatalf("%d objects, expected %d", len(env.Objects), len(objects))
	}
	for i, want := range objects {
		if got := env.Objects[i].text(); got != want {
			t.Errorf("object %d = %q, expected %q", i, got, want)
		}
	}
}

func TestDecodeEnvelopeBundle(t *testing.T) {
	env, err := decodeEnvelope([]byte(`{"type":"bundle","id":"bundle--1","objects":[{"id":"a--1"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if env.Type != "bundle" || len(env.Objects) != 1 || env.More {
		t.Errorf("envelope = %+v, expected a bundle of one object", env)
	}
}

func TestDecodeEnvelopeWithoutObjects(t *testing.T) {
	for _, body := range []string{`{}`, `{"more": false, "objects": null}`, `{"objects": []}`} {
		env, err := decodeEnvelope([]byte(body))
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if len(env.Objects) != 0 || env.More {
			t.Errorf("%s: envelope = %+v, expected no objects", body, env)
		}
	}
}

func TestDecodeEnvelopeRejectsInvalidReplies(t *testing.T) {
	for body, want := range map[string]string{
		`<html><body>Sign in</body></html>`:         "the reply is not a JSON object at offset 0",
		`{"objects": [{"id": "a--1"}]`:              "unexpected end of JSON input at offset 28",
		`{"objects": [{"id": "a--1", "x": "open}]}`: "unexpected end of JSON input",
		`{"objects": [{"id": "a--1"]}`:              "unexpected ']' at offset 26",
		`{"more": "yes", "objects": []}`:            "more must be true or false",
		`{"objects": {"id": "a--1"}}`:               "objects must be a list at offset 12",
		`{"objects": []} {"objects": []}`:           "unexpected data after the JSON object at offset 16",
		`[{"type": "indicator", "id": "i--1"}]`:     "not a JSON object",
		`{"objects": [{"id": "a--1"}], "more": }`:   "expected a value, found '}' at offset 38",
	} {
		_, err := decodeEnvelope([]byte(body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error = %v, expected it to contain %q", body, err, want)
		}
	}
}

// An object that is not valid JSON inside still has clear bounds, so it
// reaches decode_stix as its text, which reports it, and the others go on.
func TestDecodeEnvelopePassesInvalidObjects(t *testing.T) {
	objects := []string{
		`{"type":"indicator","id":"indicator--1","confidence":1e400}`,
		`{"type":"indicator","id":"indicator--2","name":"a\qb"}`,
		`{"type":"indicator","id":"indicator--3","name":"fine \"quoted\" [x] {y}"}`,
	}
	body := "\xef\xbb\xbf" + `{"objects": [` + strings.Join(objects, ", ") + `]}`
	env, err := decodeEnvelope([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(env.Objects) != len(objects) {
		t.Fatalf("%d objects, expected %d", len(env.Objects), len(objects))
	}
	for i, want := range objects {
		if got := env.Objects[i].text(); got != want {
			t.Errorf("object %d = %q, expected %q", i, got, want)
		}
	}
}

func TestVersionKey(t *testing.T) {
	for raw, want := range map[string]string{
		`{"type":"indicator","modified":"2024-01-02T00:00:00Z","id":"indicator--1","pattern":"[x:y = 'z']"}`: "indicator--1|2024-01-02T00:00:00Z",
		`{"type":"ipv4-addr","id":"ipv4-addr--2","value":"198.51.100.1"}`:                                    "ipv4-addr--2|",
		`{"type":"indicator","id":17}`: `{"type":"indicator","id":17}`,
		`not json`:                     `not json`,
	} {
		if got := rawObject(raw).versionKey(); got != want {
			t.Errorf("versionKey(%s) = %q, expected %q", raw, got, want)
		}
	}
}
