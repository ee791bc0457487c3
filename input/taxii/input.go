package taxii

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"sync"
	"time"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	"github.com/elastic/beats/v7/libbeat/feature"
	"github.com/elastic/beats/v7/libbeat/statestore"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/monitoring"
	"github.com/elastic/go-concert/ctxtool"

	"github.com/tibeat/tibeat/input/internal/httpclient"
	"github.com/tibeat/tibeat/internal/runmode"
)

const inputName = "taxii"

// Plugin returns the taxii input type. Its cursor manager keeps the
// position of every collection in store.
func Plugin(log *logp.Logger, store statestore.States) v2.Plugin {
	return newPlugin(log, store, hooks{})
}

// hooks replace the clock and the wait between runs in tests.
type hooks struct {
	clock clock
	// waitNext waits between runs; it returns an error to stop the input.
	waitNext func(ctx context.Context, d time.Duration) error
	// afterRun receives the result of every run.
	afterRun func(error)
}

func (h hooks) withDefaults() hooks {
	if h.clock == nil {
		h.clock = realClock{}
	}
	if h.waitNext == nil {
		h.waitNext = h.clock.Sleep
	}
	if h.afterRun == nil {
		h.afterRun = func(error) {}
	}
	return h
}

func newPlugin(log *logp.Logger, store statestore.States, h hooks) v2.Plugin {
	h = h.withDefaults()
	return v2.Plugin{
		Name:       inputName,
		Stability:  feature.Beta,
		Deprecated: false,
		Info:       "TAXII 2.0 and 2.1 collections",
		Doc:        "Polls the collections of a TAXII 2.0 or 2.1 server and publishes one event per STIX object.",
		Manager: &cursor.InputManager{
			Logger:     log,
			StateStore: store,
			Type:       inputName,
			Configure: func(cfg *conf.C, _ *logp.Logger) ([]cursor.Source, cursor.Input, error) {
				return configure(cfg, h)
			},
		},
	}
}

func configure(cfg *conf.C, h hooks) ([]cursor.Source, cursor.Input, error) {
	c := defaultConfig()
	if err := cfg.Unpack(&c); err != nil {
		return nil, nil, err
	}
	c.normalize()
	settings := struct {
		ID string `config:"id"`
	}{}
	if err := cfg.Unpack(&settings); err != nil {
		return nil, nil, err
	}
	return []cursor.Source{newSource(settings.ID, c.URL)}, &input{config: c, hooks: h}, nil
}

// source is the single cursor source of an input; see doc.go for why.
type source struct{ name string }

func (s source) Name() string { return s.name }

// newSource names the source. The cursor manager already puts the input id
// into the registry key, so with an id the name is constant and the url can
// change without losing the positions. Without an id the url distinguishes
// inputs.
func newSource(id, rawURL string) source {
	if id != "" {
		return source{name: "collections"}
	}
	return source{name: "url=" + httpclient.Redact(rawURL)}
}

// input reads the collections of one taxii input.
type input struct {
	config config
	hooks  hooks
}

func (inp *input) Name() string { return inputName }

// Test finds the collections the input would read, which checks the url,
// the credentials and the collections setting.
func (inp *input) Test(_ cursor.Source, ctx v2.TestContext) error {
	rt, err := inp.newRuntime(ctxtool.FromCanceller(ctx.Cancelation), ctx.Logger, nil, nil)
	if err != nil {
		return err
	}
	_, err = rt.discoverer.discover(rt.ctx)
	return err
}

// Run walks every collection once, then again every interval until the
// input is stopped. With --once it returns after the first run, with an
// error if a collection failed.
func (inp *input) Run(ctx v2.Context, _ cursor.Source, cur cursor.Cursor, pub cursor.Publisher) error {
	log := ctx.Logger
	// typeconv cannot add to a nil map.
	state := cursorState{Collections: map[string]collectionCursor{}}
	if !cur.IsNew() {
		if err := cur.Unpack(&state); err != nil {
			log.Warnw("Stored TAXII positions are unreadable; collections start from initial_interval", "error", err)
			state = cursorState{Collections: map[string]collectionCursor{}}
		}
	}
	keeper := newCursorKeeper(state, pub)

	rt, err := inp.newRuntime(ctxtool.FromCanceller(ctx.Cancelation), log, keeper, ctx.MetricsRegistry)
	if err != nil {
		return err
	}
	for {
		err := rt.run()
		inp.hooks.afterRun(err)
		if rt.ctx.Err() != nil {
			return nil
		}
		if runmode.Once() {
			return err
		}
		if err != nil {
			log.Errorw("TAXII run failed; the next run starts after interval", "error", err.Error(), "interval", inp.config.Interval.String())
		}
		if err := inp.hooks.waitNext(rt.ctx, inp.config.Interval); err != nil {
			return nil
		}
	}
}

// runtime is the state of a running input.
type runtime struct {
	ctx        context.Context
	cfg        *config
	log        *logp.Logger
	discoverer *discoverer
	walker     *walker
	metrics    *monitoring.Registry

	// collections are found by the first successful discovery and kept
	// across runs, so that a run makes only objects requests.
	collections []*collectionRun
	// metricsByKey keeps a collection's metrics across discoveries.
	metricsByKey map[string]*collectionMetrics
}

func (inp *input) newRuntime(ctx context.Context, log *logp.Logger, keeper *cursorKeeper, reg *monitoring.Registry) (*runtime, error) {
	client, err := httpclient.New(inp.config.HTTP, httpclient.Options{Logger: log, Now: inp.hooks.clock.Now})
	if err != nil {
		return nil, err
	}
	start, err := url.Parse(inp.config.URL)
	if err != nil {
		return nil, err
	}
	client.Trust(start)

	req := &requester{
		client:  client,
		clock:   inp.hooks.clock,
		retry:   inp.config.Retry,
		limiter: inp.config.RateLimit.limiter(),
		log:     log,
		authSet: inp.config.HTTP.Auth.IsSet(),
		origin:  httpclient.Origin(start),
	}
	return &runtime{
		ctx:          ctx,
		cfg:          &inp.config,
		log:          log,
		discoverer:   &discoverer{cfg: &inp.config, requester: req, log: log},
		walker:       &walker{cfg: &inp.config, requester: req, keeper: keeper, clock: inp.hooks.clock, log: log},
		metrics:      reg,
		metricsByKey: map[string]*collectionMetrics{},
	}, nil
}

// run walks every collection once, at most max_concurrency at a time.
func (rt *runtime) run() error {
	if rt.collections == nil {
		found, err := rt.discoverer.discover(rt.ctx)
		if err != nil {
			return err
		}
		for _, c := range found {
			m, ok := rt.metricsByKey[c.key]
			if !ok {
				m = newCollectionMetrics(rt.metrics, c.id)
				rt.metricsByKey[c.key] = m
			}
			rt.collections = append(rt.collections, &collectionRun{
				collection: c,
				metrics:    m,
				log:        rt.log.With("taxii.api_root", c.apiRoot, "taxii.collection.id", c.id, "taxii.collection.title", c.title),
			})
		}
	}

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		errs     []error
		rediscov bool
		slots    = make(chan struct{}, rt.cfg.MaxConcurrency)
	)
	for _, c := range rt.collections {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			err := rt.walkCollection(c)
			if err == nil || rt.ctx.Err() != nil {
				return
			}
			c.metrics.errors.Inc()
			c.log.Errorw("TAXII collection run failed", "error", err.Error())
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, fmt.Errorf("collection %s: %w", c.id, err))
			rediscov = rediscov || isStatus(err, http.StatusNotFound)
		}()
	}
	wg.Wait()

	if rediscov && !isObjectsURL(mustParse(rt.cfg.URL)) {
		// A collection may have moved or been removed: find them again.
		rt.collections = nil
	}
	return errors.Join(errs...)
}

// walkCollection turns a panic into an error, so that one bad reply cannot
// stop the Beat.
func (rt *runtime) walkCollection(c *collectionRun) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic while walking the collection: %v\n%s", v, debug.Stack())
		}
	}()
	return rt.walker.walk(rt.ctx, c)
}

func mustParse(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		return &url.URL{}
	}
	return u
}
