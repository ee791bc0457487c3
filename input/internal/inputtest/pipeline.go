package inputtest

import (
	"sync"

	"github.com/elastic/beats/v7/libbeat/beat"
)

// Pipeline is a beat.PipelineConnector whose clients record events and
// acknowledge them through the ClientConfig.EventListener in order, after
// AddEvent, as libbeat's pipeline does. Like the generalizeEvent processor
// in libbeat/publisher/processing (beats v7 as go.mod requires it), it
// drops an event without fields but still reports it to the listener. The
// zero value acknowledges only on ACK.
type Pipeline struct {
	// AutoACK makes the clients acknowledge every event with fields as soon
	// as it is published.
	AutoACK bool

	mu       sync.Mutex
	events   []beat.Event
	listener beat.EventListener
	acked    int
}

// ConnectWith returns a client that publishes to p. It keeps
// cfg.EventListener, which must not be nil, for the acknowledgements.
func (p *Pipeline) ConnectWith(cfg beat.ClientConfig) (beat.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.listener = cfg.EventListener
	return &client{pipeline: p}, nil
}

// Connect is ConnectWith with an empty ClientConfig.
func (p *Pipeline) Connect() (beat.Client, error) { return p.ConnectWith(beat.ClientConfig{}) }

// ACK acknowledges the next n published events.
func (p *Pipeline) ACK(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.listener.ACKEvents(n)
	p.acked += n
}

// ACKed returns how many events were acknowledged, by ACK or AutoACK.
func (p *Pipeline) ACKed() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.acked
}

// Published returns the events with fields, in the order they were
// published.
func (p *Pipeline) Published() []beat.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]beat.Event(nil), p.events...)
}

// client is the beat.Client of a Pipeline.
type client struct{ pipeline *Pipeline }

func (c *client) Publish(event beat.Event) {
	p := c.pipeline
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(event.Fields) == 0 {
		p.listener.AddEvent(event, false)
		return
	}
	p.events = append(p.events, event)
	p.listener.AddEvent(event, true)
	if p.AutoACK {
		p.listener.ACKEvents(1)
		p.acked++
	}
}

func (c *client) PublishAll(events []beat.Event) {
	for _, e := range events {
		c.Publish(e)
	}
}

func (c *client) Close() error {
	c.pipeline.listener.ClientClosed()
	return nil
}
