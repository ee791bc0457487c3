package taxii

import (
	"strconv"
	"time"

	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/monitoring"
)

// collectionMetrics are the counters of one collection, published under
// collections.<collection id> in the input's metrics registry.
type collectionMetrics struct {
	requests *monitoring.Uint // HTTP requests sent, retries included
	pages    *monitoring.Uint // pages received
	objects  *monitoring.Uint // STIX objects published
	bytes    *monitoring.Uint // reply body bytes of successful requests
	errors   *monitoring.Uint // failed requests and failed runs
	retries  *monitoring.Uint // waits before another attempt
	// cursorAge is the time between the stored added_after and now, in
	// seconds, updated after every page and run.
	cursorAge *monitoring.Int
}

// newCollectionMetrics registers the metrics of a collection. A second
// collection with the same id, on another API root, gets a numbered name.
func newCollectionMetrics(parent *monitoring.Registry, id string) *collectionMetrics {
	if parent == nil {
		parent = monitoring.NewRegistry()
	}
	collections := parent.GetRegistry("collections")
	if collections == nil {
		collections = parent.NewRegistry("collections")
	}
	name := id
	for n := 2; collections.Get(name) != nil; n++ {
		name = id + "_" + strconv.Itoa(n)
	}
	reg := collections.NewRegistry(name)
	return &collectionMetrics{
		requests:  monitoring.NewUint(reg, "requests"),
		pages:     monitoring.NewUint(reg, "pages"),
		objects:   monitoring.NewUint(reg, "objects"),
		bytes:     monitoring.NewUint(reg, "bytes"),
		errors:    monitoring.NewUint(reg, "errors"),
		retries:   monitoring.NewUint(reg, "retries"),
		cursorAge: monitoring.NewInt(reg, "cursor_age_seconds"),
	}
}

// discardMetrics counts into a registry that no endpoint serves, for requests made
// before collections are known.
func discardMetrics() *collectionMetrics {
	return newCollectionMetrics(monitoring.NewRegistry(), "discovery")
}

// progressInterval is how often a long walk logs its progress.
const progressInterval = time.Minute

// progressLog logs a long walk at most once per progressInterval.
type progressLog struct {
	log  *logp.Logger
	next time.Time
}

func newProgressLog(log *logp.Logger, now time.Time) *progressLog {
	return &progressLog{log: log, next: now.Add(progressInterval)}
}

// update logs when the interval has passed. objects counts the objects of
// this walk so far; addedAfter is the added_after of the current request.
func (p *progressLog) update(now time.Time, objects, pages uint64, addedAfter string) {
	if now.Before(p.next) {
		return
	}
	p.next = now.Add(progressInterval)
	p.log.Infow("TAXII walk in progress", "objects", objects, "pages", pages, "added_after", addedAfter)
}
