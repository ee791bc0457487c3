package taxii

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"unsafe"

	jsoniter "github.com/json-iterator/go"
)

// pageParser reads the id and modified of objects for the loop guard.
var pageParser = jsoniter.ConfigCompatibleWithStandardLibrary

// decodeEnvelope reads a TAXII 2.1 envelope, or the STIX bundle a TAXII 2.0
// server sends in its place, without decoding the objects: it only finds
// where each one starts and ends, and decode_stix parses it. So an object
// that is not valid JSON inside, such as one with a bad escape or a number
// out of range, becomes one error document that names the URL, and the
// other objects of the page go on. encoding/json would also have scanned
// every object twice more.
func decodeEnvelope(body []byte) (envelope, error) {
	var env envelope
	s := scanner{data: body}
	if bytes.HasPrefix(body, bom) {
		// A byte order mark is not JSON, but some servers send one.
		s.pos = len(bom)
	}
	s.space()
	if !s.consume('{') {
		return env, s.errorf("the reply is not a JSON object")
	}
	for first := true; ; first = false {
		s.space()
		if s.consume('}') {
			break
		}
		if !first && !s.consume(',') {
			return env, s.errorf("expected , or } after an envelope property")
		}
		s.space()
		keyStart := s.pos
		if err := s.skip(); err != nil {
			return env, err
		}
		var key string
		if err := json.Unmarshal(body[keyStart:s.pos], &key); err != nil {
			return env, s.errorf("invalid property name %.40q", body[keyStart:s.pos])
		}
		s.space()
		if !s.consume(':') {
			return env, s.errorf("expected : after property %q", key)
		}
		s.space()
		valueStart := s.pos
		if key == "objects" {
			objects, err := s.list()
			if err != nil {
				return env, err
			}
			env.Objects = objects
			continue
		}
		if err := s.skip(); err != nil {
			return env, err
		}
		value := body[valueStart:s.pos]
		switch key {
		case "more":
			if err := json.Unmarshal(value, &env.More); err != nil {
				return env, fmt.Errorf("more must be true or false, not %.40s", value)
			}
		case "next":
			env.Next = value
		case "type":
			// Only a string is a bundle's type; anything else is ignored.
			_ = json.Unmarshal(value, &env.Type)
		}
	}
	s.space()
	if s.pos != len(body) {
		return env, s.errorf("unexpected data after the JSON object")
	}
	return env, nil
}

var bom = []byte("\xef\xbb\xbf")

// scanner finds the bounds of JSON values without checking what is inside
// strings and numbers, which decode_stix checks object by object.
type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) consume(c byte) bool {
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

// errorf describes a problem at the current offset, or the end of the
// text when the reply stops short.
func (s *scanner) errorf(format string, args ...any) error {
	if s.pos >= len(s.data) {
		return fmt.Errorf("unexpected end of JSON input at offset %d", s.pos)
	}
	return fmt.Errorf("%s at offset %d", fmt.Sprintf(format, args...), s.pos)
}

// list returns the raw text of every element of a JSON list, sliced from
// the reply without copying, or nil for null.
func (s *scanner) list() ([]rawObject, error) {
	if bytes.HasPrefix(s.data[s.pos:], []byte("null")) {
		s.pos += len("null")
		return nil, nil
	}
	if !s.consume('[') {
		return nil, s.errorf("objects must be a list")
	}
	var items []rawObject
	for first := true; ; first = false {
		s.space()
		if s.consume(']') {
			return items, nil
		}
		if !first {
			if !s.consume(',') {
				return nil, s.errorf("expected , or ] in the objects list")
			}
			s.space()
		}
		start := s.pos
		if err := s.skip(); err != nil {
			return nil, err
		}
		items = append(items, rawObject(s.data[start:s.pos:s.pos]))
	}
}

// skip moves past one value: a string, an object or list with everything
// nested in it, or a literal or number.
func (s *scanner) skip() error {
	if s.pos >= len(s.data) {
		return s.errorf("unexpected end of JSON input")
	}
	switch c := s.data[s.pos]; c {
	case '"':
		return s.skipString()
	case '{', '[':
		return s.skipNested()
	case ',', ':', '}', ']':
		return s.errorf("expected a value, found %q", c)
	}
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ',', '}', ']', ':', ' ', '\t', '\n', '\r', '"', '{', '[':
			return nil
		}
		s.pos++
	}
	return nil
}

func (s *scanner) skipString() error {
	for i := s.pos + 1; i < len(s.data); i++ {
		switch s.data[i] {
		case '\\':
			i++
		case '"':
			s.pos = i + 1
			return nil
		}
	}
	return s.errorf("unexpected end of JSON input in a string")
}

func (s *scanner) skipNested() error {
	var closers []byte
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; c {
		case '"':
			if err := s.skipString(); err != nil {
				return err
			}
			continue
		case '{':
			closers = append(closers, '}')
		case '[':
			closers = append(closers, ']')
		case '}', ']':
			if closers[len(closers)-1] != c {
				return s.errorf("unexpected %q", c)
			}
			closers = closers[:len(closers)-1]
			if len(closers) == 0 {
				s.pos++
				return nil
			}
		}
		s.pos++
	}
	return s.errorf("unexpected end of JSON input")
}

// rawObject is the JSON text of one STIX object as the server sent it.
type rawObject []byte

// text returns the object's text as a string without copying it. The bytes
// belong to the reply's body, which nothing writes to once it is read.
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
