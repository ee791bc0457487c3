// Package taxii implements the "taxii" input: it reads the collections of a
// TAXII 2.1 or 2.0 server and publishes one event per STIX object. The
// event holds the object's JSON text, unchanged, in message, and the
// collection's objects URL without credentials in url.original. The input
// never decodes or converts objects; processors do.
//
// # Where it starts
//
// The url setting may name a discovery endpoint, an API root, a
// collections list, a collection or a collection's objects URL. A path
// ending in /objects/ is used as it is. Anything else is fetched once and
// recognised by its JSON: discovery has api_roots, an API root has versions
// and max_content_length, and a collection has id and can_read. API root
// URLs from discovery are resolved against it as RFC 3986 says and get a
// trailing slash. Every API root and collection found is logged with its
// id and title. Discovery runs at the first run and again after a run in
// which a collection answered 404.
//
// Credentials go only to the origin (scheme, host and port) of the url
// setting. An API root that discovery lists on another origin is requested
// without them; discoverer.warnCrossOrigin explains why.
//
// # Cursor
//
// input-cursor takes its sources when the input is configured, but the
// collections of a discovery endpoint or API root are only known when the
// input runs, and may change. So each input has one cursor source, and its
// cursor (cursorState) maps every collection, keyed by API root URL and
// collection id, to its position: the X-TAXII-Date-Added-Last of the last
// page whose objects were all acknowledged, byte for byte as the server
// wrote it. Positions of collections that are no longer read are kept.
//
// Invariants:
//
//   - A position reaches the registry only after the output has
//     acknowledged the event that carries it and every event before it.
//     The position goes with the last event of its page, and every update
//     holds a copy of the whole map taken when that event was published
//     (cursorKeeper), so an update never stores a position of another
//     collection whose page was published later.
//
//   - A position only moves forward, and only to a header that parses as
//     an RFC 3339 timestamp. An empty page, a missing header or a header
//     such as "undefined" keeps the stored position, and a stored position
//     is never replaced by initial_interval.
//
//   - added_after is exclusive and pages may split objects that share a
//     date_added, so a page's position is stored only when the next page
//     starts later, when the walk reached the end of the collection, or
//     when the walk continues by date from it. Otherwise the position waits
//     for a later page.
//
//   - A walk attaches a position to an event every checkpointPages pages
//     and on its last page, not on every page, so a short walk writes the
//     registry once (see checkpointPages for the trade-off).
//
//   - A page without a usable X-TAXII-Date-Added-Last takes the greatest
//     date_added of its objects from the collection's manifest (TAXII 2.1
//     only). Without that either, the position stays where it is.
//
// What a restart replays: the pages after the last stored position, that
// is the objects not yet acknowledged plus at most checkpointPages pages
// and the pages held back by the rule above. A repeat keeps its document _id, which the processors
// derive from the STIX id and modified. A next token is never stored: it
// is valid only in the walk that received it.
//
// # Walks
//
// A TAXII 2.1 walk sends added_after, match[...] and limit with every
// request and adds next when the server gives one; more without next
// continues with added_after set to the page's X-TAXII-Date-Added-Last.
// A TAXII 2.0 walk pages with Range: items a-b and stops on 200, on a page
// that reaches the Content-Range total, on a short or empty page, and on
// 416. A walk also stops, with a warning, when a page brings no object
// version that the last few pages did not bring, and after max_pages. The
// next page is fetched while the current one is published.
//
// # Errors
//
// 429 and 503 wait for Retry-After, or back off when it is absent; other
// 5xx replies and network errors back off exponentially with jitter, up to
// retry.max_attempts tries. 401, 403, 404, 406, 415 and other 4xx replies,
// and a reply that is not JSON, end the collection's run at once with an
// error naming the URL, the status, the Content-Type, the server's message
// or a short excerpt of the body, and the setting to check. A failed run
// leaves the positions as they were. With --once a failed collection makes
// Run return an error; otherwise the next run starts after interval.
package taxii
