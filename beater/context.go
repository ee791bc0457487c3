package beater

import (
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/common/acker"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/paths"

	"github.com/tibeat/tibeat/internal/stix/enrich"
	stixproc "github.com/tibeat/tibeat/processors/stix"
)

// republishDelay is how long the first indicator to republish waits for
// others to join it.
const republishDelay = 250 * time.Millisecond

// contextFolder is the folder under path.data that holds the STIX context
// index.
const contextFolder = "stix-context"

// enrichment owns the STIX context index and publishes again, through the
// input that first read it, every indicator whose context arrives after it.
type enrichment struct {
	log   *logp.Logger
	index *enrich.Index
	stix  *stixproc.Context

	flushFailed atomic.Bool

	mu       sync.Mutex
	changed  *sync.Cond // signalled when pending grows or the loop goes idle
	pending  []string
	queued   map[string]bool
	busy     bool
	closed   bool
	running  bool // the loop goroutine was started
	draining bool
	clients  map[string]beat.Client // input id -> client
	// outstanding counts the copies of each indicator published and not
	// yet acknowledged; the index marks an indicator sent at zero.
	outstanding map[string]int
	done        chan struct{}
}

func openEnrichment(log *logp.Logger, beatPaths *paths.Path, limits enrich.Limits) (*enrichment, error) {
	index, err := enrich.Open(beatPaths.Resolve(paths.Data, contextFolder), limits)
	if err != nil {
		return nil, err
	}
	e := &enrichment{
		log:         log.Named("stix_context"),
		index:       index,
		queued:      map[string]bool{},
		clients:     map[string]beat.Client{},
		outstanding: map[string]int{},
		done:        make(chan struct{}),
	}
	e.changed = sync.NewCond(&e.mu)
	e.stix = &stixproc.Context{Index: index, Republish: e.enqueue}
	stats := index.Stats()
	e.log.Infow("opened the STIX context index", "objects", stats.Objects, "relationships", stats.Relationships,
		"indicators", stats.Indicators, "markings", stats.Markings)
	if damage := index.Damage(); damage.Lines > 0 {
		e.log.Warnw("skipped damaged lines of the STIX context index file; the context they held is lost, and the rest was read",
			"file.path", filepath.Join(beatPaths.Resolve(paths.Data, contextFolder), enrich.JournalName),
			"lines", damage.Lines, "offset", damage.FirstOffset)
	}
	return e, nil
}

// start connects one pipeline client per input and starts publishing.
func (e *enrichment) start(runners []*runner) error {
	for _, r := range runners {
		client, err := r.pipeline.ConnectWith(beat.ClientConfig{
			EventListener: acker.EventPrivateReporter(e.acknowledged),
		})
		if err != nil {
			return err
		}
		e.clients[r.id] = client
	}
	e.running = true
	go e.loop()
	if unsent := e.index.Unsent(); len(unsent) > 0 {
		e.log.Infow("publishing again the indicators whose copies with new context the output did not acknowledge before the last stop",
			"indicators", len(unsent))
		e.enqueue(unsent)
	}
	return nil
}

// acknowledged marks the indicators whose copies the output acknowledged
// as sent, once no other copy of theirs is on the way.
func (e *enrichment) acknowledged(_ int, ids []interface{}) {
	e.mu.Lock()
	var sent []string
	for _, v := range ids {
		id, ok := v.(string)
		if !ok {
			continue
		}
		if e.outstanding[id]--; e.outstanding[id] <= 0 {
			delete(e.outstanding, id)
			if !e.queued[id] {
				sent = append(sent, id)
			}
		}
	}
	e.mu.Unlock()
	for _, id := range sent {
		e.index.MarkSent(id)
	}
}

func (e *enrichment) enqueue(ids []string) {
	// The mark reaches the index file before the cursor of the object that
	// brought the context, because the file is written out on every
	// acknowledgement before cursors move.
	e.index.MarkUnsent(ids)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range ids {
		if !e.queued[id] {
			e.queued[id] = true
			e.pending = append(e.pending, id)
		}
	}
	e.changed.Broadcast()
}

func (e *enrichment) loop() {
	defer close(e.done)
	for {
		e.mu.Lock()
		for len(e.pending) == 0 && !e.closed {
			e.busy = false
			e.changed.Broadcast()
			e.changed.Wait()
		}
		if e.closed {
			e.mu.Unlock()
			return
		}
		e.busy = true
		if !e.draining {
			// Relationships often follow their indicators one by one, so a
			// short wait lets one publication carry several of them.
			e.mu.Unlock()
			time.Sleep(republishDelay)
			e.mu.Lock()
		}
		batch := e.pending
		e.pending = nil
		for _, id := range batch {
			delete(e.queued, id)
		}
		e.mu.Unlock()

		for _, id := range batch {
			e.republish(id)
		}
	}
}

func (e *enrichment) republish(id string) {
	raw, input, source, ok := e.index.Stored(id)
	if !ok {
		// Evicted since, or its text is unreadable: nothing to send.
		e.index.MarkSent(id)
		return
	}
	client := e.clients[input]
	if client == nil {
		e.log.Warnw("cannot publish an enriched indicator again: its input is not running", "stix.id", id, "input_id", input)
		return
	}
	event := stixproc.RepublishEvent(raw, source)
	event.Private = id
	e.mu.Lock()
	e.outstanding[id]++
	e.mu.Unlock()
	client.Publish(event)
	stixproc.GlobalMetrics().Republished.Inc()
}

// drain waits until every queued indicator was handed to its client.
func (e *enrichment) drain() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.draining = true
	defer func() { e.draining = false }()
	for (len(e.pending) > 0 || e.busy) && !e.closed {
		e.changed.Wait()
	}
}

// close stops publishing, closes the clients and saves the index.
// flush writes out what the index has buffered for its file. Only the
// first failure is logged, because every acknowledgement would repeat it.
func (e *enrichment) flush() {
	if err := e.index.Flush(); err != nil && e.flushFailed.CompareAndSwap(false, true) {
		e.log.Errorw("failed to write the STIX context index; context learnt from now on may be lost on a crash", "error", err)
	}
}

func (e *enrichment) close() {
	e.mu.Lock()
	started := e.running
	e.closed = true
	e.changed.Broadcast()
	e.mu.Unlock()
	if started {
		<-e.done
	}
	for _, client := range e.clients {
		client.Close()
	}
	if err := e.index.Close(); err != nil {
		e.log.Errorw("failed to save the STIX context index", "error", err)
	}
}
