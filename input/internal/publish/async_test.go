package publish

import (
	"errors"
	"sync"
	"testing"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/elastic-agent-libs/mapstr"
)

type recorder struct {
	mu      sync.Mutex
	events  []int
	updates []any
	failAt  int // 1-based; 0 never fails
}

var errStopped = errors.New("input stopped")

func (r *recorder) Publish(event beat.Event, update any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, _ := event.Fields["n"].(int)
	if r.failAt > 0 && n >= r.failAt {
		return errStopped
	}
	r.events = append(r.events, n)
	r.updates = append(r.updates, update)
	return nil
}

func TestAsyncKeepsOrderAndUpdates(t *testing.T) {
	rec := &recorder{}
	a := NewAsync(rec)
	const total = 3 * Depth
	for n := range total {
		var update any
		if n%100 == 99 {
			update = n
		}
		if err := a.Publish(beat.Event{Fields: mapstr.M{"n": n}}, update); err != nil {
			t.Fatalf("Publish(%d): %v", n, err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	if len(rec.events) != total {
		t.Fatalf("%d events reached the pipeline after Close, expected %d", len(rec.events), total)
	}
	for i, n := range rec.events {
		if n != i {
			t.Fatalf("event %d is %d: the order changed", i, n)
		}
		var want any
		if i%100 == 99 {
			want = i
		}
		if rec.updates[i] != want {
			t.Errorf("event %d carries update %v, expected %v", i, rec.updates[i], want)
		}
	}
}

// Once the pipeline refuses an event, later calls return its error and
// nothing after the refused event is published.
func TestAsyncReportsPipelineError(t *testing.T) {
	rec := &recorder{failAt: 10}
	a := NewAsync(rec)
	var err error
	for n := 0; n < 100*Depth && err == nil; n++ {
		err = a.Publish(beat.Event{Fields: mapstr.M{"n": n}}, nil)
	}
	if !errors.Is(err, errStopped) {
		t.Errorf("Publish returned %v, expected the pipeline's error", err)
	}
	if err := a.Close(); !errors.Is(err, errStopped) {
		t.Errorf("Close returned %v, expected the pipeline's error", err)
	}
	if len(rec.events) != 10 {
		t.Errorf("%d events published, expected the 10 before the refused one", len(rec.events))
	}
}
