package beater

import (
	"testing"

	"github.com/elastic/beats/v7/libbeat/beat"
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
