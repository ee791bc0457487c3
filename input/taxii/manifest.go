package taxii

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"time"

	"github.com/tibeat/tibeat/input/internal/httpclient"
)

// maxManifestIDBytes bounds the match[id] value of one manifest request, so
// that the request line stays well under the 8 KiB that common servers and
// proxies accept (nginx's default large_client_header_buffers).
// NOTE: an estimate, not a limit from the TAXII specification. A page of
// 1000 indicators takes about 12 manifest requests.
const maxManifestIDBytes = 4000

// manifestRecord is one entry of a TAXII 2.1 manifest resource.
type manifestRecord struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
}

type manifestEnvelope struct {
	More    bool             `json:"more"`
	Objects []manifestRecord `json:"objects"`
}

// receivedVersion is the id and version of an object of a page. A version
// is the object's modified, else its created. STIX 2.1 cyber observables
// have neither and only one version, so any manifest record of their id
// matches them.
type receivedVersion struct {
	id      string
	version time.Time
	hasTime bool
}

// addDatesFromManifest fills in the first and last date_added of a page
// whose reply had no usable X-TAXII-Date-Added-Last, from the collection's
// manifest. It requests the page's objects by id with the walk's filters
// and reads only the records of the versions received. A newer version
// added since then has a later date_added, which must not move the
// position past objects this walk has not seen.
//
// last is set to the greatest date_added found, so a record that is
// missing makes it smaller, never larger. first is set only when every
// object has a record, because safePosition trusts it to prove that no
// object of the previous page's date_added comes later.
//
// A manifest that cannot be read leaves the page as it is: the position
// does not move and the document _id absorbs what the next run repeats.
func (w *walker) addDatesFromManifest(ctx context.Context, c *collectionRun, filters url.Values, p *page) error {
	if c.manifestFailed {
		// A server whose manifest failed once in this walk, often because
		// it has none, is not asked again for every page.
		return nil
	}
	first, last, err := w.manifestDates(ctx, c, filters, p.objects)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.manifestFailed = true
		if c.manifestWarned.CompareAndSwap(false, true) {
			c.log.Warnw("TAXII page has no usable X-TAXII-Date-Added-Last header and its manifest could not be read, so the stored position cannot advance past it",
				"url.original", httpclient.RedactURL(c.objects), "header", p.last, "error", err.Error())
		}
		return nil
	}
	if last == "" {
		return nil
	}
	if c.manifestUsed.CompareAndSwap(false, true) {
		c.log.Infow("TAXII reply has no usable X-TAXII-Date-Added-Last header; taking the position from the date_added values of the collection's manifest",
			"url.original", httpclient.RedactURL(c.objects), "header", p.last)
	}
	p.last = last
	if _, ok := parseTimestamp(p.first); !ok && first != "" {
		p.first = first
	}
	return nil
}

// manifestDates returns the least and greatest date_added, as the server
// wrote them, of the manifest records that match objects. first is empty
// unless every object has a record.
func (w *walker) manifestDates(ctx context.Context, c *collectionRun, filters url.Values, objects []rawObject) (first, last string, err error) {
	received := make([]receivedVersion, 0, len(objects))
	var ids []string
	seen := map[string]bool{}
	for _, raw := range objects {
		v, ok := versionOf(raw)
		if !ok {
			continue
		}
		received = append(received, v)
		if !seen[v.id] {
			seen[v.id] = true
			ids = append(ids, v.id)
		}
	}

	found := make([]bool, len(received))
	var firstAt, lastAt time.Time
	for _, chunk := range chunkIDs(ids, maxManifestIDBytes) {
		records, err := w.fetchManifest(ctx, c, filters, chunk)
		if err != nil {
			return "", "", err
		}
		for _, r := range records {
			added, ok := parseTimestamp(r.DateAdded)
			if !ok {
				continue
			}
			matched := false
			for i, v := range received {
				if v.matches(r) {
					found[i] = true
					matched = true
				}
			}
			if !matched {
				continue
			}
			if last == "" || added.After(lastAt) {
				last, lastAt = r.DateAdded, added
			}
			if first == "" || added.Before(firstAt) {
				first, firstAt = r.DateAdded, added
			}
		}
	}
	for _, ok := range found {
		if !ok {
			first = ""
		}
	}
	if len(received) < len(objects) {
		first = ""
	}
	return first, last, nil
}

// fetchManifest requests the manifest records of ids with the walk's
// filters. Only the first page of the manifest is read: with match[id] it
// holds a record per version of those ids, up to limit.
func (w *walker) fetchManifest(ctx context.Context, c *collectionRun, filters url.Values, ids []string) ([]manifestRecord, error) {
	query := maps.Clone(filters)
	query.Del("next")
	query.Set("match[id]", strings.Join(ids, ","))
	u := manifestURL(c.objects)
	u.RawQuery = query.Encode()
	resp, err := w.requester.get(ctx, request{url: u, accept: acceptTAXII21}, c.metrics)
	if err != nil {
		return nil, err
	}
	var env manifestEnvelope
	if err := json.Unmarshal(resp.body, &env); err != nil {
		return nil, fmt.Errorf("GET %s: the reply is not a TAXII manifest: %w", httpclient.RedactURL(u), err)
	}
	return env.Objects, nil
}

// manifestURL returns the manifest URL of a collection from its objects
// URL: both are children of the collection's URL.
func manifestURL(objects *url.URL) *url.URL {
	u := *objects
	u.RawQuery = ""
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "objects") + "manifest/"
	u.RawPath = ""
	return &u
}

// chunkIDs splits ids into runs whose comma-separated form is at most
// maxBytes long; an id longer than that gets a run of its own.
func chunkIDs(ids []string, maxBytes int) [][]string {
	var chunks [][]string
	var current []string
	size := 0
	for _, id := range ids {
		if len(current) > 0 && size+1+len(id) > maxBytes {
			chunks = append(chunks, current)
			current, size = nil, 0
		}
		if len(current) > 0 {
			size++
		}
		current = append(current, id)
		size += len(id)
	}
	if len(current) > 0 {
		chunks = append(chunks, current)
	}
	return chunks
}

// versionOf reads the id and version of a raw STIX object.
func versionOf(raw rawObject) (receivedVersion, bool) {
	var head struct {
		ID       string `json:"id"`
		Modified string `json:"modified"`
		Created  string `json:"created"`
	}
	if json.Unmarshal(raw, &head) != nil || head.ID == "" {
		return receivedVersion{}, false
	}
	v := receivedVersion{id: head.ID}
	for _, s := range []string{head.Modified, head.Created} {
		if t, ok := parseTimestamp(s); ok {
			v.version, v.hasTime = t, true
			break
		}
	}
	return v, true
}

// matches reports whether a manifest record describes this version. The
// record's version is compared as a time, because servers write the
// timestamps of the object with other fractional digits.
func (v receivedVersion) matches(r manifestRecord) bool {
	if r.ID != v.id {
		return false
	}
	if !v.hasTime {
		return true
	}
	t, ok := parseTimestamp(r.Version)
	return ok && t.Equal(v.version)
}
