package taxii

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/elastic/elastic-agent-libs/logp"

	"github.com/tibeat/tibeat/input/internal/httpclient"
)

// collection is one collection the input reads.
type collection struct {
	apiRoot string // API root URL with a trailing slash, without credentials
	id      string
	title   string
	objects *url.URL
	// version is 2.1, 2.0, or auto while a collection given by its objects
	// URL has not answered yet.
	version string
	key     string // the cursor key, see collectionKey
}

func newCollection(apiRoot *url.URL, id, title, version string) *collection {
	root := httpclient.RedactURL(apiRoot)
	objects := subURL(apiRoot, "collections", id, "objects")
	return &collection{
		apiRoot: root,
		id:      id,
		title:   title,
		objects: objects,
		version: version,
		key:     collectionKey(root, id),
	}
}

// resource holds the fields that tell TAXII resources apart: discovery has
// api_roots, an API root has versions and max_content_length, a collection
// has id and can_read, and a collections list has collections.
type resource struct {
	Title            string            `json:"title"`
	APIRoots         *[]string         `json:"api_roots"`
	Default          string            `json:"default"`
	Versions         []string          `json:"versions"`
	MaxContentLength *json.RawMessage  `json:"max_content_length"`
	ID               string            `json:"id"`
	CanRead          *bool             `json:"can_read"`
	Collections      *[]collectionInfo `json:"collections"`
}

// collectionInfo is one entry of a collections list.
type collectionInfo struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	CanRead *bool  `json:"can_read"`
}

func (c collectionInfo) readable() bool { return c.CanRead == nil || *c.CanRead }

// apiRootListing is an API root and its collections.
type apiRootListing struct {
	url         *url.URL
	version     string
	collections []collectionInfo
	err         error
}

// discoverer finds the collections to read from the url setting.
type discoverer struct {
	cfg       *config
	requester *requester
	log       *logp.Logger
}

// discover returns the collections to read. It logs every API root and
// collection it finds.
func (d *discoverer) discover(ctx context.Context) ([]*collection, error) {
	start, err := url.Parse(d.cfg.URL)
	if err != nil {
		return nil, err
	}
	if isObjectsURL(start) {
		c := collectionFromObjectsURL(start, d.cfg.Version)
		d.log.Infow("Reading the TAXII collection at the configured objects URL",
			"url.original", httpclient.RedactURL(c.objects), "taxii.collection.id", c.id)
		return []*collection{c}, nil
	}

	res, version, err := d.fetch(ctx, start, d.cfg.Version)
	if err != nil {
		return nil, err
	}
	switch {
	case res.APIRoots != nil:
		return d.fromDiscovery(ctx, start, res, version)
	case res.Collections != nil:
		root := trimSuffixPath(start, "collections/")
		listing := apiRootListing{url: root, version: version, collections: *res.Collections}
		d.logListing(listing)
		return d.choose([]apiRootListing{listing})
	case res.Versions != nil || res.MaxContentLength != nil:
		if rootVersion := versionFromAPIRoot(res.Versions); d.cfg.Version == versionAuto && rootVersion != "" {
			version = rootVersion
		}
		listing := d.listCollections(ctx, ensureSlash(start), version)
		if listing.err != nil {
			return nil, listing.err
		}
		d.logListing(listing)
		return d.choose([]apiRootListing{listing})
	case res.ID != "" && res.CanRead != nil:
		root := trimSuffixPath(start, "collections/"+res.ID+"/")
		listing := apiRootListing{url: root, version: version, collections: []collectionInfo{{ID: res.ID, Title: res.Title, CanRead: res.CanRead}}}
		d.logListing(listing)
		return d.choose([]apiRootListing{listing})
	}
	return nil, fmt.Errorf("%s returned JSON that is not a TAXII discovery, API root, collections or collection resource; check the url setting", httpclient.RedactURL(start))
}

// fromDiscovery lists the collections of every API root a discovery
// resource names, so that the start-up log shows them all, and reads those
// of the selected roots.
func (d *discoverer) fromDiscovery(ctx context.Context, discoveryURL *url.URL, res *resource, version string) ([]*collection, error) {
	var listed []*url.URL
	for _, raw := range *res.APIRoots {
		u, err := resolveAPIRoot(discoveryURL, raw)
		if err != nil {
			d.log.Warnw("Skipping an API root that is not a URL", "taxii.api_root", raw, "error", err)
			continue
		}
		listed = append(listed, u)
	}
	selected, err := d.selectAPIRoots(discoveryURL, res, listed)
	if err != nil {
		return nil, err
	}
	d.log.Infow("Found TAXII discovery resource", "url.original", httpclient.RedactURL(discoveryURL),
		"taxii.title", res.Title, "taxii.api_roots", redactAll(listed), "taxii.default", res.Default,
		"taxii.selected_api_roots", redactAll(selected))

	var chosen []apiRootListing
	for _, root := range appendMissing(listed, selected) {
		isSelected := containsURL(selected, root)
		if isSelected {
			d.warnCrossOrigin(root)
		}
		listing := d.listCollections(ctx, root, version)
		if listing.err != nil {
			if isSelected {
				return nil, listing.err
			}
			d.log.Warnw("Could not list the collections of an API root that is not read", "taxii.api_root", httpclient.RedactURL(root), "error", listing.err)
			continue
		}
		d.logListing(listing)
		if isSelected {
			chosen = append(chosen, listing)
		}
	}
	return d.choose(chosen)
}

// warnCrossOrigin logs that a selected API root on another origin than the
// url setting is read without credentials.
//
// A discovery resource is data from the server. An attacker who can change
// it, or the server's operator, could list an API root on a host they
// control. Sending the credentials there would hand them over, so they go
// only to the origin of the url setting, much as Go's HTTP client drops
// them on a redirect to another host. The API root is still requested,
// without credentials, because some servers keep public API roots on
// another host. A private one then fails with 401 or 403 and an error that
// explains how to configure it.
func (d *discoverer) warnCrossOrigin(root *url.URL) {
	if !d.requester.authSet || d.requester.client.SendsCredentials(root) {
		return
	}
	d.log.Warnw("TAXII API root is on another origin than the url setting, so it is requested without credentials; to read it with credentials, set url to this API root",
		"taxii.api_root", httpclient.RedactURL(root), "url.original", httpclient.Redact(d.cfg.URL))
}

// selectAPIRoots returns the api_roots setting resolved against the
// discovery URL, else the default API root, else every listed root.
func (d *discoverer) selectAPIRoots(discoveryURL *url.URL, res *resource, listed []*url.URL) ([]*url.URL, error) {
	if len(d.cfg.APIRoots) > 0 {
		var roots []*url.URL
		for _, raw := range d.cfg.APIRoots {
			u, err := resolveAPIRoot(discoveryURL, raw)
			if err != nil {
				return nil, fmt.Errorf("api_roots: %w", err)
			}
			roots = append(roots, u)
		}
		return roots, nil
	}
	if res.Default != "" {
		u, err := resolveAPIRoot(discoveryURL, res.Default)
		if err != nil {
			return nil, fmt.Errorf("the discovery resource's default API root %q is not a URL: %w", res.Default, err)
		}
		return []*url.URL{u}, nil
	}
	if len(listed) == 0 {
		return nil, fmt.Errorf("the discovery resource at %s lists no API root", httpclient.RedactURL(discoveryURL))
	}
	return listed, nil
}

// resolveAPIRoot resolves an API root URL against the discovery URL as
// RFC 3986 section 5 specifies (a value starting with / keeps the discovery
// URL's scheme and host) and adds the trailing slash that API root URLs
// end with.
func resolveAPIRoot(base *url.URL, raw string) (*url.URL, error) {
	ref, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, err
	}
	u := base.ResolveReference(ref)
	u.User = nil
	u.RawQuery, u.Fragment = "", ""
	return ensureSlash(u), nil
}

func (d *discoverer) listCollections(ctx context.Context, root *url.URL, version string) apiRootListing {
	listing := apiRootListing{url: root, version: version}
	res, _, err := d.fetch(ctx, subURL(root, "collections"), version)
	if err != nil {
		listing.err = err
		return listing
	}
	if res.Collections != nil {
		listing.collections = *res.Collections
	}
	return listing
}

func (d *discoverer) logListing(l apiRootListing) {
	d.log.Infow("Found TAXII API root", "taxii.api_root", httpclient.RedactURL(l.url),
		"taxii.version", l.version, "taxii.collections", len(l.collections))
	for _, c := range l.collections {
		d.log.Infow("Found TAXII collection", "taxii.api_root", httpclient.RedactURL(l.url),
			"taxii.collection.id", c.ID, "taxii.collection.title", c.Title, "taxii.collection.can_read", c.readable())
	}
}

// choose picks the collections named by the collections setting, or every
// readable one, from the listings of the selected API roots.
func (d *discoverer) choose(listings []apiRootListing) ([]*collection, error) {
	var chosen []*collection
	seen := map[string]bool{}
	add := func(l apiRootListing, c collectionInfo) {
		col := newCollection(l.url, c.ID, c.Title, l.version)
		if seen[col.key] {
			return
		}
		seen[col.key] = true
		if !c.readable() {
			d.log.Warnw("Reading a collection that reports can_read false; the server may reject it",
				"taxii.collection.id", c.ID, "taxii.collection.title", c.Title)
		}
		chosen = append(chosen, col)
	}

	if len(d.cfg.Collections) == 0 {
		for _, l := range listings {
			for _, c := range l.collections {
				if c.readable() && c.ID != "" {
					add(l, c)
				}
			}
		}
		if len(chosen) == 0 {
			return nil, fmt.Errorf("no readable collection in API root(s) %s", strings.Join(redactListings(listings), ", "))
		}
		return chosen, nil
	}

	for _, pattern := range d.cfg.Collections {
		found := false
		for _, l := range listings {
			for _, c := range l.collections {
				if c.ID != "" && (matchName(pattern, c.ID) || matchName(pattern, c.Title)) {
					add(l, c)
					found = true
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("collections: no collection has the id or title %q in API root(s) %s; available: %s",
				pattern, strings.Join(redactListings(listings), ", "), availableCollections(listings))
		}
	}
	return chosen, nil
}

// fetch gets a TAXII resource. With version auto it asks for 2.1 and falls
// back to 2.0 when the server answers 406; the returned version is the one
// the server speaks.
func (d *discoverer) fetch(ctx context.Context, u *url.URL, version string) (*resource, string, error) {
	accept := acceptTAXII21
	if version == version20 {
		accept = acceptTAXII20
	}
	resp, err := d.requester.get(ctx, request{url: u, accept: accept}, discardMetrics())
	var se *statusError
	if version == versionAuto && errors.As(err, &se) && se.Status == http.StatusNotAcceptable {
		d.log.Infow("Server does not accept TAXII 2.1, asking for TAXII 2.0", "url.original", httpclient.RedactURL(u))
		resp, err = d.requester.get(ctx, request{url: u, accept: acceptTAXII20}, discardMetrics())
		version = version20
	}
	if err != nil {
		return nil, version, err
	}
	if version == versionAuto {
		version = version21
		if isTAXII20MediaType(resp.header.Get("Content-Type")) {
			version = version20
		}
	}
	var res resource
	if err := json.Unmarshal(resp.body, &res); err != nil {
		return nil, version, fmt.Errorf("GET %s: the reply is not a TAXII resource: %w", httpclient.RedactURL(u), err)
	}
	return &res, version, nil
}

// versionFromAPIRoot reads an API root's versions list: TAXII 2.0 writes
// "taxii-2.0", TAXII 2.1 the media type with version=2.1.
func versionFromAPIRoot(versions []string) string {
	has20, has21 := false, false
	for _, v := range versions {
		if mediaTypeMatches(v, acceptTAXII21) {
			has21 = true
		}
		if strings.EqualFold(strings.TrimSpace(v), "taxii-2.0") {
			has20 = true
		}
	}
	switch {
	case has21:
		return version21
	case has20:
		return version20
	}
	return ""
}

func isObjectsURL(u *url.URL) bool {
	return strings.HasSuffix(u.Path, "/objects/") || strings.HasSuffix(u.Path, "/objects")
}

// collectionFromObjectsURL takes the collection id and API root from an
// objects URL of the form <api root>collections/<id>/objects/.
func collectionFromObjectsURL(u *url.URL, version string) *collection {
	objects := ensureSlash(u)
	objects.RawQuery = ""
	collectionPath := strings.TrimSuffix(objects.Path, "objects/")
	id := path.Base(collectionPath)
	root := *objects
	root.Path = strings.TrimSuffix(path.Dir(strings.TrimSuffix(collectionPath, "/")), "collections") + "/"
	root.Path = strings.ReplaceAll(root.Path, "//", "/")
	root.RawPath = ""
	rootText := httpclient.RedactURL(&root)
	return &collection{
		apiRoot: rootText,
		id:      id,
		objects: objects,
		version: version,
		key:     collectionKey(rootText, id),
	}
}

// subURL appends path segments to a URL that ends with a slash and ends
// the result with a slash, as TAXII resource URLs do.
func subURL(base *url.URL, segments ...string) *url.URL {
	u := base.JoinPath(segments...)
	u.RawQuery, u.Fragment = "", ""
	return ensureSlash(u)
}

func ensureSlash(u *url.URL) *url.URL {
	c := *u
	if !strings.HasSuffix(c.Path, "/") {
		c.Path += "/"
		c.RawPath = ""
	}
	return &c
}

// trimSuffixPath removes suffix from the end of u's path, if there.
func trimSuffixPath(u *url.URL, suffix string) *url.URL {
	c := ensureSlash(u)
	c.RawQuery = ""
	c.Path = strings.TrimSuffix(c.Path, suffix)
	c.RawPath = ""
	return ensureSlash(c)
}

func matchName(pattern, name string) bool {
	if pattern == name {
		return true
	}
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

func appendMissing(list, extra []*url.URL) []*url.URL {
	out := slices.Clone(list)
	for _, u := range extra {
		if !containsURL(out, u) {
			out = append(out, u)
		}
	}
	return out
}

func containsURL(list []*url.URL, u *url.URL) bool {
	return slices.ContainsFunc(list, func(v *url.URL) bool { return v.String() == u.String() })
}

func redactAll(list []*url.URL) []string {
	out := make([]string, len(list))
	for i, u := range list {
		out[i] = httpclient.RedactURL(u)
	}
	return out
}

func redactListings(listings []apiRootListing) []string {
	out := make([]string, len(listings))
	for i, l := range listings {
		out[i] = httpclient.RedactURL(l.url)
	}
	return out
}

func availableCollections(listings []apiRootListing) string {
	var names []string
	for _, l := range listings {
		for _, c := range l.collections {
			names = append(names, fmt.Sprintf("%s (%q)", c.ID, c.Title))
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
