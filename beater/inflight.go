package beater

import (
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
}

func newInflight() *inflight {
	f := &inflight{idle: make(chan struct{})}
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
	f.published += uint64(acked)
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

// adder counts each event as it enters a client; TrackingCounter reports the
// other side.
type adder struct{ f *inflight }

func (a adder) AddEvent(beat.Event, bool) { a.f.add() }
func (adder) ACKEvents(int)               {}
func (adder) ClientClosed()               {}
