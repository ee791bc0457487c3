package cel

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/mapstr"

	"github.com/tibeat/tibeat/internal/jsonvalue"
	stixproc "github.com/tibeat/tibeat/processors/stix"
)

// eventPublisher turns the events of one evaluation into beat events and
// hands them to input-cursor's publisher with the evaluation's cursor.
//
// Every STIX object is published as its JSON text in message, which the
// decode_stix processor parses. Publishing the decoded map under stix would
// skip one encode and one decode, but libbeat's event normalization turns
// every map of an event into a mapstr.M before the processors run, and the
// STIX converter reads plain map[string]any values only.
type eventPublisher struct {
	pub     cursor.Publisher
	log     *logp.Logger
	metrics *inputMetrics
	secrets *scrubber
	// url is url.original of every event: resource.url without credentials.
	url string
	// published is the cursor of the last update handed to the pipeline, or
	// the stored cursor, so that an unchanged cursor is not sent again.
	published any
	now       func() time.Time
	buf       []byte // reused for the JSON text of each object
}

// publish sends the events of one evaluation with either batchCursor (nil
// for none) or one cursor per event in perEvent. The batch cursor travels
// with the last event, so input-cursor stores it only after the output has
// acknowledged every event of the batch. A batch without events sends its
// cursor on an event without fields, which libbeat drops before the
// processors but still acknowledges in order, so that cursor is stored too.
func (p *eventPublisher) publish(events []any, batchCursor any, perEvent []any) error {
	if len(events) == 0 {
		if batchCursor == nil || reflect.DeepEqual(batchCursor, p.published) {
			return nil
		}
		return p.send(beat.Event{Timestamp: p.now()}, batchCursor)
	}
	for i, e := range events {
		var c any
		switch {
		case perEvent != nil:
			c = perEvent[i]
		case i == len(events)-1:
			c = batchCursor
		}
		if err := p.send(p.makeEvent(i, e), c); err != nil {
			return err
		}
	}
	return nil
}

func (p *eventPublisher) send(event beat.Event, c any) error {
	var update any
	if c != nil {
		update = c
		p.metrics.cursorUpdates.Inc()
	}
	if err := p.pub.Publish(event, update); err != nil {
		return err
	}
	if c != nil {
		p.published = c
	}
	if len(event.Fields) != 0 {
		p.metrics.eventsPublished.Inc()
	}
	return nil
}

// makeEvent builds the beat event of one element of events. The element is a
// STIX object (a map), a map with the object's JSON text or the object in
// message, JSON text, or a map with an error key for an error document.
func (p *eventPublisher) makeEvent(i int, e any) beat.Event {
	switch e := e.(type) {
	case map[string]any:
		if errValue, ok := e["error"]; ok && !isSTIXObject(e) {
			return p.errorEvent(errorMessage(errValue))
		}
		if msg, ok := e["message"]; ok && !isSTIXObject(e) {
			switch msg := msg.(type) {
			case string:
				return p.messageEvent(msg)
			case map[string]any:
				return p.objectEvent(i, msg)
			}
			return p.invalidEvent(i, fmt.Sprintf("its message is a %s, expected the STIX object or its JSON text", jsonType(msg)))
		}
		return p.objectEvent(i, e)
	case string:
		return p.messageEvent(e)
	}
	return p.invalidEvent(i, fmt.Sprintf("it is a %s, expected a STIX object", jsonType(e)))
}

// isSTIXObject reports whether m has the two properties every STIX object
// has, so that a custom property named error or message is not mistaken
// for the input's own error or message forms.
func isSTIXObject(m map[string]any) bool {
	_, hasType := m["type"].(string)
	_, hasID := m["id"].(string)
	return hasType && hasID
}

func (p *eventPublisher) objectEvent(i int, obj map[string]any) beat.Event {
	text, err := jsonvalue.AppendUnescaped(p.buf[:0], obj)
	if err != nil {
		return p.invalidEvent(i, fmt.Sprintf("it cannot be encoded as JSON: %v", err))
	}
	p.buf = text
	return p.messageEvent(string(text))
}

func (p *eventPublisher) messageEvent(text string) beat.Event {
	event := beat.Event{
		Timestamp: p.now(),
		Fields: mapstr.M{
			"message": text,
			"url":     mapstr.M{"original": p.url},
		},
	}
	stixproc.AttachDecoded(&event, stixproc.DecodeAhead(text))
	return event
}

// errorEvent is a document that names a failure and carries no threat
// data: event.kind pipeline_error and error.message only.
func (p *eventPublisher) errorEvent(msg string) beat.Event {
	msg = p.secrets.scrub(msg)
	p.log.Errorw("The CEL program returned an error event", "error.message", msg)
	return p.errorDocument(msg)
}

func (p *eventPublisher) errorDocument(msg string) beat.Event {
	p.metrics.errorEvents.Inc()
	return beat.Event{
		Timestamp: p.now(),
		Fields: mapstr.M{
			"event": mapstr.M{"kind": "pipeline_error"},
			"error": mapstr.M{"message": msg},
			"url":   mapstr.M{"original": p.url},
		},
	}
}

// publishFailure logs a failed evaluation and publishes it as an error
// document without a cursor update.
func (p *eventPublisher) publishFailure(msg string) error {
	msg = p.secrets.scrub(msg)
	p.log.Errorw("CEL evaluation failed", "error", msg)
	return p.send(p.errorDocument(msg), nil)
}

func (p *eventPublisher) invalidEvent(i int, reason string) beat.Event {
	return p.errorEvent(fmt.Sprintf("event %d returned by the CEL program was not published: %s", i, reason))
}

// errorMessage returns the text of an error value: error.message when it is
// a map, as ECS has it, else the value itself.
func errorMessage(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if msg, ok := v["message"].(string); ok {
			return msg
		}
	}
	text, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(text)
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "list"
	case map[string]any:
		return "map"
	}
	return fmt.Sprintf("%T", v)
}
