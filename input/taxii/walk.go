package taxii

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strconv"

	"github.com/tibeat/tibeat/input/internal/httpclient"
)

// errUseTAXII20 ends a TAXII 2.1 walk that found, on its first reply, a
// server that speaks TAXII 2.0. Nothing was published by then.
var errUseTAXII20 = errors.New("the server speaks TAXII 2.0")

// envelope is a TAXII 2.1 objects reply, or a TAXII 2.0 bundle. Objects
// stay raw because the processors decode them.
type envelope struct {
	More    bool
	Next    json.RawMessage
	Objects []rawObject
	// Type is set when a server replies with a STIX bundle, as TAXII 2.0
	// servers do.
	Type string
}

// nextToken returns next as text. The specification makes it a string,
// but some servers send a number.
func (e *envelope) nextToken() string {
	raw := bytes.TrimSpace(e.Next)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// fetch21 walks a TAXII 2.1 collection with limit and next. A page without
// a usable X-TAXII-Date-Added-Last takes its dates from the manifest.
//
// Every request of the walk repeats the filters of its first request
// (added_after, match[...], limit) because servers tie next to them:
// medallion 3.0.0 replies 400 to a next with other filters and 500 to
// one without limit. more without next continues from the page's
// X-TAXII-Date-Added-Last, which then starts a new set of filters.
func (w *walker) fetch21(ctx context.Context, c *collectionRun, addedAfter string, emit emitFunc) error {
	filters := w.cfg.Match.params()
	filters.Set("limit", strconv.Itoa(w.cfg.Limit))
	if addedAfter != "" {
		filters.Set("added_after", addedAfter)
	}
	query := maps.Clone(filters)
	recent := newRecentObjects()
	c.manifestFailed = false
	target := httpclient.RedactURL(c.objects)

	for n := 1; ; n++ {
		u := *c.objects
		u.RawQuery = query.Encode()
		resp, err := w.requester.get(ctx, request{url: &u, accept: acceptTAXII21}, c.metrics)
		if err != nil {
			if c.version == versionAuto && n == 1 && isStatus(err, http.StatusNotAcceptable) {
				return errUseTAXII20
			}
			return err
		}

		env, err := decodeEnvelope(resp.body)
		if err != nil {
			return w.requester.malformed(&u, "a TAXII envelope", resp, err)
		}
		if c.version == versionAuto && n == 1 {
			if env.Type == "bundle" || isTAXII20MediaType(resp.header.Get("Content-Type")) {
				return errUseTAXII20
			}
			c.version = version21
		}
		c.metrics.pages.Inc()

		p := pageOf(env.Objects, resp.header, filters.Get("added_after"))
		if _, ok := parseTimestamp(p.last); !ok && len(p.objects) > 0 {
			if err := w.addDatesFromManifest(ctx, c, filters, p); err != nil {
				return err
			}
		}
		fresh := recent.add(env.Objects)
		next := env.nextToken()

		switch {
		case !env.More:
			p.final = true
			return emit(p)
		case fresh == 0:
			// The page repeats what this walk already published, so it is
			// dropped with its position.
			c.log.Warnw("TAXII reply sets more but contains no object new to this walk; ending the run",
				"url.original", target, "page", n, "objects", len(env.Objects))
			return nil
		case n >= w.cfg.MaxPages:
			c.log.Warnw("TAXII walk reached max_pages; the next run continues from the stored position",
				"url.original", target, "max_pages", w.cfg.MaxPages)
			return emit(p)
		case next != "":
			query = maps.Clone(filters)
			query.Set("next", next)
		default:
			if _, ok := parseTimestamp(p.last); !ok {
				c.log.Warnw("TAXII reply sets more without next, and neither X-TAXII-Date-Added-Last nor the manifest gives a date to continue from; ending the run",
					"url.original", target, "header", p.last)
				return emit(p)
			}
			filters.Set("added_after", p.last)
			query = maps.Clone(filters)
			p.continuesByDate = true
		}
		if err := emit(p); err != nil {
			return err
		}
	}
}

func isStatus(err error, status int) bool {
	var se *statusError
	return errors.As(err, &se) && se.Status == status
}
