package taxii

import (
	"context"
	"hash/maphash"
	"net/http"
	"sync/atomic"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/mapstr"

	"github.com/tibeat/tibeat/input/internal/httpclient"
	stixproc "github.com/tibeat/tibeat/processors/stix"
)

// page is one reply of a walk.
type page struct {
	// objects are the raw texts of the STIX objects, and decoded the same
	// objects parsed on the fetching goroutine (nil where the text is not
	// a JSON object), for decode_stix.
	objects []rawObject
	decoded []map[string]any
	// first and last are the X-TAXII-Date-Added-First and -Last headers,
	// byte for byte.
	first, last string
	// addedAfter is the added_after of the request, for progress logs.
	addedAfter string
	// continuesByDate is set when the next request of the walk uses last
	// as its added_after, so the server itself skips everything up to it.
	continuesByDate bool
	// final is set on the last page of a walk that reached the end of the
	// collection.
	final bool
}

// pageOf builds a page from a reply's objects and date headers.
func pageOf(objects []rawObject, header http.Header, addedAfter string) *page {
	decoded := make([]map[string]any, len(objects))
	for i, raw := range objects {
		decoded[i] = stixproc.DecodeAhead(raw.text())
	}
	p := &page{
		objects:    objects,
		decoded:    decoded,
		first:      header.Get("X-TAXII-Date-Added-First"),
		last:       header.Get("X-TAXII-Date-Added-Last"),
		addedAfter: addedAfter,
	}
	// medallion 3.0.0 writes only X-TAXII-Date-Added-First on a next page
	// that holds one object; for one object both dates are the same.
	if p.last == "" && len(objects) == 1 {
		p.last = p.first
	}
	return p
}

// emitFunc hands a page from the fetching goroutine to the publishing one.
type emitFunc func(*page) error

// fetchFunc walks a collection from added_after (empty for all) and emits
// every page.
type fetchFunc func(ctx context.Context, addedAfter string, emit emitFunc) error

// walker runs the walks of one input.
type walker struct {
	cfg       *config
	requester *requester
	keeper    *cursorKeeper
	clock     clock
	log       *logp.Logger
}

// collectionRun is the state of one collection across the runs of an input.
type collectionRun struct {
	*collection
	metrics *collectionMetrics
	log     *logp.Logger
	// headerWarned is set once a page without a usable
	// X-TAXII-Date-Added-Last has been logged.
	headerWarned atomic.Bool
	// manifestUsed and manifestWarned are set once the manifest fallback
	// for such pages has been logged as used or as failed.
	manifestUsed   atomic.Bool
	manifestWarned atomic.Bool
	// manifestFailed is set when the manifest could not be read during the
	// current walk. Only the walk's fetching goroutine uses it.
	manifestFailed bool
}

// walk reads a collection from its stored position, or from now minus
// initial_interval, to the end, publishing every object. The next page is
// fetched while the current one is published.
func (w *walker) walk(ctx context.Context, c *collectionRun) error {
	addedAfter := w.startPosition(c)
	fetch := w.fetcher(c)

	fetchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		page *page
		err  error
	}
	results := make(chan result, 1)
	go func() {
		defer close(results)
		emit := func(p *page) error {
			select {
			case results <- result{page: p}:
				return nil
			case <-fetchCtx.Done():
				return fetchCtx.Err()
			}
		}
		if err := fetch(fetchCtx, addedAfter, emit); err != nil {
			select {
			case results <- result{err: err}:
			case <-fetchCtx.Done():
			}
		}
	}()

	progress := newProgressLog(c.log, w.clock.Now())
	var (
		pending    *page
		walkErr    error
		objects    uint64
		pages      uint64
		last       *page
		checkpoint checkpointer
	)
	for r := range results {
		if r.err != nil {
			walkErr = r.err
			continue
		}
		last = r.page
		pages++
		if len(r.page.objects) == 0 {
			continue
		}
		if pending != nil {
			position := checkpoint.pass(w.safePosition(c, pending, r.page, false), false)
			if err := w.publishPage(c, pending, position); err != nil {
				cancel()
				drain(results)
				return err
			}
			objects += uint64(len(pending.objects))
		}
		pending = r.page
		progress.update(w.clock.Now(), objects, pages, r.page.addedAfter)
	}
	if pending != nil {
		complete := walkErr == nil && last != nil && last.final
		position := checkpoint.pass(w.safePosition(c, pending, nil, complete), true)
		if err := w.publishPage(c, pending, position); err != nil {
			return err
		}
	}
	w.updateCursorAge(c)
	return walkErr
}

func drain[T any](ch <-chan T) {
	for range ch {
	}
}

// startPosition returns the added_after of the first request of a walk.
func (w *walker) startPosition(c *collectionRun) string {
	if pos, ok := w.keeper.position(c.key); ok && pos.AddedAfter != "" {
		return pos.AddedAfter
	}
	if w.cfg.InitialInterval == 0 {
		return ""
	}
	return formatTimestamp(w.clock.Now().Add(-w.cfg.InitialInterval))
}

func (w *walker) fetcher(c *collectionRun) fetchFunc {
	return func(ctx context.Context, addedAfter string, emit emitFunc) error {
		if c.version == version20 {
			return w.fetch20(ctx, c, addedAfter, emit)
		}
		err := w.fetch21(ctx, c, addedAfter, emit)
		if err == errUseTAXII20 {
			c.log.Infow("The collection speaks TAXII 2.0; walking it with Range paging", "url.original", httpclient.RedactURL(c.objects))
			c.version = version20
			return w.fetch20(ctx, c, addedAfter, emit)
		}
		return err
	}
}

// safePosition returns the position to store with the last event of p, or
// nil to keep the stored one.
//
// The server's added_after is exclusive, and pages split the objects of a
// walk anywhere, so objects sharing the date_added of p's last object may
// come on the next page. Storing p's X-TAXII-Date-Added-Last is therefore
// safe only when the next page starts later, when the walk reached the end
// of the collection, or when the walk itself continues from that date.
// A position never moves backwards or to a value that is not a timestamp.
func (w *walker) safePosition(c *collectionRun, p, next *page, complete bool) *collectionCursor {
	if _, ok := parseTimestamp(p.last); !ok {
		// When the manifest could not be read, its own warning already
		// names the problem.
		if !c.manifestWarned.Load() && c.headerWarned.CompareAndSwap(false, true) {
			c.log.Warnw("TAXII page has no usable X-TAXII-Date-Added-Last header and no date_added in the manifest, so the stored position cannot advance past it",
				"url.original", httpclient.RedactURL(c.objects), "header", p.last)
		}
		return nil
	}
	current, hasCurrent := w.keeper.position(c.key)
	if !advances(current, hasCurrent, p.last) {
		return nil
	}
	safe := p.continuesByDate || complete
	if next != nil {
		lastAt, _ := parseTimestamp(p.last)
		if firstAt, ok := parseTimestamp(next.first); ok && firstAt.After(lastAt) {
			safe = true
		}
	}
	if !safe {
		return nil
	}
	return &collectionCursor{AddedAfter: p.last}
}

// checkpointPages is how many pages a walk publishes, at most, between two
// stored positions.
//
// Storing the position of every page would write the registry once per
// page, which for small pages is once per few objects. Storing it only at
// the end of a walk would make a crash during a long first backfill start
// the whole walk again. In between, a walk of up to checkpointPages pages
// writes its position once, when its last page is acknowledged, and a
// crash or stop repeats at most about checkpointPages pages, plus the
// pages held back by the rule of safePosition. Nothing is skipped either
// way: every stored position is one whose objects were all acknowledged.
const checkpointPages = 10

// checkpointer holds back the safe positions of a walk until one is due.
type checkpointer struct {
	// latestSafe is the latest safe position not yet attached to an event.
	latestSafe *collectionCursor
	// pages counts the pages published since a position was attached.
	pages int
}

// pass takes the safe position of a page about to be published, nil for
// none, and returns the position to attach to the page's last event. That
// is the latest safe one when checkpointPages pages have passed or the page
// is the last of the walk, else nil.
func (cp *checkpointer) pass(safe *collectionCursor, lastPage bool) *collectionCursor {
	cp.pages++
	if safe != nil && (cp.latestSafe == nil || advances(*cp.latestSafe, true, safe.AddedAfter)) {
		cp.latestSafe = safe
	}
	if cp.latestSafe == nil || (!lastPage && cp.pages < checkpointPages) {
		return nil
	}
	position := cp.latestSafe
	cp.latestSafe, cp.pages = nil, 0
	return position
}

// publishPage publishes one event per object of p. The position, if any,
// goes with the last event, so that it is stored only once the output has
// acknowledged the whole page.
func (w *walker) publishPage(c *collectionRun, p *page, position *collectionCursor) error {
	now := w.clock.Now()
	source := httpclient.RedactURL(c.objects)
	for i, raw := range p.objects {
		event := beat.Event{
			Timestamp: now,
			Fields: mapstr.M{
				"message": raw.text(),
				"url":     mapstr.M{"original": source},
			},
		}
		stixproc.AttachDecoded(&event, p.decoded[i])
		var update *collectionCursor
		if i == len(p.objects)-1 {
			update = position
		}
		if err := w.keeper.publish(event, c.key, update); err != nil {
			return err
		}
		c.metrics.objects.Inc()
	}
	return nil
}

func (w *walker) updateCursorAge(c *collectionRun) {
	pos, ok := w.keeper.position(c.key)
	if !ok {
		return
	}
	if at, ok := parseTimestamp(pos.AddedAfter); ok {
		c.metrics.cursorAge.Set(int64(w.clock.Now().Sub(at).Seconds()))
	}
}

// recentObjects remembers the objects of the last few pages of a walk, by
// id and version, to notice a server that keeps sending the same page.
// NOTE: a server that cycles through more than recentPages pages is not
// noticed; max_pages still ends such a walk.
type recentObjects struct {
	seed  maphash.Seed
	pages [][]uint64
	set   map[uint64]int
}

const recentPages = 8

func newRecentObjects() *recentObjects {
	return &recentObjects{seed: maphash.MakeSeed(), set: map[uint64]int{}}
}

// add records the objects of a page and returns how many were not among
// the recent ones.
func (r *recentObjects) add(objects []rawObject) int {
	keys := make([]uint64, 0, len(objects))
	fresh := 0
	for _, raw := range objects {
		k := maphash.String(r.seed, raw.versionKey())
		if r.set[k] == 0 {
			fresh++
		}
		keys = append(keys, k)
	}
	for _, k := range keys {
		r.set[k]++
	}
	r.pages = append(r.pages, keys)
	if len(r.pages) > recentPages {
		for _, k := range r.pages[0] {
			if r.set[k]--; r.set[k] <= 0 {
				delete(r.set, k)
			}
		}
		r.pages = r.pages[1:]
	}
	return fresh
}
