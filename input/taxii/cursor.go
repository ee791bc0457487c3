package taxii

import (
	"maps"
	"strings"
	"sync"
	"time"

	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	"github.com/elastic/beats/v7/libbeat/beat"
)

// cursorVersion is stored in every cursor so that a later layout can tell
// old cursors apart.
const cursorVersion = 1

// cursorState is the cursor of one input: the position of every collection
// it has read, keyed by collectionKey.
type cursorState struct {
	Version     int                         `struct:"version"`
	Collections map[string]collectionCursor `struct:"collections"`
}

// collectionCursor is the position of one collection.
type collectionCursor struct {
	// AddedAfter is the X-TAXII-Date-Added-Last of the last page whose
	// objects were all acknowledged, byte for byte as the server wrote it.
	AddedAfter string `struct:"added_after"`
}

// collectionKey keys a collection's cursor: its API root URL, without
// credentials, and its id.
func collectionKey(apiRoot, id string) string {
	return apiRoot + "collections/" + id + "/"
}

// formatTimestamp writes a timestamp of tibeat's own as TAXII servers
// accept it: UTC, exactly six fractional digits, truncated, and Z.
func formatTimestamp(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
}

// parseTimestamp reads a server timestamp: RFC 3339 with any number of
// fractional digits and Z or an offset. ok is false for anything else, such
// as the text "undefined".
func parseTimestamp(s string) (t time.Time, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
	return t, err == nil
}

// cursorKeeper holds the cursor of the input as last published and
// publishes events, attaching a copy of the whole cursor to the events that
// move it.
//
// input-cursor stores an update when the output has acknowledged its event
// and every event published before it by this input. A copy taken while
// holding mu contains only positions whose pages were published before it,
// so it is safe to store once its own event is acknowledged, whichever
// collection that event belongs to.
type cursorKeeper struct {
	mu    sync.Mutex
	state cursorState
	pub   cursor.Publisher
}

func newCursorKeeper(state cursorState, pub cursor.Publisher) *cursorKeeper {
	if state.Collections == nil {
		state.Collections = map[string]collectionCursor{}
	}
	state.Version = cursorVersion
	return &cursorKeeper{state: state, pub: pub}
}

// position returns the stored position of a collection.
func (k *cursorKeeper) position(key string) (collectionCursor, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c, ok := k.state.Collections[key]
	return c, ok
}

// publish sends one event. With a non-nil update it first records the new
// position of the collection key and attaches a copy of the whole cursor.
func (k *cursorKeeper) publish(event beat.Event, key string, update *collectionCursor) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if update == nil {
		return k.pub.Publish(event, nil)
	}
	k.state.Collections[key] = *update
	snapshot := cursorState{Version: k.state.Version, Collections: maps.Clone(k.state.Collections)}
	return k.pub.Publish(event, snapshot)
}

// advances reports whether a header value may become the new position of
// a collection: it must be a timestamp later than the current position.
// A current position that does not parse (never written by this input) is
// replaced by any valid timestamp.
func advances(current collectionCursor, hasCurrent bool, header string) bool {
	next, ok := parseTimestamp(header)
	if !ok {
		return false
	}
	if !hasCurrent {
		return true
	}
	old, ok := parseTimestamp(current.AddedAfter)
	return !ok || next.After(old)
}
