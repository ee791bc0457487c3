package stix

import (
	"errors"
	"io"
	"strings"
	"unicode/utf8"
	"unsafe"

	jsoniter "github.com/json-iterator/go"
)

// iterators are reused across events: an Iterator holds a read buffer, and
// one per object would be garbage as large as the object.
var iterators = jsoniter.ConfigCompatibleWithStandardLibrary

// errNotObject is returned for JSON that is valid but is not an object.
var (
	errNotObject = errors.New("the value is not a JSON object")
	errTrailing  = errors.New("unexpected data after the JSON object")
)

// decodeObject parses the JSON text of one STIX object into the values
// encoding/json gives (maps, []any, float64, string, bool, nil). It walks
// the tokens itself instead of decoding into a map through reflection,
// which costs about a third of the decode time on STIX indicators.
func decodeObject(text string) (map[string]any, error) {
	// The iterator only reads the bytes, and every string it returns is a
	// copy, so viewing the text as bytes without copying it is safe.
	data := unsafe.Slice(unsafe.StringData(text), len(text))
	it := iterators.BorrowIterator(data)
	defer iterators.ReturnIterator(it)

	if it.WhatIsNext() != jsoniter.ObjectValue {
		if it.Error != nil && it.Error != io.EOF {
			return nil, it.Error
		}
		return nil, errNotObject
	}
	// STIX objects commonly have 10 to 20 properties; sizing the top map
	// for them saves growing it twice.
	obj := readObject(it, 16)
	if it.Error != nil && it.Error != io.EOF {
		return nil, it.Error
	}
	// Only white space may follow: looking past it must meet the end.
	it.Error = nil
	if it.WhatIsNext(); it.Error != io.EOF {
		return nil, errTrailing
	}
	return obj, nil
}

func readObject(it *jsoniter.Iterator, size int) map[string]any {
	obj := make(map[string]any, size)
	it.ReadMapCB(func(it *jsoniter.Iterator, key string) bool {
		obj[validUTF8(key)] = readValue(it)
		return readable(it)
	})
	return obj
}

func readValue(it *jsoniter.Iterator) any {
	switch it.WhatIsNext() {
	case jsoniter.StringValue:
		return validUTF8(it.ReadString())
	case jsoniter.NumberValue:
		return it.ReadFloat64()
	case jsoniter.BoolValue:
		return it.ReadBool()
	case jsoniter.NilValue:
		it.ReadNil()
		return nil
	case jsoniter.ArrayValue:
		var list []any
		it.ReadArrayCB(func(it *jsoniter.Iterator) bool {
			list = append(list, readValue(it))
			return readable(it)
		})
		if list == nil {
			list = []any{}
		}
		return list
	case jsoniter.ObjectValue:
		return readObject(it, 0)
	default:
		it.ReportError("decode STIX object", "expected a JSON value")
		return nil
	}
}

// validUTF8 replaces each byte that is not part of valid UTF-8 with U+FFFD,
// as encoding/json does, because Elasticsearch refuses invalid UTF-8.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// readable tells whether parsing may go on. The iterator sets io.EOF when a
// number ends the buffer, which is not an error until a closing bracket is
// found missing.
func readable(it *jsoniter.Iterator) bool {
	return it.Error == nil || it.Error == io.EOF
}
