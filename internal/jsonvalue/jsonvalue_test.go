package jsonvalue

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The parsers must accept and reject what encoding/json does and give the
// same values, so that switching decoders changes no document.
var seeds = []string{
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
	`{"a":"bad ` + "\x01" + ` control"}`,
	`{"a":tru}`,
	`{"a":[1,]}`,
	`{"a":1,}`,
	`[{"type":"indicator"}]`,
	`[1, "two", null, true]`,
	`null`,
	`"text"`,
	`12.5`,
	`12 13`,
	``,
	`{"a":"` + "\xff" + `"}`,
}

func TestObjectMatchesEncodingJSON(t *testing.T) {
	for _, text := range seeds {
		checkObject(t, text)
	}
}

func TestValueMatchesEncodingJSON(t *testing.T) {
	for _, text := range seeds {
		checkValue(t, text)
	}
}

func FuzzObject(f *testing.F) {
	for _, text := range seeds {
		f.Add(text)
	}
	f.Fuzz(checkObject)
}

func FuzzValue(f *testing.F) {
	for _, text := range seeds {
		f.Add(text)
	}
	f.Fuzz(checkValue)
}

func checkObject(t *testing.T, text string) {
	var want any
	wantErr := json.Unmarshal([]byte(text), &want)
	if _, isObject := want.(map[string]any); wantErr == nil && !isObject {
		wantErr = ErrNotObject
	}
	got, err := Object(text)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("Object(%q) error = %v, encoding/json error = %v", text, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("Object(%q) = %#v, encoding/json gives %#v", text, got, want)
	}
}

func checkValue(t *testing.T, text string) {
	var want any
	wantErr := json.Unmarshal([]byte(text), &want)
	got, err := Value([]byte(text))
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("Value(%q) error = %v, encoding/json error = %v", text, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("Value(%q) = %#v, encoding/json gives %#v", text, got, want)
	}
}
