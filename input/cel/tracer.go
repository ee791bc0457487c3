package cel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/elastic-agent-libs/logp"
)

// tracerConfig is resource.tracer: a request and response trace written as
// NDJSON, one line per HTTP exchange, with secrets redacted.
type tracerConfig struct {
	Enabled *bool `config:"enabled"`
	// Filename is the trace file. A "*" in it is replaced by the input id.
	Filename string `config:"filename"`
	// MaxSize is the size in megabytes at which the file is rotated; 1 by
	// default, as in Filebeat.
	MaxSize int `config:"maxsize"`
	// MaxBackups is the number of rotated files kept, named filename.1
	// (the newest) to filename.N.
	MaxBackups int `config:"maxbackups"`
}

const (
	defaultTracerMaxSize    = 1
	defaultTracerMaxBackups = 5
)

func (t *tracerConfig) enabled() bool {
	return t != nil && (t.Enabled == nil || *t.Enabled)
}

func (t *tracerConfig) validate() error {
	if t.Filename == "" {
		return errors.New("resource.tracer.filename is required when resource.tracer is set")
	}
	if t.MaxSize < 0 || t.MaxBackups < 0 {
		return fmt.Errorf("resource.tracer.maxsize and maxbackups must not be negative, got %d and %d", t.MaxSize, t.MaxBackups)
	}
	return nil
}

// path returns the trace file name for one input.
func (t *tracerConfig) path(inputID string) string {
	return strings.ReplaceAll(t.Filename, "*", sanitizeFileName(inputID))
}

// sanitizeFileName turns an input id into one path element.
func sanitizeFileName(name string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '/', '\\', ':', 0:
			return '_'
		}
		return r
	}, name)
}

// removeTraces deletes the trace files of a tracer that is configured but
// disabled, so that old traces, which may hold data, do not stay behind.
func removeTraces(path string, log *logp.Logger) {
	matches, _ := filepath.Glob(globEscape(path) + ".*")
	for _, p := range append([]string{path}, matches...) {
		if !isTraceFile(path, p) {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.Warnw("Failed to remove a request trace file of a disabled tracer", "path", p, "error", err)
		}
	}
}

func isTraceFile(path, candidate string) bool {
	if candidate == path {
		return true
	}
	_, err := strconv.Atoi(strings.TrimPrefix(candidate, path+"."))
	return err == nil
}

func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteRune('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// tracer writes one NDJSON line per HTTP exchange.
type tracer struct {
	out     *rotatingFile
	secrets *scrubber
	log     *logp.Logger
	// maxBody is the number of body bytes recorded, a tenth of the file
	// size as in Filebeat, so that one exchange cannot fill a file.
	maxBody int
	nextID  atomic.Uint64
}

func newTracer(cfg *tracerConfig, inputID string, secrets *scrubber, log *logp.Logger) (*tracer, error) {
	maxSize := cfg.MaxSize
	if maxSize == 0 {
		maxSize = defaultTracerMaxSize
	}
	backups := cfg.MaxBackups
	if backups == 0 {
		backups = defaultTracerMaxBackups
	}
	out, err := openRotatingFile(cfg.path(inputID), int64(maxSize)<<20, backups)
	if err != nil {
		return nil, fmt.Errorf("open the request trace file: %w", err)
	}
	return &tracer{out: out, secrets: secrets, log: log, maxBody: (maxSize << 20) / 10}, nil
}

func (t *tracer) Close() error { return t.out.Close() }

func (t *tracer) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		return t.roundTrip(next, req)
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// traceRecord is one line of the trace, with ECS field names.
type traceRecord struct {
	Timestamp       string              `json:"@timestamp"`
	TransactionID   string              `json:"transaction.id"`
	Method          string              `json:"http.request.method"`
	URL             string              `json:"url.original"`
	RequestHeader   map[string][]string `json:"http.request.header,omitempty"`
	RequestBody     string              `json:"http.request.body.content,omitempty"`
	StatusCode      int                 `json:"http.response.status_code,omitempty"`
	ResponseHeader  map[string][]string `json:"http.response.header,omitempty"`
	ResponseBody    string              `json:"http.response.body.content,omitempty"`
	ResponseTrimmed bool                `json:"http.response.body.truncated,omitempty"`
	Duration        int64               `json:"event.duration"`
	Error           string              `json:"error.message,omitempty"`
}

func (t *tracer) roundTrip(next http.RoundTripper, req *http.Request) (*http.Response, error) {
	start := time.Now()
	rec := traceRecord{
		Timestamp:     start.UTC().Format(time.RFC3339Nano),
		TransactionID: strconv.FormatUint(t.nextID.Add(1), 10),
		Method:        req.Method,
		URL:           t.secrets.scrub(redactURL(req.URL)),
		RequestHeader: t.headers(req.Header),
	}
	if req.Body != nil && req.GetBody != nil {
		if body, err := req.GetBody(); err == nil {
			prefix, _ := io.ReadAll(io.LimitReader(body, int64(t.maxBody)))
			body.Close()
			rec.RequestBody = t.body(prefix, req.Header.Get("Content-Type"), false)
		}
	}

	resp, err := next.RoundTrip(req)
	rec.Duration = time.Since(start).Nanoseconds()
	if err != nil {
		rec.Error = t.secrets.scrub(err.Error())
		t.write(rec)
		return nil, err
	}
	rec.StatusCode = resp.StatusCode
	rec.ResponseHeader = t.headers(resp.Header)

	// Record the start of the body and hand the program the same bytes
	// followed by the rest, so that a large body is never held twice.
	prefix := make([]byte, t.maxBody+1)
	n, readErr := io.ReadFull(resp.Body, prefix)
	prefix = prefix[:n]
	truncated := n > t.maxBody
	if truncated {
		rec.ResponseTrimmed = true
	}
	recorded := prefix
	if truncated {
		recorded = prefix[:t.maxBody]
	}
	rec.ResponseBody = t.body(recorded, resp.Header.Get("Content-Type"), truncated)
	if readErr != nil && !errors.Is(readErr, io.EOF) && !errors.Is(readErr, io.ErrUnexpectedEOF) {
		rec.Error = t.secrets.scrub(readErr.Error())
	}
	t.write(rec)
	resp.Body = &prefixedBody{Reader: io.MultiReader(bytes.NewReader(prefix), errAfter(resp.Body, readErr)), closer: resp.Body}
	return resp, nil
}

// errAfter replays a read error that happened while the prefix was read.
func errAfter(r io.Reader, err error) io.Reader {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r
	}
	return errReader{err}
}

type prefixedBody struct {
	io.Reader
	closer io.Closer
}

func (b *prefixedBody) Close() error { return b.closer.Close() }

// headers copies h with the values of credential headers replaced.
func (t *tracer) headers(h http.Header) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, v := range h {
		if isSecretKey(k) {
			out[k] = []string{redacted}
			continue
		}
		vals := make([]string, len(v))
		for i, s := range v {
			vals[i] = t.secrets.scrub(s)
		}
		out[k] = vals
	}
	return out
}

// body returns body text for the trace. Form and JSON bodies lose the values
// of secret-looking keys, such as client_secret in a token request or
// access_token in its response. Every body loses the known secret values.
func (t *tracer) body(b []byte, contentType string, truncated bool) string {
	if len(b) == 0 {
		return ""
	}
	mediaType, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mediaType == "application/x-www-form-urlencoded":
		if q, err := url.ParseQuery(string(b)); err == nil {
			for k := range q {
				if isSecretKey(k) {
					q[k] = []string{redacted}
				}
			}
			b = []byte(q.Encode())
		}
	case !truncated && (strings.HasSuffix(mediaType, "json") || json.Valid(b)):
		var v any
		if err := json.Unmarshal(b, &v); err == nil {
			if enc, err := json.Marshal(redactValue(v)); err == nil {
				b = enc
			}
		}
	}
	return t.secrets.scrub(string(b))
}

func (t *tracer) write(rec traceRecord) {
	line, err := json.Marshal(rec)
	if err != nil {
		t.log.Warnw("Failed to encode a request trace record", "error", err)
		return
	}
	if err := t.out.write(append(line, '\n')); err != nil {
		t.log.Warnw("Failed to write the request trace", "error", err)
	}
}

// rotatingFile is an append-only file that is renamed to path.1 when the
// next write would make it larger than maxSize, keeping maxBackups old
// files.
type rotatingFile struct {
	mu         sync.Mutex
	path       string
	maxSize    int64
	maxBackups int
	f          *os.File
	size       int64
}

func openRotatingFile(path string, maxSize int64, maxBackups int) (*rotatingFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	r := &rotatingFile{path: path, maxSize: maxSize, maxBackups: maxBackups}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	r.f, r.size = f, info.Size()
	return nil
}

func (r *rotatingFile) write(p []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return errors.New("the trace file is closed")
	}
	if r.size > 0 && r.size+int64(len(p)) > r.maxSize {
		if err := r.rotate(); err != nil {
			return err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return err
}

func (r *rotatingFile) rotate() error {
	if err := r.f.Close(); err != nil {
		return err
	}
	r.f = nil
	os.Remove(fmt.Sprintf("%s.%d", r.path, r.maxBackups))
	for i := r.maxBackups - 1; i >= 1; i-- {
		os.Rename(fmt.Sprintf("%s.%d", r.path, i), fmt.Sprintf("%s.%d", r.path, i+1))
	}
	if r.maxBackups > 0 {
		if err := os.Rename(r.path, r.path+".1"); err != nil {
			return err
		}
	} else if err := os.Remove(r.path); err != nil {
		return err
	}
	return r.open()
}

func (r *rotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
