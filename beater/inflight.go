package beater

import (
	"io"
	"sync"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/common/acker"
)

// inflight counts events that inputs have handed to the pipeline and the
// output has not yet acknowledged (or the processors dropped), so that --once
// can exit only when nothing is left to send.
type inflight struct {
	// beforeCursor, when set, runs on every acknowledgement before the
	// input's cursor update for the same events, which attach places
	// after this listener.
	beforeCursor func()

	mu        sync.Mutex
	pending   int
	published uint64
	idle      chan struct{} // closed while pending is zero
	// closing is set once libbeat starts closing the pipeline. From then
	// on an acknowledgement may stand for a batch the pipeline dropped
	// because its output failed, which libbeat reports the same way, so
	// it no longer moves cursors and counts in unconfirmed.
	closing      bool
	closingBegun chan struct{} // closed when closing is set
	unconfirmed  uint64
}

func newInflight() *inflight {
	f := &inflight{idle: make(chan struct{}), closingBegun: make(chan struct{})}
	close(f.idle)
	return f
}

// listener returns the ACK listener to attach to one pipeline client.
func (f *inflight) listener() beat.EventListener {
	listeners := []beat.EventListener{adder{f}, acker.TrackingCounter(f.done)}
	if f.beforeCursor != nil {
		listeners = append(listeners, ackHook(f.beforeCursor))
	}
	return acker.Combine(listeners...)
}

// ackHook calls a function whenever the output acknowledges events.
type ackHook func()

func (h ackHook) AddEvent(beat.Event, bool) {}
func (h ackHook) ACKEvents(int)             { h() }
func (h ackHook) ClientClosed()             {}

func (f *inflight) add() {
	f.mu.Lock()
	if f.pending == 0 {
		f.idle = make(chan struct{})
	}
	f.pending++
	f.mu.Unlock()
}

func (f *inflight) done(acked, total int) {
	f.mu.Lock()
	if f.closing {
		f.unconfirmed += uint64(acked)
	} else {
		f.published += uint64(acked)
	}
	f.pending -= total
	if f.pending == 0 {
		close(f.idle)
	}
	f.mu.Unlock()
}

// wait returns a channel that is closed once no event is pending.
func (f *inflight) wait() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.idle
}

// acknowledged is the number of events the output has acknowledged.
func (f *inflight) acknowledged() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.published
}

// unacknowledged is the number of events published and not acknowledged
// before the pipeline started closing, which the next run sends again.
func (f *inflight) unacknowledged() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return uint64(f.pending) + f.unconfirmed
}

// startClosing stops acknowledgements from moving cursors.
func (f *inflight) startClosing() {
	f.mu.Lock()
	if !f.closing {
		f.closing = true
		close(f.closingBegun)
	}
	f.mu.Unlock()
}

// closingStarted returns a channel that is closed once the pipeline
// started closing.
func (f *inflight) closingStarted() <-chan struct{} { return f.closingBegun }

func (f *inflight) isClosing() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closing
}

// cursorGate passes acknowledgements on to an input's cursor listener until
// the pipeline starts closing.
type cursorGate struct {
	f    *inflight
	next beat.EventListener
}

func (g cursorGate) AddEvent(event beat.Event, published bool) { g.next.AddEvent(event, published) }
func (g cursorGate) ClientClosed()                             { g.next.ClientClosed() }

func (g cursorGate) ACKEvents(n int) {
	if !g.f.isClosing() {
		g.next.ACKEvents(n)
	}
}

// closingPipeline marks the tracker as closing before it closes the
// pipeline. libbeat closes the publisher it finds in beat.Beat when it is
// stopped, before it calls the beater's Stop.
type closingPipeline struct {
	beat.PipelineConnector
	tracker *inflight
}

func (p closingPipeline) Close() error {
	p.tracker.startClosing()
	if c, ok := p.PipelineConnector.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// adder counts each event as it enters a client; TrackingCounter reports the
// other side.
type adder struct{ f *inflight }

func (a adder) AddEvent(beat.Event, bool) { a.f.add() }
func (adder) ACKEvents(int)               {}
func (adder) ClientClosed()               {}
