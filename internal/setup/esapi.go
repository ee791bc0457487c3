package setup

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/elastic/elastic-agent-libs/logp"
)

// Client is the part of libbeat's Elasticsearch connection
// (eslegclient.Connection) that setup uses. The connection returns an error
// for every status of 300 and above, with the response body.
type Client interface {
	Request(method, path, pipeline string, params map[string]string, body any) (int, []byte, error)
}

// exists reports whether GET or HEAD on path finds the resource.
func exists(c Client, method, path string) (bool, error) {
	status, _, err := c.Request(method, path, "", nil, nil)
	if status == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return true, nil
}

// put sends body with method to path and returns the response status.
func put(c Client, method, path string, params map[string]string, body any) (int, error) {
	status, _, err := c.Request(method, path, "", params, body)
	if err != nil {
		return status, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return status, nil
}

// LoadPipelines installs pipelines. Without overwrite, a pipeline that
// already exists is left as it is, which is what a running Beat wants: an
// administrator may have changed it.
func LoadPipelines(c Client, pipelines []Pipeline, overwrite bool, log *logp.Logger) error {
	for _, p := range pipelines {
		path := "/_ingest/pipeline/" + url.PathEscape(p.Name)
		if !overwrite {
			found, err := exists(c, http.MethodGet, path)
			if err != nil {
				return fmt.Errorf("check ingest pipeline %s: %w", p.Name, err)
			}
			if found {
				log.Debugw("ingest pipeline exists, not overwriting it", "pipeline", p.Name)
				continue
			}
		}
		if _, err := put(c, http.MethodPut, path, nil, p.Body); err != nil {
			return fmt.Errorf("load ingest pipeline %s: %w", p.Name, err)
		}
		log.Infow("loaded ingest pipeline", "pipeline", p.Name)
	}
	return nil
}
