package jsonvalue

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/elastic/elastic-agent-libs/mapstr"
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

func TestErrorIsEncodingJSONs(t *testing.T) {
	text := `{"a": <html>}`
	var v any
	want := json.Unmarshal([]byte(text), &v).Error()

	_, err := Object(text)
	if err == nil || err.Error() != want {
		t.Errorf("Object error = %v, expected %q", err, want)
	}
	_, err = Value([]byte(text))
	if err == nil || err.Error() != want {
		t.Errorf("Value error = %v, expected %q", err, want)
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
	if wantErr == ErrNotObject && err != ErrNotObject {
		t.Fatalf("Object(%q) error = %v, expected ErrNotObject", text, err)
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

var encodeSeeds = []string{
	`{"type":"indicator","b":1,"a":[1.5,-0,1e21,1e-7,123456789012345678,1e-300,5e-324],"html":"<a href='x'>&amp;</a>"}`,
	`{"u":"\u2028\u2029 \ud83d\ude00 \u0000 \u001f \b\f\n\r\t \\ \"","nested":{"z":{},"y":[]}}`,
	`[null,true,false,"s",0.1,100000000000000000000000,0.000001,0.0000001]`,
	`{"a":"` + "\xff\xfe" + `"}`,
}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	for _, text := range append(encodeSeeds, seeds...) {
		checkAppend(t, text)
	}
}

func FuzzAppend(f *testing.F) {
	for _, text := range encodeSeeds {
		f.Add(text)
	}
	f.Fuzz(checkAppend)
}

func checkAppend(t *testing.T, text string) {
	v, err := Value([]byte(text))
	if err != nil {
		return
	}
	want, wantErr := json.Marshal(v)
	got, err := Append(nil, v)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("Append(%q) error = %v, encoding/json error = %v", text, err, wantErr)
	}
	if string(got) != string(want) {
		t.Fatalf("Append(%q) = %s, encoding/json gives %s", text, got, want)
	}
}

// Strings that Value never produces, such as invalid UTF-8, can still reach
// Append from other sources.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"plain", "\xff\xfe<&>", "\u2028\x00\x7f", "é\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		got, _ := Append(nil, s)
		if string(got) != string(want) {
			t.Fatalf("Append(%q) = %s, encoding/json gives %s", s, got, want)
		}

		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		want = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		got, _ = AppendUnescaped(nil, s)
		if string(got) != string(want) {
			t.Fatalf("AppendUnescaped(%q) = %s, an Encoder without HTML escaping gives %s", s, got, want)
		}
	})
}

// Inputs put integers and mapstr.M in their events' source fields.
func TestAppendIntegersAndMapstr(t *testing.T) {
	v := mapstr.M{
		"log": mapstr.M{"offset": int64(16726), "file": mapstr.M{"path": "/data/a <b>.json"}},
		"n":   []any{int(-1), int32(2), uint(3), uint32(4), uint64(1 << 63)},
		"url": map[string]any{"original": "https://example.com/?a=1&b=2"},
	}
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Append(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("Append = %s, encoding/json gives %s", got, want)
	}
}
