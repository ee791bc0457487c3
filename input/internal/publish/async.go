// Package publish hands events to the pipeline on a goroutine of their
// own.
package publish

import (
	"sync"

	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	"github.com/elastic/beats/v7/libbeat/beat"
)

// Async publishes events in the order Publish receives them, on a
// goroutine of its own. libbeat runs an input's processors inside Publish,
// so with Async the input goroutine can read and decode the next objects
// while the processors convert this one, which puts the second CPU to work.
//
// Publish returns the error of an earlier event, because the pipeline's
// result for this one comes later. Close must be called once the input has
// published its last event; it waits until every event has reached the
// pipeline.
type Async struct {
	pub   cursor.Publisher
	queue chan pending
	done  chan struct{}

	mu  sync.Mutex
	err error
}

type pending struct {
	event  beat.Event
	update any
}

// Depth is how many events an input may run ahead of the pipeline. It
// covers the time the processors take for one event when the input is
// faster for a while, such as a page arriving at once.
const Depth = 256

// NewAsync starts publishing to pub.
func NewAsync(pub cursor.Publisher) *Async {
	a := &Async{pub: pub, queue: make(chan pending, Depth), done: make(chan struct{})}
	go a.run()
	return a
}

func (a *Async) run() {
	defer close(a.done)
	for p := range a.queue {
		if a.failed() != nil {
			// The input stops at its next Publish. Until then, what it
			// sent is dropped, as a stopped pipeline would drop it.
			continue
		}
		if err := a.pub.Publish(p.event, p.update); err != nil {
			a.mu.Lock()
			a.err = err
			a.mu.Unlock()
		}
	}
}

func (a *Async) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Publish queues event with its cursor update, as cursor.Publisher does.
func (a *Async) Publish(event beat.Event, cursorUpdate any) error {
	if err := a.failed(); err != nil {
		return err
	}
	a.queue <- pending{event: event, update: cursorUpdate}
	return nil
}

// Close waits until every queued event has been handed to the pipeline and
// returns the first error the pipeline gave.
func (a *Async) Close() error {
	close(a.queue)
	<-a.done
	return a.failed()
}
