package taxii

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unsafe"

	jsoniter "github.com/json-iterator/go"
)

// pageParser reads TAXII replies without decoding the objects: it splits
// the objects list into the raw text of each object, which decode_stix
// parses once. encoding/json would scan every object twice (a validity
// pass, then the copy into a json.RawMessage), which cost more than the
// decode that follows.
var pageParser = jsoniter.ConfigCompatibleWithStandardLibrary

// decodeEnvelope reads a TAXII 2.1 envelope, or the STIX bundle a TAXII 2.0
// server sends in its place. Objects are checked only as far as finding
// where each ends takes. An error inside one that this misses, such as a
// bad escape in a string, reaches decode_stix, which reports it with the
// URL.
func decodeEnvelope(body []byte) (envelope, error) {
	var env envelope
	it := pageParser.BorrowIterator(body)
	defer pageParser.ReturnIterator(it)

	if it.WhatIsNext() != jsoniter.ObjectValue {
		return env, syntaxError(body, errors.New("the reply is not a JSON object"))
	}
	it.ReadMapCB(func(it *jsoniter.Iterator, key string) bool {
		switch key {
		case "more":
			if it.WhatIsNext() != jsoniter.BoolValue {
				it.ReportError("read more", "more must be true or false")
				return false
			}
			env.More = it.ReadBool()
		case "next":
			env.Next = it.SkipAndReturnBytes()
		case "type":
			if it.WhatIsNext() == jsoniter.StringValue {
				env.Type = it.ReadString()
			} else {
				it.Skip()
			}
		case "objects":
			env.Objects = readObjects(it, len(body))
		default:
			it.Skip()
		}
		return it.Error == nil
	})
	if it.Error != nil && it.Error != io.EOF {
		return env, syntaxError(body, it.Error)
	}
	it.Error = nil
	if it.WhatIsNext(); it.Error != io.EOF {
		return env, syntaxError(body, errors.New("unexpected data after the JSON object"))
	}
	return env, nil
}

// syntaxError prefers encoding/json's message for text that is not JSON,
// because it names the offending character plainly.
func syntaxError(body []byte, err error) error {
	var v any
	if jsonErr := json.Unmarshal(body, &v); jsonErr != nil {
		return jsonErr
	}
	return err
}

// readObjects returns the raw text of every element of a JSON list, or nil
// for null. The texts are copied into one buffer of size bytes, the size of
// the reply, so that a page costs one allocation rather than one or two per
// object.
func readObjects(it *jsoniter.Iterator, size int) []rawObject {
	switch it.WhatIsNext() {
	case jsoniter.NilValue:
		it.Skip()
		return nil
	case jsoniter.ArrayValue:
	default:
		it.ReportError("read objects", "objects must be a list")
		return nil
	}
	var objects []rawObject
	texts := make([]byte, 0, size)
	it.ReadArrayCB(func(it *jsoniter.Iterator) bool {
		// Looking at the next value first moves past the white space
		// before it, which the capture would otherwise keep.
		it.WhatIsNext()
		start := len(texts)
		texts = it.SkipAndAppendBytes(texts)
		objects = append(objects, rawObject(texts[start:len(texts):len(texts)]))
		return it.Error == nil
	})
	return objects
}

// rawObject is the JSON text of one STIX object as the server sent it.
type rawObject []byte

// text returns the object's text as a string without copying it. The bytes
// are a copy of the reply's, and nothing writes to them afterwards.
func (o rawObject) text() string {
	return unsafe.String(unsafe.SliceData(o), len(o))
}

// versionKey names a version of a STIX object: its id and modified.
// Objects without modified, such as STIX 2.1 cyber observables, have one
// version; text that is not an object stands for itself. Only the two
// properties are read, the rest is skipped.
func (o rawObject) versionKey() string {
	it := pageParser.BorrowIterator(o)
	defer pageParser.ReturnIterator(it)

	if it.WhatIsNext() != jsoniter.ObjectValue {
		return string(o)
	}
	var id, modified string
	it.ReadMapCB(func(it *jsoniter.Iterator, key string) bool {
		switch {
		case key == "id" && it.WhatIsNext() == jsoniter.StringValue:
			id = it.ReadString()
		case key == "modified" && it.WhatIsNext() == jsoniter.StringValue:
			modified = it.ReadString()
		default:
			it.Skip()
		}
		return it.Error == nil
	})
	if (it.Error != nil && it.Error != io.EOF) || id == "" {
		return string(o)
	}
	return fmt.Sprintf("%s|%s", id, modified)
}
