package taxii

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	"github.com/tibeat/tibeat/input/internal/httpclient"
)

// contentRange is a parsed "items <first>-<last>/<total>" header; total is
// -1 when the server wrote *.
type contentRange struct {
	first, last, total int
}

var contentRangePattern = regexp.MustCompile(`^\s*items\s+(\d+)-(\d+)/(\d+|\*)\s*$`)

func parseContentRange(header string) (contentRange, bool) {
	m := contentRangePattern.FindStringSubmatch(header)
	if m == nil {
		return contentRange{}, false
	}
	first, err1 := strconv.Atoi(m[1])
	last, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil || last < first {
		return contentRange{}, false
	}
	total := -1
	if m[3] != "*" {
		var err error
		if total, err = strconv.Atoi(m[3]); err != nil {
			return contentRange{}, false
		}
	}
	return contentRange{first: first, last: last, total: total}, true
}

// fetch20 walks a TAXII 2.0 collection with Range: items a-b (TAXII 2.0
// section 3.4), limit items per request.
//
// Servers differ: some reply 200 with everything and no Content-Range,
// some write an unknown total (*), some send no Content-Range at all. The
// walk ends on a 200, on a page that reaches the total, on a short or empty
// page and on 416, and it never asks for the same range twice.
func (w *walker) fetch20(ctx context.Context, c *collectionRun, addedAfter string, emit emitFunc) error {
	query := w.cfg.Match.params()
	if addedAfter != "" {
		query.Set("added_after", addedAfter)
	}
	u := *c.objects
	u.RawQuery = query.Encode()
	target := httpclient.RedactURL(c.objects)

	start := 0
	for n := 1; ; n++ {
		rangeItems := fmt.Sprintf("items %d-%d", start, start+w.cfg.Limit-1)
		resp, err := w.requester.get(ctx, request{url: &u, accept: acceptSTIX20, rangeItems: rangeItems}, c.metrics)
		if err != nil {
			return err
		}
		if resp.status == http.StatusRequestedRangeNotSatisfiable {
			return emit(&page{final: true, addedAfter: addedAfter})
		}

		b, err := decodeEnvelope(resp.body)
		if err != nil {
			return fmt.Errorf("range %s: %w", rangeItems, w.requester.malformed(&u, "a STIX bundle", resp, err))
		}
		c.metrics.pages.Inc()
		// NOTE: unlike a TAXII 2.1 walk, a page without a usable
		// X-TAXII-Date-Added-Last does not ask the TAXII 2.0 manifest, so
		// it leaves the stored position where it was.
		p := pageOf(b.Objects, resp.header, addedAfter)

		next := start + len(b.Objects)
		switch cr, ok := parseContentRange(resp.header.Get("Content-Range")); {
		case resp.status != http.StatusPartialContent:
			// The server ignored Range and sent the whole result.
			p.final = true
		case len(b.Objects) == 0 || len(b.Objects) < w.cfg.Limit:
			p.final = true
		case ok:
			next = cr.last + 1
			p.final = cr.total >= 0 && next >= cr.total
		}
		if !p.final && next <= start {
			// A Content-Range that does not move forward would repeat a
			// range.
			p.final = true
		}

		if !p.final && n >= w.cfg.MaxPages {
			c.log.Warnw("TAXII walk reached max_pages; the next run continues from the stored position",
				"url.original", target, "max_pages", w.cfg.MaxPages)
			return emit(p)
		}
		if err := emit(p); err != nil || p.final {
			return err
		}
		start = next
	}
}
