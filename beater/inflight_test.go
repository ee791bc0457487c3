package beater

import (
	"context"
	"io"
	"testing"

	"github.com/elastic/beats/v7/libbeat/beat"
	conf "github.com/elastic/elastic-agent-libs/config"
)

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestInflightIdleOnlyWhenEveryEventIsSettled(t *testing.T) {
	f := newInflight()
	if !isClosed(f.wait()) {
		t.Fatal("a tracker with no events must be idle")
	}

	l := f.listener()
	l.AddEvent(beat.Event{}, true)
	l.AddEvent(beat.Event{}, false) // dropped by a processor
	l.AddEvent(beat.Event{}, true)
	idle := f.wait()
	if isClosed(idle) {
		t.Fatal("idle with three events pending")
	}

	l.ACKEvents(1)
	if isClosed(idle) {
		t.Fatal("idle after the first of two published events was acknowledged")
	}
	l.ACKEvents(1)
	if !isClosed(idle) {
		t.Fatal("not idle after both published events were acknowledged")
	}
	if got := f.acknowledged(); got != 2 {
		t.Errorf("acknowledged = %d, want 2 (the dropped event is not published)", got)
	}
}

// cursorCounter stands for an input's cursor listener.
type cursorCounter struct{ acked int }

func (c *cursorCounter) AddEvent(beat.Event, bool) {}
func (c *cursorCounter) ACKEvents(n int)           { c.acked += n }
func (c *cursorCounter) ClientClosed()             {}

// Once the pipeline closes, libbeat reports batches it drops as
// acknowledged, so those must not move cursors or count as published.
func TestInflightClosingStopsCursorUpdates(t *testing.T) {
	f := newInflight()
	cursor := &cursorCounter{}
	cfg, err := f.attach(beat.ClientConfig{EventListener: cursor})
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.EventListener
	for range 3 {
		l.AddEvent(beat.Event{}, true)
	}

	l.ACKEvents(1)
	closingPipeline{tracker: f}.Close()
	l.ACKEvents(2)

	if cursor.acked != 1 {
		t.Errorf("the cursor listener saw %d events acknowledged, expected only the 1 before closing", cursor.acked)
	}
	if got := f.acknowledged(); got != 1 {
		t.Errorf("acknowledged = %d, expected 1", got)
	}
	if got := f.unacknowledged(); got != 2 {
		t.Errorf("unacknowledged = %d, expected the 2 acknowledged while closing", got)
	}
	if !isClosed(f.wait()) {
		t.Error("not idle after every event was settled")
	}
}

// closeRecorder is a pipeline that notes that it was closed.
type closeRecorder struct {
	beat.PipelineConnector
	closed *bool
}

func (r closeRecorder) Close() error {
	*r.closed = true
	return nil
}

// TestNewWrapsPublisherBeforeRun covers a stop signal during start-up:
// libbeat closes b.Publisher as it is then, and Run must still see that
// the closing started.
func TestNewWrapsPublisherBeforeRun(t *testing.T) {
	b := presetBeat(t)
	closed := false
	b.Publisher = closeRecorder{closed: &closed}

	created, err := New(b, conf.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	c, ok := b.Publisher.(io.Closer)
	if !ok {
		t.Fatalf("b.Publisher %T cannot be closed", b.Publisher)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	if !closed {
		t.Error("closing b.Publisher did not close libbeat's pipeline")
	}
	if !isClosed(created.(*tibeat).tracker.closingStarted()) {
		t.Error("closing b.Publisher did not mark the tracker as closing")
	}
}

// TestAwaitAcknowledgedQuietWhenIdle stops a run that has nothing
// outstanding. select picks at random between two ready cases, so the
// check runs often enough to take both.
func TestAwaitAcknowledgedQuietWhenIdle(t *testing.T) {
	log, logs := observedLogger(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	bt := &tibeat{log: log, ctx: ctx, cancel: cancel}

	for range 200 {
		bt.awaitAcknowledged(newInflight())
	}

	if n := logs.Len(); n != 0 {
		t.Errorf("logged %d lines with nothing outstanding, first: %s", n, logs.All()[0].Message)
	}
}
