package stix

import (
	"encoding/json"
	"reflect"
	"testing"
)

// decodeObject must accept and reject what encoding/json does and give the
// same values, so switching decoders changes no document.
var jsonValueSeeds = []string{
	`{"type":"indicator","id":"indicator--1","confidence":85,"revoked":false,"labels":["a","b"],"x":null}`,
	`{"nested":{"a":[1,2.5,-3e2,{"b":[]}],"c":{}},"s":"\u00e9\n\"q\""}`,
	` {"spaces" : [ 1 , 2 ] } `,
	`{"dup":1,"dup":2}`,
	`{}`,
	`{"type":"indicator"} trailing`,
	`{"type":"indicator"`,
	`{"type":}`,
	`{"a":01}`,
	`{"a":1e400}`,
	`{"a":-}`,
	`{"a":"\ud800"}`,
	`{"a":"bad \x01 control"}`,
	`{"a":tru}`,
	`{"a":[1,]}`,
	`{"a":1,}`,
	`[{"type":"indicator"}]`,
	`null`,
	`"text"`,
	``,
	`{"a":"` + "\xff" + `"}`,
}

func TestDecodeObjectMatchesEncodingJSON(t *testing.T) {
	for _, text := range jsonValueSeeds {
		checkAgainstEncodingJSON(t, text)
	}
}

func FuzzDecodeObject(f *testing.F) {
	for _, text := range jsonValueSeeds {
		f.Add(text)
	}
	f.Fuzz(checkAgainstEncodingJSON)
}

func checkAgainstEncodingJSON(t *testing.T, text string) {
	var want any
	wantErr := json.Unmarshal([]byte(text), &want)
	_, isObject := want.(map[string]any)
	if wantErr == nil && !isObject {
		// STIX objects are JSON objects; anything else is rejected even
		// when encoding/json would take it into an any.
		wantErr = errNotObject
	}
	got, err := decodeObject(text)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decodeObject(%q) error = %v, encoding/json error = %v", text, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeObject(%q) = %#v, encoding/json gives %#v", text, got, want)
	}
}
